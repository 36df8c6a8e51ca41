package dev.mysqlpool.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mysqlpool.proxy.backend.SessionVariables;
import dev.mysqlpool.proxy.frontend.StatementScan;
import dev.mysqlpool.proxy.sql.KillStatement;
import dev.mysqlpool.proxy.sql.LoadLocal;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The proxy's SQL lexer against the server it stands in for: for each statement, what MariaDB does
 * with it (run straight on the server, no proxy) next to what the proxy's parsers make of it. A
 * KILL the server runs must be one the proxy sees (else a backend runs it with an id the proxy made
 * up); a LOAD ... LOCAL after which the server asks for a file must be one the proxy counts (else
 * the session closes on the request).
 */
@ExtendWith(LeakGuard.class)
class SqlLexingIT {
  private static final String UNKNOWN_ID = "999999";

  private static EmbeddedMariaDb db;
  private static Connection single;
  private static Connection multi;

  @BeforeAll
  static void connect() throws SQLException {
    db = EmbeddedMariaDb.shared();
    String url = db.jdbcUrl(EmbeddedMariaDb.APP_DATABASE) + "&allowLocalInfile=false";
    single =
        DriverManager.getConnection(url, EmbeddedMariaDb.APP_USER, EmbeddedMariaDb.APP_PASSWORD);
    assumeTrue(
        single.getMetaData().getDatabaseProductVersion().contains("MariaDB"),
        "the expected answers are MariaDB's");
    multi =
        DriverManager.getConnection(
            url + "&allowMultiQueries=true",
            EmbeddedMariaDb.APP_USER,
            EmbeddedMariaDb.APP_PASSWORD);
    try (Statement s = single.createStatement()) {
      s.execute("CREATE TABLE IF NOT EXISTS sql_lexing_load (a INT)");
    }
  }

  @AfterAll
  static void close() throws SQLException {
    if (multi != null) {
      multi.close();
    }
    if (single != null) {
      single.close();
    }
  }

  /** The server's error code for {@code sql}, 0 when it succeeds. */
  private static int serverError(Connection c, String sql) {
    try (Statement s = c.createStatement()) {
      s.execute(sql);
      while (s.getMoreResults() || s.getUpdateCount() != -1) {
        // drain every result, so the connection is ready for the next statement
      }
      return 0;
    } catch (SQLException e) {
      return e.getErrorCode();
    }
  }

  private static KillStatement parseKill(String sql) {
    ByteBuf buf = Unpooled.copiedBuffer(sql, StandardCharsets.UTF_8);
    try {
      return KillStatement.parse(buf, 0, buf.writerIndex());
    } finally {
      buf.release();
    }
  }

