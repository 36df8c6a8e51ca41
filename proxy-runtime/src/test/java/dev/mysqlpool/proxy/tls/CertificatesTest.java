package dev.mysqlpool.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The certificates the proxy writes are what verifiers expect: the JDK's PKIX validation, and
 * OpenSSL's own {@code verify} where the {@code openssl} command exists.
 */
class CertificatesTest {
  @TempDir Path dir;

  private static final Instant NOW = Instant.parse("2026-06-01T12:00:00Z");

  private record Chain(X509Certificate ca, X509Certificate leaf) {}

  private static Chain chain(boolean rsaLeaf) throws Exception {
    KeyPair caKeys = Certificates.newKeyPair();
    X509Certificate ca =
        Certificates.issue(
            new Certificates.Request(
                "Test CA",
                caKeys.getPublic(),
                List.of(),
                true,
                NOW.minus(Duration.ofDays(1)),
                NOW.plus(Duration.ofDays(3650))),
            null,
            caKeys.getPrivate());
    KeyPair leafKeys;
    if (rsaLeaf) {
      var g = java.security.KeyPairGenerator.getInstance("RSA");
      g.initialize(2048);
      leafKeys = g.generateKeyPair();
    } else {
      leafKeys = Certificates.newKeyPair();
    }
    X509Certificate leaf =
        Certificates.issue(
            new Certificates.Request(
                "db.example.com",
                leafKeys.getPublic(),
                List.of("db.example.com", "127.0.0.1", "::1"),
                false,
                NOW.minus(Duration.ofDays(1)),
                NOW.plus(Duration.ofDays(90))),
            ca,
            caKeys.getPrivate());
    return new Chain(ca, leaf);
  }

  @Test
  void aServerCertificateIssuedByATestCaValidatesUnderPkix() throws Exception {
    for (boolean rsa : new boolean[] {false, true}) {
      Chain c = chain(rsa);
      PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(c.ca(), null)));
      params.setRevocationEnabled(false);
      params.setDate(java.util.Date.from(NOW));
      CertPathValidator.getInstance("PKIX")
          .validate(
              CertificateFactory.getInstance("X.509").generateCertPath(List.of(c.leaf())), params);
      assertThat(c.leaf().getBasicConstraints()).as("not a CA").isEqualTo(-1);
      assertThat(c.ca().getBasicConstraints()).as("a CA").isGreaterThanOrEqualTo(0);
      assertThat(c.leaf().getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1");
      List<Object> names = new ArrayList<>();
      for (List<?> n : c.leaf().getSubjectAlternativeNames()) {
        names.add(n.get(1));
      }
      assertThat(names).containsExactly("db.example.com", "127.0.0.1", "0:0:0:0:0:0:0:1");
      assertThat(c.leaf().getKeyUsage()[0]).as("digitalSignature").isTrue();
      assertThat(c.leaf().getKeyUsage()[2]).as("keyEncipherment only for RSA").isEqualTo(rsa);
    }
  }

  @Test
  void openSslVerifiesTheChainWhereItIsInstalled() throws Exception {
    Chain c = chain(false);
    Path ca = write("ca.pem", c.ca());
    Path leaf = write("leaf.pem", c.leaf());
    String out =
        run(
            "openssl",
            "verify",
            "-attime",
            Long.toString(NOW.getEpochSecond()),
            "-purpose",
            "sslserver",
            "-CAfile",
            ca.toString(),
            leaf.toString());
    assumeTrue(out != null, "no openssl command here");
    assertThat(out.strip()).isEqualTo(leaf + ": OK");
  }

  @Test
  void theSelfSignedCertificateNamesLocalhostAndLastsAYear() throws Exception {
    KeyMaterial m = KeyMaterial.selfSigned(NOW);
    X509Certificate cert = m.leaf();
    cert.verify(cert.getPublicKey());
    assertThat(cert.getNotAfter().toInstant()).isEqualTo(NOW.plus(Duration.ofDays(365)));
    assertThat(cert.getNotBefore().toInstant()).isEqualTo(NOW.minus(Duration.ofHours(1)));
    List<Object> names = new ArrayList<>();
    for (List<?> n : cert.getSubjectAlternativeNames()) {
      names.add(n.get(1));
    }
    assertThat(names).contains("localhost", "127.0.0.1");
    assertThat(Certificates.matches(cert, m.key())).isTrue();
    assertThat(Certificates.matches(cert, Certificates.newKeyPair().getPrivate())).isFalse();
  }

  private Path write(String name, X509Certificate cert) throws Exception {
    Path p = dir.resolve(name);
    Files.writeString(
        p,
        "-----BEGIN CERTIFICATE-----\n"
            + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(cert.getEncoded())
            + "\n-----END CERTIFICATE-----\n",
        StandardCharsets.US_ASCII);
    return p;
  }

  /** The command's output, or null when it cannot run here. */
  private static String run(String... cmd) throws InterruptedException {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      p.waitFor(30, TimeUnit.SECONDS);
      return out;
    } catch (IOException e) {
      return null;
    }
  }
}
