package dev.mysqlpool.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.mysqlpool.proxy.backend.PoolStats;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTimeoutException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Cancelling a running statement through the proxy, in both pool modes: Connector/J's query timeout
 * (a KILL QUERY with the proxy's connection id over a new connection), a KILL QUERY typed by
 * another client, and MariaDB Connector/J's query timeout (the server's max_statement_time, sent as
 * SET STATEMENT ... FOR). Each must stop the statement on the server within a bound far below the
 * statement's own length (a KILL QUERY acknowledged but not applied would let the driver report its
 * timeout only when the 30 s SLEEP ends), and leave the connection usable.
 */
@ExtendWith(LeakGuard.class)
class QueryCancelIT {
  /** Far above a 1 s timeout plus a KILL round trip on a loaded machine, far below SLEEP(30). */
  private static final Duration BOUND = Duration.ofSeconds(10);

  private static final String TABLE = "app.cancel_locks";

  /** The two pool modes, as pool.mode spells them in lower case. */
  enum Mode {
    SESSION,
    TRANSACTION;

    String yaml(int maxConnections) {
      return "pool: {mode: "
          + name().toLowerCase(Locale.ROOT)
          + ", maxConnections: "
          + maxConnections
          + ", acquireTimeout: 20s}\n";
    }
  }

  private static EmbeddedMariaDb db;
  private ProxyHarness proxy;

