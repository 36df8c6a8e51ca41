package dev.mysqlpool.proxy.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import dev.mysqlpool.proxy.sql.ReadScan.Reason;
import dev.mysqlpool.proxy.sql.ReadScan.Route;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Which statements may go to a replica (issue 15): a table of statements and the decision with its
 * reason. A read sent to a replica by mistake gives a client a stale or wrong answer, or loses a
 * lock; a write by mistake only costs the split.
 */
class ReadScanTest {
  static Stream<Arguments> statements() {
    return Stream.of(
        // Reads.
        arguments("SELECT 1", Reason.READ),
        arguments("select c from sbtest1 where id = 5", Reason.READ),
        arguments("  \n\tSELECT 1", Reason.READ),
        arguments("/* leading */ SELECT 1", Reason.READ),
        arguments("-- c\nSELECT 1", Reason.READ),
        arguments("# c\nSELECT 1", Reason.READ),
        arguments("SELECT 'FOR UPDATE'", Reason.READ),
        arguments("SELECT /* FOR UPDATE */ 1", Reason.READ),
        arguments("SELECT /*+ MAX_EXECUTION_TIME(1000) */ * FROM t", Reason.READ),
        arguments("SELECT \"LOCK IN SHARE MODE\", `into` FROM t", Reason.READ),
        arguments("SELECT 'it''s', 'a\\'FOR UPDATE' FROM t", Reason.READ),
        arguments("SELECT 'ü FOR UPDATE', ü FROM t", Reason.READ),
        arguments("WITH c AS (SELECT 1) SELECT * FROM c", Reason.READ),
        arguments(
            "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5)"
                + " SELECT * FROM r",
            Reason.READ),
        arguments("(SELECT 1) UNION (SELECT 2)", Reason.READ),
        arguments("((SELECT 1))", Reason.READ),
        arguments("SELECT * FROM t WHERE id IN (SELECT id FROM u)", Reason.READ),
        arguments("VALUES ROW(1, 2)", Reason.READ),
        arguments("TABLE t", Reason.READ),
        arguments("SHOW TABLES", Reason.READ),
        arguments("SHOW CREATE TABLE t", Reason.READ),
        arguments("show variables like 'status'", Reason.READ),
        arguments("DESC t", Reason.READ),
        arguments("DESCRIBE t c", Reason.READ),
        arguments("EXPLAIN SELECT * FROM t", Reason.READ),
        arguments("EXPLAIN FORMAT=JSON SELECT 1", Reason.READ),
        arguments("EXPLAIN ANALYZE SELECT 1", Reason.READ),
        arguments("HELP 'contents'", Reason.READ),
        arguments("SELECT 1; SELECT 2", Reason.READ),
        arguments("SELECT 1;", Reason.READ),
        arguments("SELECT 1; -- done", Reason.READ),
        arguments("SELECT @@session.sql_mode, @@autocommit", Reason.READ),
        arguments("SELECT @@server_id", Reason.READ),
        arguments("SELECT sleep, get_lock, next FROM t", Reason.READ),
        arguments("SELECT * FROM t FOR SYSTEM_TIME ALL", Reason.READ),
        arguments("SELECT UUID(), UUID_SHORT(), CONNECTION_ID()", Reason.READ),
        arguments("SELECT REPLACE(name, 'a', 'b'), INSERT('abc', 1, 1, 'x') FROM t", Reason.READ),
        // Locking reads.
        arguments("SELECT * FROM t FOR UPDATE", Reason.LOCKING_READ),
        arguments("select * from t for share", Reason.LOCKING_READ),
        arguments("SELECT * FROM t WHERE id = 1 LOCK IN SHARE MODE", Reason.LOCKING_READ),
        arguments("SELECT * FROM t FOR UPDATE SKIP LOCKED", Reason.LOCKING_READ),
        arguments("SELECT * FROM t FOR /* x */ UPDATE", Reason.LOCKING_READ),
        arguments("SELECT 1 /*!50000 FOR UPDATE*/", Reason.LOCKING_READ),
        arguments("SELECT * FROM t /*M!100000 FOR UPDATE */", Reason.LOCKING_READ),
        arguments("WITH c AS (SELECT 1) SELECT * FROM c FOR UPDATE", Reason.LOCKING_READ),
        arguments("(SELECT * FROM t FOR UPDATE)", Reason.LOCKING_READ),
        // INTO and user variables.
        arguments("SELECT 1 INTO @x", Reason.INTO),
        arguments("SELECT * FROM t INTO OUTFILE '/tmp/t'", Reason.INTO),
        arguments("SELECT a INTO DUMPFILE '/tmp/a' FROM t", Reason.INTO),
        arguments("SELECT 1 /*!99999 INTO @x */", Reason.INTO),
        arguments("SELECT @x := 1", Reason.USER_VARIABLE),
        arguments("SELECT x FROM t WHERE y = @v", Reason.USER_VARIABLE),
        arguments("SELECT @`quoted`", Reason.USER_VARIABLE),
        // Functions with side effects.
        arguments("select get_lock('a',1)", Reason.SIDE_EFFECT_FUNCTION),
        arguments("SELECT RELEASE_LOCK('a')", Reason.SIDE_EFFECT_FUNCTION),
        arguments("SELECT RELEASE_ALL_LOCKS()", Reason.SIDE_EFFECT_FUNCTION),
        arguments("SELECT IS_FREE_LOCK('a')", Reason.SIDE_EFFECT_FUNCTION),
        arguments("SELECT IS_USED_LOCK('a')", Reason.SIDE_EFFECT_FUNCTION),
        arguments("SELECT NEXT VALUE FOR s", Reason.SIDE_EFFECT_FUNCTION),
        arguments("SELECT NEXTVAL(s)", Reason.SIDE_EFFECT_FUNCTION),
        arguments("SELECT SETVAL(s, 10)", Reason.SIDE_EFFECT_FUNCTION),
        arguments("SELECT SLEEP(1)", Reason.SIDE_EFFECT_FUNCTION),
        arguments("SELECT BENCHMARK(1000, MD5('a'))", Reason.SIDE_EFFECT_FUNCTION),
        arguments("SELECT MASTER_POS_WAIT('bin.000001', 4)", Reason.SIDE_EFFECT_FUNCTION),
        arguments("SELECT SOURCE_POS_WAIT('bin.000001', 4)", Reason.SIDE_EFFECT_FUNCTION),
        arguments("SELECT MASTER_GTID_WAIT('0-1-5', 1)", Reason.SIDE_EFFECT_FUNCTION),
        arguments("SELECT WAIT_FOR_EXECUTED_GTID_SET('u:1-5')", Reason.SIDE_EFFECT_FUNCTION),
        arguments("SELECT LAST_INSERT_ID(42)", Reason.SIDE_EFFECT_FUNCTION),
        arguments("SELECT 1; SELECT GET_LOCK('a', 1)", Reason.SIDE_EFFECT_FUNCTION),
        // The previous statement's results.
        arguments("SELECT LAST_INSERT_ID()", Reason.SESSION_RESULT),
        arguments("SELECT FOUND_ROWS()", Reason.SESSION_RESULT),
        arguments("SELECT ROW_COUNT()", Reason.SESSION_RESULT),
        arguments("SELECT LASTVAL(s)", Reason.SESSION_RESULT),
        arguments("SELECT PREVIOUS VALUE FOR s", Reason.SESSION_RESULT),
        arguments("SELECT @@identity", Reason.SESSION_RESULT),
        arguments("SELECT @@last_insert_id", Reason.SESSION_RESULT),
        arguments("SELECT SQL_CALC_FOUND_ROWS * FROM t LIMIT 10", Reason.SESSION_RESULT),
        arguments("SHOW WARNINGS", Reason.SESSION_RESULT),
        arguments("SHOW COUNT(*) ERRORS", Reason.SESSION_RESULT),
        arguments("SHOW PROFILES", Reason.SESSION_RESULT),
        // One server's own state.
        arguments("SHOW SLAVE STATUS", Reason.SERVER_STATE),
        arguments("SHOW REPLICA STATUS", Reason.SERVER_STATE),
        arguments("SHOW MASTER STATUS", Reason.SERVER_STATE),
        arguments("SHOW FULL PROCESSLIST", Reason.SERVER_STATE),
        arguments("SHOW GLOBAL STATUS LIKE 'Threads%'", Reason.SERVER_STATE),
        arguments("SHOW ENGINE INNODB STATUS", Reason.SERVER_STATE),
        arguments("SHOW BINARY LOGS", Reason.SERVER_STATE),
        arguments("SELECT @@global.read_only", Reason.SERVER_STATE),
        arguments("SELECT @@innodb_read_only", Reason.SERVER_STATE),
        // Everything else.
        arguments("INSERT INTO t VALUES (1)", Reason.WRITE),
        arguments("UPDATE t SET a = 1", Reason.WRITE),
        arguments("DELETE FROM t", Reason.WRITE),
        arguments("REPLACE INTO t VALUES (1)", Reason.WRITE),
        arguments("CREATE TABLE t (a INT)", Reason.WRITE),
        arguments("SET autocommit = 0", Reason.WRITE),
        arguments("BEGIN", Reason.WRITE),
        arguments("START TRANSACTION", Reason.WRITE),
        arguments("START TRANSACTION READ WRITE", Reason.WRITE),
        arguments("START SLAVE", Reason.WRITE),
        arguments("CALL p()", Reason.WRITE),
        arguments("DO SLEEP(1)", Reason.WRITE),
        arguments("LOCK TABLES t READ", Reason.WRITE),
        arguments("/*!40101 SET NAMES utf8 */", Reason.WRITE),
        arguments("WITH c AS (SELECT 1) DELETE FROM t WHERE a IN (SELECT * FROM c)", Reason.WRITE),
        arguments("EXPLAIN UPDATE t SET a = 1", Reason.WRITE),
        arguments("EXPLAIN ANALYZE DELETE FROM t", Reason.WRITE),
        arguments("EXPLAIN FOR CONNECTION 5", Reason.WRITE),
        arguments("SELECT 1; DELETE FROM t", Reason.WRITE),
        arguments("DELETE FROM t; SELECT 1", Reason.WRITE),
        arguments("", Reason.WRITE),
        arguments("/* only a comment */", Reason.WRITE),
        arguments("'SELECT 1'", Reason.WRITE),
        // Read-only transactions.
        arguments("START TRANSACTION READ ONLY", Reason.READ_ONLY_TRANSACTION_START),
        arguments(
            "start transaction read only, with consistent snapshot",
            Reason.READ_ONLY_TRANSACTION_START),
        arguments(
            "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
            Reason.READ_ONLY_TRANSACTION_START),
        arguments("START TRANSACTION READ ONLY; SELECT 1", Reason.MULTI_STATEMENT),
        arguments("SELECT 1; START TRANSACTION READ ONLY", Reason.MULTI_STATEMENT));
  }

