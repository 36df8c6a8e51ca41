package dev.mysqlpool.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mysqlpool.proxy.backend.BackendPool;
import dev.mysqlpool.proxy.backend.PoolStats;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import dev.mysqlpool.proxy.testsupport.TcpRelay;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A backend connection's life in the pool, against a real MariaDB: kept alive by validation pings
 * while idle, replaced when the server closes it, retired before maxLifetime and the server's
 * wait_timeout, and, when its lifetime ends while a client uses it, retired only once the client
 * gives it back: never in the middle of a transaction.
 */
@ExtendWith(LeakGuard.class)
class PoolConnectionLifecycleIT {
  private static final String TABLE = "app.lifetime_probe";

  private static EmbeddedMariaDb db;
  private ProxyHarness proxy;

  @BeforeAll
  static void server() {
    db = EmbeddedMariaDb.shared();
    db.execute(
        "CREATE TABLE IF NOT EXISTS " + TABLE + " (id INT AUTO_INCREMENT PRIMARY KEY, v INT)");
  }

  @AfterEach
  void stopProxy() {
    if (proxy != null) {
      proxy.close();
    }
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> db.threadIds(EmbeddedMariaDb.APP_USER).isEmpty());
  }

  private PoolStats stats() {
    return proxy.server.pool("primary").stats();
  }

  private static int scalar(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getInt(1);
    }
  }

  @Test
  void maxLifetimeDefaultsBelowTheServersWaitTimeoutSoNoClosedConnectionIsLent() throws Exception {
    db.execute("SET GLOBAL wait_timeout = 4");
    try (LogCapture log = new LogCapture(BackendPool.class)) {
      proxy = ProxyHarness.start(db, "pool: {minIdle: 1, maxIdle: 1, validationInterval: 0}\n");
      await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> db.threadIds(EmbeddedMariaDb.APP_USER).size() == 1);
      long first = db.threadIds(EmbeddedMariaDb.APP_USER).get(0);
      assertThat(stats().serverWaitTimeoutSeconds()).isEqualTo(4);
      // The idle connection is retired (at most 80% of wait_timeout) and replaced before the server
      // would close it.
      await()
          .atMost(Duration.ofSeconds(6))
          .until(
              () -> {
                List<Long> ids = db.threadIds(EmbeddedMariaDb.APP_USER);
                return ids.size() == 1 && ids.get(0) != first;
              });
      try (Connection c = proxy.mariadb("")) {
        assertThat(scalar(c, "SELECT 7")).isEqualTo(7);
      }
      assertThat(log.messages()).noneMatch(m -> m.contains("closed by the server"));
    } finally {
      db.execute("SET GLOBAL wait_timeout = 28800");
    }
  }

  @Test
  void configuredMaxLifetimeRetiresConnections() {
    proxy =
        ProxyHarness.start(
            db, "pool: {minIdle: 1, maxIdle: 1, maxLifetime: 1s, validationInterval: 0}\n");
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> db.threadIds(EmbeddedMariaDb.APP_USER).size() == 1);
    long first = db.threadIds(EmbeddedMariaDb.APP_USER).get(0);
    await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () -> !db.threadIds(EmbeddedMariaDb.APP_USER).contains(first) && stats().free() == 1);
    assertThat(stats().destroyed()).isGreaterThanOrEqualTo(1);
  }

  /**
   * The server closes both idle connections while new logins to it hang (a relay holds them), so
   * clients that arrive find no connection and no replacement yet: they wait, and are served once
   * the replacement exists, without an error.
   */
  @Test
  void idleConnectionsClosedByTheServerAreReplacedInvisiblyToClientsThatArriveMeanwhile()
      throws Exception {
    try (TcpRelay relay = TcpRelay.start(db.host(), db.port())) {
      proxy =
          ProxyHarness.start(
              relay.host(),
              relay.port(),
              "pool: {minIdle: 2, maxIdle: 2, validationInterval: 0, acquireTimeout: 30s,"
                  + " connectTimeout: 20s}\n");
      await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> db.threadIds(EmbeddedMariaDb.APP_USER).size() == 2 && stats().free() == 2);
      relay.holdNew();
      for (long id : db.threadIds(EmbeddedMariaDb.APP_USER)) {
        db.kill(id);
      }
      await()
          .atMost(Duration.ofSeconds(5))
          .untilAsserted(
              () -> {
                assertThat(stats().free()).as("free connections once the kills are seen").isZero();
                assertThat(relay.heldCount()).as("replacement logins, held").isPositive();
              });
      ExecutorService clients = Executors.newFixedThreadPool(3);
      try {
        List<Future<Integer>> answers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
          int n = i;
          answers.add(
              clients.submit(
                  () -> {
                    try (Connection c = proxy.mariadb("connectTimeout=30000&socketTimeout=30000")) {
                      return scalar(c, "SELECT " + n);
                    }
                  }));
        }
        await()
            .atMost(Duration.ofSeconds(10))
            .untilAsserted(
                () ->
                    assertThat(stats().pending())
                        .as("clients waiting for a backend while none exists")
                        .isPositive());
        assertThat(db.threadIds(EmbeddedMariaDb.APP_USER))
            .as("app sessions on the server while clients wait: the replacement does not exist")
            .isEmpty();
        relay.releaseHeld();
        for (int i = 0; i < 3; i++) {
          assertThat(answers.get(i).get(30, TimeUnit.SECONDS))
              .as("client %d's answer", i)
              .isEqualTo(i);
        }
      } finally {
        clients.shutdownNow();
      }
      await().atMost(Duration.ofSeconds(5)).until(() -> stats().free() == 2);
    }
  }

  /**
   * Idle connections are pinged every validationInterval: the app user's sessions stay on the
   * server (at least the two of minIdle) and none of them goes 2.5 s without a command, over a run
   * longer than that. Losing them (no sessions, where MAX(TIME) would read NULL) fails too.
   */
  @Test
  void idleConnectionsArePingedEveryValidationInterval() throws Exception {
    proxy = ProxyHarness.start(db, "pool: {minIdle: 2, maxIdle: 2, validationInterval: 500ms}\n");
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> db.threadIds(EmbeddedMariaDb.APP_USER).size() == 2);
    long started = System.nanoTime();
    try (Connection root = db.rootConnection();
        Statement s = root.createStatement()) {
      await()
          .atMost(Duration.ofSeconds(15))
          .pollInterval(Duration.ofMillis(200))
          .until(
              () -> {
                List<Long> idleMs = new ArrayList<>();
                try (ResultSet rs =
                    s.executeQuery(
                        "SELECT TIME_MS FROM information_schema.PROCESSLIST WHERE USER = 'app'")) {
                  while (rs.next()) {
                    idleMs.add(rs.getLong(1));
                  }
                }
                assertThat(idleMs)
                    .as("ms since each idle backend connection of the app user last saw a command")
                    .hasSizeGreaterThanOrEqualTo(2)
                    .allMatch(ms -> ms < 2500);
                return System.nanoTime() - started > TimeUnit.SECONDS.toNanos(4);
              });
    }
  }

  /**
   * A validation ping is not a reason to open a connection: with no client at all, minIdle 1 and
   * pings every 500 ms, the pool keeps its one connection (same session on the server) and logs in
   * no other, over several intervals. Found failing: the housekeeper takes the pinged connection
   * out of the idle list, the minIdle top-up then counts it as missing and opens another one, so
   * idle connections grow to maxIdle (or, with minIdle equal to maxIdle, two logins and two closes
   * every interval) without any client.
   */
  @Test
  void validationPingsOpenNoConnections() {
    proxy = ProxyHarness.start(db, "pool: {minIdle: 1, maxIdle: 3, validationInterval: 500ms}\n");
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> db.threadIds(EmbeddedMariaDb.APP_USER).size() == 1);
    List<Long> session = db.threadIds(EmbeddedMariaDb.APP_USER);
    await()
        .during(Duration.ofSeconds(3))
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(
            () -> {
              assertThat(stats().created()).as("backend connections opened").isEqualTo(1);
              assertThat(db.threadIds(EmbeddedMariaDb.APP_USER))
                  .as("the app user's sessions on the server")
                  .isEqualTo(session);
            });
  }

  /**
   * Session mode: the client keeps its backend connection past maxLifetime, its transaction and a
   * statement running across the expiry complete on it, and at disconnect it is retired: the next
   * client, which with maxConnections 1 can only get that connection or a new one, gets a new one.
   */
  @Test
  void sessionModeConnectionPastMaxLifetimeServesItsClientToTheEndAndIsRetiredAtReturn()
      throws Exception {
    proxy =
        ProxyHarness.start(
            db, "pool: {maxConnections: 1, maxLifetime: 1s, validationInterval: 0}\n");
    int marker = (int) (System.nanoTime() & 0xffffff);
    long backend;
    try (Connection c = proxy.mariadb("socketTimeout=30000")) {
      backend = scalar(c, "SELECT CONNECTION_ID()");
      c.setAutoCommit(false);
      insertProbe(c, marker);
      runsAcrossTheExpiry(c);
      heldPastExpiry(backend);
      insertProbe(c, marker);
      c.commit();
      assertThat((long) scalar(c, "SELECT CONNECTION_ID()"))
          .as("session mode: the same backend connection to the end")
          .isEqualTo(backend);
    }
    assertThat(committedProbes(marker)).as("rows the transaction committed").isEqualTo(2);
    try (Connection next = proxy.mariadb("")) {
      assertThat((long) scalar(next, "SELECT CONNECTION_ID()"))
          .as("the next client's backend connection")
          .isNotEqualTo(backend);
    }
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> !db.threadIds(EmbeddedMariaDb.APP_USER).contains(backend));
  }

  /**
   * Transaction mode: a transaction that outlives its backend connection's maxLifetime finishes on
   * it, and the connection is retired when the transaction ends: with maxConnections 1, the
   * client's next statement runs on a new one.
   */
  @Test
  void transactionModeConnectionPastMaxLifetimeFinishesTheTransactionAndIsRetiredAtItsEnd()
      throws Exception {
    proxy =
        ProxyHarness.start(
            db,
            "pool: {mode: transaction, maxConnections: 1, maxLifetime: 1s, validationInterval: 0}\n");
    int marker = (int) (System.nanoTime() & 0xffffff);
    try (Connection c = proxy.mysql("socketTimeout=30000")) {
      c.setAutoCommit(false);
      insertProbe(c, marker);
      long backend = scalar(c, "SELECT CONNECTION_ID()");
      runsAcrossTheExpiry(c);
      heldPastExpiry(backend);
      assertThat((long) scalar(c, "SELECT CONNECTION_ID()"))
          .as("the transaction's backend connection, past its maxLifetime")
          .isEqualTo(backend);
      insertProbe(c, marker);
      c.commit();
      assertThat(committedProbes(marker)).as("rows the transaction committed").isEqualTo(2);
      c.setAutoCommit(true);
      assertThat((long) scalar(c, "SELECT CONNECTION_ID()"))
          .as("the backend connection of the client's next statement")
          .isNotEqualTo(backend);
      await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> !db.threadIds(EmbeddedMariaDb.APP_USER).contains(backend));
    }
  }

  private static void insertProbe(Connection c, int marker) throws SQLException {
    try (Statement s = c.createStatement()) {
      assertThat(s.executeUpdate("INSERT INTO " + TABLE + " (v) VALUES (" + marker + ")"))
          .isEqualTo(1);
    }
  }

  private static int committedProbes(int marker) throws SQLException {
    try (Connection direct = db.appConnection()) {
      return scalar(direct, "SELECT COUNT(*) FROM " + TABLE + " WHERE v = " + marker);
    }
  }

  /** A statement that starts before maxLifetime (1 s) and ends after it completes normally. */
  private static void runsAcrossTheExpiry(Connection c) throws SQLException {
    assertThat(scalar(c, "SELECT SLEEP(1.5)"))
        .as("SLEEP across the expiry returns 0: it was not interrupted")
        .isZero();
  }

  /**
   * Past its maxLifetime, the lent connection stays open through several housekeeping runs (every
   * 250 ms).
   */
  private static void heldPastExpiry(long backend) {
    await()
        .during(Duration.ofSeconds(1))
        .atMost(Duration.ofSeconds(3))
        .until(() -> db.threadIds(EmbeddedMariaDb.APP_USER).contains(backend));
  }
}
