package dev.mysqlpool.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.mysqlpool.proxy.config.ProxyConfig.Backend;
import dev.mysqlpool.proxy.config.ProxyConfig.PoolMode;
import dev.mysqlpool.proxy.config.ProxyConfig.User;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Validation of the proxy's config file, asserting the exact message text (HikariCP {@code
 * TestValidation} style): every message starts with the field path and says how to fix it.
 */
class ConfigLoaderTest {
  @TempDir Path dir;

  private static final String BACKENDS = "backends:\n  - {name: primary, host: db, port: 3306}\n";
  private static final String USERS = "users:\n  - {name: app, password: s3cret}\n";

  /** The problems a file is rejected with; fails when it is accepted. */
  private List<String> problems(String yaml) {
    ConfigException e =
        catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(yaml, dir));
    assertThat(e).withFailMessage("expected the config to be rejected:\n%s", yaml).isNotNull();
    return e.problems();
  }

  @Test
  void fullFileParsesToTheValuesWritten() throws IOException {
    Files.writeString(dir.resolve("app.pw"), "from-file\n", StandardCharsets.UTF_8);
    Files.writeString(dir.resolve("svc.pw"), "backend-secret", StandardCharsets.UTF_8);
    String yaml =
        """
        listen: {host: 127.0.0.1, port: 7000}
        admin: {host: 0.0.0.0, port: 7001}
        backends:
          - {name: primary, host: db-0.db, port: 3307}
          - {name: replica, host: db-1.db}
        users:
          - name: app
            passwordFile: app.pw
          - name: reporting
            password: inline
            backend: replica
            backendUser: svc_reporting
            backendPasswordFile: svc.pw
        pool:
          mode: session
          maxConnections: 50
          minIdle: 2
          maxIdle: 10
          idleTimeout: 5m
          maxLifetime: 30m
          connectTimeout: 2s
          acquireTimeout: 1500ms
          validationInterval: 0
          leakDetectionThreshold: 1h
          maxConcurrentConnects: 4
          maxPreparedStatementsPerConnection: 0
        frontend:
          maxClientConnections: 500
          clientIdleTimeout: 0
          handshakeTimeout: 3s
          tcpKeepAliveIdle: 45s
        shutdown: {drainTimeout: 20s}
        """;
    ProxyConfig c = ConfigLoader.parse(yaml, dir);

    assertThat(c.listen()).isEqualTo(new ProxyConfig.Listen("127.0.0.1", 7000));
    assertThat(c.admin()).isEqualTo(new ProxyConfig.Admin("0.0.0.0", 7001));
    assertThat(c.backends())
        .containsExactly(
            new Backend("primary", "db-0.db", 3307), new Backend("replica", "db-1.db", 3306));
    assertThat(c.users())
        .containsExactly(
            new User("app", "from-file", "primary", "app", "from-file"),
            new User("reporting", "inline", "replica", "svc_reporting", "backend-secret"));
    assertThat(c.pool())
        .isEqualTo(
            new ProxyConfig.Pool(
                PoolMode.SESSION,
                50,
                2,
                10,
                Duration.ofMinutes(5),
                Duration.ofMinutes(30),
                Duration.ofSeconds(2),
                Duration.ofMillis(1500),
                Duration.ZERO,
                Duration.ofHours(1),
                4,
                ProxyConfig.Pool.DEFAULT_TCP_KEEPALIVE_IDLE,
                ProxyConfig.Pool.DEFAULT_TCP_KEEPALIVE_INTERVAL,
                ProxyConfig.Pool.DEFAULT_TCP_KEEPALIVE_COUNT,
                ProxyConfig.Pool.DEFAULT_SWITCHOVER_TIMEOUT,
                ProxyConfig.Pool.DEFAULT_DNS_TTL,
                0));
    assertThat(c.frontend())
        .isEqualTo(
            new ProxyConfig.Frontend(
                500, Duration.ZERO, Duration.ofSeconds(3), Duration.ofSeconds(45)));
    assertThat(c.shutdown()).isEqualTo(new ProxyConfig.Shutdown(Duration.ofSeconds(20)));
    assertThat(c.backendFor(c.user("reporting")).name()).isEqualTo("replica");
    assertThat(c.user("nobody")).isNull();
  }

  @Test
  void minimalFileGetsTheDocumentedDefaults() {
    ProxyConfig c = ConfigLoader.parse(BACKENDS + USERS, dir);
    assertThat(c.listen())
        .isEqualTo(new ProxyConfig.Listen("0.0.0.0", ConfigLoader.DEFAULT_LISTEN_PORT));
    assertThat(c.admin())
        .isEqualTo(new ProxyConfig.Admin("0.0.0.0", ConfigLoader.DEFAULT_ADMIN_PORT));
    assertThat(c.users()).containsExactly(new User("app", "s3cret", "primary", "app", "s3cret"));
    assertThat(c.pool())
        .isEqualTo(
            new ProxyConfig.Pool(
                PoolMode.SESSION,
                20,
                0,
                20,
                Duration.ofMinutes(10),
                null,
                Duration.ofSeconds(5),
                Duration.ofSeconds(5),
                Duration.ofSeconds(30),
                Duration.ZERO,
                2));
    assertThat(c.frontend())
        .isEqualTo(
            new ProxyConfig.Frontend(
                10_000, Duration.ofHours(8), Duration.ofSeconds(10), Duration.ofSeconds(60)));
    assertThat(c.shutdown()).isEqualTo(new ProxyConfig.Shutdown(Duration.ofSeconds(30)));
  }

  @Test
  void adminConnectionCapAndIdleTimeoutAreReadAndChecked() {
    ProxyConfig c =
        ConfigLoader.parse(
            BACKENDS + USERS + "admin: {maxConnections: 5, idleTimeout: 30s}\n", dir);
    assertThat(c.admin())
        .isEqualTo(
            new ProxyConfig.Admin(
                "0.0.0.0", ConfigLoader.DEFAULT_ADMIN_PORT, 5, Duration.ofSeconds(30)));
    assertThat(ConfigLoader.parse(BACKENDS + USERS, dir).admin())
        .as("documented defaults")
        .isEqualTo(
            new ProxyConfig.Admin(
                "0.0.0.0", ConfigLoader.DEFAULT_ADMIN_PORT, 100, Duration.ofMinutes(2)));
    assertThat(problems(BACKENDS + USERS + "admin: {maxConnections: 0, idleTimeout: soon}\n"))
        .containsExactly(
            "admin.maxConnections: 0 is out of range; use a value from 1 to 100000",
            "admin.idleTimeout: 'soon' is not a duration; write it like 500ms, 30s, 5m or 1h");
  }

  @Test
  void maxLifetimeZeroMeansDeriveFromWaitTimeout() {
    ProxyConfig c = ConfigLoader.parse(BACKENDS + USERS + "pool: {maxLifetime: 0}\n", dir);
    assertThat(c.pool().maxLifetime())
        .as("0 leaves maxLifetime to the server's wait_timeout")
        .isNull();
  }

  @Test
  void portZeroMeansAnyFreePortAndMayBeSharedByBoth() {
    ProxyConfig c =
        ConfigLoader.parse(BACKENDS + USERS + "listen: {port: 0}\nadmin: {port: 0}\n", dir);
    assertThat(c.listen().port()).isZero();
    assertThat(c.admin().port()).isZero();
  }

  @Test
  void passwordFileTrailingNewlineIsStripped() throws IOException {
    Files.writeString(dir.resolve("crlf.pw"), "pa ss\r\n", StandardCharsets.UTF_8);
    Files.writeString(dir.resolve("lf.pw"), "secret\n\n", StandardCharsets.UTF_8);
    Files.writeString(dir.resolve("inner.pw"), "two\nlines", StandardCharsets.UTF_8);
    ProxyConfig c =
        ConfigLoader.parse(
            BACKENDS
                + "users:\n"
                + "  - {name: a, passwordFile: crlf.pw}\n"
                + "  - {name: b, passwordFile: lf.pw}\n"
                + "  - {name: c, passwordFile: "
                + dir.resolve("inner.pw")
                + "}\n",
            dir);
    assertThat(c.user("a").password())
        .as("trailing CRLF is not part of the secret; inner spaces are")
        .isEqualTo("pa ss");
    assertThat(c.user("b").password()).isEqualTo("secret");
    assertThat(c.user("c").password())
        .as("absolute path; only the trailing newline goes")
        .isEqualTo("two\nlines");
  }

  @Test
  void loadResolvesPasswordFilesAgainstTheConfigFolder() throws IOException {
    Path sub = Files.createDirectories(dir.resolve("etc"));
    Files.writeString(sub.resolve("app.pw"), "next-to-config\n", StandardCharsets.UTF_8);
    Path file = sub.resolve("proxy.yaml");
    Files.writeString(
        file, BACKENDS + "users:\n  - {name: app, passwordFile: app.pw}\n", StandardCharsets.UTF_8);
    assertThat(ConfigLoader.load(file).user("app").password()).isEqualTo("next-to-config");
  }

  @Test
  void missingConfigFileNamesTheFile() {
    Path missing = dir.resolve("nope.yaml");
    assertThatThrownBy(() -> ConfigLoader.load(missing))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(
            "invalid proxy configuration:\n  - --config " + missing + ": cannot read the file (");
  }

  @Test
  void userToStringMasksThePassword() {
    assertThat(new User("app", "s3cret", "primary", "app", "s3cret").toString())
        .doesNotContain("s3cret")
        .contains("password=****");
  }

  // ------------------------------------------------------------------------------------------------ problems

  @Test
  void unknownFieldSuggestsTheClosestName() {
    assertThat(problems(BACKENDS + USERS + "pool: {maxConection: 5}\n"))
        .containsExactly("pool.maxConection: unknown field; did you mean maxConnections?");
    assertThat(problems(BACKENDS + USERS + "listn: {port: 1}\n"))
        .containsExactly("listn: unknown field; did you mean listen?");
    assertThat(problems(BACKENDS + USERS + "frontend: {zzz: 1}\n"))
        .as("no suggestion when nothing is close")
        .containsExactly("frontend.zzz: unknown field");
    assertThat(problems("backends:\n  - {name: primary, hots: db}\n" + USERS))
        .contains(
            "backends[0].hots: unknown field; did you mean host?", "backends[0].host: required");
  }

  @Test
  void badDurationNamesTheSyntax() {
    assertThat(problems(BACKENDS + USERS + "pool: {idleTimeout: 10 minutes}\n"))
        .containsExactly(
            "pool.idleTimeout: '10 minutes' is not a duration; write it like 500ms, 30s, 5m or 1h");
    assertThat(problems(BACKENDS + USERS + "shutdown: {drainTimeout: 30}\n"))
        .containsExactly(
            "shutdown.drainTimeout: '30' is not a duration; write it like 500ms, 30s, 5m or 1h");
  }

  @Test
  void zeroIsRejectedWhereATimerMustRun() {
    assertThat(problems(BACKENDS + USERS + "pool: {acquireTimeout: 0}\n"))
        .containsExactly("pool.acquireTimeout: must be greater than 0, e.g. 5s");
  }

  @Test
  void absurdlyLongDurationIsAProblemNotACrash() {
    // Duration.ofHours overflows for this, and toMillis() for anything above ~292 million years.
    assertThat(problems(BACKENDS + USERS + "pool: {idleTimeout: 9223372036854775807h}\n"))
        .containsExactly(
            "pool.idleTimeout: '9223372036854775807h' is not a duration;"
                + " write it like 500ms, 30s, 5m or 1h");
    assertThat(problems(BACKENDS + USERS + "pool: {maxLifetime: 999999999999999h}\n"))
        .containsExactly(
            "pool.maxLifetime: '999999999999999h' is not a duration;"
                + " write it like 500ms, 30s, 5m or 1h");
  }

  @Test
  void minIdleAboveMaxIdle() {
    assertThat(problems(BACKENDS + USERS + "pool: {maxConnections: 20, minIdle: 5, maxIdle: 3}\n"))
        .containsExactly(
            "pool.minIdle: 5 is above pool.maxIdle (3); lower minIdle or raise maxIdle");
  }

  @Test
  void maxIdleAboveMaxConnections() {
    assertThat(problems(BACKENDS + USERS + "pool: {maxConnections: 20, maxIdle: 30}\n"))
        .containsExactly(
            "pool.maxIdle: 30 is above pool.maxConnections (20); idle connections are part of"
                + " maxConnections, so lower maxIdle");
  }

  @Test
  void outOfRangeAndNonNumericIntegers() {
    assertThat(problems(BACKENDS + USERS + "pool: {maxConnections: 0}\n"))
        .containsExactly("pool.maxConnections: 0 is out of range; use a value from 1 to 100000");
    assertThat(problems(BACKENDS + USERS + "pool: {maxConnections: 2.5}\n"))
        .containsExactly("pool.maxConnections: '2.5' is not a whole number");
    assertThat(problems(BACKENDS + USERS + "pool: {maxPreparedStatementsPerConnection: -1}\n"))
        .containsExactly(
            "pool.maxPreparedStatementsPerConnection: -1 is out of range; use a value from 0 to"
                + " 100000");
    assertThat(problems("backends:\n  - {name: primary, host: db, port: 70000}\n" + USERS))
        .containsExactly("backends[0].port: 70000 is out of range; use a value from 1 to 65535");
  }

  @Test
  void missingBackends() {
    assertThat(problems(USERS))
        .containsExactly(
            "backends: required; list at least one server, e.g. backends: [{name: primary, host: db, port: 3306}]");
  }

  @Test
  void emptyBackendsList() {
    assertThat(problems("backends: []\n" + USERS))
        .containsExactly("backends: empty; list at least one server with name, host and port");
  }

  @Test
  void missingUsers() {
    assertThat(problems(BACKENDS))
        .containsExactly(
            "users: required; list at least one user with name and passwordFile (or password)");
  }

  @Test
  void userWithoutAnyPassword() {
    assertThat(problems(BACKENDS + "users:\n  - {name: app}\n"))
        .containsExactly(
            "users[0].passwordFile: required; point it at a file holding the password (a mounted"
                + " Secret), or set password");
  }

  @Test
  void passwordAndPasswordFileBoth() throws IOException {
    Files.writeString(dir.resolve("app.pw"), "x", StandardCharsets.UTF_8);
    assertThat(problems(BACKENDS + "users:\n  - {name: app, password: a, passwordFile: app.pw}\n"))
        .containsExactly("users[0].password: set either password or passwordFile, not both");
  }

  @Test
  void backendPasswordAndBackendPasswordFileBoth() {
    assertThat(
            problems(
                BACKENDS
                    + "users:\n  - {name: app, password: a, backendPassword: b, backendPasswordFile: b.pw}\n"))
        .containsExactly(
            "users[0].backendPassword: set either backendPassword or backendPasswordFile, not both");
  }

  @Test
  void unreadablePasswordFile() {
    Path missing = dir.resolve("missing.pw");
    assertThat(problems(BACKENDS + "users:\n  - {name: app, passwordFile: missing.pw}\n"))
        .containsExactly(
            "users[0].passwordFile: cannot read "
                + missing
                + " (NoSuchFileException); mount the Secret there or fix the path");
  }

  @Test
  void userNamingAnUnknownBackend() {
    assertThat(problems(BACKENDS + "users:\n  - {name: app, password: a, backend: replica}\n"))
        .containsExactly(
            "users[0].backend: no backend is named 'replica'; use one of the names under backends");
  }

  @Test
  void duplicateBackendNames() {
    assertThat(
            problems(
                "backends:\n  - {name: primary, host: a}\n  - {name: primary, host: b}\n" + USERS))
        .containsExactly("backends[1].name: 'primary' is used twice; backend names must be unique");
  }

  @Test
  void invalidBackendName() {
    assertThat(problems("backends:\n  - {name: Primary_1, host: a}\n" + USERS))
        .containsExactly(
            "backends[0].name: 'Primary_1' is not a valid name; use lower-case letters, digits and '-'");
  }

  @Test
  void duplicateUserNames() {
    assertThat(
            problems(
                BACKENDS + "users:\n  - {name: app, password: a}\n  - {name: app, password: b}\n"))
        .containsExactly("users[1].name: 'app' is used twice; user names must be unique");
  }

  @Test
  void poolModes() {
    assertThat(
            ConfigLoader.parse(BACKENDS + USERS + "pool: {mode: transaction}\n", dir).pool().mode())
        .isEqualTo(ProxyConfig.PoolMode.TRANSACTION);
    assertThat(ConfigLoader.parse(BACKENDS + USERS, dir).pool().mode())
        .isEqualTo(ProxyConfig.PoolMode.SESSION);
    assertThat(problems(BACKENDS + USERS + "pool: {mode: statement}\n"))
        .containsExactly(
            "pool.mode: 'statement' is not a pool mode; use 'session' or 'transaction'");
  }

  @Test
  void adminPortEqualToListenPort() {
    assertThat(problems(BACKENDS + USERS + "listen: {port: 7000}\nadmin: {port: 7000}\n"))
        .containsExactly(
            "admin.port: 7000 is also listen.port; give the admin HTTP endpoint its own port");
  }

  @Test
  void tooShortMaxLifetimeAndLeakThreshold() {
    assertThat(
            problems(
                BACKENDS + USERS + "pool: {maxLifetime: 500ms, leakDetectionThreshold: 200ms}\n"))
        .containsExactly(
            "pool.maxLifetime: 500ms is too short; use at least 1s, or leave it out to derive it from the server's"
                + " wait_timeout",
            "pool.leakDetectionThreshold: 200ms would warn about ordinary queries; use 0 (off) or at least 1s");
  }

  @Test
  void wrongShapes() {
    assertThat(problems("backends: primary\n" + USERS)).contains("backends: expected a list");
    assertThat(problems(BACKENDS + USERS + "pool: 5\n"))
        .containsExactly("pool: expected a mapping of fields, found number");
    assertThat(problems("- a\n- b\n"))
        .contains("(top level): expected a mapping of fields, found array");
    assertThat(problems("pool: {maxConnections: [1\n"))
        .singleElement()
        .asString()
        .startsWith("(file): not valid YAML: ");
  }

  @Test
  void emptyFileListsWhatIsRequired() {
    assertThat(problems(""))
        .containsExactly(
            "backends: required; list at least one server, e.g. backends: [{name: primary, host: db, port: 3306}]",
            "users: required; list at least one user with name and passwordFile (or password)");
  }

  @Test
  void severalProblemsAreReportedAtOnce() {
    String yaml =
        "listen: {port: 7000}\n"
            + "admin: {port: 7000}\n"
            + "backends:\n  - {name: primary, host: a}\n  - {name: primary, host: b}\n"
            + "users:\n  - {name: app, password: a, backend: nowhere}\n"
            + "pool: {mode: statement, maxConnections: 5, minIdle: 4, maxIdle: 3, idleTimeout: soon}\n";
    ConfigException e =
        catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(yaml, dir));
    assertThat(e.problems())
        .containsExactly(
            "admin.port: 7000 is also listen.port; give the admin HTTP endpoint its own port",
            "backends[1].name: 'primary' is used twice; backend names must be unique",
            "pool.mode: 'statement' is not a pool mode; use 'session' or 'transaction'",
            "pool.minIdle: 4 is above pool.maxIdle (3); lower minIdle or raise maxIdle",
            "pool.idleTimeout: 'soon' is not a duration; write it like 500ms, 30s, 5m or 1h",
            "users[0].backend: no backend is named 'nowhere'; use one of the names under backends");
    assertThat(e.getMessage())
        .isEqualTo("invalid proxy configuration:\n  - " + String.join("\n  - ", e.problems()));
  }

  // -----------------------------------------------------------------------------------------------
  // durations

  @Test
  void durationsParseEveryUnit() {
    assertThat(Durations.parse("0")).isEqualTo(Duration.ZERO);
    assertThat(Durations.parse("250ms")).isEqualTo(Duration.ofMillis(250));
    assertThat(Durations.parse("30s")).isEqualTo(Duration.ofSeconds(30));
    assertThat(Durations.parse(" 5m "))
        .as("surrounding blanks are ignored")
        .isEqualTo(Duration.ofMinutes(5));
    assertThat(Durations.parse("2h")).isEqualTo(Duration.ofHours(2));
    assertThat(Durations.parse("0s")).isEqualTo(Duration.ZERO);
  }

  @Test
  void durationsRejectOtherSpellings() {
    for (String bad :
        new String[] {
          "", "5", "-1s", "1.5s", "5 s", "5S", "1d", "PT5S", "s", "99999999999999999999s"
        }) {
      assertThat(Durations.parse(bad)).as("'%s' is not a duration", bad).isNull();
    }
  }

  @Test
  void durationsFormatTheShortestExactSpellingAndReadBackEqual() {
    assertThat(Durations.format(Duration.ZERO)).isEqualTo("0");
    assertThat(Durations.format(Duration.ofMillis(1500))).isEqualTo("1500ms");
    assertThat(Durations.format(Duration.ofSeconds(90))).isEqualTo("90s");
    assertThat(Durations.format(Duration.ofSeconds(120))).isEqualTo("2m");
    assertThat(Durations.format(Duration.ofMinutes(180))).isEqualTo("3h");
    for (Duration d :
        List.of(
            Duration.ZERO,
            Duration.ofMillis(1),
            Duration.ofMillis(999),
            Duration.ofMillis(1001),
            Duration.ofSeconds(59),
            Duration.ofSeconds(61),
            Duration.ofMinutes(59),
            Duration.ofMinutes(61),
            Duration.ofHours(25),
            Duration.ofDays(365))) {
      String text = Durations.format(d);
      assertThat(Durations.parse(text)).as("format(%s) = %s must parse back", d, text).isEqualTo(d);
    }
  }
}
