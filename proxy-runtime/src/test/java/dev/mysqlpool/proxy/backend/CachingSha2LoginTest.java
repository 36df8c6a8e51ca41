package dev.mysqlpool.proxy.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mysqlpool.proxy.backend.BackendPool.Release;
import dev.mysqlpool.proxy.config.ProxyConfig.Backend;
import dev.mysqlpool.proxy.config.ProxyConfig.BackendRole;
import dev.mysqlpool.proxy.config.ProxyConfig.BackendTls;
import dev.mysqlpool.proxy.config.ProxyConfig.Pool;
import dev.mysqlpool.proxy.config.ProxyConfig.PoolMode;
import dev.mysqlpool.proxy.config.ProxyConfig.User;
import dev.mysqlpool.proxy.protocol.Capabilities;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.Future;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The caching_sha2_password login of {@link BackendConnector}, driven through {@link BackendPool}
 * against a fake MySQL 8 server written here, because the only real server in this build (MariaDB
 * 11.4) logs in with mysql_native_password.
 *
 * <p>The fake implements the server side of the exchange on its own: it computes the expected
 * scrambles and decrypts the RSA-encrypted password itself instead of calling {@code
 * dev.mysqlpool.proxy.auth}, parses the HandshakeResponse41 itself, and answers the proxy's {@code
 * SELECT @@SESSION.wait_timeout}, COM_RESET_CONNECTION and COM_PING as MySQL 8.4 would. Each test
 * compares the complete packet transcript, sequence ids included: every packet is recorded as
 * {@code C<seq>} (from the proxy) or {@code S<seq>} (from the fake), so a reply that does not carry
 * its request's id plus one shows up in the diff.
 *
 * @see <a
 *     href="https://dev.mysql.com/doc/dev/mysql-server/latest/page_caching_sha2_authentication_exchanges.html">
 *     caching_sha2_password information exchanges</a>
 */
@ExtendWith(LeakGuard.class)
class CachingSha2LoginTest {
  private static final String USER = FakeMySql8.USER;
  private static final String PASSWORD = FakeMySql8.PASSWORD;
  private static final int WAIT_TIMEOUT = FakeMySql8.WAIT_TIMEOUT;

  /**
   * Flags a proxy client may choose; the fake formats its result set by what the proxy passes on.
   */
  static final int MODERN_CLIENT =
      Capabilities.CLIENT_DEPRECATE_EOF
          | Capabilities.CLIENT_SESSION_TRACK
          | Capabilities.CLIENT_TRANSACTIONS
          | Capabilities.CLIENT_MULTI_RESULTS
          | Capabilities.CLIENT_FOUND_ROWS;

  static final int CLASSIC_CLIENT =
      Capabilities.CLIENT_TRANSACTIONS | Capabilities.CLIENT_MULTI_RESULTS;

  private static final int UTF8MB4_0900_AI_CI = 255;

  private static EventLoopGroup group;

  @BeforeAll
  static void setUp() {
    group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  }

