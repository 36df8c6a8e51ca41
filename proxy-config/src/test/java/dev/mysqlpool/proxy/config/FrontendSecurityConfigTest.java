package dev.mysqlpool.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.mysqlpool.proxy.config.ProxyConfig.AuthPlugin;
import dev.mysqlpool.proxy.config.ProxyConfig.Tls;
import dev.mysqlpool.proxy.config.ProxyConfig.TlsMode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client-facing security fields: {@code frontend.tls}, the authentication plugins, the limits
 * on logins in progress, and the refusal of empty passwords. Messages are asserted exactly.
 */
class FrontendSecurityConfigTest {
  @TempDir Path dir;

  private static final String BACKENDS = "backends:\n  - {name: primary, host: db, port: 3306}\n";
  private static final String USERS = "users:\n  - {name: app, password: s3cret}\n";

  private List<String> problems(String yaml) {
    ConfigException e =
        catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(yaml, dir));
    assertThat(e).withFailMessage("expected the config to be rejected:\n%s", yaml).isNotNull();
    return e.problems();
  }

  @Test
  void withoutATlsSectionTlsIsOfferedWithASelfSignedCertificate() {
    ProxyConfig c = ConfigLoader.parse(BACKENDS + USERS, dir);
    assertThat(c.frontend().tls())
        .isEqualTo(new Tls(TlsMode.OPTIONAL, null, null, "TLSv1.2", Duration.ofSeconds(10)));
    assertThat(c.frontend().tls().selfSigned()).isTrue();
    assertThat(c.frontend().defaultAuthPlugin()).isEqualTo(AuthPlugin.MYSQL_NATIVE_PASSWORD);
    assertThat(c.frontend().maxPendingLogins()).isEqualTo(1000);
    assertThat(c.frontend().maxPendingLoginsPerAddress()).isEqualTo(100);
    assertThat(c.frontend())
        .as("the four-limit constructor the operator's tests use gives the same defaults")
        .isEqualTo(
            new ProxyConfig.Frontend(
                10_000, Duration.ofHours(8), Duration.ofSeconds(10), Duration.ofSeconds(60)));
  }

  @Test
  void everyFieldIsReadAndFilesResolveAgainstTheConfigFolder() throws IOException {
    Files.writeString(dir.resolve("tls.crt"), "pem", StandardCharsets.US_ASCII);
    Files.writeString(dir.resolve("tls.key"), "pem", StandardCharsets.US_ASCII);
    ProxyConfig c =
        ConfigLoader.parse(
            BACKENDS
                + "users:\n"
                + "  - {name: app, password: s3cret}\n"
                + "  - {name: legacy, password: s3cret, authPlugin: mysql_native_password}\n"
                + "frontend:\n"
                + "  defaultAuthPlugin: caching_sha2_password\n"
                + "  maxPendingLogins: 50\n"
                + "  maxPendingLoginsPerAddress: 5\n"
                + "  tls:\n"
                + "    mode: required\n"
                + "    certFile: tls.crt\n"
                + "    keyFile: tls.key\n"
                + "    minVersion: TLSv1.3\n"
                + "    reloadInterval: 1m\n",
            dir);
    assertThat(c.frontend().tls())
        .isEqualTo(
            new Tls(
                TlsMode.REQUIRED,
                dir.resolve("tls.crt").toString(),
                dir.resolve("tls.key").toString(),
                "TLSv1.3",
                Duration.ofMinutes(1)));
    assertThat(c.frontend().maxPendingLogins()).isEqualTo(50);
    assertThat(c.frontend().maxPendingLoginsPerAddress()).isEqualTo(5);
    assertThat(c.authPlugin(c.user("app")))
        .as("a user without authPlugin takes frontend.defaultAuthPlugin")
        .isEqualTo(AuthPlugin.CACHING_SHA2_PASSWORD);
    assertThat(c.authPlugin(c.user("legacy"))).isEqualTo(AuthPlugin.MYSQL_NATIVE_PASSWORD);
    assertThat(c.user("legacy").toString()).contains("authPlugin=mysql_native_password");
  }

  @Test
  void tlsModeOutsideTheThree() {
    assertThat(problems(BACKENDS + USERS + "frontend: {tls: {mode: preferred}}\n"))
        .containsExactly(
            "frontend.tls.mode: 'preferred' is not a TLS mode; use disabled, optional or required");
  }

  @Test
  void certificateWithoutKeyAndKeyWithoutCertificate() throws IOException {
    Files.writeString(dir.resolve("tls.crt"), "pem", StandardCharsets.US_ASCII);
    assertThat(problems(BACKENDS + USERS + "frontend: {tls: {certFile: tls.crt}}\n"))
        .containsExactly(
            "frontend.tls.keyFile: required with certFile; point it at the PEM private key"
                + " (tls.key of a kubernetes.io/tls Secret), or leave both out for a self-signed"
                + " certificate");
    assertThat(problems(BACKENDS + USERS + "frontend: {tls: {keyFile: tls.crt}}\n"))
        .containsExactly(
            "frontend.tls.certFile: required with keyFile; point it at the PEM certificate chain"
                + " (tls.crt of a kubernetes.io/tls Secret), or leave both out for a self-signed"
                + " certificate");
  }

  @Test
  void filesThatCannotBeRead() {
    assertThat(
            problems(
                BACKENDS
                    + USERS
                    + "frontend: {tls: {certFile: no.crt, keyFile: /nowhere/no.key}}\n"))
        .containsExactly(
            "frontend.tls.certFile: cannot read "
                + dir.resolve("no.crt")
                + " (NoSuchFileException); mount the Secret there or fix the path",
            "frontend.tls.keyFile: cannot read /nowhere/no.key (NoSuchFileException); mount the"
                + " Secret there or fix the path");
  }

  @Test
  void certificateFilesWhileTlsIsDisabled() throws IOException {
    Files.writeString(dir.resolve("tls.crt"), "pem", StandardCharsets.US_ASCII);
    Files.writeString(dir.resolve("tls.key"), "pem", StandardCharsets.US_ASCII);
    assertThat(
            problems(
                BACKENDS
                    + USERS
                    + "frontend: {tls: {mode: disabled, certFile: tls.crt, keyFile: tls.key}}\n"))
        .containsExactly(
            "frontend.tls.certFile: set while frontend.tls.mode is disabled; remove it, or set mode"
                + " to optional or required");
  }

  @Test
  void protocolVersionsOlderThanTls12() {
    assertThat(problems(BACKENDS + USERS + "frontend: {tls: {minVersion: TLSv1.1}}\n"))
        .containsExactly(
            "frontend.tls.minVersion: 'TLSv1.1' is not supported; use TLSv1.2 or TLSv1.3");
  }

  @Test
  void unknownAuthenticationPlugins() {
    assertThat(
            problems(
                BACKENDS
                    + "users:\n  - {name: app, password: a, authPlugin: sha256_password}\n"
                    + "frontend: {defaultAuthPlugin: ed25519}\n"))
        .containsExactly(
            "users[0].authPlugin: 'sha256_password' is not supported; use mysql_native_password or"
                + " caching_sha2_password",
            "frontend.defaultAuthPlugin: 'ed25519' is not supported; use mysql_native_password or"
                + " caching_sha2_password");
  }

  @Test
  void perAddressLimitAboveTheGlobalOne() {
    assertThat(
            problems(
                BACKENDS
                    + USERS
                    + "frontend: {maxPendingLogins: 10, maxPendingLoginsPerAddress: 20}\n"))
        .containsExactly(
            "frontend.maxPendingLoginsPerAddress: 20 is above frontend.maxPendingLogins (10); lower"
                + " it or raise maxPendingLogins");
  }

  @Test
  void aSmallGlobalLimitLowersThePerAddressDefaultWithIt() {
    ProxyConfig c =
        ConfigLoader.parse(BACKENDS + USERS + "frontend: {maxPendingLogins: 10}\n", dir);
    assertThat(c.frontend().maxPendingLoginsPerAddress()).isEqualTo(10);
  }

  @Test
  void emptyPasswordsAreRefusedInlineAndFromFiles() throws IOException {
    Files.writeString(dir.resolve("empty.pw"), "\n", StandardCharsets.UTF_8);
    assertThat(
            problems(
                BACKENDS
                    + "users:\n"
                    + "  - {name: a, password: ''}\n"
                    + "  - {name: b, passwordFile: empty.pw}\n"))
        .containsExactly(
            "users[0].password: the password is empty; the proxy refuses accounts without a"
                + " password, set one",
            "users[1].passwordFile: the password is empty; the proxy refuses accounts without a"
                + " password, set one");
  }
}
