package dev.mysqlpool.proxy.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mysqlpool.proxy.config.ConfigException;
import dev.mysqlpool.proxy.config.ProxyConfig.Tls;
import dev.mysqlpool.proxy.config.ProxyConfig.TlsMode;
import dev.mysqlpool.proxy.testsupport.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server context follows the certificate files: a renewal is installed, a half-written rotation
 * is ignored until both files agree, and a self-signed certificate renews itself.
 */
class ServerTlsTest {
  @TempDir Path dir;

  private Tls files(Duration reload) {
    return new Tls(
        TlsMode.OPTIONAL,
        dir.resolve("tls.crt").toString(),
        dir.resolve("tls.key").toString(),
        "TLSv1.2",
        reload);
  }

  @Test
  void aRenewedPairIsInstalledAndAHalfWrittenOneIsNot() throws Exception {
    TestPki ca = TestPki.authority("CA");
    TestPki.Issued first = ca.issueServer("first");
    first.writeTo(dir);
    try (ServerTls tls = ServerTls.start(files(Duration.ZERO))) {
      assertThat(tls.certificate()).isEqualTo(first.certificate());
      assertThat(tls.check()).as("nothing changed").isFalse();

      TestPki.Issued second = ca.issueServer("second");
      Files.writeString(
          dir.resolve("tls.crt"), TestPki.pem("CERTIFICATE", second.certificate().getEncoded()));
      assertThat(tls.check()).as("the new certificate with the old key").isFalse();
      assertThat(tls.certificate()).isEqualTo(first.certificate());

      second.writeTo(dir);
      assertThat(tls.check()).isTrue();
      assertThat(tls.certificate()).isEqualTo(second.certificate());
      assertThat(
              tls.newHandler(io.netty.buffer.ByteBufAllocator.DEFAULT).engine().getUseClientMode())
          .isFalse();
    }
  }

  @Test
  void unusableFilesAtStartAreAConfigErrorNamingTheFields() throws Exception {
    Files.writeString(dir.resolve("tls.crt"), "not pem");
    Files.writeString(dir.resolve("tls.key"), "not pem");
    assertThatThrownBy(() -> ServerTls.start(files(Duration.ZERO)))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e ->
                assertThat(e.problems())
                    .containsExactly(
                        "frontend.tls.certFile: "
                            + dir.resolve("tls.crt")
                            + ": no '-----BEGIN CERTIFICATE-----' block; point it at the PEM"
                            + " certificate chain, leaf first (tls.crt)",
                        "frontend.tls.keyFile: "
                            + dir.resolve("tls.key")
                            + ": no private key block ('PRIVATE KEY', 'RSA PRIVATE KEY' or 'EC"
                            + " PRIVATE KEY'); point it at the PEM private key (tls.key)"));
  }

  @Test
  void aSelfSignedCertificateRenewsItselfAMonthBeforeItExpires() {
    MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    try (ServerTls tls = ServerTls.start(Tls.DEFAULT, clock)) {
      X509Certificate first = tls.certificate();
      clock.now = clock.now.plus(Duration.ofDays(330));
      assertThat(tls.check()).as("35 days left").isFalse();
      clock.now = clock.now.plus(Duration.ofDays(10));
      assertThat(tls.check()).as("25 days left").isTrue();
      assertThat(tls.certificate()).isNotEqualTo(first);
      assertThat(tls.certificate().getNotAfter().toInstant())
          .isEqualTo(clock.now.plus(Duration.ofDays(365)));
    }
  }

  @Test
  void disabledMeansNoTls() {
    assertThat(ServerTls.start(new Tls(TlsMode.DISABLED, null, null, "TLSv1.2", Duration.ZERO)))
        .isNull();
  }

  private static final class MutableClock extends Clock {
    Instant now;

    MutableClock(Instant now) {
      this.now = now;
    }

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }
}
