package dev.mysqlpool.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mysqlpool.proxy.it.RawProtocolIT.Err;
import dev.mysqlpool.proxy.it.RawProtocolIT.RawClient;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Authentication under abuse: password guessing cannot tell existing accounts from unknown ones,
 * and a flood of connections that never log in is cut off by {@code frontend.handshakeTimeout}
 * without starving real clients.
 */
@ExtendWith(LeakGuard.class)
class AuthAbuseIT {
  private static final Logger log = LoggerFactory.getLogger(AuthAbuseIT.class);
  private static final int FLOOD = 500;
  private static final String HANDSHAKE_TIMEOUTS =
      "mysqlpool_errors_total{kind=\"handshake_timeout\"}";

  private static ProxyHarness proxy;

  @BeforeAll
  static void start() {
    // All 500 from one address are admitted, so that the handshake timeout is what closes them
    // (the per-address cap is UnauthenticatedClientsIT's).
    proxy =
        ProxyHarness.start(
            EmbeddedMariaDb.shared(),
            "frontend: {handshakeTimeout: 1s, maxPendingLoginsPerAddress: 1000}\n");
  }

  @AfterAll
  static void stop() {
    if (proxy != null) {
      proxy.close();
    }
  }

  /** The reply to one login attempt, with the user name masked so that replies can be compared. */
  private static String deniedShape(String user, String password) throws IOException {
    try (RawClient c = RawClient.open(proxy.port())) {
      c.sendHandshakeResponse(user, password, EmbeddedMariaDb.APP_DATABASE);
      Err err = c.readErr();
      int seq = c.lastSeq;
      c.assertClosedByPeer();
      return err.code()
          + " #"
          + err.sqlState()
          + " seq="
          + seq
          + " "
          + err.message().replace("'" + user + "'@", "'<user>'@");
    }
  }

  @Test
  void repeatedWrongPasswordsGet1045WithTheSameShapeForExistingAndUnknownUsers() throws Exception {
    Set<String> existing = new LinkedHashSet<>();
    Set<String> unknown = new LinkedHashSet<>();
    Set<String> existingNoPassword = new LinkedHashSet<>();
    Set<String> unknownNoPassword = new LinkedHashSet<>();
    for (int i = 0; i < 20; i++) {
      existing.add(deniedShape(EmbeddedMariaDb.APP_USER, "guess-" + i));
      unknown.add(deniedShape("ghost" + i, "guess-" + i));
    }
    existingNoPassword.add(deniedShape(EmbeddedMariaDb.APP_USER, ""));
    unknownNoPassword.add(deniedShape("ghost-nopw", ""));

    assertThat(existing).as("20 wrong passwords for an existing user: one reply shape").hasSize(1);
    assertThat(existing.iterator().next())
        .isEqualTo(
            "1045 #28000 seq=2 Access denied for user '<user>'@'127.0.0.1' (using password: YES)");
    assertThat(unknown)
        .as("unknown users get exactly what an existing user with a wrong password gets")
        .isEqualTo(existing);
    assertThat(unknownNoPassword).as("without a password, too").isEqualTo(existingNoPassword);
    assertThat(existingNoPassword.iterator().next()).endsWith("(using password: NO)");

    try (RawClient c =
        RawClient.login(proxy.port(), EmbeddedMariaDb.APP_USER, EmbeddedMariaDb.APP_PASSWORD)) {
      assertThat(c.query("SELECT 'no lockout'").value(0, 0))
          .as("the right password still works after 21 failures")
          .isEqualTo("no lockout");
    }
  }

  @Test
  void fiveHundredHalfOpenHandshakesAreClosedByTheHandshakeTimeoutWhileANormalClientLogsIn()
      throws Exception {
    // Registered at the first timeout: absent (0) if no test of this class has timed out yet.
    long handshakeTimeoutsBefore =
        (long) MetricsScrape.of(proxy).baselineOfLazyCounter(HANDSHAKE_TIMEOUTS);
    List<Socket> flood = new ArrayList<>();
    try {
      for (int i = 0; i < FLOOD; i++) {
        Socket s = new Socket();
        flood.add(s);
        s.connect(new InetSocketAddress("127.0.0.1", proxy.port()), 5_000);
        if (i % 2 == 1) {
          // Half of them start an answer and stall: 3 bytes of a packet header.
          s.getOutputStream().write(new byte[] {0x40, 0x00, 0x00});
        }
      }
      long floodedAt = System.nanoTime();
      try (Connection c = proxy.mariadb("connectTimeout=5000&socketTimeout=5000");
          Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT 'during the flood'")) {
        rs.next();
        assertThat(rs.getString(1)).isEqualTo("during the flood");
      }
      long normalClientMs = (System.nanoTime() - floodedAt) / 1_000_000;

      int closed = 0;
      List<String> notClosed = new ArrayList<>();
      for (Socket s : flood) {
        String end = readUntilClosed(s, floodedAt + Duration.ofSeconds(6).toNanos());
        if (end == null) {
          closed++;
        } else {
          notClosed.add(end);
        }
      }
      long allClosedMs = (System.nanoTime() - floodedAt) / 1_000_000;
      assertThat(notClosed)
          .as("flood sockets the proxy did not close within 6 s of a 1 s handshakeTimeout")
          .isEmpty();
      assertThat(closed).isEqualTo(FLOOD);
      await()
          .atMost(Duration.ofSeconds(5))
          .untilAsserted(
              () -> {
                assertThat(proxy.server.stats().clientConnections())
                    .as("client connections after the flood")
                    .isZero();
                assertThat(MetricsScrape.of(proxy).value("mysqlpool_frontend_client_connections"))
                    .as("/metrics client gauge")
                    .isEqualTo(0.0);
              });
      assertThat(handshakeTimeoutsBefore + FLOOD)
          .as("handshake timeouts counted")
          .isLessThanOrEqualTo((long) MetricsScrape.of(proxy).value(HANDSHAKE_TIMEOUTS));
      log.info(
          "half-open flood: normal client served in {} ms, all {} closed after {} ms",
          normalClientMs,
          FLOOD,
          allClosedMs);
    } finally {
      for (Socket s : flood) {
        s.close();
      }
    }
  }

  /**
   * Null when the peer closed the socket (EOF or reset) before the deadline; otherwise what
   * happened.
   */
  private static String readUntilClosed(Socket s, long deadlineNanos) throws IOException {
    InputStream in = s.getInputStream();
    byte[] buf = new byte[256];
    try {
      while (true) {
        long left = (deadlineNanos - System.nanoTime()) / 1_000_000;
        if (left <= 0) {
          return "still open at the deadline";
        }
        s.setSoTimeout((int) left);
        if (in.read(buf) < 0) {
          return null;
        }
      }
    } catch (SocketTimeoutException e) {
      return "no EOF before the deadline";
    } catch (SocketException e) {
      return null; // reset by the proxy
    }
  }
}
