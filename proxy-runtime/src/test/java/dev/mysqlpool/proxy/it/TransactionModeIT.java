package dev.mysqlpool.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mysqlpool.proxy.testsupport.CliResult;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * pool.mode transaction against a real MariaDB: clients share few backend connections between
 * transactions, carry their variables and database from one connection to the next, get pinned by
 * state that cannot move, and never see each other's session state.
 */
@ExtendWith(LeakGuard.class)
class TransactionModeIT {
  private static EmbeddedMariaDb db;
  private ProxyHarness proxy;

  @BeforeAll
  static void server() {
    db = EmbeddedMariaDb.shared();
    db.execute(
        "CREATE TABLE IF NOT EXISTS app.txm (id INT AUTO_INCREMENT PRIMARY KEY, owner INT, v VARCHAR(64))"
            + " CHARACTER SET utf8mb4");
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

  private void start(int maxConnections) {
    proxy =
        ProxyHarness.start(
            db,
            "pool: {mode: transaction, maxConnections: "
                + maxConnections
                + ", acquireTimeout: 20s}\n");
  }

  private static String text(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  private String get(String path) throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(proxy.adminUrl(path))).build(),
                HttpResponse.BodyHandlers.ofString());
    return r.body();
  }

  @Test
  void fiftyClientsShareTwoBackendConnectionsBetweenTransactions() throws Exception {
    start(2);
    int clients = 50;
    List<Connection> open = new ArrayList<>();
    try {
      for (int i = 0; i < clients; i++) {
        open.add(i % 2 == 0 ? proxy.mysql("") : proxy.mariadb(""));
      }
      ExecutorService pool = Executors.newFixedThreadPool(clients);
      try (Connection root = db.rootConnection();
          PeakSampler sampler =
              new PeakSampler()
                  .probe(
                      "app sessions",
                      () ->
                          Integer.parseInt(
                              text(
                                  root,
                                  "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = '"
                                      + EmbeddedMariaDb.APP_USER
                                      + "'")))
                  .start(Duration.ofMillis(5))) {
        sampler.loadStarts();
        List<Future<Integer>> results = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
          Connection c = open.get(i);
          int owner = i;
          results.add(
              pool.submit(
                  () -> {
                    for (int round = 0; round < 10; round++) {
                      c.setAutoCommit(false);
                      try (PreparedStatement ins =
                          c.prepareStatement("INSERT INTO app.txm (owner, v) VALUES (?, ?)")) {
                        ins.setInt(1, owner);
                        ins.setString(2, "round " + round);
                        ins.executeUpdate();
                      }
                      c.commit();
                      c.setAutoCommit(true);
                    }
                    return Integer.parseInt(
                        text(c, "SELECT COUNT(*) FROM app.txm WHERE owner = " + owner));
                  }));
        }
        for (Future<Integer> f : results) {
          assertThat(f.get()).isEqualTo(10);
        }
        sampler.assertSampledWhileLoadRan(5);
        assertThat(sampler.peak("app sessions"))
            .as("app sessions on the server while 50 clients ran")
            .isBetween(1, 2);
      } finally {
        pool.shutdownNow();
        db.execute("DELETE FROM app.txm");
      }
    } finally {
      for (Connection c : open) {
        c.close();
      }
    }
  }

  /**
   * a and b run on each of the two backend connections in turn (see {@link BackendTurns}), each
   * time right after helper clients with the server's defaults used it. CONNECTION_ID() runs on the
   * backend, so it shows which one served them.
   */
  @Test
  void carriedVariablesAndDatabaseFollowTheClientAcrossBackendConnections() throws Exception {
    start(2);
    Set<String> backendsOfA = new HashSet<>();
    Set<String> backendsOfB = new HashSet<>();
    try (Connection a = proxy.mysql("");
        Connection b = proxy.mysql("");
        Connection h1 = proxy.mysql("");
        Connection h2 = proxy.mysql("")) {
      try (Statement s = a.createStatement()) {
        s.execute("SET SESSION sql_mode = 'ANSI_QUOTES', time_zone = '+05:00'");
        s.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
      }
      b.setCatalog("mysql");
      for (int i = 0; i < 3; i++) {
        BackendTurns.onEach(h1, h2, () -> assertCarried(a, b, backendsOfA, backendsOfB));
      }
      assertThat(backendsOfA).as("backend connections that served a").hasSize(2);
      assertThat(backendsOfB).as("backend connections that served b").hasSize(2);
      // Nothing above pinned a session; a temporary table does, which shows the counter's name.
      try (Statement s = a.createStatement()) {
        s.execute("CREATE TEMPORARY TABLE pin_probe (v INT)");
      }
      assertThat(MetricsScrape.of(proxy).family("mysqlpool_session_pins_total"))
          .as("sessions pinned in this test, by reason")
          .containsExactly(Map.entry("{reason=\"temporary_table\"}", 1.0));
    }
  }

  private static void assertCarried(
      Connection a, Connection b, Set<String> backendsOfA, Set<String> backendsOfB)
      throws SQLException {
    List<String> ofA =
        row(
            a,
            "SELECT @@SESSION.sql_mode, @@SESSION.time_zone, @@SESSION.transaction_isolation,"
                + " CONNECTION_ID()");
    assertThat(ofA.subList(0, 3))
        .as("a's variables on backend %s", ofA.get(3))
        .containsExactly("ANSI_QUOTES", "+05:00", "READ-COMMITTED");
    backendsOfA.add(ofA.get(3));
    List<String> ofB = row(b, "SELECT DATABASE(), CONNECTION_ID()");
    assertThat(ofB.get(0)).as("b's database on backend %s", ofB.get(1)).isEqualTo("mysql");
    backendsOfB.add(ofB.get(1));
  }

  private static List<String> row(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      assertThat(rs.next()).as("a row from %s", sql).isTrue();
      List<String> out = new ArrayList<>();
      for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
        out.add(rs.getString(i));
      }
      return out;
    }
  }

  @Test
  void temporaryTablePinsItsClientAndKeepsItsRowsAcrossTransactions() throws Exception {
    start(2);
    try (Connection pinned = proxy.mysql("");
        Connection other = proxy.mysql("")) {
      try (Statement s = pinned.createStatement()) {
        s.execute("CREATE TEMPORARY TABLE scratch (v INT)");
        s.execute("INSERT INTO scratch VALUES (1), (2)");
      }
      for (int i = 0; i < 3; i++) {
        assertThatThrownBy(() -> text(other, "SELECT COUNT(*) FROM scratch"))
            .hasMessageContaining("doesn't exist");
        pinned.setAutoCommit(false);
        try (Statement s = pinned.createStatement()) {
          s.execute("INSERT INTO scratch VALUES (3)");
        }
        pinned.commit();
        pinned.setAutoCommit(true);
      }
      assertThat(text(pinned, "SELECT COUNT(*) FROM scratch")).isEqualTo("5");
      assertThat(get("/metrics"))
          .contains("mysqlpool_sessions_pinned{reason=\"temporary_table\"} 1.0")
          .contains("mysqlpool_session_pins_total{reason=\"temporary_table\"} 1.0");
      JsonNode stats = new ObjectMapper().readTree(get("/stats"));
      assertThat(stats.get("poolMode").asText()).isEqualTo("transaction");
      assertThat(stats.get("pinnedSessions").get("temporary_table").asInt()).isEqualTo(1);
    }
    await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                get("/metrics")
                    .contains("mysqlpool_sessions_pinned{reason=\"temporary_table\"} 0.0"));
  }

  /**
   * A client leaves every kind of session state behind and disconnects; another client of the same
   * driver (so of the same backend connections) then runs on every backend connection the pool has,
   * and sees none of it.
   */
  @Test
  void unpinnedClientsNeverSeeAnotherClientsSessionState() throws Exception {
    start(2);
    Set<String> servedClean = new HashSet<>();
    try (Connection dirty = proxy.mysql("");
        Connection clean = proxy.mysql("");
        Connection h1 = proxy.mysql("");
        Connection h2 = proxy.mysql("")) {
      try (Statement s = dirty.createStatement()) {
        s.execute("SET @secret = 'dirty'");
        s.execute("CREATE TEMPORARY TABLE leak_probe (v INT)");
        s.execute("SET SESSION sql_mode = 'NO_BACKSLASH_ESCAPES'");
        s.execute("SELECT GET_LOCK('txm_lock', 0)");
      }
      String dirtyBackend = row(dirty, "SELECT CONNECTION_ID()").get(0);
      dirty.close();
      for (int i = 0; i < 3; i++) {
        BackendTurns.onEach(h1, h2, () -> assertSeesNoOtherClientsState(clean, servedClean));
      }
      List<String> backends = new ArrayList<>();
      for (long id : db.threadIds(EmbeddedMariaDb.APP_USER)) {
        backends.add(Long.toString(id));
      }
      assertThat(backends)
          .as("the pool's backend connections on the server, with the dirty client's")
          .hasSize(2)
          .contains(dirtyBackend);
      assertThat(servedClean)
          .as("backend connections the clean client was served by")
          .containsExactlyInAnyOrderElementsOf(backends);
    }
  }

  /**
   * The error comes first: a client keeps its connection while the server holds its errors, so the
   * read after it runs on the same connection, and its subquery on a table clears them, which hands
   * the connection back.
   */
  private static void assertSeesNoOtherClientsState(Connection clean, Set<String> served)
      throws SQLException {
    assertThatThrownBy(() -> text(clean, "SELECT * FROM leak_probe"))
        .hasMessageContaining("doesn't exist");
    List<String> r =
        row(
            clean,
            "SELECT @secret, @@SESSION.sql_mode LIKE '%NO_BACKSLASH_ESCAPES%',"
                + " IS_USED_LOCK('txm_lock'), (SELECT COUNT(*) FROM app.txm) >= 0, CONNECTION_ID()");
    assertThat(r.subList(0, 4))
        .as("user variable, sql_mode, named lock of the other client on backend %s", r.get(4))
        .containsExactly(null, "0", null, "1");
    served.add(r.get(4));
  }

  @Test
  void lastInsertIdAndWarningsAnswerForTheClientsOwnStatements() throws Exception {
    start(2);
    try (Connection a = proxy.mysql("");
        Connection other = proxy.mysql("")) {
      long id;
      try (Statement s = a.createStatement()) {
        s.executeUpdate(
            "INSERT INTO app.txm (owner, v) VALUES (-1, 'a')", Statement.RETURN_GENERATED_KEYS);
        try (ResultSet keys = s.getGeneratedKeys()) {
          keys.next();
          id = keys.getLong(1);
        }
      }
      try (Statement s = other.createStatement()) {
        s.executeUpdate("INSERT INTO app.txm (owner, v) VALUES (-2, 'b')");
        s.executeUpdate("INSERT INTO app.txm (owner, v) VALUES (-2, 'c')");
      }
      assertThat(Long.parseLong(text(a, "SELECT LAST_INSERT_ID()"))).isEqualTo(id);
      try (Statement s = a.createStatement()) {
        s.executeQuery("SELECT 1/0").close();
        SQLWarning w = s.getWarnings();
        assertThat(w != null).as("a warning for 1/0").isTrue();
        assertThat(w.getErrorCode()).isEqualTo(1365);
      }
      assertThat(text(other, "SELECT COUNT(*) FROM (SELECT 1) t")).isEqualTo("1");
      try (Statement s = other.createStatement();
          ResultSet rs = s.executeQuery("SHOW WARNINGS")) {
        assertThat(rs.next()).as("another client's warnings").isFalse();
      }
    } finally {
      db.execute("DELETE FROM app.txm");
    }
  }

  @Test
  void resetConnectionUnpinsAndForgetsTheSessionsState() throws Exception {
    start(1);
    try (Connection c = proxy.mariadb("useResetConnection=true");
        Connection other = proxy.mysql("")) {
      try (Statement s = c.createStatement()) {
        s.execute("SET @kept = 1");
        s.execute("SET SESSION time_zone = '+03:00'");
      }
      assertThat(get("/metrics"))
          .contains("mysqlpool_sessions_pinned{reason=\"user_variable\"} 1.0");
      // With useResetConnection=true, MariaDB Connector/J's reset() sends COM_RESET_CONNECTION.
      ((org.mariadb.jdbc.Connection) c).reset();
      assertThat(get("/metrics"))
          .contains("mysqlpool_sessions_pinned{reason=\"user_variable\"} 0.0");
      assertThat(text(other, "SELECT @kept")).isNull();
      assertThat(text(c, "SELECT @kept")).isNull();
      assertThat(text(c, "SELECT @@SESSION.time_zone")).isEqualTo("SYSTEM");
    }
  }

  @Test
  void serverPreparedStatementsPinWhenSharingIsOff() throws Exception {
    proxy =
        ProxyHarness.start(
            db,
            "pool: {mode: transaction, maxConnections: 2, acquireTimeout: 20s,"
                + " maxPreparedStatementsPerConnection: 0}\n");
    try (Connection c = proxy.mysql("useServerPrepStmts=true");
        Connection other = proxy.mysql("")) {
      try (PreparedStatement ps = c.prepareStatement("SELECT ? + 1")) {
        for (int i = 0; i < 3; i++) {
          ps.setInt(1, i);
          try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            assertThat(rs.getInt(1)).isEqualTo(i + 1);
          }
          assertThat(text(other, "SELECT 1")).isEqualTo("1");
        }
      }
      assertThat(get("/metrics"))
          .contains("mysqlpool_sessions_pinned{reason=\"prepared_statement\"} 1.0");
    }
  }

  @Test
  void pinnedClientsHoldingEveryConnectionLeaveOthersWithTheBoundedError() throws Exception {
    proxy =
        ProxyHarness.start(
            db, "pool: {mode: transaction, maxConnections: 1, acquireTimeout: 300ms}\n");
    try (Connection pinned = proxy.mysql("");
        Connection waiting = proxy.mysql("")) {
      try (Statement s = pinned.createStatement()) {
        s.execute("SELECT GET_LOCK('txm_hold', 0)");
      }
      assertThatThrownBy(() -> text(waiting, "SELECT 1"))
          .hasMessageContaining("backend connection not available, request timed out after");
      pinned.close();
      assertThat(text(waiting, "SELECT 1")).isEqualTo("1");
    }
  }

  @Test
  void rowCountAndFoundRowsAnswerForTheClientsOwnPreviousStatement() throws Exception {
    start(2);
    try (Connection c = proxy.mysql("");
        Connection other = proxy.mariadb("")) {
      try (Statement s = c.createStatement()) {
        s.executeUpdate("INSERT INTO app.txm (owner, v) VALUES (-3, 'x'), (-3, 'y')");
      }
      try (Statement s = other.createStatement()) {
        s.executeUpdate("INSERT INTO app.txm (owner, v) VALUES (-4, 'z')");
      }
      assertThat(text(c, "SELECT ROW_COUNT()")).isEqualTo("2");
      assertThat(text(c, "select row_count();")).isEqualTo("-1");
      try (Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT * FROM app.txm LIMIT 3")) {
        while (rs.next()) {
          // read them all
        }
      }
      text(other, "SELECT 1 UNION SELECT 2");
      assertThat(text(c, "SELECT FOUND_ROWS()")).isEqualTo("3");
      try (Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT ROW_COUNT()")) {
        assertThat(rs.getMetaData().getColumnLabel(1)).isEqualTo("ROW_COUNT()");
      }
      assertThatThrownBy(() -> text(c, "SELECT ROW_COUNT() + 0"))
          .hasMessageContaining("ROW_COUNT() and FOUND_ROWS()")
          .hasMessageContaining("pool.mode session");
      c.setAutoCommit(false);
      try (Statement s = c.createStatement()) {
        s.executeUpdate("UPDATE app.txm SET v = 'w' WHERE owner = -3");
      }
      assertThat(text(c, "SELECT ROW_COUNT() + 0")).isEqualTo("2");
      c.commit();
    } finally {
      db.execute("DELETE FROM app.txm");
    }
  }

  @Test
  void mariadbCliPrintsTheSameInTransactionModeAsDirectly() {
    start(1);
    String sql =
        "DELETE FROM txm WHERE owner = -9; INSERT INTO txm (owner, v) VALUES (-9, 'grüße 日本'), (-9, 'b');"
            + "SELECT ROW_COUNT(); SELECT v FROM txm WHERE owner = -9 ORDER BY id; SELECT FOUND_ROWS();"
            + "SET NAMES latin1; SELECT @@character_set_client; USE information_schema; SELECT DATABASE();"
            + "SELECT 1/0; SHOW WARNINGS; SELECT COUNT(*) FROM app.txm WHERE owner = -9;";
    CliResult direct =
        db.runCli(
                db.host(),
                db.port(),
                EmbeddedMariaDb.APP_USER,
                EmbeddedMariaDb.APP_PASSWORD,
                "app",
                sql)
            .requireSuccess();
    CliResult proxied =
        db.runCli(
                "127.0.0.1",
                proxy.port(),
                EmbeddedMariaDb.APP_USER,
                EmbeddedMariaDb.APP_PASSWORD,
                "app",
                sql)
            .requireSuccess();
    assertThat(proxied.stdout())
        .isEqualTo(direct.stdout())
        .contains("Division by 0")
        .contains("latin1");
    db.execute("DELETE FROM app.txm");
  }

  @Test
  void setTransactionWithoutScopePinsSoTheNextTransactionGetsIt() throws Exception {
    start(2);
    try (Connection c = proxy.mariadb("");
        Connection other = proxy.mysql("")) {
      try (Statement s = c.createStatement()) {
        s.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE");
      }
      text(other, "SELECT 1");
      c.setAutoCommit(false);
      try (Statement s = c.createStatement()) {
        s.execute(
            "SELECT COUNT(*) FROM app.txm"); // starts the transaction the isolation level was set
        // for
      }
      assertThat(
              text(
                  c,
                  "SELECT TRX_ISOLATION_LEVEL FROM information_schema.INNODB_TRX"
                      + " WHERE TRX_MYSQL_THREAD_ID = CONNECTION_ID()"))
          .isEqualTo("SERIALIZABLE");
      c.commit();
      c.setAutoCommit(true);
      assertThat(get("/metrics"))
          .contains("mysqlpool_sessions_pinned{reason=\"next_transaction\"} 1.0");
    }
  }
}
