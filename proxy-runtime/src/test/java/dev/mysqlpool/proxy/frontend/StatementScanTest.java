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
}