  private final ReadScan scan = new ReadScan();

  /**
   * Classified from a pooled direct buffer at an offset with bytes after the end, as a packet's
   * payload is: bytes outside the range must not matter, and the buffer is left as it was.
   */
  private Reason scan(String sql, boolean noBackslashEscapes) {
    byte[] bytes = sql.getBytes(StandardCharsets.UTF_8);
    ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length + 16);
    try {
      buf.writeBytes(new byte[] {1, 0, 0, 0, 3}).writeBytes(bytes);
      buf.writeBytes(" FOR UPDATE @x".getBytes(StandardCharsets.US_ASCII));
      Reason r = scan.scan(buf, 5, 5 + bytes.length, noBackslashEscapes);
      assertThat(buf.readerIndex()).isZero();
      assertThat(buf.refCnt()).isEqualTo(1);
      return r;
    } finally {
      buf.release();
    }
  }

  @ParameterizedTest
  @MethodSource("statements")
  void classifies(String sql, Reason expected) {
    assertThat(scan(sql, false)).as("%s", sql).isEqualTo(expected);
  }

  @Test
  void theTableCoversEveryReason() {
    assertThat(statements().map(a -> a.get()[1]).distinct().count())
        .isEqualTo(Reason.values().length);
    assertThat(statements().count()).isGreaterThanOrEqualTo(60);
  }

  @Test
  void routesFollowTheReasons() {
    assertThat(Reason.READ.route()).isEqualTo(Route.READ);
    assertThat(Reason.READ_ONLY_TRANSACTION_START.route()).isEqualTo(Route.READ_ONLY_TRANSACTION);
    for (Reason r : Reason.values()) {
      if (r != Reason.READ && r != Reason.READ_ONLY_TRANSACTION_START) {
        assertThat(r.route()).as("%s", r).isEqualTo(Route.WRITE);
      }
    }
    assertThat(Reason.SESSION_RESULT.label()).isEqualTo("session_result");
    assertThat(Reason.READ_ONLY_TRANSACTION_START.label()).isEqualTo("read_only_transaction_start");
  }

  @Test
  void withNoBackslashEscapesABackslashDoesNotHideTheQuote() {
    String sql = "SELECT 'a\\' FOR UPDATE, 'b'";
    assertThat(scan(sql, false)).isEqualTo(Reason.READ);
    assertThat(scan(sql, true))
        .withFailMessage("under NO_BACKSLASH_ESCAPES the server sees FOR UPDATE outside the string")
        .isEqualTo(Reason.LOCKING_READ);
  }

  @Test
  void oneInstanceClassifiesStatementAfterStatementWithoutAllocating() {
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    String[] sqls = {
      "SELECT c FROM sbtest1 WHERE id = 42",
      "WITH c AS (SELECT 1) SELECT * FROM c FOR UPDATE",
      "SELECT 1; SELECT LAST_INSERT_ID()",
      "SHOW SLAVE STATUS",
      "START TRANSACTION READ ONLY",
      "UPDATE t SET a = 1"
    };
    // Direct memory wrapped without the allocator: under the PARANOID leak detector an allocator's
    // buffer records every access, which is the test's allocation, not the scan's.
    ByteBuf[] bufs = new ByteBuf[sqls.length];
    for (int i = 0; i < sqls.length; i++) {
      byte[] bytes = sqls[i].getBytes(StandardCharsets.UTF_8);
      bufs[i] = Unpooled.wrappedBuffer(ByteBuffer.allocateDirect(bytes.length).put(bytes).flip());
    }
    try {
      Reason[] seen = new Reason[sqls.length];
      for (int round = 0; round < 3; round++) {
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int n = 0; n < 10_000; n++) {
          int i = n % bufs.length;
          seen[i] = scan.scan(bufs[i], 0, bufs[i].writerIndex(), false);
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        if (round == 2) {
          // A String or a boxed value per statement would be hundreds of kilobytes here.
          assertThat(allocated).as("bytes allocated by 10,000 scans").isLessThan(4096);
        }
      }
      assertThat(seen)
          .containsExactly(
              Reason.READ,
              Reason.LOCKING_READ,
              Reason.SESSION_RESULT,
              Reason.SERVER_STATE,
              Reason.READ_ONLY_TRANSACTION_START,
              Reason.WRITE);
    } finally {
      for (ByteBuf b : bufs) {
        b.release();
      }
    }
  }
}
