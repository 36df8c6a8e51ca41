package dev.mysqlpool.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mysqlpool.proxy.stmt.StatementCache;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import java.io.ByteArrayInputStream;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue 13: server-side prepared statements in transaction mode do not pin. Clients of both Java
 * drivers with server prepared statements share few backend connections, get the results of a
 * direct connection, and the server holds at most connections × {@code
 * pool.maxPreparedStatementsPerConnection} statements; parameter types, cursors, long data and a
 * DDL between prepare and execute behave as on a direct connection.
 */
@ExtendWith(LeakGuard.class)
class PreparedStatementSharingIT {
  private static final Logger log = LoggerFactory.getLogger(PreparedStatementSharingIT.class);
  private static final String MYSQL_PARAMS = "useServerPrepStmts=true&cachePrepStmts=true";
  private static final String MARIADB_PARAMS = "useServerPrepStmts=true";

  private static EmbeddedMariaDb db;
  private ProxyHarness proxy;

  @BeforeAll
  static void server() {
    db = EmbeddedMariaDb.shared();
    db.execute(
        "CREATE TABLE IF NOT EXISTS app.pss (id INT AUTO_INCREMENT PRIMARY KEY, owner INT,"
            + " n INT, s VARCHAR(40) CHARACTER SET utf8mb4, KEY (owner))",
        "CREATE TABLE IF NOT EXISTS app.pss_blob (id INT PRIMARY KEY, b LONGBLOB)");
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

  private void start(int maxConnections, int perConnection) {
    proxy =
        ProxyHarness.start(
            db,
            "pool: {mode: transaction, maxConnections: "
                + maxConnections
                + ", acquireTimeout: 30s, maxPreparedStatementsPerConnection: "
                + perConnection
                + "}\n");
  }

  private static int globalStatus(Connection root, String name) throws SQLException {
    try (PreparedStatement ps = root.prepareStatement("SHOW GLOBAL STATUS LIKE ?")) {
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getInt(2);
      }
    }
  }

  private Connection direct(boolean mysql, String params) throws SQLException {
    String url = mysql ? db.mysqlJdbcUrl("app") : db.jdbcUrl("app");
    return DriverManager.getConnection(
        url + "&" + params, EmbeddedMariaDb.APP_USER, EmbeddedMariaDb.APP_PASSWORD);
  }

  /**
   * Short transactions of prepared statements: inserts (some NULLs), a batch, aggregates, and
   * selects whose parameter types change between executes; six statement texts, more than the
   * per-connection bound, so statements are evicted and prepared again. The transcript does not
   * name the owner, so any two clients' transcripts are equal when they are right.
   */
  private static List<String> workload(Connection c, int owner, int iterations)
      throws SQLException {
    List<String> out = new ArrayList<>();
    try (PreparedStatement del = c.prepareStatement("DELETE FROM app.pss WHERE owner = ?")) {
      del.setInt(1, owner);
      del.executeUpdate();
    }
    for (int i = 0; i < iterations; i++) {
      c.setAutoCommit(false);
      try (PreparedStatement ins =
          c.prepareStatement("INSERT INTO app.pss (owner, n, s) VALUES (?, ?, ?)")) {
        ins.setInt(1, owner);
        ins.setInt(2, i);
        if (i % 2 == 0) {
          ins.setNull(3, Types.VARCHAR);
        } else {
          ins.setString(3, "row é " + i);
        }
        out.add("insert " + ins.executeUpdate());
        for (int b = 0; b < 2; b++) {
          ins.setInt(1, owner);
          ins.setInt(2, 100 + b);
          ins.setString(3, "batch");
          ins.addBatch();
        }
        int total = 0;
        for (int n : ins.executeBatch()) {
          total += n;
        }
        out.add("batch " + total);
      }
      try (PreparedStatement sum =
          c.prepareStatement(
              "SELECT COUNT(*), COALESCE(SUM(n), 0), COUNT(s) FROM app.pss WHERE owner = ?")) {
        sum.setInt(1, owner);
        out.add(row(sum));
      }
      c.commit();
      c.setAutoCommit(true);
      try (PreparedStatement mixed = c.prepareStatement("SELECT CONCAT('v', ?), ? IS NULL")) {
        if (i % 3 == 0) {
          mixed.setInt(1, i);
        } else if (i % 3 == 1) {
          mixed.setString(1, "s" + i);
        } else {
          mixed.setDouble(1, i + 0.5);
        }
        mixed.setNull(2, Types.INTEGER);
        out.add(row(mixed));
      }
      try (PreparedStatement upd =
          c.prepareStatement("UPDATE app.pss SET n = n + ? WHERE owner = ? AND n >= 100")) {
        upd.setInt(1, 1);
        upd.setInt(2, owner);
        out.add("update " + upd.executeUpdate());
      }
      try (PreparedStatement last =
          c.prepareStatement("SELECT n, s FROM app.pss WHERE owner = ? ORDER BY n, id LIMIT ?")) {
        last.setInt(1, owner);
        last.setInt(2, 3);
        out.add(rows(last));
      }
    }
    return out;
  }