  @AfterAll
  static void tearDown() {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  @Test
  void fastPathWhenTheServerHasTheAccountCached() throws Exception {
    try (FakeMySql8 fake = FakeMySql8.start(FakeMySql8.GREET_CACHING_SHA2, true)) {
      loginQueryResetPing(fake, PASSWORD, MODERN_CLIENT);

      assertTranscript(
          fake,
          concat(
              List.of(
                  "S0 HandshakeV10 plugin=caching_sha2_password",
                  "C1 HandshakeResponse41 user=app plugin=caching_sha2_password auth=caching_sha2_password scramble of the "
                      + "greeting seed",
                  "S2 AuthMoreData 0x03 fast_auth_success",
                  "S3 OK"),
              commandPhase(true)));
    }
  }

  @Test
  void fullPathRequestsThePublicKeyAndSendsTheRsaEncryptedPassword() throws Exception {
    try (FakeMySql8 fake = FakeMySql8.start(FakeMySql8.GREET_CACHING_SHA2, false)) {
      loginQueryResetPing(fake, PASSWORD, CLASSIC_CLIENT);

      assertTranscript(
          fake,
          concat(
              List.of(
                  "S0 HandshakeV10 plugin=caching_sha2_password",
                  "C1 HandshakeResponse41 user=app plugin=caching_sha2_password auth=caching_sha2_password scramble of the "
                      + "greeting seed",
                  "S2 AuthMoreData 0x04 perform_full_authentication",
                  "C3 0x02 request_public_key",
                  "S4 AuthMoreData PEM public key",
                  "C5 RSA-encrypted password: password+NUL XOR the greeting seed",
                  "S6 OK"),
              commandPhase(false)));
    }
  }

  @Test
  void authSwitchFromANativeGreetingToCachingSha2WithANewSeed() throws Exception {
    try (FakeMySql8 fake = FakeMySql8.start(FakeMySql8.GREET_NATIVE, true)) {
      loginQueryResetPing(fake, PASSWORD, MODERN_CLIENT);

      assertTranscript(
          fake,
          concat(
              List.of(
                  "S0 HandshakeV10 plugin=mysql_native_password",
                  "C1 HandshakeResponse41 user=app plugin=mysql_native_password auth=mysql_native_password scramble of the "
                      + "greeting seed",
                  "S2 AuthSwitchRequest plugin=caching_sha2_password with a new seed",
                  "C3 auth=caching_sha2_password scramble of the switch seed",
                  "S4 AuthMoreData 0x03 fast_auth_success",
                  "S5 OK"),
              commandPhase(true)));
    }
  }

  @Test
  void authSwitchThenFullPathEncryptsWithTheSwitchSeed() throws Exception {
    try (FakeMySql8 fake = FakeMySql8.start(FakeMySql8.GREET_NATIVE, false)) {
      loginQueryResetPing(fake, PASSWORD, CLASSIC_CLIENT);

      assertTranscript(
          fake,
          concat(
              List.of(
                  "S0 HandshakeV10 plugin=mysql_native_password",
                  "C1 HandshakeResponse41 user=app plugin=mysql_native_password auth=mysql_native_password scramble of the "
                      + "greeting seed",
                  "S2 AuthSwitchRequest plugin=caching_sha2_password with a new seed",
                  "C3 auth=caching_sha2_password scramble of the switch seed",
                  "S4 AuthMoreData 0x04 perform_full_authentication",
                  "C5 0x02 request_public_key",
                  "S6 AuthMoreData PEM public key",
                  "C7 RSA-encrypted password: password+NUL XOR the switch seed",
                  "S8 OK"),
              commandPhase(false)));
    }
  }

  @Test
  void wrongPasswordSurfacesAccessDeniedInTheAcquireTimeoutAndTheStats() throws Exception {
    try (FakeMySql8 fake = FakeMySql8.start(FakeMySql8.GREET_CACHING_SHA2, true)) {
      BackendPool pool =
          pool(group, retrievingKey(fake), "not-the-password", Duration.ofMillis(1500));
      try {
        Future<BackendConnection> f =
            pool.acquire(group.next(), key("not-the-password", MODERN_CLIENT), false);
        assertThat(f.await(15, TimeUnit.SECONDS))
            .withFailMessage("acquire neither failed nor succeeded")
            .isTrue();
        assertThat(f.isSuccess())
            .withFailMessage("acquire with a wrong password must fail")
            .isFalse();

        String accessDenied =
            "backend 'mysql8' (127.0.0.1:"
                + fake.port()
                + ") rejected user 'app': 1045 (28000): "
                + "Access denied for user 'app'@'127.0.0.1' (using password: YES)";
        assertThat(f.cause())
            .withFailMessage("the acquire failure must keep the server's error; got %s", f.cause())
            .isInstanceOf(AcquireTimeoutException.class)
            .hasMessageContaining("last backend error: " + accessDenied);
        assertThat(f.cause().getCause())
            .withFailMessage(
                "the last login failure must be chained as the cause; got %s", f.cause().getCause())
            .isInstanceOf(BackendException.class)
            .hasMessage(accessDenied);

        PoolStats stats = pool.stats();
        assertThat(stats.reachable())
            .withFailMessage("a refused login makes the backend unreachable")
            .isFalse();
        assertThat(stats.connectErrors())
            .withFailMessage("every refused login counts: %s", stats)
            .isPositive();
        assertThat(stats.created())
            .withFailMessage("no connection may be created: %s", stats)
            .isZero();
        assertThat(stats.acquireTimeouts()).isEqualTo(1);
        assertThat(stats.serverWaitTimeoutSeconds())
            .withFailMessage("wait_timeout is only known after a login")
            .isEqualTo(-1);
      } finally {
        pool.close();
      }

      // A real server fast-authenticates only a matching scramble; anything else goes the full path
      // and is refused
      // after the RSA-encrypted password. Every retry of the pool looks the same.
      List<String> refused =
          List.of(
              "S0 HandshakeV10 plugin=caching_sha2_password",
              "C1 HandshakeResponse41 user=app plugin=caching_sha2_password auth=32 bytes that are no scramble of the "
                  + "account's password",
              "S2 AuthMoreData 0x04 perform_full_authentication",
              "C3 0x02 request_public_key",
              "S4 AuthMoreData PEM public key",
              "C5 RSA-encrypted password: not the account's password",
              "S6 ERR 1045 (28000) Access denied for user 'app'@'127.0.0.1' (using password: YES)",
              "server closed the connection");
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () -> {
                assertThat(fake.sessions).isNotEmpty();
                for (FakeMySql8.Session s : fake.sessions) {
                  assertThat(s.transcript())
                      .withFailMessage("a refused login, packet by packet")
                      .isEqualTo(refused);
                }
              });
    }
  }

  /**
   * Acquires a connection, checks the wait_timeout the pool learned, releases it with a reset,
   * waits for the pool's idle validation ping, then closes the pool.
   */
  private void loginQueryResetPing(FakeMySql8 fake, String password, int clientCapabilities) {
    loginQueryResetPing(group, retrievingKey(fake), fake, password, clientCapabilities);
  }