  @BeforeAll
  static void server() {
    db = EmbeddedMariaDb.shared();
    db.execute(
        "CREATE TABLE IF NOT EXISTS " + TABLE + " (id INT PRIMARY KEY)",
        "INSERT IGNORE INTO " + TABLE + " VALUES (1)");
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

  /**
   * With maxConnections 1 the statement holds the only backend connection: the cancel, which
   * arrives on a new client connection, must not wait for one.
   */
  @ParameterizedTest
  @EnumSource(Mode.class)
  void connectorJQueryTimeoutStopsTheStatementOnTheServerAndTheConnectionStaysUsable(Mode mode)
      throws Exception {
    proxy = ProxyHarness.start(db, mode.yaml(1));
    String marker = "cancel_cj_timeout";
    try (Connection c = proxy.mysql("socketTimeout=60000");
        Statement s = c.createStatement()) {
      s.setQueryTimeout(1);
      long started = System.nanoTime();
      assertThatThrownBy(() -> s.executeQuery("SELECT SLEEP(30) AS " + marker).close())
          .isInstanceOf(SQLTimeoutException.class);
      assertThat(since(started)).as("time to the timeout of a 1 s query timeout").isLessThan(BOUND);
      assertStopped(marker);
      assertThat(scalar(c, "SELECT 4")).as("the next statement on the connection").isEqualTo(4);
    }
    assertBackendsReturned();
  }

  /**
   * On the server a killed statement ends only itself: the transaction stays open with its row
   * locks until the client ends it. Through the proxy the same, and in transaction mode the backend
   * connection stays with the client until then.
   */
  @ParameterizedTest
  @EnumSource(Mode.class)
  void connectorJQueryTimeoutInATransactionEndsTheStatementAndTheClientStillEndsItsTransaction(
      Mode mode) throws Exception {
    proxy = ProxyHarness.start(db, mode.yaml(1));
    String marker = "cancel_cj_in_transaction";
    try (Connection c = proxy.mysql("socketTimeout=60000");
        Statement s = c.createStatement()) {
      c.setAutoCommit(false);
      s.executeQuery("SELECT id FROM " + TABLE + " WHERE id = 1 FOR UPDATE").close();
      s.setQueryTimeout(1);
      long started = System.nanoTime();
      assertThatThrownBy(() -> s.executeQuery("SELECT SLEEP(30) AS " + marker).close())
          .isInstanceOf(SQLTimeoutException.class);
      assertThat(since(started)).as("time to the timeout of a 1 s query timeout").isLessThan(BOUND);
      assertStopped(marker);
      assertThat(scalar(c, "SELECT @@in_transaction"))
          .as("the transaction after its statement was killed")
          .isEqualTo(1);
      assertThat(rowLockFree()).as("the transaction's row lock while it is open").isFalse();
      c.rollback();
      assertThat(rowLockFree()).as("the row lock after the rollback").isTrue();
      assertThat(scalar(c, "SELECT 5")).isEqualTo(5);
      c.setAutoCommit(true);
    }
    assertBackendsReturned();
  }

  /** The killer's own statements need a backend connection: maxConnections 2. */
  @ParameterizedTest
  @EnumSource(Mode.class)
  void killQueryFromAnotherClientStopsTheStatementAndItsClientGetsError1317(Mode mode)
      throws Exception {
    proxy = ProxyHarness.start(db, mode.yaml(2));
    String marker = "cancel_kill_query";
    ExecutorService runner = Executors.newSingleThreadExecutor();
    try (Connection victim = proxy.mariadb("socketTimeout=60000");
        Connection killer = proxy.mysql("")) {
      long victimId = ((org.mariadb.jdbc.Connection) victim).getThreadId();
      Future<Integer> sleeping =
          runner.submit(() -> scalar(victim, "SELECT SLEEP(30) AS " + marker));
      await().atMost(Duration.ofSeconds(10)).until(() -> running(marker) == 1);
      long killedAt = System.nanoTime();
      try (Statement s = killer.createStatement()) {
        s.execute("KILL QUERY " + victimId);
      }
      assertThatThrownBy(() -> sleeping.get(BOUND.toSeconds(), TimeUnit.SECONDS))
          .as("the killed statement's result")
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isInstanceOf(SQLException.class)
          .satisfies(e -> assertThat(((SQLException) e).getErrorCode()).isEqualTo(1317));
      assertThat(since(killedAt)).as("time from KILL QUERY to the error").isLessThan(BOUND);
      assertStopped(marker);
      assertThat(scalar(victim, "SELECT 6")).as("the killed client's next statement").isEqualTo(6);
      assertThat(scalar(killer, "SELECT 7")).isEqualTo(7);
    } finally {
      runner.shutdownNow();
    }
    assertBackendsReturned();
  }

  /**
   * MariaDB Connector/J's timeout is the server's max_statement_time for that one statement: it
   * must end the statement the same way through the proxy, and leave max_statement_time as it was
   * for the client and for everyone sharing its backend connection (maxConnections 2: in session
   * mode each client holds one).
   */
  @ParameterizedTest
  @EnumSource(Mode.class)
  void mariadbConnectorJQueryTimeoutEndsTheStatementAndChangesNoSessionVariable(Mode mode)
      throws Exception {
    proxy = ProxyHarness.start(db, mode.yaml(2));
    String marker = "cancel_mariadb_timeout";
    try (Connection c = proxy.mariadb("socketTimeout=60000");
        Connection other = proxy.mariadb("")) {
      try (Statement s = c.createStatement()) {
        s.setQueryTimeout(1);
        long started = System.nanoTime();
        assertThatThrownBy(() -> s.executeQuery("SELECT SLEEP(30) AS " + marker).close())
            .isInstanceOf(SQLTimeoutException.class);
        assertThat(since(started)).as("time to the timeout").isLessThan(BOUND);
      }
      assertStopped(marker);
      for (int i = 0; i < 3; i++) {
        assertThat(scalar(c, "SELECT @@max_statement_time"))
            .as("the client's max_statement_time after the statement")
            .isZero();
        assertThat(scalar(other, "SELECT @@max_statement_time"))
            .as("another client's max_statement_time")
            .isZero();
        assertThat(scalar(c, "SELECT SLEEP(1.2)")).as("a statement over 1 s afterwards").isZero();
      }
    }
    assertBackendsReturned();
  }

  /** The statement is not running on the server (shortly after its client saw the error). */
  private static void assertStopped(String marker) {
    await()
        .atMost(Duration.ofSeconds(2))
        .pollInterval(Duration.ofMillis(50))
        .untilAsserted(
            () ->
                assertThat(running(marker))
                    .as("statements '%s' still running on the server", marker)
                    .isZero());
  }

  /** Once the clients are gone, no backend connection is lent. */
  private void assertBackendsReturned() {
    await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(() -> assertThat(stats().used()).as("backends lent").isZero());
  }

  private static int running(String marker) throws SQLException {
    return ServerProbes.running(db, marker);
  }

  private static boolean rowLockFree() throws SQLException {
    return ServerProbes.rowLockFree(db, TABLE);
  }

  private static int scalar(Connection c, String sql) throws SQLException {
    return ServerProbes.scalar(c, sql);
  }

  private static Duration since(long nanos) {
    return Duration.ofNanos(System.nanoTime() - nanos);
  }
}