  private static String row(PreparedStatement ps) throws SQLException {
    try (ResultSet rs = ps.executeQuery()) {
      StringBuilder sb = new StringBuilder();
      int n = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        for (int i = 1; i <= n; i++) {
          sb.append(i > 1 ? "," : "").append(rs.getString(i));
        }
        sb.append(';');
      }
      return sb.toString();
    }
  }

  private static String rows(PreparedStatement ps) throws SQLException {
    return row(ps);
  }

  @Test
  void clientsOfBothDriversShareThreeBackendsWithoutPinning() throws Exception {
    int maxConnections = 3;
    int perConnection = 4;
    int clients = 24;
    int iterations = 12;
    List<String> expectedMysql;
    List<String> expectedMariadb;
    try (Connection c = direct(true, MYSQL_PARAMS)) {
      expectedMysql = workload(c, 1_000_000, iterations);
    }
    try (Connection c = direct(false, MARIADB_PARAMS)) {
      expectedMariadb = workload(c, 1_000_001, iterations);
    }
    assertThat(expectedMysql)
        .as("both drivers see the same results directly")
        .isEqualTo(expectedMariadb);
    start(maxConnections, perConnection);
    List<Connection> open = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    try (Connection root = db.rootConnection()) {
      for (int i = 0; i < clients; i++) {
        open.add(i % 2 == 0 ? proxy.mysql(MYSQL_PARAMS) : proxy.mariadb(MARIADB_PARAMS));
      }
      int preparesBefore = globalStatus(root, "Com_stmt_prepare");
      List<Future<List<String>>> results = new ArrayList<>();
      try (PeakSampler sampler =
          new PeakSampler()
              .probe(
                  "app sessions",
                  () ->
                      ServerProbes.scalar(
                          root,
                          "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = '"
                              + EmbeddedMariaDb.APP_USER
                              + "'"))
              .probe("prepared", () -> globalStatus(root, "Prepared_stmt_count"))
              .start(Duration.ofMillis(5))) {
        sampler.loadStarts();
        for (int i = 0; i < clients; i++) {
          Connection c = open.get(i);
          int owner = 1000 + i;
          results.add(pool.submit(() -> workload(c, owner, iterations)));
        }
        for (int i = 0; i < clients; i++) {
          assertThat(results.get(i).get())
              .as(
                  "client %d (%s) gets what a direct connection gets",
                  i, i % 2 == 0 ? "mysql" : "mariadb")
              .isEqualTo(expectedMysql);
        }
        sampler.assertSampledWhileLoadRan(5);
        assertThat(sampler.peak("app sessions"))
            .as("the server never sees more than maxConnections app sessions")
            .isLessThanOrEqualTo(maxConnections);
        assertThat(sampler.peak("prepared"))
            .as("the server holds at most connections x maxPreparedStatementsPerConnection")
            .isLessThanOrEqualTo(maxConnections * perConnection);
      }
      int preparesAfter = globalStatus(root, "Com_stmt_prepare");
      StatementCache.Stats stats = proxy.server.stats().preparedStatements();
      long clientPrepares = stats.cacheHits() + stats.cacheMisses();
      log.info(
          "{} clients x {} iterations over {} backends: {} client prepares, {} server prepares"
              + " (Com_stmt_prepare), cache {}, peak Prepared_stmt_count within {}",
          clients,
          iterations,
          maxConnections,
          clientPrepares,
          preparesAfter - preparesBefore,
          stats,
          maxConnections * perConnection);
      assertThat(stats.hitRatio())
          .as("most client prepares were answered by the proxy")
          .isGreaterThan(0.5);
      assertThat(stats.evictions())
          .as("six statements, four per connection: the least recently used were closed")
          .isPositive();
      assertThat(Metrics.value(proxy, "mysqlpool_session_pins_total"))
          .as("no client was pinned")
          .isZero();
      assertThat(
              ServerProbes.scalar(
                  root, "SELECT COUNT(*) FROM app.pss WHERE owner BETWEEN 1000 AND 1999"))
          .as("every committed row is there")
          .isEqualTo(clients * iterations * 3);
    } finally {
      pool.shutdownNow();
      for (Connection c : open) {
        c.close();
      }
    }
  }

  @Test
  void parameterTypesFollowTheStatementToABackendThatLastSawOthers() throws Exception {
    start(1, 8);
    try (Connection a = proxy.mysql(MYSQL_PARAMS);
        Connection b = proxy.mysql(MYSQL_PARAMS);
        PreparedStatement pa = a.prepareStatement("SELECT CONCAT('v', ?)");
        PreparedStatement pb = b.prepareStatement("SELECT CONCAT('v', ?)")) {
      pa.setInt(1, 7);
      assertThat(row(pa)).isEqualTo("v7;");
      pb.setString(1, "text");
      assertThat(row(pb)).isEqualTo("vtext;");
      // Same types as before: Connector/J sends no types (new_params_bound_flag 0), and the one
      // server statement last got b's string type.
      pa.setInt(1, 8);
      assertThat(row(pa)).as("a's int is sent with its type again").isEqualTo("v8;");
      pb.setString(1, "again");
      assertThat(row(pb)).isEqualTo("vagain;");
    }
  }

  @Test
  void aCursorHoldsTheBackendOnlyWhileItsRowsAreFetched() throws Exception {
    start(2, 8);
    db.execute("DELETE FROM app.pss WHERE owner = 77");
    db.execute(
        "INSERT INTO app.pss (owner, n, s) VALUES (77, 1, 'a'), (77, 2, NULL), (77, 3, 'c'),"
            + " (77, 4, 'd'), (77, 5, 'e'), (77, 6, NULL), (77, 7, 'g')");
    String params = MYSQL_PARAMS + "&useCursorFetch=true&defaultFetchSize=2";
    try (Connection c = proxy.mysql(params);
        Connection other = proxy.mysql(MYSQL_PARAMS);
        PreparedStatement ps =
            c.prepareStatement("SELECT n, s FROM app.pss WHERE owner = ? ORDER BY n")) {
      ps.setInt(1, 77);
      StringBuilder seen = new StringBuilder();
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
        seen.append(rs.getInt(1)).append(rs.getString(2)).append(' ');
        assertThat(Metrics.value(proxy, "mysqlpool_sessions_pinned", "reason=\"cursor\""))
            .as("an open cursor keeps its backend")
            .isEqualTo(1.0);
        try (PreparedStatement o = other.prepareStatement("SELECT ?")) {
          o.setInt(1, 5);
          assertThat(row(o)).as("others still run meanwhile").isEqualTo("5;");
        }
        while (rs.next()) {
          seen.append(rs.getInt(1)).append(rs.getString(2)).append(' ');
        }
      }
      assertThat(seen.toString()).isEqualTo("1a 2null 3c 4d 5e 6null 7g ");
      try (PreparedStatement o = c.prepareStatement("SELECT 1")) {
        assertThat(row(o)).isEqualTo("1;");
      }
      assertThat(Metrics.value(proxy, "mysqlpool_sessions_pinned", "reason=\"cursor\""))
          .as("the cursor ended with its last row")
          .isZero();
      assertThat(Metrics.value(proxy, "mysqlpool_session_pins_total", "reason=\"cursor\""))
          .as("two cursors: the select, and SELECT 1 (fetch size 2), which ended with its one row")
          .isEqualTo(2.0);
      assertThat(Metrics.value(proxy, "mysqlpool_session_pins_total", "reason=\"prepared"))
          .isZero();
    }
  }

  @Test
  void blobsOver16MiBArriveWholeThroughBothDrivers() throws Exception {
    start(2, 8);
    // Over 16 MiB: Connector/J streams it with COM_STMT_SEND_LONG_DATA, MariaDB Connector/J sends
    // it inside the execute, which then spans several 16 MiB packets.
    byte[] blob = new byte[17 * 1024 * 1024 + 17];
    new Random(13).nextBytes(blob);
    db.execute("DELETE FROM app.pss_blob");
    int id = 0;
    for (boolean mysql : new boolean[] {true, false}) {
      id++;
      try (Connection c = mysql ? proxy.mysql(MYSQL_PARAMS) : proxy.mariadb(MARIADB_PARAMS);
          PreparedStatement ins = c.prepareStatement("INSERT INTO app.pss_blob VALUES (?, ?)");
          PreparedStatement sel = c.prepareStatement("SELECT b FROM app.pss_blob WHERE id = ?")) {
        ins.setInt(1, id);
        ins.setBinaryStream(2, new ByteArrayInputStream(blob), blob.length);
        assertThat(ins.executeUpdate()).isEqualTo(1);
        if (mysql) {
          assertThat(Metrics.value(proxy, "mysqlpool_session_pins_total", "reason=\"long_data\""))
              .as("Connector/J sent long data, which held the connection until the execute")
              .isEqualTo(1.0);
        }
        sel.setInt(1, id);
        try (ResultSet rs = sel.executeQuery()) {
          assertThat(rs.next()).isTrue();
          assertThat(rs.getBytes(1))
              .as("the blob read back (%s)", mysql ? "mysql" : "mariadb")
              .isEqualTo(blob);
        }
      }
    }
    assertThat(Metrics.value(proxy, "mysqlpool_sessions_pinned", "reason=\"long_data\"")).isZero();
    assertThat(Metrics.value(proxy, "mysqlpool_session_pins_total", "reason=\"prepared")).isZero();
  }

  /** A row, or the error a client gets instead, so proxy and direct can be compared. */
  private static String attempt(PreparedStatement ps) {
    try {
      return row(ps);
    } catch (SQLException e) {
      return "error " + e.getErrorCode() + ": " + e.getMessage();
    }
  }

  @Test
  void aTableChangedBetweenPrepareAndExecuteBehavesAsDirectly() throws Exception {
    start(1, 8);
    db.execute(
        "DROP TABLE IF EXISTS app.pss_ddl",
        "CREATE TABLE app.pss_ddl (id INT PRIMARY KEY, a VARCHAR(10))",
        "INSERT INTO app.pss_ddl VALUES (1, 'one')");
    String sql = "SELECT * FROM app.pss_ddl WHERE id = ?";
    for (boolean mysql : new boolean[] {true, false}) {
      String params = mysql ? MYSQL_PARAMS : MARIADB_PARAMS;
      db.execute("ALTER TABLE app.pss_ddl DROP COLUMN IF EXISTS c");
      try (Connection a = mysql ? proxy.mysql(params) : proxy.mariadb(params);
          Connection d = direct(mysql, params);
          PreparedStatement pa = a.prepareStatement(sql);
          PreparedStatement pd = d.prepareStatement(sql)) {
        pa.setInt(1, 1);
        pd.setInt(1, 1);
        assertThat(attempt(pa)).isEqualTo(attempt(pd)).isEqualTo("1,one;");
        db.execute("ALTER TABLE app.pss_ddl ADD COLUMN c INT NOT NULL DEFAULT 5");
        assertThat(attempt(pa))
            .as("an execute after the DDL (%s)", mysql ? "mysql" : "mariadb")
            .isEqualTo(attempt(pd));
        try (Connection b = mysql ? proxy.mysql(params) : proxy.mariadb(params);
            PreparedStatement pb = b.prepareStatement(sql)) {
          ResultSetMetaData md = pd.getMetaData();
          assertThat(pb.getMetaData().getColumnCount())
              .as("a later prepare describes the table as it is now, as directly")
              .isEqualTo(3);
          pb.setInt(1, 1);
          assertThat(attempt(pb)).isEqualTo("1,one,5;");
        }
      }
    }
  }

  /**
   * A MariaDB Connector/J batch of 20 inserts: its update counts, the rows, and how many
   * COM_STMT_EXECUTEs the server counted meanwhile (one per row when the batch does not go as one
   * COM_STMT_BULK_EXECUTE).
   */
  private String bulkBatch(Connection c, int owner) throws SQLException {
    StringBuilder out = new StringBuilder();
    int before;
    try (Connection root = db.rootConnection()) {
      before = globalStatus(root, "Com_stmt_execute");
    }
    try (PreparedStatement ps =
        c.prepareStatement("INSERT INTO app.pss (owner, n, s) VALUES (?, ?, ?)")) {
      for (int i = 0; i < 20; i++) {
        ps.setInt(1, owner);
        ps.setInt(2, i);
        if (i % 4 == 0) {
          ps.setNull(3, Types.VARCHAR);
        } else {
          ps.setString(3, "bulk " + i);
        }
        ps.addBatch();
      }
      out.append(java.util.Arrays.toString(ps.executeBatch()));
    }
    try (PreparedStatement ps =
        c.prepareStatement("SELECT COUNT(*), SUM(n), COUNT(s) FROM app.pss WHERE owner = ?")) {
      ps.setInt(1, owner);
      out.append(' ').append(row(ps));
    }
    try (Connection root = db.rootConnection()) {
      return out.append(" executes: ")
          .append(globalStatus(root, "Com_stmt_execute") - before)
          .toString();
    }
  }

  @Test
  void mariadbBatchesRunAsOneBulkExecuteThroughBothModes() throws Exception {
    String params = MARIADB_PARAMS + "&useBulkStmts=true";
    db.execute("DELETE FROM app.pss WHERE owner IN (501, 502, 503)");
    String direct;
    try (Connection d = direct(false, params)) {
      direct = bulkBatch(d, 501);
    }
    assertThat(Integer.parseInt(direct.substring(direct.indexOf("executes: ") + 10)))
        .as("directly, the batch is one COM_STMT_BULK_EXECUTE: %s", direct)
        .isLessThan(20);
    proxy = ProxyHarness.start(db, "pool: {mode: session, maxConnections: 2}\n");
    try (Connection c = proxy.mariadb(params)) {
      assertThat(bulkBatch(c, 502)).as("session mode").isEqualTo(direct);
    }
    proxy.close();
    start(1, 8);
    try (Connection c = proxy.mariadb(params);
        Connection other = proxy.mariadb(params)) {
      // Another client prepares it first, so this client's prepare comes from the cache and its
      // bulk execute goes to a connection with the proxy's ids mapped.
      try (PreparedStatement ps =
          other.prepareStatement("INSERT INTO app.pss (owner, n, s) VALUES (?, ?, ?)")) {
        assertThat(ps.getParameterMetaData().getParameterCount()).isEqualTo(3);
      }
      assertThat(bulkBatch(c, 503)).as("transaction mode").isEqualTo(direct);
    }
    assertThat(Metrics.value(proxy, "mysqlpool_session_pins_total")).isZero();
  }
}
