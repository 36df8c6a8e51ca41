package dev.mysqlpool.proxy.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mysqlpool.proxy.backend.SessionVariables;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class StatementScanTest {
  private final StatementScan scan =
      new StatementScan(SessionVariables.forServer("11.4.5-MariaDB"));

  private StatementScan scan(String sql) {
    ByteBuf b = Unpooled.copiedBuffer(sql, StandardCharsets.UTF_8);
    scan.scan(b, 0, b.writerIndex());
    b.release();
    return scan;
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "SET @x = 1                                            | user_variable",
        "select @x := 5                                        | user_variable",
        "SELECT id INTO @last FROM t LIMIT 1                   | user_variable",
        "CREATE TEMPORARY TABLE t (a INT)                      | temporary_table",
        "create temporary table if not exists t select 1       | temporary_table",
        "PREPARE s FROM 'SELECT 1'                             | prepared_statement",
        "LOCK TABLES t WRITE                                   | table_lock",
        "FLUSH TABLES WITH READ LOCK                           | table_lock",
        "BACKUP LOCK t                                         | table_lock",
        "SELECT GET_LOCK('a', 10)                              | named_lock",
        "SELECT SQL_CALC_FOUND_ROWS * FROM t LIMIT 1           | sql_calc_found_rows",
        "SET SESSION foreign_key_checks = 0                    | variable",
        "SET sql_mode = 'ANSI', @u = 2                         | user_variable",
        "XA START 'x'                                          | xa_transaction",
        "HANDLER t OPEN                                        | handler",
        "/*!40101 SET @saved = @@sql_mode */                   | user_variable",
      })
  void pinsFor(String sql, String reason) {
    assertThat(scan(sql.trim()).pin).isEqualTo(reason);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "SELECT 'GET_LOCK(1)', \"@x := 1\" FROM t",
        "SELECT `lock` FROM `temporary` WHERE a = 'SET @x=1'",
        "SELECT @x",
        "INSERT INTO t VALUES ('user@example.com')",
        "SELECT * FROM t FOR UPDATE",
        "SELECT * FROM t LOCK IN SHARE MODE",
        "-- SET @x = 1\nSELECT 1",
        "/* GET_LOCK */ SELECT 1",
        "BEGIN",
        "COMMIT",
      })
  void doesNotPin(String sql) {
    assertThat(scan(sql).pin).isNull();
  }

  @Test
  void setOfCarriedVariablesIsFollowedNotPinned() {
    StatementScan s =
        scan(
            "SET SESSION sql_mode = CONCAT(@@sql_mode, ',STRICT_TRANS_TABLES'), time_zone = '+00:00',"
                + " autocommit = 1, NAMES utf8mb4 COLLATE utf8mb4_bin, @@session.tx_isolation = 'READ-COMMITTED'");
    assertThat(s.pin).isNull();
    assertThat(s.flags & StatementScan.CARRIED_SET).isNotZero();
    assertThat(
            scan("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED, READ ONLY").flags
                & StatementScan.CARRIED_SET)
        .isNotZero();
    assertThat(scan("SET character_set_results = NULL").flags & StatementScan.CARRIED_SET)
        .isNotZero();
  }

  @Test
  void setTransactionWithoutScopePins() {
    assertThat(scan("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE").pin)
        .isEqualTo("next_transaction");
    assertThat(scan("SET TRANSACTION READ ONLY").pin).isEqualTo("next_transaction");
    assertThat(scan("SET SESSION TRANSACTION READ ONLY").pin).isNull();
  }

  @Test
  void namesTheVariableThatPins() {
    StatementScan s = scan("SET autocommit = 0, SESSION unique_checks = 0");
    assertThat(s.pin).isEqualTo(StatementScan.VARIABLE);
    assertThat(s.pinDetail).isEqualTo("unique_checks");
    assertThat(scan("SET GLOBAL max_connections = 10").pinDetail)
        .isEqualTo("global max_connections");
    assertThat(scan("SET session_track_state_change = OFF").pinDetail)
        .isEqualTo("session_track_state_change");
  }

  @Test
  void setStatementForIsLeftToTheServer() {
    StatementScan s = scan("SET STATEMENT max_statement_time = 1 FOR SELECT 1");
    assertThat(s.pin).isNull();
    assertThat(s.flags & StatementScan.CARRIED_SET).isZero();
  }

  @Test
  void readsOfThePreviousStatement() {
    assertThat(scan("SELECT LAST_INSERT_ID()").flags & StatementScan.LAST_INSERT_ID).isNotZero();
    assertThat(scan("SELECT @@identity").flags & StatementScan.LAST_INSERT_ID).isNotZero();
    assertThat(scan("SELECT LAST_INSERT_ID(42)").flags & StatementScan.SETS_LAST_INSERT_ID)
        .isNotZero();
    assertThat(scan("UPDATE seq SET id = LAST_INSERT_ID(id + 1)").flags)
        .isEqualTo(StatementScan.SETS_LAST_INSERT_ID);
    assertThat(scan("INSERT INTO t VALUES (1); SELECT ROW_COUNT(), LAST_INSERT_ID()").flags)
        .isEqualTo(StatementScan.MULTI);
    assertThat(scan("SELECT ROW_COUNT()").flags & StatementScan.PREVIOUS_COUNTS).isNotZero();
    assertThat(scan("SELECT FOUND_ROWS()").flags & StatementScan.PREVIOUS_COUNTS).isNotZero();
    assertThat(scan("SELECT 'LAST_INSERT_ID()', 'ROW_COUNT()'").flags).isZero();
  }

  @Test
  void multiStatementsAndUse() {
    assertThat(scan("SELECT 1; SELECT 2").flags & StatementScan.MULTI).isNotZero();
    assertThat(scan("SELECT 1;  ").flags & StatementScan.MULTI).isZero();
    assertThat(scan("use `other db`").flags & StatementScan.USE).isNotZero();
  }

  @Test
  void everyStatementOfAPacketIsClassified() {
    StatementScan s = scan("SELECT 1; LOCK TABLES t WRITE");
    assertThat(s.pin).as("LOCK TABLES in a second statement").isEqualTo("table_lock");
    assertThat(s.flags & StatementScan.MULTI).isNotZero();
    assertThat(scan("SELECT 1; CREATE TEMPORARY TABLE t (a INT)").pin).isEqualTo("temporary_table");
    assertThat(scan("SELECT 1; SET unique_checks = 0").pinDetail).isEqualTo("unique_checks");
    assertThat(scan("SET autocommit = 0; USE db").flags)
        .isEqualTo(StatementScan.CARRIED_SET | StatementScan.USE | StatementScan.MULTI);
    assertThat(scan("CREATE TABLE t (a INT); SELECT 'TEMPORARY'").pin)
        .as("the word after CREATE in its own statement only")
        .isNull();
  }

  @Test
  void aCommentAfterTheLastSemicolonIsAStatementOfItsOwn() {
    // The server answers "SELECT 1; -- c" with a result set and then an OK for the comment.
    assertThat(scan("SELECT 1; -- c").flags & StatementScan.MULTI).isNotZero();
    assertThat(scan("SELECT 1; /* c */").flags & StatementScan.MULTI).isNotZero();
    assertThat(scan("SELECT 1 -- c; SELECT 2").flags & StatementScan.MULTI).isZero();
    assertThat(scan("SELECT ';' /* ; */").flags & StatementScan.MULTI).isZero();
  }

  @Test
  void commentsInsideASetAreNotAssignments() {
    StatementScan s =
        scan("SET /* driver */ autocommit = 1 /* , unique_checks = 0 */, time_zone = '+00:00'");
    assertThat(s.pin).isNull();
    assertThat(s.flags).isEqualTo(StatementScan.CARRIED_SET);
    assertThat(scan("SET `autocommit` = 1").flags).isEqualTo(StatementScan.CARRIED_SET);
    assertThat(scan("SET LOCAL sql_mode = '', @@local.time_zone = 'UTC'").flags)
        .isEqualTo(StatementScan.CARRIED_SET);
  }

  @Test
  void globalAndPersistentScopesAreNotCarried() {
    assertThat(scan("SET PERSIST max_connections = 10").pinDetail)
        .isEqualTo("global max_connections");
    assertThat(scan("SET @@persist_only.max_connections = 10").pinDetail)
        .isEqualTo("global max_connections");
    assertThat(scan("SET @@GLOBAL.sql_mode = ''").pinDetail).isEqualTo("global sql_mode");
    assertThat(scan("SET GLOBAL TRANSACTION READ ONLY").pinDetail).isEqualTo("global transaction");
  }

  @Test
  void theFirstPinInTheTextWins() {
    assertThat(scan("SET @x = GET_LOCK('a', 1)").pin).isEqualTo("named_lock");
    assertThat(scan("SELECT GET_LOCK('a', 1), SQL_CALC_FOUND_ROWS 1").pin).isEqualTo("named_lock");
  }

  @Test
  void noBackslashEscapesChangesWhereStringsEnd() {
    String sql = "SELECT 'C:\\', GET_LOCK('a', 1)";
    ByteBuf b = Unpooled.copiedBuffer(sql, StandardCharsets.UTF_8);
    assertThat(scan.scan(b, 0, b.writerIndex(), true)).isZero();
    assertThat(scan.pin)
        .as("NO_BACKSLASH_ESCAPES: the string ends at its quote")
        .isEqualTo("named_lock");
    scan.scan(b, 0, b.writerIndex(), false);
    assertThat(scan.pin).as("by default \\' is a quote inside the string").isNull();
    b.release();
  }

  @Test
  void executableCommentsPinWhateverTheirVersion() {
    // MariaDB skips /*!99999 ... */; the scan does not know the version and errs towards pinning.
    assertThat(scan("/*!99999 SELECT GET_LOCK('a', 1) */ SELECT 1").pin).isEqualTo("named_lock");
    assertThat(scan("/*M!100000 LOCK TABLES t READ */").pin).isEqualTo("table_lock");
    assertThat(scan("/* LOCK TABLES t READ */ SELECT 1").pin).isNull();
  }

  @Test
  void lastInsertIdWithACommentForArgumentReadsIt() {
    assertThat(scan("SELECT LAST_INSERT_ID(/* none */)").flags)
        .isEqualTo(StatementScan.LAST_INSERT_ID);
    assertThat(scan("SELECT LAST_INSERT_ID (7)").flags)
        .isEqualTo(StatementScan.SETS_LAST_INSERT_ID);
    assertThat(scan("SELECT @@session.last_insert_id").flags)
        .isEqualTo(StatementScan.LAST_INSERT_ID);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      nullValues = "null",
      value = {
        "SELECT ROW_COUNT()                | ROW_COUNT()",
        "select found_rows();              | found_rows()",
        "'  SELECT\tRow_Count() ;  '      | Row_Count()",
        "SELECT ROW_COUNT() -- the driver  | ROW_COUNT()",
        "/* app */ SELECT FOUND_ROWS()     | FOUND_ROWS()",
        "SELECT ROW_COUNT(); -- c          | null",
        "SELECT ROW_COUNT(); SELECT 1      | null",
        "SELECT ROW_COUNT( )               | null",
        "SELECT ROW_COUNT() + 1            | null",
        "SELECT ROW_COUNT(), 1             | null",
        "SELECT ROW_COUNT() AS n           | null",
        "SELECT LAST_INSERT_ID()           | null",
        "SELECT ROW_COUNT                  | null",
      })
  void previousCountColumnIsTheNameAsWritten(String sql, String column) {
    ByteBuf b = Unpooled.copiedBuffer("\u0003" + sql + "; x", StandardCharsets.UTF_8);
    int end = b.writerIndex() - 3;
    assertThat(StatementScan.previousCountColumn(b, 1, end)).isEqualTo(column);
    b.release();
  }
}