  static void loginQueryResetPing(
      EventLoopGroup group,
      Backend backend,
      FakeMySql8 fake,
      String password,
      int clientCapabilities) {
    BackendPool pool = pool(group, backend, password, Duration.ofSeconds(10));
    try {
      Future<BackendConnection> f =
          pool.acquire(group.next(), key(password, clientCapabilities), false);
      assertThat(f.awaitUninterruptibly(15, TimeUnit.SECONDS))
          .withFailMessage("acquire did not complete; the fake saw %s", fake.transcripts())
          .isTrue();
      assertThat(f.isSuccess())
          .withFailMessage("acquire failed: %s; the fake saw %s", f.cause(), fake.transcripts())
          .isTrue();
      BackendConnection c = f.getNow();

      PoolStats stats = pool.stats();
      assertThat(stats.serverWaitTimeoutSeconds())
          .withFailMessage("the pool must read wait_timeout from the first row: %s", stats)
          .isEqualTo(WAIT_TIMEOUT);
      assertThat(stats.reachable()).isTrue();
      assertThat(stats.created()).isEqualTo(1);
      assertThat(c.capabilities() & clientCapabilities)
          .withFailMessage("the client's behaviour flags must reach the backend")
          .isEqualTo(clientCapabilities);

      pool.release(c, Release.RESET);
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () -> {
                assertThat(fake.pingsAnswered.get())
                    .withFailMessage("the idle connection was never validated")
                    .isPositive();
                assertThat(pool.stats().free())
                    .withFailMessage("the pinged connection must be idle again")
                    .isEqualTo(1);
              });
    } finally {
      pool.close();
    }
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(fake.sessions)
                    .allSatisfy(
                        s ->
                            assertThat(s.finished)
                                .withFailMessage("pool.close() must close the connection")
                                .isTrue()));
  }

  /** What the proxy sends once logged in, and the fake's replies, for one pool connection. */
  static List<String> commandPhase(boolean deprecateEof) {
    List<String> out =
        new ArrayList<>(
            List.of(
                "C0 COM_QUERY SELECT @@SESSION.wait_timeout",
                "S1 column count 1",
                "S2 column definition @@SESSION.wait_timeout"));
    if (deprecateEof) {
      out.addAll(List.of("S3 row '28800'", "S4 OK terminator (0xFE)"));
    } else {
      out.addAll(List.of("S3 EOF", "S4 row '28800'", "S5 EOF"));
    }
    out.addAll(
        List.of(
            "C0 COM_RESET_CONNECTION",
            "S1 OK",
            "C0 COM_PING",
            "S1 OK",
            "client closed the connection"));
    return out;
  }

  static void assertTranscript(FakeMySql8 fake, List<String> expected) {
    assertThat(fake.sessions)
        .withFailMessage("one pool connection, one login: %s", fake.transcripts())
        .hasSize(1);
    assertThat(withoutRepeatedPings(fake.sessions.get(0).transcript()))
        .withFailMessage(
            "packets between the proxy and the fake MySQL 8:%n  got      %s%n  expected %s",
            fake.sessions.get(0).transcript(), expected)
        .isEqualTo(expected);
  }

  /**
   * The pool may validate an idle connection more than once before the test closes it; one ping is
   * what matters.
   */
  private static List<String> withoutRepeatedPings(List<String> transcript) {
    List<String> out = new ArrayList<>();
    boolean pinged = false;
    for (int i = 0; i < transcript.size(); i++) {
      boolean ping =
          transcript.get(i).equals("C0 COM_PING")
              && i + 1 < transcript.size()
              && transcript.get(i + 1).equals("S1 OK");
      if (ping && pinged) {
        i++;
        continue;
      }
      pinged |= ping;
      out.add(transcript.get(i));
    }
    return out;
  }

  static List<String> concat(List<String> a, List<String> b) {
    List<String> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  /**
   * The fake without TLS, and the proxy allowed to fetch its key: what these tests check is the
   * exchange, not the policy ({@link BackendFullAuthenticationTest} checks that).
   */
  static Backend retrievingKey(FakeMySql8 fake) {
    return new Backend(
        "mysql8", "127.0.0.1", fake.port(), BackendRole.ANY, BackendTls.DEFAULT, null, true);
  }

  static BackendPool pool(
      EventLoopGroup group, Backend backend, String password, Duration acquireTimeout) {
    Pool config =
        new Pool(
            PoolMode.SESSION,
            1,
            0,
            1,
            Duration.ofMinutes(10),
            null,
            Duration.ofSeconds(5),
            acquireTimeout,
            Duration.ofMillis(100),
            Duration.ZERO,
            1);
    BackendPool pool = new BackendPool(backend, config, group, key(password, 0));
    pool.start(); // housekeeping: idle validation, and a probe login while the pool holds no
    // connection
    return pool;
  }

  static PoolKey key(String password, int capabilities) {
    return new PoolKey(
        new User(USER, password, "mysql8", USER, password), capabilities, UTF8MB4_0900_AI_CI);
  }
}
