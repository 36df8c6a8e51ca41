package dev.mysqlpool.proxy.backend;

import static dev.mysqlpool.proxy.backend.CachingSha2LoginTest.CLASSIC_CLIENT;
import static dev.mysqlpool.proxy.backend.CachingSha2LoginTest.assertTranscript;
import static dev.mysqlpool.proxy.backend.CachingSha2LoginTest.commandPhase;
import static dev.mysqlpool.proxy.backend.CachingSha2LoginTest.concat;
import static dev.mysqlpool.proxy.backend.CachingSha2LoginTest.key;
import static dev.mysqlpool.proxy.backend.CachingSha2LoginTest.loginQueryResetPing;
import static dev.mysqlpool.proxy.backend.CachingSha2LoginTest.pool;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mysqlpool.proxy.config.ProxyConfig.Backend;
import dev.mysqlpool.proxy.config.ProxyConfig.BackendRole;
import dev.mysqlpool.proxy.config.ProxyConfig.BackendTls;
import dev.mysqlpool.proxy.config.ProxyConfig.BackendTlsMode;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import dev.mysqlpool.proxy.testsupport.TestPki;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.Future;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * How the proxy secures the password when a MySQL 8 backend asks for caching_sha2_password full
 * authentication (issue 11): over TLS it sends the password itself, over plain TCP only encrypted
 * with a pinned key, or with a fetched key when {@code allowPublicKeyRetrieval} says so; otherwise
 * it refuses and says how to fix it. Against {@link FakeMySql8}, which also speaks TLS.
 */
@ExtendWith(LeakGuard.class)
class BackendFullAuthenticationTest {
  private static final String PASSWORD = FakeMySql8.PASSWORD;
  private static final TestPki CA = TestPki.authority("fake-mysql8-ca");
  private static EventLoopGroup group;
  private static SSLContext serverTls;

