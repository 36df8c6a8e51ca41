package dev.mysqlpool.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.mysqlpool.proxy.config.ProxyConfig.Backend;
import dev.mysqlpool.proxy.config.ProxyConfig.BackendTls;
import dev.mysqlpool.proxy.config.ProxyConfig.BackendTlsMode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code backends} section's security fields: {@code tls} (MySQL's ssl-mode names, a CA file),
 * a pinned server key and the explicit opt-in to fetching the key. Messages are asserted exactly.
 */
class BackendSettingsTest {
  @TempDir Path dir;

  private static final String USERS = "users:\n  - {name: app, password: s3cret}\n";

  private ProxyConfig parse(String backend) {
    return ConfigLoader.parse("backends:\n  - " + backend + "\n" + USERS, dir);
  }

  private List<String> problems(String backend) {
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> parse(backend));
    assertThat(e).withFailMessage("expected the backend to be rejected: %s", backend).isNotNull();
    return e.problems();
  }

  @Test
  void withoutATlsSectionTheProxyPrefersTlsAndFetchesNoKey() {
    Backend b = parse("{name: primary, host: db, port: 3306}").backends().get(0);
    assertThat(b).isEqualTo(new Backend("primary", "db", 3306));
    assertThat(b.tls()).isEqualTo(new BackendTls(BackendTlsMode.PREFERRED, null, "TLSv1.2"));
    assertThat(b.allowPublicKeyRetrieval()).isFalse();
  }

  @Test
  void everyModeIsReadByItsMySqlNameAndTheCaResolvesAgainstTheConfigFolder() throws IOException {
    Files.writeString(dir.resolve("ca.pem"), "pem", StandardCharsets.US_ASCII);
    Backend b =
        parse(
                "{name: primary, host: db, port: 3306, tls: {mode: verify-identity, caFile: ca.pem,"
                    + " minVersion: TLSv1.3}}")
            .backends()
            .get(0);
    assertThat(b.tls())
        .isEqualTo(
            new BackendTls(
                BackendTlsMode.VERIFY_IDENTITY, dir.resolve("ca.pem").toString(), "TLSv1.3"));
    for (BackendTlsMode mode : BackendTlsMode.values()) {
      assertThat(
              parse("{name: p, host: db, tls: {mode: " + mode.configName() + "}}")
                  .backends()
                  .get(0)
                  .tls()
                  .mode())
          .isEqualTo(mode);
    }
  }

  @Test
  void aPinnedKeyOrTheOptInToFetchingItIsReadForPlainConnections() throws IOException {
    Files.writeString(dir.resolve("server.pub"), "pem", StandardCharsets.US_ASCII);
    Backend pinned =
        parse("{name: p, host: db, tls: {mode: preferred}, serverPublicKeyFile: server.pub}")
            .backends()
            .get(0);
    assertThat(pinned.serverPublicKeyFile()).isEqualTo(dir.resolve("server.pub").toString());
    assertThat(
            parse("{name: p, host: db, tls: {mode: disabled}, allowPublicKeyRetrieval: true}")
                .backends()
                .get(0)
                .allowPublicKeyRetrieval())
        .isTrue();
  }

  @Test
  void anUnknownModeNamesTheFiveThatExist() {
    assertThat(problems("{name: p, host: db, tls: {mode: verify_full}}"))
        .containsExactly(
            "backends[0].tls.mode: 'verify_full' is not a TLS mode; use disabled, preferred,"
                + " required, verify-ca or verify-identity");
  }

  @Test
  void aCaFileWithAModeThatDoesNotVerifySaysWhichModeReadsIt() throws IOException {
    Files.writeString(dir.resolve("ca.pem"), "pem", StandardCharsets.US_ASCII);
    assertThat(problems("{name: p, host: db, tls: {mode: required, caFile: ca.pem}}"))
        .containsExactly(
            "backends[0].tls.caFile: not used with mode required; set mode to verify-ca or"
                + " verify-identity to check the server's certificate against it, or remove"
                + " caFile");
  }

  @Test
  void anUnreadableCaFileIsNamedWithItsPath() {
    assertThat(problems("{name: p, host: db, tls: {mode: verify-ca, caFile: missing.pem}}"))
        .containsExactly(
            "backends[0].tls.caFile: cannot read "
                + dir.resolve("missing.pem").toAbsolutePath()
                + " (NoSuchFileException); mount the Secret there or fix the path");
  }

  @Test
  void aKeyForPlainTcpIsRefusedWhereTlsIsRequired() {
    assertThat(
            problems("{name: p, host: db, tls: {mode: verify-ca}, allowPublicKeyRetrieval: maybe}"))
        .containsExactly(
            "backends[0].allowPublicKeyRetrieval: 'maybe' is not a boolean; use true or false");
    assertThat(
            problems("{name: p, host: db, tls: {mode: required}, allowPublicKeyRetrieval: true}"))
        .containsExactly(
            "backends[0].allowPublicKeyRetrieval: has no use with tls.mode required (the password"
                + " goes over TLS); remove it");
  }

  @Test
  void theOperatorsCheckDoesNotOpenMountedFiles() {
    ConfigFile file = new ConfigFile();
    file.backends.add(
        new ConfigFile.Backend(
            "primary",
            "db",
            3306,
            new ConfigFile.BackendTls("verify-ca", "/etc/mysqlpool/backend-ca/ca.pem"),
            null));
    file.users.add(new ConfigFile.User("app", "/etc/mysqlpool/users/app", null));
    file.frontend.tls =
        new ConfigFile.FrontendTls(
            "required", "/etc/mysqlpool/tls/tls.crt", "/etc/mysqlpool/tls/tls.key");
    ProxyConfig c = file.check();
    assertThat(c.backends().get(0).tls().caFile()).isEqualTo("/etc/mysqlpool/backend-ca/ca.pem");
    assertThat(file.toYaml())
        .contains("  tls:\n    mode: verify-ca\n    caFile: /etc/mysqlpool/backend-ca/ca.pem\n");
  }
}
