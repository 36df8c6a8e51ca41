package dev.mysqlpool.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.mysqlpool.proxy.config.ProxyConfig.PoolMode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The typed file the operator renders: every field it writes is one the proxy reads back to the
 * same value, and what the proxy would refuse is refused by {@link ConfigFile#check()} with the
 * proxy's own message.
 */
class ConfigFileTest {
  @TempDir Path dir;

  private static ConfigFile minimal() {
    ConfigFile f = new ConfigFile();
    f.backends.add(new ConfigFile.Backend("writer", "db.example", 3306));
    f.users.add(new ConfigFile.User("app", "users/app", null));
    return f;
  }

  @Test
  void everyFieldWrittenIsReadBackByTheProxy() throws IOException {
    ConfigFile f = minimal();
    f.listen.host = "127.0.0.1";
    f.listen.port = 7000;
    f.admin.port = 7001;
    f.users.add(new ConfigFile.User("reporting", "users/reporting", "svc_reporting"));
    f.pool.mode = PoolMode.TRANSACTION;
    f.pool.maxConnections = 40;
    f.pool.minIdle = 5;
    f.pool.maxIdle = 20;
    f.pool.idleTimeout = Duration.ofMinutes(5);
    f.pool.maxLifetime = Duration.ofHours(1);
    f.pool.connectTimeout = Duration.ofMillis(2500);
    f.pool.acquireTimeout = Duration.ofSeconds(3);
    f.pool.validationInterval = Duration.ofSeconds(15);
    f.pool.leakDetectionThreshold = Duration.ofMinutes(1);
    f.pool.maxConcurrentConnects = 4;
    f.frontend.maxClientConnections = 2000;
    f.frontend.clientIdleTimeout = Duration.ofMinutes(4);
    f.frontend.handshakeTimeout = Duration.ofSeconds(5);
    f.frontend.tcpKeepAliveIdle = Duration.ofSeconds(30);
    f.shutdown.drainTimeout = Duration.ofSeconds(45);

    Files.createDirectories(dir.resolve("users"));
    Files.writeString(dir.resolve("users/app"), "pw-app\n");
    Files.writeString(dir.resolve("users/reporting"), "pw-reporting\n");
    ProxyConfig read = ConfigLoader.parse(f.toYaml(), dir);

    assertThat(read.listen()).isEqualTo(new ProxyConfig.Listen("127.0.0.1", 7000));
    assertThat(read.admin()).isEqualTo(new ProxyConfig.Admin("0.0.0.0", 7001));
    assertThat(read.backends())
        .containsExactly(new ProxyConfig.Backend("writer", "db.example", 3306));
    assertThat(read.users())
        .containsExactly(
            new ProxyConfig.User("app", "pw-app", "writer", "app", "pw-app"),
            new ProxyConfig.User(
                "reporting", "pw-reporting", "writer", "svc_reporting", "pw-reporting"));
    assertThat(read.pool())
        .isEqualTo(
            new ProxyConfig.Pool(
                PoolMode.TRANSACTION,
                40,
                5,
                20,
                Duration.ofMinutes(5),
                Duration.ofHours(1),
                Duration.ofMillis(2500),
                Duration.ofSeconds(3),
                Duration.ofSeconds(15),
                Duration.ofMinutes(1),
                4));
    assertThat(read.frontend())
        .isEqualTo(
            new ProxyConfig.Frontend(
                2000, Duration.ofMinutes(4), Duration.ofSeconds(5), Duration.ofSeconds(30)));
    assertThat(read.shutdown()).isEqualTo(new ProxyConfig.Shutdown(Duration.ofSeconds(45)));
    assertThat(f.check().pool()).as("check() sees what parse() sees").isEqualTo(read.pool());
  }

  @Test
  void writerFollowingKeepaliveAndLoadBalancerWaitAreReadBackByTheProxy() {
    ConfigFile f = new ConfigFile();
    f.backends.add(new ConfigFile.Backend("writer", "db.example", 3306, "writer", null, null));
    f.users.add(new ConfigFile.User("app", "users/app", null));
    f.pool.tcpKeepAliveIdle = Duration.ofSeconds(20);
    f.pool.tcpKeepAliveInterval = Duration.ofSeconds(5);
    f.pool.tcpKeepAliveCount = 4;
    f.pool.switchoverTimeout = Duration.ofSeconds(45);
    f.pool.dnsTtl = Duration.ofSeconds(2);
    f.shutdown.drainTimeout = Duration.ofSeconds(20);
    f.shutdown.loadBalancerWait = Duration.ofSeconds(25);

    ProxyConfig c = f.check();

    assertThat(c.backends().get(0).role()).isEqualTo(ProxyConfig.BackendRole.WRITER);
    assertThat(c.pool().tcpKeepAliveIdle()).isEqualTo(Duration.ofSeconds(20));
    assertThat(c.pool().tcpKeepAliveInterval()).isEqualTo(Duration.ofSeconds(5));
    assertThat(c.pool().tcpKeepAliveCount()).isEqualTo(4);
    assertThat(c.pool().switchoverTimeout()).isEqualTo(Duration.ofSeconds(45));
    assertThat(c.pool().dnsTtl()).isEqualTo(Duration.ofSeconds(2));
    assertThat(c.shutdown())
        .isEqualTo(new ProxyConfig.Shutdown(Duration.ofSeconds(20), Duration.ofSeconds(25)));
    assertThat(f.toYaml())
        .contains("  role: writer\n")
        .contains("  switchoverTimeout: 45s\n  dnsTtl: 2s\n")
        .contains("shutdown:\n  drainTimeout: 20s\n  loadBalancerWait: 25s\n");
  }

  @Test
  void aReadWriteSplitIsReadBackByTheProxyRulesVerbatim() {
    ConfigFile f = new ConfigFile();
    f.backends.add(new ConfigFile.Backend("writer", "db.example", 3306, "writer", null, null));
    f.backends.add(
        new ConfigFile.Backend("replica-a", "ro.db.example", 3307, "reader", null, null, 3));
    f.users.add(new ConfigFile.User("app", "users/app", null));
    f.pool.mode = PoolMode.TRANSACTION;
    f.routing.readWriteSplit = true;
    f.routing.maxReplicationLag = Duration.ofSeconds(10);
    f.routing.readYourWrites = "none";
    f.routing.readYourWritesWait = java.time.Duration.ofMillis(250);
    // Quotes, backslashes, '#' and ': ' must reach the proxy exactly as written.
    List<String> patterns =
        List.of(
            "^SELECT .* FOR UPDATE",
            "/\\* *mysqlpool:writer *\\*/",
            "(?i)get_lock\\(|'it''s' # \"q\": x");
    f.routing.rules.add(new ConfigFile.Rule(patterns.get(0), "writer"));
    f.routing.rules.add(new ConfigFile.Rule(patterns.get(1), "writer"));
    f.routing.rules.add(new ConfigFile.Rule(patterns.get(2), "reader"));

    ProxyConfig c = f.check();

    assertThat(c.backends().get(1).role()).isEqualTo(ProxyConfig.BackendRole.READER);
    assertThat(c.backends().get(1).weight()).isEqualTo(3);
    assertThat(c.backends().get(1).port()).isEqualTo(3307);
    assertThat(c.routing().readWriteSplit()).isTrue();
    assertThat(c.routing().maxReplicationLag()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.routing().readYourWrites()).isEqualTo(Routing.ReadYourWrites.NONE);
    assertThat(c.routing().readYourWritesWait()).isEqualTo(java.time.Duration.ofMillis(250));
    assertThat(c.routing().rules())
        .extracting(r -> r.match().pattern() + " -> " + r.to().configName())
        .containsExactly(
            patterns.get(0) + " -> writer",
            patterns.get(1) + " -> writer",
            patterns.get(2) + " -> reader");
    assertThat(f.restartRelevantYaml()).as("routing needs a restart").contains("routing:");
    assertThat(minimal().toYaml()).as("no routing section unless set").doesNotContain("routing");
  }

  @Test
  void aRoleOrTtlTheProxyRefusesIsRefusedByCheck() {
    ConfigFile f = new ConfigFile();
    f.backends.add(new ConfigFile.Backend("writer", "db.example", 3306, "primary", null, null));
    f.users.add(new ConfigFile.User("app", "users/app", null));
    f.pool.dnsTtl = Duration.ofHours(2);
    ConfigException e = catchThrowableOfType(ConfigException.class, f::check);
    assertThat(e).isNotNull();
    assertThat(e.problems())
        .anySatisfy(
            p -> assertThat(p).startsWith("backends[0].role: 'primary' is not a backend role"))
        .anySatisfy(p -> assertThat(p).startsWith("pool.dnsTtl: 2h would keep"));
  }

  @Test
  void fieldsLeftOutAreNotWrittenSoTheProxyDefaultsApply() {
    ConfigFile f = minimal();
    assertThat(f.toYaml())
        .isEqualTo(
            """
            backends:
            - name: writer
              host: db.example
              port: 3306
            users:
            - name: app
              passwordFile: users/app
            """);
    ProxyConfig c = f.check();
    assertThat(c.pool().maxConnections()).isEqualTo(20);
    assertThat(c.pool().maxIdle()).isEqualTo(20);
    assertThat(c.users().get(0).password())
        .as("check() does not read password files: they exist only in the pod")
        .isNull();
  }

  @Test
  void whatTheProxyRefusesCheckRefusesWithTheProxysMessage() {
    ConfigFile f = minimal();
    f.pool.maxConnections = 49;
    f.pool.minIdle = 50;
    f.pool.maxIdle = 50;
    ConfigException e = catchThrowableOfType(ConfigException.class, f::check);
    assertThat(e).isNotNull();
    assertThat(e.problems())
        .containsExactly(
            "pool.maxIdle: 50 is above pool.maxConnections (49); idle connections are part of"
                + " maxConnections, so lower maxIdle");
  }

  @Test
  void onlyWhatTheProxyCannotReloadIsRestartRelevant() {
    ConfigFile a = minimal();
    a.pool.maxConnections = 50;
    a.pool.connectTimeout = Duration.ofSeconds(5);
    ConfigFile b = minimal();
    b.pool.maxConnections = 25;
    b.pool.minIdle = 5;
    b.pool.maxIdle = 10;
    b.pool.acquireTimeout = Duration.ofSeconds(3);
    b.pool.idleTimeout = Duration.ofMinutes(5);
    b.pool.maxLifetime = Duration.ofMinutes(20);
    b.pool.validationInterval = Duration.ofSeconds(10);
    b.pool.connectTimeout = Duration.ofSeconds(5);
    b.users.add(new ConfigFile.User("reporting", "users/reporting", null));
    assertThat(b.restartRelevantYaml())
        .as("a new pool size, idle limits, timers and users reload live")
        .isEqualTo(a.restartRelevantYaml());
    b.pool.connectTimeout = Duration.ofSeconds(2);
    assertThat(b.restartRelevantYaml())
        .as("connectTimeout is read at startup")
        .isNotEqualTo(a.restartRelevantYaml());
    b.pool.connectTimeout = Duration.ofSeconds(5);
    b.pool.mode = PoolMode.TRANSACTION;
    assertThat(b.restartRelevantYaml()).isNotEqualTo(a.restartRelevantYaml());
  }
}