  /**
   * {@code proxy}: {@code kill} (the proxy answers it), {@code unsupported} (a KILL the proxy
   * cannot map, to refuse), {@code none} (not a KILL). 1094 is Unknown thread id: the server ran a
   * KILL.
   */
  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '"',
      value = {
        "KILL QUERY 999999                  | 1094 | kill",
        "kill connection 999999;            | 1094 | kill",
        "/* app=orders */ KILL QUERY 999999 | 1094 | kill",
        "KILL/**/QUERY/**/999999            | 1094 | kill",
        "KILL QUERY 999999 -- why           | 1094 | kill",
        "KILL QUERY 999999; # why           | 1094 | kill",
        "/*!KILL QUERY 999999*/             | 1094 | kill",
        "/*!50000 KILL QUERY 999999*/       | 1094 | kill",
        "/*!100000 KILL QUERY 999999*/      | 1094 | kill",
        "/*M!KILL QUERY 999999*/            | 1094 | kill",
        "/*M!100000 KILL QUERY 999999*/     | 1094 | kill",
        "KILL 0999999                       | 1094 | kill",
        "KILL QUERY 999998+1                | 1094 | unsupported",
        "KILL QUERY (999999)                | 1094 | unsupported",
        "KILL '999999'                      | 1094 | unsupported",
        "KILL HARD QUERY 999999             | 1094 | unsupported",
        "KILL SOFT 999999                   | 1094 | unsupported",
        "KILL QUERY ID 999999               | 1957 | unsupported",
        "KILL USER 'nobody_here'            | 0    | unsupported",
        "KILL 999999;;                      | 1094 | unsupported",
        "KILL 999999abc                     | 1054 | unsupported",
        "KILL QUERY                         | 1064 | unsupported",
        "/* KILL QUERY 999999 */            | 0    | none",
        "-- KILL QUERY 999999               | 0    | none",
        "/*!123 KILL QUERY 999999*/         | 1064 | none",
        "/*Mx KILL QUERY 999999*/           | 0    | none",
        "SELECT 'KILL QUERY 999999'         | 0    | none",
      })
  void killAsTheServerReadsIt(String sql, int serverError, String proxy) {
    assertThat(serverError(single, sql)).as("MariaDB's answer to %s", sql).isEqualTo(serverError);
    KillStatement kill = parseKill(sql);
    switch (proxy) {
      case "kill":
        assertThat(kill).isNotNull();
        assertThat(kill.supported()).isTrue();
        assertThat(kill.threadId()).as("the id in ERR 1094").isEqualTo(Long.parseLong(UNKNOWN_ID));
        break;
      case "unsupported":
        assertThat(kill).as("a KILL the server runs").isNotNull();
        assertThat(kill.supported()).isFalse();
        break;
      default:
        assertThat(kill).isNull();
    }
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '"',
      value = {
        "/*!99999 KILL QUERY 999999*/",
        "/*!999999 KILL QUERY 999999*/",
        "/*M!999999 KILL QUERY 999999*/",
      })
  void versionedCommentsTheServerSkipsAreStillReadAsKills(String sql) {
    // MariaDB 11.4 skips versions above its own and MySQL's 50700..99999; the lexer does not know
    // the version and reads the content, so the proxy answers a KILL the server would ignore rather
    // than pass on one the server would run.
    assertThat(serverError(single, sql)).as("the server skips it").isZero();
    assertThat(parseKill(sql)).isNotNull();
  }

  /** The connector refuses the server's file request with 4166: the server asked for a file. */
  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '"',
      value = {
        "LOAD DATA LOCAL INFILE '/nonexistent' INTO TABLE sql_lexing_load                    | true",
        "load xml local infile '/nonexistent' into table sql_lexing_load                     | true",
        "LOAD DATA LOW_PRIORITY LOCAL INFILE '/nonexistent' INTO TABLE sql_lexing_load       | true",
        "LOAD DATA CONCURRENT LOCAL INFILE '/nonexistent' INTO TABLE sql_lexing_load         | true",
        "LOAD DATA LOCAL/**/INFILE '/nonexistent' INTO TABLE sql_lexing_load                 | true",
        "/* etl */ LOAD DATA LOCAL INFILE '/nonexistent' INTO TABLE sql_lexing_load          | true",
        "/*!LOAD DATA LOCAL INFILE '/nonexistent' INTO TABLE sql_lexing_load*/               | true",
        "LOAD /*!DATA*/ LOCAL INFILE '/nonexistent' INTO TABLE sql_lexing_load               | true",
        "LOAD DATA INFILE '/nonexistent' INTO TABLE sql_lexing_load                          | false",
        "LOAD DATA LOW_PRIORITY CONCURRENT LOCAL INFILE '/nonexistent' INTO TABLE sql_lexing_load | false",
        "LOAD DATA `LOCAL` INFILE '/nonexistent' INTO TABLE sql_lexing_load                  | false",
        "LOAD DATA LOCAL                                                                     | false",
        "/* LOAD DATA LOCAL INFILE '/nonexistent' INTO TABLE sql_lexing_load */              | false",
      })
  void loadLocalAsTheServerReadsIt(String sql, boolean asksForAFile) {
    assertThat(serverError(single, sql) == 4166)
        .as("the server asked for a file after %s", sql)
        .isEqualTo(asksForAFile);
    ByteBuf buf = Unpooled.copiedBuffer(sql, StandardCharsets.UTF_8);
    assertThat(LoadLocal.matches(buf, 0, buf.writerIndex())).isEqualTo(asksForAFile);
    buf.release();
  }

  /** {@code results}: how many replies the server sends; more than one needs the MULTI flag. */
  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '"',
      value = {
        "SELECT 1                | 1",
        "SELECT 1;               | 1",
        "SELECT 1; -- c          | 2",
        "SELECT 1; /* c */       | 2",
        "SELECT 1; SELECT 2      | 2",
        "SELECT 1 -- ; SELECT 2  | 1",
        "SELECT ';' /* ; */      | 1",
      })
  void multiStatementsAsTheServerCountsThem(String sql, int results) throws SQLException {
    int replies = 0;
    try (Statement s = multi.createStatement()) {
      boolean resultSet = s.execute(sql);
      while (resultSet || s.getUpdateCount() != -1) {
        replies++;
        resultSet = s.getMoreResults();
      }
    }
    assertThat(replies).isEqualTo(results);
    ByteBuf buf = Unpooled.copiedBuffer(sql, StandardCharsets.UTF_8);
    int flags =
        new StatementScan(SessionVariables.forServer("11.4.5-MariaDB"))
            .scan(buf, 0, buf.writerIndex());
    buf.release();
    assertThat((flags & StatementScan.MULTI) != 0).as("MULTI").isEqualTo(results > 1);
  }
}
