package dev.mysqlpool.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import dev.mysqlpool.proxy.testsupport.TcpRelay;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 12: a backend that stops answering without closing the connection (a relay that freezes;
 * its kernel still acknowledges data and keepalive probes, so TCP alone never notices) is noticed
 * within the keepalive window, and the session gets an error saying so instead of hanging. A
 * statement that is merely slow, on a server that answers, is left alone.
 */
@ExtendWith(LeakGuard.class)
class FrozenBackend12IT {
  /** Keepalive 1s + 1s x 2: a 3s window; a probe login may take pool.connectTimeout (2s) more. */
  private static final String POOL =
      "pool: {tcpKeepAliveIdle: 1s, tcpKeepAliveInterval: 1s, tcpKeepAliveCount: 2,"
          + " connectTimeout: 2s, acquireTimeout: 2s}\n";

  private static final long WINDOW_MILLIS = 3000;

  private TcpRelay relay;
  private ProxyHarness proxy;

  @BeforeEach
  void start() {
    EmbeddedMariaDb db = EmbeddedMariaDb.shared();
    relay = TcpRelay.start(db.host(), db.port());
    proxy = ProxyHarness.start(relay.host(), relay.port(), POOL);
  }

  @AfterEach
  void stop() {
    if (proxy != null) {
      proxy.close();
    }
    if (relay != null) {
      relay.close();
    }
  }

  private Connection connect() throws SQLException {
    // The driver's own socketTimeout is far beyond the window: whatever ends the wait is the proxy.
    return DriverManager.getConnection(
        "jdbc:mariadb://127.0.0.1:"
            + proxy.server.listenPort()
            + "/app?connectTimeout=5000&socketTimeout=60000",
        EmbeddedMariaDb.APP_USER,
        EmbeddedMariaDb.APP_PASSWORD);
  }

  @Test
  void aSessionOnAFrozenBackendGetsAnErrorWithinTheKeepaliveWindow() throws Exception {
    try (Connection c = connect();
        Statement st = c.createStatement()) {
      st.execute("SELECT 1");
      relay.freeze();
      long started = System.nanoTime();
      assertThatThrownBy(() -> st.execute("SELECT 2"))
          .isInstanceOf(SQLException.class)
          .hasMessageContaining("stopped answering")
          .hasMessageContaining("tcpKeepAlive");
      long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
      assertThat(tookMillis)
          .withFailMessage(
              "the frozen backend was given up after %dms; expected after the %dms window and"
                  + " before window + connectTimeout + a few housekeeping passes",
              tookMillis, WINDOW_MILLIS)
          .isBetween(WINDOW_MILLIS, WINDOW_MILLIS + 2000 + 3000);
    }
  }

  @Test
  void aSlowStatementOnABackendThatAnswersIsNotCut() throws Exception {
    try (Connection c = connect();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT SLEEP(5), 'still here'")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString(2))
          .withFailMessage("a 5s statement longer than the 3s window must not be cut")
          .isEqualTo("still here");
    }
  }

  /**
   * The probe's login is refused (here: the account is locked after the client logged in, as a
   * server at max_connections refuses with 1040): the server answered, so the slow statement is not
   * taken for a stall and runs to its end.
   */
  @Test
  void aSlowStatementIsNotCutWhenTheServerRefusesTheProbesLogin() throws Exception {
    EmbeddedMariaDb db = EmbeddedMariaDb.shared();
    try (Connection root = db.rootConnection();
        Statement admin = root.createStatement()) {
      admin.execute("DROP USER IF EXISTS 'stall_probe'@'%'");
      admin.execute("CREATE USER 'stall_probe'@'%' IDENTIFIED BY 'stall-pw'");
      admin.execute("GRANT SELECT ON app.* TO 'stall_probe'@'%'");
      proxy.close();
      proxy =
          ProxyHarness.start(
              relay.host(),
              relay.port(),
              "127.0.0.1",
              "  - {name: stall_probe, password: stall-pw}\n",
              POOL);
      try (Connection c =
              DriverManager.getConnection(
                  "jdbc:mariadb://127.0.0.1:"
                      + proxy.server.listenPort()
                      + "/app?connectTimeout=5000&socketTimeout=60000",
                  "stall_probe",
                  "stall-pw");
          Statement st = c.createStatement()) {
        st.execute("SELECT 1");
        admin.execute("ALTER USER 'stall_probe'@'%' ACCOUNT LOCK");
        try (ResultSet rs = st.executeQuery("SELECT SLEEP(6), 'still here'")) {
          assertThat(rs.next()).isTrue();
          assertThat(rs.getString(2))
              .withFailMessage(
                  "a 6s statement must not be cut because the server refused the probe's login")
              .isEqualTo("still here");
        }
      } finally {
        admin.execute("DROP USER IF EXISTS 'stall_probe'@'%'");
      }
    }
  }
}
