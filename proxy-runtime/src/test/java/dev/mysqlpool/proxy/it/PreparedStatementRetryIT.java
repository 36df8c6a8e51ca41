package dev.mysqlpool.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 13: an execute of a shared prepared statement that gets error 1615 ("Prepared statement
 * needs to be re-prepared") as its whole reply is prepared anew and sent again, once, without the
 * client noticing; a second 1615 reaches the client, and so does one whose parameters came as long
 * data (the server has used them up). The server is a real MariaDB behind {@link
 * NeedReprepareInjector}, which turns chosen executes into 1615.
 */
@ExtendWith(LeakGuard.class)
class PreparedStatementRetryIT {
  private static final String MYSQL_PARAMS = "useServerPrepStmts=true&cachePrepStmts=true";
  private static final String MARIADB_PARAMS = "useServerPrepStmts=true";
  private static final int NEED_REPREPARE = 1615;

  private static EmbeddedMariaDb db;
  private NeedReprepareInjector injector;
  private ProxyHarness proxy;

  @BeforeAll
  static void server() {
    db = EmbeddedMariaDb.shared();
    db.execute(
        "CREATE TABLE IF NOT EXISTS app.reprep (id INT AUTO_INCREMENT PRIMARY KEY,"
            + " tag VARCHAR(20), n INT, b BLOB, KEY (tag))",
        "DELETE FROM app.reprep");
  }

  @BeforeEach
  void start() throws IOException {
    injector = new NeedReprepareInjector(db.host(), db.port());
    proxy =
        ProxyHarness.start(
            "127.0.0.1", injector.port(), "pool: {mode: transaction, maxConnections: 2}\n");
  }

  @AfterEach
  void stop() throws IOException {
    proxy.close();
    injector.close();
  }

  private Connection client(boolean mysql) throws SQLException {
    return mysql ? proxy.mysql(MYSQL_PARAMS) : proxy.mariadb(MARIADB_PARAMS);
  }

  private static String sums(PreparedStatement sum, String tag) throws SQLException {
    sum.setString(1, tag);
    try (ResultSet rs = sum.executeQuery()) {
      rs.next();
      return rs.getLong(1) + " rows, sum " + rs.getLong(2);
    }
  }

  private static long directCount(String tag) throws SQLException {
    try (Connection c = db.appConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT COUNT(*) FROM app.reprep WHERE tag = ?")) {
      ps.setString(1, tag);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  @Test
  void anExecuteThatGetsNeedReprepareRunsOnceWithoutTheClientNoticing() throws SQLException {
    for (boolean mysql : new boolean[] {true, false}) {
      String tag = mysql ? "retry-mysql" : "retry-mariadb";
      try (Connection c = client(mysql);
          PreparedStatement ins =
              c.prepareStatement("INSERT INTO app.reprep (tag, n) VALUES (?, ?)");
          PreparedStatement sum =
              c.prepareStatement("SELECT COUNT(*), SUM(n) FROM app.reprep WHERE tag = ?")) {
        ins.setString(1, tag);
        ins.setInt(2, 1);
        assertThat(ins.executeUpdate()).isEqualTo(1);
        assertThat(sums(sum, tag)).isEqualTo("1 rows, sum 1");
        int before = injector.injected();

        injector.arm(1);
        ins.setInt(2, 2);
        assertThat(ins.executeUpdate())
            .as("a write whose first execute got 1615 runs once, transparently (%s)", tag)
            .isEqualTo(1);
        injector.arm(1);
        assertThat(sums(sum, tag))
            .as("a read whose first execute got 1615 returns its rows (%s)", tag)
            .isEqualTo("2 rows, sum 3");
        assertThat(injector.injected()).isEqualTo(before + 2);

        c.setAutoCommit(false);
        injector.arm(1);
        ins.setInt(2, 4);
        assertThat(ins.executeUpdate()).isEqualTo(1);
        c.commit();
        c.setAutoCommit(true);
        assertThat(sums(sum, tag)).isEqualTo("3 rows, sum 7");
        assertThat(injector.injected()).isEqualTo(before + 3);
      }
      assertThat(directCount(tag)).as("each insert ran exactly once (%s)", tag).isEqualTo(3);
    }
  }

  @Test
  void aSecondNeedReprepareReachesTheClient() throws SQLException {
    try (Connection c = client(true);
        PreparedStatement sum =
            c.prepareStatement("SELECT COUNT(*), SUM(n) FROM app.reprep WHERE tag = ?")) {
      assertThat(sums(sum, "twice")).isEqualTo("0 rows, sum 0");
      injector.arm(2);
      assertThatThrownBy(() -> sums(sum, "twice"))
          .as("the proxy retries once only")
          .isInstanceOf(SQLException.class)
          .extracting(e -> ((SQLException) e).getErrorCode())
          .isEqualTo(NEED_REPREPARE);
      assertThat(injector.injected()).isEqualTo(2);
      assertThat(sums(sum, "twice"))
          .as("the next execute prepares anew")
          .isEqualTo("0 rows, sum 0");
    }
  }

  @Test
  void anExecuteWithLongDataIsNotRetried() throws SQLException {
    byte[] blob = new byte[60_000];
    Arrays.fill(blob, (byte) 7);
    try (Connection c = client(true);
        PreparedStatement ins =
            c.prepareStatement("INSERT INTO app.reprep (tag, n, b) VALUES ('long', ?, ?)")) {
      ins.setInt(1, 1);
      ins.setBinaryStream(2, new ByteArrayInputStream(blob));
      assertThat(ins.executeUpdate()).isEqualTo(1);

      injector.arm(1);
      ins.setInt(1, 2);
      ins.setBinaryStream(2, new ByteArrayInputStream(blob));
      assertThatThrownBy(ins::executeUpdate)
          .as("the server used up the long data: the execute cannot go again")
          .isInstanceOf(SQLException.class)
          .extracting(e -> ((SQLException) e).getErrorCode())
          .isEqualTo(NEED_REPREPARE);
      assertThat(injector.injected()).isEqualTo(1);

      ins.setInt(1, 3);
      ins.setBinaryStream(2, new ByteArrayInputStream(blob));
      assertThat(ins.executeUpdate()).isEqualTo(1);
    }
    try (Connection c = db.appConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT n, LENGTH(b) FROM app.reprep WHERE tag = 'long' ORDER BY n");
        ResultSet rs = ps.executeQuery()) {
      StringBuilder rows = new StringBuilder();
      while (rs.next()) {
        rows.append(rs.getInt(1)).append(':').append(rs.getInt(2)).append(' ');
      }
      assertThat(rows.toString().trim()).isEqualTo("1:60000 3:60000");
    }
  }
}
