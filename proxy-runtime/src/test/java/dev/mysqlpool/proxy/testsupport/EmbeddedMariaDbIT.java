package dev.mysqlpool.proxy.testsupport;

import static dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb.APP_DATABASE;
import static dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb.APP_PASSWORD;
import static dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb.APP_USER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The embedded server the proxy's integration tests run against, checked with both JDBC drivers and
 * the CLI.
 */
class EmbeddedMariaDbIT {
  private final EmbeddedMariaDb db = EmbeddedMariaDb.shared();

  @Test
  void answersMariaDbConnectorJ() throws SQLException {
    try (Connection c =
        DriverManager.getConnection(db.jdbcUrl(APP_DATABASE), APP_USER, APP_PASSWORD)) {
      assertThat(scalar(c, "SELECT VERSION()")).startsWith("11.4.");
      assertThat(scalar(c, "SELECT DATABASE()")).isEqualTo(APP_DATABASE);
    }
  }

  @Test
  void answersMySqlConnectorJ() throws SQLException {
    try (Connection c =
        DriverManager.getConnection(db.mysqlJdbcUrl(APP_DATABASE), APP_USER, APP_PASSWORD)) {
      assertThat(scalar(c, "SELECT VERSION()")).contains("MariaDB");
    }
  }

  @Test
  void answersTheBundledCli() {
    CliResult r =
        db.runCli(
                db.host(),
                db.port(),
                APP_USER,
                APP_PASSWORD,
                APP_DATABASE,
                "SELECT VERSION()",
                "--skip-column-names")
            .requireSuccess();
    assertThat(r.rows()).hasSize(1);
    assertThat(r.rows().get(0).get(0)).startsWith("11.4.");
  }

  @Test
  void cliReportsAWrongPasswordThroughItsExitCode() {
    CliResult r = db.runCli(db.host(), db.port(), APP_USER, "wrong", null, "SELECT 1");
    assertThat(r.exitCode())
        .withFailMessage("a failed login must not look like success: %s", r)
        .isNotZero();
    assertThat(r.stderr()).contains("Access denied");
  }

  @Test
  void appUserUsesNativePasswordAndHasTheRightsTestsNeed() throws SQLException {
    try (Connection c = db.appConnection();
        Statement s = c.createStatement()) {
      assertThat(scalar(c, "SELECT plugin FROM mysql.user WHERE User = 'app' AND Host = '%'"))
          .withFailMessage("the proxy authenticates backends with mysql_native_password")
          .isEqualTo("mysql_native_password");
      s.execute("CREATE TEMPORARY TABLE t (id INT)");
      s.execute("INSERT INTO t VALUES (1)");
      assertThat(scalar(c, "SELECT COUNT(*) FROM t")).isEqualTo("1");
    }
  }

  @Test
  void killsASessionAndCountsThreads() throws SQLException {
    try (Connection victim = db.appConnection()) {
      long id = Long.parseLong(scalar(victim, "SELECT CONNECTION_ID()"));
      assertThat(db.threadIds(APP_USER)).contains(id);
      assertThat(db.threadsConnected()).isGreaterThanOrEqualTo(1);

      db.kill(id);

      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThat(db.threadIds(APP_USER))
                      .withFailMessage("killed session %d must be gone", id)
                      .doesNotContain(id));
      assertThatThrownBy(() -> scalar(victim, "SELECT 1")).isInstanceOf(SQLException.class);
    }
  }

  @Test
  void aSecondServerStopsAndStartsOnItsDatadirAndPort() throws SQLException {
    try (EmbeddedMariaDb second = EmbeddedMariaDb.startNew()) {
      assertThat(second.port()).isNotEqualTo(db.port());
      second.execute("CREATE TABLE app.kept (v INT)", "INSERT INTO app.kept VALUES (7)");
      int port = second.port();

      second.stop();
      assertThat(second.isRunning()).isFalse();
      assertThatThrownBy(second::rootConnection).isInstanceOf(SQLException.class);

      second.start();
      assertThat(second.port()).isEqualTo(port);
      try (Connection c = second.appConnection()) {
        assertThat(scalar(c, "SELECT v FROM kept"))
            .withFailMessage("data must survive a restart")
            .isEqualTo("7");
      }

      second.crash();
      second.start();
      try (Connection c = second.appConnection()) {
        assertThat(scalar(c, "SELECT v FROM kept"))
            .withFailMessage("data must survive a crash")
            .isEqualTo("7");
      }
    }
  }

  @Test
  void theSharedServerCannotBeStopped() {
    assertThatThrownBy(db::stop)
        .isInstanceOf(
            db.isExternal() ? UnsupportedOperationException.class : IllegalStateException.class);
  }

  @Test
  void parsesTheExternalServerUri() {
    EmbeddedMariaDb ext = EmbeddedMariaDb.external("mysql://admin:p%40ss@127.0.0.1:3307");
    assertThat(ext.isExternal()).isTrue();
    assertThat(ext.host()).isEqualTo("127.0.0.1");
    assertThat(ext.port()).isEqualTo(3307);
    assertThat(ext.rootUser()).isEqualTo("admin");
    assertThat(ext.rootPassword()).isEqualTo("p@ss");
    assertThat(EmbeddedMariaDb.external("mysql://root@127.0.0.1").port()).isEqualTo(3306);
    assertThatThrownBy(() -> EmbeddedMariaDb.external("http://127.0.0.1:3306"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("it.mysql.uri");
  }

  private static String scalar(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      assertThat(rs.next()).withFailMessage("%s returned no row", sql).isTrue();
      return rs.getString(1);
    }
  }
}
