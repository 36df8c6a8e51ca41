package dev.mysqlpool.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mysqlpool.proxy.config.ConfigException;
import dev.mysqlpool.proxy.config.ProxyConfig.Backend;
import dev.mysqlpool.proxy.config.ProxyConfig.BackendRole;
import dev.mysqlpool.proxy.config.ProxyConfig.BackendTls;
import dev.mysqlpool.proxy.config.ProxyConfig.BackendTlsMode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The backend TLS context: which modes get one, and CA files that cannot be used. */
class ClientTlsTest {
  @Test
  void disabledHasNoContextAndTheOthersDo() {
    assertThat(ClientTls.forBackend(backend(BackendTlsMode.DISABLED, null))).isNull();
    assertThat(ClientTls.forBackend(backend(BackendTlsMode.PREFERRED, null)).trustSource())
        .isEqualTo("the JVM's default CAs");
    assertThat(ClientTls.forBackend(backend(BackendTlsMode.VERIFY_IDENTITY, null)).mode())
        .isEqualTo(BackendTlsMode.VERIFY_IDENTITY);
  }

  @Test
  void aCaFileWithoutCertificatesIsAConfigErrorNamingFieldFileAndFix(@TempDir Path dir)
      throws Exception {
    Path notPem = Files.writeString(dir.resolve("ca.pem"), "this is not a certificate\n");
    assertThatThrownBy(
            () -> ClientTls.forBackend(backend(BackendTlsMode.VERIFY_CA, notPem.toString())))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(
            "backends[primary].tls.caFile: "
                + notPem
                + " is not a PEM CA bundle: no '-----BEGIN CERTIFICATE-----' block; give the CA"
                + " certificates as '-----BEGIN CERTIFICATE-----' blocks");
  }

  @Test
  void aMissingCaFileIsAConfigError(@TempDir Path dir) {
    Path missing = dir.resolve("gone.pem");
    assertThatThrownBy(
            () -> ClientTls.forBackend(backend(BackendTlsMode.VERIFY_CA, missing.toString())))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(
            "backends[primary].tls.caFile: cannot read "
                + missing
                + " (NoSuchFileException); mount the CA bundle there or fix the path");
  }

  private static Backend backend(BackendTlsMode mode, String caFile) {
    return new Backend(
        "primary",
        "127.0.0.1",
        3306,
        BackendRole.ANY,
        new BackendTls(mode, caFile, "TLSv1.2"),
        null,
        false);
  }
}
