package dev.mysqlpool.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.mysqlpool.proxy.testsupport.CliResult;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Real clients get through the proxy exactly what they get from the server: the same script runs
 * directly and through the proxy with MySQL Connector/J, MariaDB Connector/J (server-side prepared
 * statements), HikariCP and the mariadb CLI, and the transcripts must be identical.
 */
@ExtendWith(LeakGuard.class)
class ClientCompatibilityIT {
  private static EmbeddedMariaDb db;
  private static ProxyHarness proxy;

  @BeforeAll
  static void start() {
    db = EmbeddedMariaDb.shared();
    db.execute(
        "DROP PROCEDURE IF EXISTS app.two_results",
        "CREATE PROCEDURE app.two_results() BEGIN SELECT 1 AS a; SELECT 'two' AS b, NULL AS c; END");
    proxy = ProxyHarness.start(db, "pool: {maxConnections: 8, acquireTimeout: 10s}\n");
  }

  @AfterAll
  static void stop() {
    if (proxy != null) {
      proxy.close();
    }
  }

  private static String directMysqlUrl(String params) {
    return db.mysqlJdbcUrl(EmbeddedMariaDb.APP_DATABASE)
        + (db.mysqlJdbcUrl("x").contains("?") ? "&" : "?")
        + "sslMode=DISABLED&allowPublicKeyRetrieval=true"
        + (params.isEmpty() ? "" : "&" + params);
  }

  private static String directMariadbUrl(String params) {
    String base = db.jdbcUrl(EmbeddedMariaDb.APP_DATABASE);
    return base + (params.isEmpty() ? "" : (base.contains("?") ? "&" : "?") + params);
  }

  @Test
  void mysqlConnectorJGetsTheSameResultsThroughTheProxyAsDirectly() throws Exception {
    String params = "useServerPrepStmts=true&allowMultiQueries=true&characterEncoding=UTF-8";
    String direct =
        transcript(
            DriverManager.getConnection(
                directMysqlUrl(params), EmbeddedMariaDb.APP_USER, EmbeddedMariaDb.APP_PASSWORD),
            "cj");
    String proxied = transcript(proxy.mysql(params), "cj");
    assertThat(proxied).as("Connector/J transcript through the proxy").isEqualTo(direct);
  }

  @Test
  void mysqlConnectorJWithClientSidePreparedStatementsMatchesToo() throws Exception {
    String params = "useServerPrepStmts=false&allowMultiQueries=true&useAffectedRows=true";
    String direct =
        transcript(
            DriverManager.getConnection(
                directMysqlUrl(params), EmbeddedMariaDb.APP_USER, EmbeddedMariaDb.APP_PASSWORD),
            "cjc");
    String proxied = transcript(proxy.mysql(params), "cjc");
    assertThat(proxied).isEqualTo(direct);
  }

  @Test
  void mariadbConnectorJWithServerPreparedStatementsGetsTheSameResults() throws Exception {
    String params = "useServerPrepStmts=true&allowMultiQueries=true";
    String direct =
        transcript(
            DriverManager.getConnection(
                directMariadbUrl(params), EmbeddedMariaDb.APP_USER, EmbeddedMariaDb.APP_PASSWORD),
            "mj");
    String proxied = transcript(proxy.mariadb(params), "mj");
    assertThat(proxied).as("MariaDB Connector/J transcript through the proxy").isEqualTo(direct);
  }

