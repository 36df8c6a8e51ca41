package dev.mysqlpool.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Certificate and key files as OpenSSL and cert-manager write them (fixtures made with OpenSSL 3.0
 * in src/test/resources/tls), and the messages for files that cannot serve.
 */
class PemTest {
  @TempDir Path dir;

  private static Path fixture(String name) {
    try {
      return Path.of(PemTest.class.getResource("/tls/" + name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  private static KeyMaterial load(Path cert, Path key) {
    return KeyMaterial.load("frontend.tls.certFile", cert, "frontend.tls.keyFile", key);
  }

  @Test
  void rsaPkcs1KeyAsCertManagerWritesItByDefault() {
    KeyMaterial m = load(fixture("rsa.crt"), fixture("rsa-pkcs1.key"));
    assertThat(m.key().getAlgorithm()).isEqualTo("RSA");
    assertThat(m.leaf().getSubjectX500Principal().getName()).isEqualTo("CN=rsa fixture");
  }

  @Test
  void ecSec1KeyAfterItsParametersBlockAndEcPkcs8() {
    assertThat(load(fixture("ec.crt"), fixture("ec-sec1.key")).key().getAlgorithm())
        .isEqualTo("EC");
    assertThat(load(fixture("ec.crt"), fixture("ec-pkcs8.key")).key().getAlgorithm())
        .isEqualTo("EC");
  }

  @Test
  void aChainReadsLeafFirst() throws IOException {
    Path chain = dir.resolve("chain.crt");
    Files.writeString(
        chain,
        Files.readString(fixture("ec.crt")) + "\n" + Files.readString(fixture("rsa.crt")),
        StandardCharsets.US_ASCII);
    KeyMaterial m = load(chain, fixture("ec-sec1.key"));
    assertThat(m.chain()).hasSize(2);
    assertThat(m.leaf().getSubjectX500Principal().getName()).isEqualTo("CN=ec fixture");
  }

  @Test
  void encryptedKeysAreRefusedWithTheFix() {
    assertThatThrownBy(() -> load(fixture("ec.crt"), fixture("ec-encrypted.key")))
        .hasMessage(
            "frontend.tls.keyFile: "
                + fixture("ec-encrypted.key")
                + ": the private key is encrypted; store it unencrypted, as a kubernetes.io/tls"
                + " Secret holds it (openssl pkcs8 -topk8 -nocrypt); point it at the PEM private"
                + " key (tls.key)");
    assertThatThrownBy(() -> load(fixture("rsa.crt"), fixture("rsa-pkcs1-encrypted.key")))
        .hasMessageContaining("the 'RSA PRIVATE KEY' block has PEM headers (an encrypted key)");
  }

  @Test
  void aKeyOfAnotherCertificateIsNamedWithBothFiles() {
    assertThatThrownBy(() -> load(fixture("ec.crt"), fixture("rsa-pkcs1.key")))
        .hasMessageStartingWith(
            "frontend.tls.keyFile: "
                + fixture("rsa-pkcs1.key")
                + " is not the key of the first certificate in "
                + fixture("ec.crt")
                + " ('CN=ec fixture', SHA-256 fingerprint ")
        .hasMessageEndingWith("; use the key and certificate of one Secret");
  }

  @Test
  void filesWithoutTheRightBlocksAndMissingFilesAreReportedTogether() throws IOException {
    Path swapped = dir.resolve("swapped.crt");
    Files.copy(fixture("ec-pkcs8.key"), swapped);
    Path missing = dir.resolve("missing.key");
    assertThatThrownBy(() -> load(swapped, missing))
        .hasMessage(
            "frontend.tls.certFile: "
                + swapped
                + ": no '-----BEGIN CERTIFICATE-----' block (found PRIVATE KEY); point it at the"
                + " PEM certificate chain, leaf first (tls.crt)\n"
                + "frontend.tls.keyFile: "
                + missing
                + ": cannot read it (NoSuchFileException); point it at the PEM private key"
                + " (tls.key)");
  }

  @Test
  void aDerFileIsNotMistakenForPem() throws Exception {
    Path der = dir.resolve("cert.der");
    Files.write(der, load(fixture("ec.crt"), fixture("ec-sec1.key")).leaf().getEncoded());
    assertThatThrownBy(() -> load(der, fixture("ec-sec1.key")))
        .hasMessageContaining(": no '-----BEGIN CERTIFICATE-----' block;");
  }
}