  @BeforeAll
  static void setUp() throws Exception {
    group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    TestPki.Issued issued = CA.issueServer("fake-mysql8");
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setKeyEntry(
        "server",
        issued.keys().getPrivate(),
        new char[0],
        new X509Certificate[] {issued.certificate(), CA.certificate()});
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, new char[0]);
    serverTls = SSLContext.getInstance("TLS");
    serverTls.init(kmf.getKeyManagers(), null, null);
  }

  @AfterAll
  static void tearDown() {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  @Test
  void overTlsTheFullPathSendsThePasswordInsideTheEncryptedConnection(@TempDir Path dir)
      throws Exception {
    Path caFile = CA.writeCaPem(dir.resolve("ca.pem"));
    try (FakeMySql8 fake = FakeMySql8.start(FakeMySql8.GREET_CACHING_SHA2, false, serverTls)) {
      Backend backend =
          backend(fake, new BackendTls(BackendTlsMode.VERIFY_CA, caFile.toString(), "TLSv1.2"));
      loginQueryResetPing(group, backend, fake, PASSWORD, CLASSIC_CLIENT);

      assertTranscript(
          fake,
          concat(
              List.of(
                  "S0 HandshakeV10 plugin=caching_sha2_password",
                  "C1 SSLRequest",
                  "TLS TLSv1.3",
                  "C2 HandshakeResponse41 user=app plugin=caching_sha2_password"
                      + " auth=caching_sha2_password scramble of the greeting seed",
                  "S3 AuthMoreData 0x04 perform_full_authentication",
                  "C4 cleartext password+NUL over TLS",
                  "S5 OK"),
              commandPhase(false)));
    }
  }

  @Test
  void verifyCaFindsTheIssuerInABundleOfManyCas(@TempDir Path dir) throws Exception {
    // The RDS bundle holds dozens of CAs; every one is a trust anchor, wherever it sits.
    StringBuilder bundle = new StringBuilder();
    for (int i = 0; i < 40; i++) {
      if (i == 23) {
        bundle.append(Files.readString(CA.writeCaPem(dir.resolve("ours.pem"))));
      }
      bundle.append(
          Files.readString(TestPki.authority("region-" + i).writeCaPem(dir.resolve(i + ".pem"))));
    }
    Path caFile = Files.writeString(dir.resolve("bundle.pem"), bundle);
    try (FakeMySql8 fake = FakeMySql8.start(FakeMySql8.GREET_CACHING_SHA2, true, serverTls)) {
      Backend backend =
          backend(fake, new BackendTls(BackendTlsMode.VERIFY_CA, caFile.toString(), "TLSv1.2"));
      loginQueryResetPing(group, backend, fake, PASSWORD, CLASSIC_CLIENT);

      assertThat(fake.sessions.get(0).transcript())
          .withFailMessage("a login over TLS: %s", fake.sessions.get(0).transcript())
          .contains("C1 SSLRequest", "S4 OK");
    }
  }

  @Test
  void overPlainTcpAPinnedKeyEncryptsThePasswordWithoutAskingTheServerForOne(@TempDir Path dir)
      throws Exception {
    Path keyFile = Files.writeString(dir.resolve("public_key.pem"), FakeMySql8.publicKeyPem());
    try (FakeMySql8 fake = FakeMySql8.start(FakeMySql8.GREET_CACHING_SHA2, false)) {
      Backend backend =
          new Backend(
              "mysql8",
              "127.0.0.1",
              fake.port(),
              BackendRole.ANY,
              BackendTls.DEFAULT,
              keyFile.toString(),
              false);
      loginQueryResetPing(group, backend, fake, PASSWORD, CLASSIC_CLIENT);

      assertTranscript(
          fake,
          concat(
              List.of(
                  "S0 HandshakeV10 plugin=caching_sha2_password",
                  "C1 HandshakeResponse41 user=app plugin=caching_sha2_password"
                      + " auth=caching_sha2_password scramble of the greeting seed",
                  "S2 AuthMoreData 0x04 perform_full_authentication",
                  "C3 RSA-encrypted password: password+NUL XOR the greeting seed",
                  "S4 OK"),
              commandPhase(false)));
    }
  }

  @Test
  void overPlainTcpWithoutAKeyThePasswordIsNotSentAndTheErrorNamesTheThreeFixes() throws Exception {
    try (FakeMySql8 fake = FakeMySql8.start(FakeMySql8.GREET_CACHING_SHA2, false)) {
      Throwable cause = failedLogin(backend(fake, BackendTls.DEFAULT));

      assertThat(cause)
          .hasMessageContaining(
              "backend 'mysql8' (127.0.0.1:"
                  + fake.port()
                  + ") needs the password of user 'app' (caching_sha2_password full"
                  + " authentication) over a connection without TLS")
          .hasMessageContaining("backends[mysql8].tls.mode preferred or stronger")
          .hasMessageContaining("backends[mysql8].serverPublicKeyFile")
          .hasMessageContaining("backends[mysql8].allowPublicKeyRetrieval: true");
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThat(fake.sessions.get(0).transcript())
                      .withFailMessage("nothing may follow the server's demand for the password")
                      .containsExactly(
                          "S0 HandshakeV10 plugin=caching_sha2_password",
                          "C1 HandshakeResponse41 user=app plugin=caching_sha2_password"
                              + " auth=caching_sha2_password scramble of the greeting seed",
                          "S2 AuthMoreData 0x04 perform_full_authentication",
                          "client closed the connection"));
    }
  }

  @Test
  void requiredModeRefusesAServerThatDoesNotOfferTls() throws Exception {
    try (FakeMySql8 fake = FakeMySql8.start(FakeMySql8.GREET_CACHING_SHA2, true)) {
      Throwable cause =
          failedLogin(backend(fake, new BackendTls(BackendTlsMode.REQUIRED, null, "TLSv1.2")));

      assertThat(cause)
          .hasMessage(
              "backend 'mysql8' (127.0.0.1:"
                  + fake.port()
                  + ") does not offer TLS (no CLIENT_SSL in its greeting), and"
                  + " backends[mysql8].tls.mode is required; give the server a certificate"
                  + " (ssl_cert, ssl_key), or set tls.mode to preferred");
    }
  }

  @Test
  void verifyCaAgainstAnotherCaFailsNamingTheCertificateAndTheCaFile(@TempDir Path dir)
      throws Exception {
    Path otherCa = TestPki.authority("someone-else").writeCaPem(dir.resolve("other-ca.pem"));
    try (FakeMySql8 fake = FakeMySql8.start(FakeMySql8.GREET_CACHING_SHA2, true, serverTls)) {
      Throwable cause =
          failedLogin(
              backend(
                  fake, new BackendTls(BackendTlsMode.VERIFY_CA, otherCa.toString(), "TLSv1.2")));

      assertThat(cause)
          .hasMessageStartingWith(
              "TLS to backend 'mysql8' (127.0.0.1:"
                  + fake.port()
                  + ") failed (tls.mode verify-ca, against tls.caFile "
                  + otherCa
                  + "): certificate 'CN=fake-mysql8' (issued by 'CN=fake-mysql8-ca'")
          .hasMessageContaining("is not trusted by tls.caFile " + otherCa);
    }
  }

  private static Backend backend(FakeMySql8 fake, BackendTls tls) {
    return new Backend("mysql8", "127.0.0.1", fake.port(), BackendRole.ANY, tls, null, false);
  }

  /** The last login failure the pool reports to a borrower that timed out. */
  private static Throwable failedLogin(Backend backend) throws InterruptedException {
    BackendPool pool = pool(group, backend, PASSWORD, Duration.ofMillis(1500));
    try {
      Future<BackendConnection> f = pool.acquire(group.next(), key(PASSWORD, 0), false);
      assertThat(f.await(15, TimeUnit.SECONDS)).withFailMessage("acquire never ended").isTrue();
      assertThat(f.isSuccess()).withFailMessage("the login must fail").isFalse();
      assertThat(f.cause()).isInstanceOf(AcquireTimeoutException.class);
      assertThat(pool.stats().reachable())
          .withFailMessage("a backend the proxy cannot log in to is down")
          .isFalse();
      return f.cause().getCause();
    } finally {
      pool.close();
    }
  }
}
