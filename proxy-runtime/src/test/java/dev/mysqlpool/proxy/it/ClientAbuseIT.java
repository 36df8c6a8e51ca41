package dev.mysqlpool.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mysqlpool.proxy.backend.PoolStats;
import dev.mysqlpool.proxy.it.RawProtocolIT.RawClient;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Clients that misbehave after logging in: one that stops reading a large result, and a client
 * process killed with SIGKILL in the middle of a transaction. What each holds, and for how long,
 * against the rules of session mode.
 */
@ExtendWith(LeakGuard.class)
class ClientAbuseIT {
  private static final String TABLE = "app.client_abuse_locks";

  private static EmbeddedMariaDb db;
  private ProxyHarness proxy;

  @BeforeAll
  static void server() {
    db = EmbeddedMariaDb.shared();
    db.execute(
        "CREATE TABLE IF NOT EXISTS " + TABLE + " (id INT PRIMARY KEY)",
        "INSERT IGNORE INTO " + TABLE + " VALUES (1), (2), (3)");
  }

  @AfterEach
  void stopProxy() {
    if (proxy != null) {
      proxy.close();
    }
  }

  private PoolStats stats() {
    return proxy.server.pool("primary").stats();
  }

  private static int running(String marker) throws SQLException {
    try (Connection c = db.rootConnection();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE '%"
                    + marker
                    + "%' AND ID <> CONNECTION_ID()")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  /**
   * Whether a direct connection can lock the row at once; the lock is released again before
   * returning.
   */
  private static boolean rowLockFree(int id) throws SQLException {
    try (Connection c = db.appConnection();
        Statement s = c.createStatement()) {
      c.setAutoCommit(false);
      try {
        s.executeQuery("SELECT id FROM " + TABLE + " WHERE id = " + id + " FOR UPDATE NOWAIT")
            .close();
        return true;
      } catch (SQLException e) {
        if (e.getErrorCode() == 1205) { // lock wait timeout, which NOWAIT reports at once
          return false;
        }
        throw e;
      } finally {
        c.rollback();
      }
    }
  }

  /**
   * Observed rule: a client stuck in the middle of a result is not idle (its command has not
   * finished), so {@code frontend.clientIdleTimeout} does not apply and the session keeps its
   * backend, its server thread blocked writing, for as long as the client stays connected. That
   * costs one backend connection and nothing else: other clients keep working, and the moment the
   * stuck client's socket closes the server thread is killed and its locks are freed.
   */
  @Test
  void
      clientThatStopsReadingALargeResultHoldsOnlyItsOwnBackendUntilItsSocketClosesThenItsThreadIsKilled()
          throws Exception {
    proxy =
        ProxyHarness.start(db, "pool: {maxConnections: 4}\nfrontend: {clientIdleTimeout: 1s}\n");
    String marker = "client_abuse_stuck_reader";
    RawClient stuck =
        RawClient.login(proxy.port(), EmbeddedMariaDb.APP_USER, EmbeddedMariaDb.APP_PASSWORD);
    try {
      assertThat(stuck.query("BEGIN").error()).isNull();
      assertThat(stuck.query("SELECT id FROM " + TABLE + " WHERE id = 1 FOR UPDATE").error())
          .isNull();
      // About 400 MB of rows, far more than the socket buffers between the server and this client
      // hold.
      stuck.writeCommand(
          RawClient.queryPayload(
              "SELECT REPEAT('x', 4000) AS " + marker + " FROM seq_1_to_100000"));
      await().atMost(Duration.ofSeconds(5)).until(() -> running(marker) == 1);

      // Three idle timeouts later, the statement still runs and the backend is still lent: the
      // client is not idle.
      await()
          .during(Duration.ofSeconds(3))
          .atMost(Duration.ofSeconds(5))
          .until(() -> running(marker) == 1 && stats().used() == 1);
      assertThat(rowLockFree(1))
          .as("the stuck client's row lock is held while it is connected")
          .isFalse();

      try (Connection other = proxy.mariadb("socketTimeout=5000");
          Statement s = other.createStatement()) {
        other.setAutoCommit(false);
        long started = System.nanoTime();
        for (int i = 0; i < 20; i++) {
          try (ResultSet rs =
              s.executeQuery("SELECT id FROM " + TABLE + " WHERE id = 2 FOR UPDATE")) {
            assertThat(rs.next()).isTrue();
          }
          other.commit();
        }
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started))
            .as("20 transactions of another client next to the stuck one, in ms")
            .isLessThan(5_000);
        try (ResultSet rs = s.executeQuery("SELECT REPEAT('y', 100000) FROM seq_1_to_50")) {
          int rows = 0;
          while (rs.next()) {
            rows++;
          }
          assertThat(rows).as("another client reads a 5 MB result meanwhile").isEqualTo(50);
        }
        other.commit();
      }
      // The other client's connection comes back once its COM_RESET_CONNECTION is answered.
      await()
          .atMost(Duration.ofSeconds(2))
          .untilAsserted(
              () ->
                  assertThat(stats().used())
                      .as("backends lent: only the stuck client's")
                      .isEqualTo(1));
      assertThat(running(marker)).as("the stuck statement, still blocked writing").isEqualTo(1);
    } finally {
      stuck.close();
    }
    await()
        .atMost(Duration.ofSeconds(2))
        .pollInterval(Duration.ofMillis(50))
        .untilAsserted(
            () -> {
              assertThat(running(marker)).as("the stuck statement after its client left").isZero();
              assertThat(rowLockFree(1)).as("the row lock after the client left").isTrue();
            });
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(stats().used()).isZero());
  }

  @Test
  void
      clientProcessKilledWithSigkillMidTransactionFreesItsRowLockWithinTwoSecondsAndReturnsThePool()
          throws Exception {
    proxy = ProxyHarness.start(db, "pool: {maxConnections: 4}\n");
    String marker = "client_abuse_killed_process";
    Path cli = db.cliBinary();
    List<String> cmd =
        new ArrayList<>(
            List.of(
                cli.toString(),
                "--no-defaults",
                "--batch",
                "--skip-ssl",
                "--protocol=TCP",
                "--connect-timeout=10",
                "-h",
                "127.0.0.1",
                "-P",
                Integer.toString(proxy.port()),
                "-u",
                EmbeddedMariaDb.APP_USER,
                "--database=" + EmbeddedMariaDb.APP_DATABASE,
                "--execute=BEGIN; SELECT id FROM "
                    + TABLE
                    + " WHERE id = 3 FOR UPDATE; SELECT SLEEP(60) AS "
                    + marker));
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
    pb.environment().put("MYSQL_PWD", EmbeddedMariaDb.APP_PASSWORD);
    Process client = pb.start();
    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> running(marker) == 1);
      assertThat(rowLockFree(3))
          .as("the row is locked by the mariadb client's transaction")
          .isFalse();
      assertThat(stats().used()).isEqualTo(1);

      client.destroyForcibly(); // SIGKILL: no COM_QUIT, the kernel just closes the socket
      assertThat(client.waitFor(5, TimeUnit.SECONDS)).isTrue();
      long killedAt = System.nanoTime();
      await()
          .atMost(Duration.ofSeconds(2))
          .pollInterval(Duration.ofMillis(50))
          .untilAsserted(
              () ->
                  assertThat(rowLockFree(3))
                      .as("the row lock after the client process died")
                      .isTrue());
      long freedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
      await()
          .atMost(Duration.ofSeconds(2))
          .untilAsserted(
              () -> {
                assertThat(running(marker)).as("the SLEEP(60) on the server").isZero();
                assertThat(stats().used())
                    .as("backend connections lent after the client died")
                    .isZero();
                assertThat(proxy.server.stats().clientConnections()).isZero();
              });
      assertThat(freedMs).isLessThan(2_000);
    } finally {
      client.destroyForcibly();
    }
    try (Connection c = proxy.mariadb("");
        Statement s = c.createStatement()) {
      try (ResultSet rs = s.executeQuery("SELECT id FROM " + TABLE + " WHERE id = 3 FOR UPDATE")) {
        assertThat(rs.next()).as("the proxy serves the row to the next client").isTrue();
      }
    }
  }
}