  @Test
  void hikariPoolOnConnectorJRunsConcurrentWorkThroughTheProxy() throws Exception {
    db.execute(
        "DROP TABLE IF EXISTS app.hikari_counter",
        "CREATE TABLE app.hikari_counter (id INT PRIMARY KEY, n INT NOT NULL)",
        "INSERT INTO app.hikari_counter VALUES (1, 0)");
    HikariConfig cfg = new HikariConfig();
    cfg.setJdbcUrl(proxy.mysqlUrl(""));
    cfg.setUsername(EmbeddedMariaDb.APP_USER);
    cfg.setPassword(EmbeddedMariaDb.APP_PASSWORD);
    cfg.setMaximumPoolSize(5);
    cfg.setConnectionTimeout(10_000);
    ExecutorService pool = Executors.newFixedThreadPool(16);
    try (HikariDataSource ds = new HikariDataSource(cfg)) {
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < 16; t++) {
        futures.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < 25; i++) {
                    try (Connection c = ds.getConnection()) {
                      c.setAutoCommit(false);
                      try (Statement s = c.createStatement()) {
                        s.executeUpdate("UPDATE hikari_counter SET n = n + 1 WHERE id = 1");
                      }
                      c.commit();
                    }
                  }
                  return null;
                }));
      }
      for (Future<?> f : futures) {
        f.get(60, TimeUnit.SECONDS);
      }
      try (Connection c = ds.getConnection();
          Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT n FROM hikari_counter WHERE id = 1")) {
        rs.next();
        assertThat(rs.getInt(1)).as("every committed increment is visible").isEqualTo(16 * 25);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void mariadbCliPrintsTheSameThroughTheProxyAsDirectly() {
    String sql =
        "DROP TABLE IF EXISTS cli_t; CREATE TABLE cli_t (id INT PRIMARY KEY, s VARCHAR(20), d DECIMAL(6,2));"
            + "INSERT INTO cli_t VALUES (1,'한글',1.50),(2,NULL,-3.25);"
            + "SELECT * FROM cli_t ORDER BY id; SELECT VERSION(), DATABASE(), @@autocommit;"
            + "USE information_schema; SELECT DATABASE(); CALL app.two_results();"
            + "SELECT COUNT(*) FROM app.cli_t WHERE id > 0;";
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
    assertThat(proxied.stdout()).isEqualTo(direct.stdout());
    assertThat(proxied.stdout()).contains("한글").contains("two");
  }

  @Test
  void mariadbCliSeesServerErrorsUnchanged() {
    CliResult direct =
        db.runCli(
            db.host(),
            db.port(),
            EmbeddedMariaDb.APP_USER,
            EmbeddedMariaDb.APP_PASSWORD,
            "app",
            "SELECT * FROM no_such_table");
    CliResult proxied =
        db.runCli(
            "127.0.0.1",
            proxy.port(),
            EmbeddedMariaDb.APP_USER,
            EmbeddedMariaDb.APP_PASSWORD,
            "app",
            "SELECT * FROM no_such_table");
    assertThat(direct.exitCode()).isNotZero();
    assertThat(proxied.exitCode()).isEqualTo(direct.exitCode());
    assertThat(proxied.stderr()).isEqualTo(direct.stderr()).contains("1146");
  }

  /**
   * Runs the same work on {@code c} and renders everything a program could observe, excluding what
   * legitimately differs per connection (connection ids, timings).
   */
  static String transcript(Connection c, String suffix) throws Exception {
    StringBuilder out = new StringBuilder();
    String table = "compat_" + suffix;
    try (c;
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS " + table);
      s.execute(
          "CREATE TABLE "
              + table
              + " (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) CHARACTER SET"
              + " utf8mb4, amount DECIMAL(10,2), created DATETIME(3), data MEDIUMBLOB, flag TINYINT NULL)");
      byte[] blob = new byte[70_000];
      for (int i = 0; i < blob.length; i++) {
        blob[i] = (byte) (i * 31);
      }
      try (PreparedStatement ps =
          c.prepareStatement(
              "INSERT INTO "
                  + table
                  + " (name, amount, created, data, flag) VALUES (?, ?, ?, ?, ?)",
              Statement.RETURN_GENERATED_KEYS)) {
        String[] names = {"plain", "한글 ✓ 🚀", "quote ' and \\ backslash", null};
        for (int i = 0; i < names.length; i++) {
          ps.setString(1, names[i]);
          ps.setBigDecimal(
              2, new java.math.BigDecimal("12.34").multiply(java.math.BigDecimal.valueOf(i - 1)));
          ps.setTimestamp(3, java.sql.Timestamp.valueOf("2026-11-21 10:00:0" + i + ".123"));
          ps.setBytes(4, i == 2 ? blob : new byte[] {(byte) i});
          if (i == 3) {
            ps.setNull(5, java.sql.Types.TINYINT);
          } else {
            ps.setInt(5, i);
          }
          out.append("insert ").append(ps.executeUpdate());
          try (ResultSet keys = ps.getGeneratedKeys()) {
            keys.next();
            out.append(" key=").append(keys.getLong(1)).append('\n');
          }
        }
      }
      render(out, s.executeQuery("SELECT * FROM " + table + " ORDER BY id"));
      out.append("noop update=")
          .append(s.executeUpdate("UPDATE " + table + " SET flag = flag WHERE id = 1"))
          .append('\n');
      try {
        s.executeUpdate("INSERT INTO " + table + " (id, name) VALUES (1, 'dup')");
      } catch (SQLException e) {
        out.append("error ")
            .append(e.getErrorCode())
            .append(' ')
            .append(e.getSQLState())
            .append(' ')
            // MariaDB Connector/J names the connection id, which is the proxy's own through the
            // proxy.
            .append(e.getMessage().replaceAll("\\(conn=\\d+\\) ", ""))
            .append('\n');
      }
      try (CallableStatement cs = c.prepareCall("{CALL two_results()}")) {
        boolean isResult = cs.execute();
        do {
          if (isResult) {
            render(out, cs.getResultSet());
          }
          isResult = cs.getMoreResults();
        } while (isResult || cs.getUpdateCount() != -1);
      }
      boolean isResult =
          s.execute(
              "SELECT 'a' AS x; SELECT 2 AS y, 3 AS z; UPDATE "
                  + table
                  + " SET flag = 9 WHERE id = 2");
      do {
        if (isResult) {
          render(out, s.getResultSet());
        } else {
          out.append("update count ").append(s.getUpdateCount()).append('\n');
        }
        isResult = s.getMoreResults();
      } while (isResult || s.getUpdateCount() != -1);
      c.setCatalog("information_schema");
      render(out, s.executeQuery("SELECT DATABASE()"));
      c.setCatalog("app");
      out.append("valid=").append(c.isValid(2)).append('\n');
      c.setAutoCommit(false);
      s.executeUpdate("INSERT INTO " + table + " (name) VALUES ('rolled back')");
      c.rollback();
      s.executeUpdate("INSERT INTO " + table + " (name) VALUES ('committed')");
      c.commit();
      c.setAutoCommit(true);
      render(
          out,
          s.executeQuery(
              "SELECT name FROM " + table + " WHERE name LIKE '%back%' OR name = 'committed'"));
      render(
          out,
          s.executeQuery(
              "SELECT COUNT(*), SUM(seq), MAX(LENGTH(REPEAT('x', seq))) FROM seq_1_to_20000"));
      ResultSet warn = s.executeQuery("SELECT CAST('12abc' AS INT) AS v");
      render(out, warn);
      SQLWarning w = s.getWarnings();
      out.append("warning ")
          .append(w == null ? "none" : w.getErrorCode() + " " + w.getMessage())
          .append('\n');
      try (PreparedStatement ps =
          c.prepareStatement("SELECT id, name FROM " + table + " WHERE id > ? ORDER BY id")) {
        for (int i = 0; i < 3; i++) {
          ps.setInt(1, i);
          render(out, ps.executeQuery());
        }
      }
      s.execute("DROP TABLE " + table);
    }
    return out.toString();
  }

  static void render(StringBuilder out, ResultSet rs) throws Exception {
    try (rs) {
      ResultSetMetaData md = rs.getMetaData();
      for (int i = 1; i <= md.getColumnCount(); i++) {
        out.append(md.getColumnLabel(i)).append(':').append(md.getColumnTypeName(i)).append('\t');
      }
      out.append('\n');
      while (rs.next()) {
        for (int i = 1; i <= md.getColumnCount(); i++) {
          Object v = rs.getObject(i);
          if (v instanceof byte[] b) {
            out.append("bytes[")
                .append(b.length)
                .append("]:")
                .append(
                    HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b)),
                    0,
                    16);
          } else {
            out.append(v);
          }
          out.append('\t');
        }
        out.append('\n');
      }
    }
    out.append(new String(new byte[] {'-', '-', '\n'}, StandardCharsets.US_ASCII));
  }
}
