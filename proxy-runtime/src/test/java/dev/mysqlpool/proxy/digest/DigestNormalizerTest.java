package dev.mysqlpool.proxy.digest;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What a digest groups: statements that differ only in their literals, comments, spacing or letter
 * case share one digest and one text, with no literal value left in it.
 */
class DigestNormalizerTest {
  private final DigestNormalizer normalizer = new DigestNormalizer();

  static Stream<Arguments> statements() {
    return Stream.of(
        // sysbench's statements
        row("SELECT c FROM sbtest1 WHERE id=50123", "SELECT c FROM sbtest1 WHERE id = ?"),
        row(
            "SELECT c FROM sbtest1 WHERE id BETWEEN 100 AND 199 ORDER BY c",
            "SELECT c FROM sbtest1 WHERE id BETWEEN ? AND ? ORDER BY c"),
        row("UPDATE sbtest1 SET k=k+1 WHERE id=5", "UPDATE sbtest1 SET k = k + ? WHERE id = ?"),
        row("DELETE FROM sbtest1 WHERE id=17", "DELETE FROM sbtest1 WHERE id = ?"),
        row(
            "INSERT INTO sbtest1 (id, k, c, pad) VALUES (1, 2, 'a''b', \"x\\\"y\")",
            "INSERT INTO sbtest1 (id, k, c, pad) VALUES (?, ?, ?, ?)"),
        // letter case and spacing
        row("select  c\n\tfrom sbtest1\r\nwhere id = 7", "SELECT c FROM sbtest1 WHERE id = ?"),
        row("SELECT COUNT(*), max(k) FROM t", "SELECT COUNT(*), max(k) FROM t"),
        row(
            "SELECT a>=1, b<>2, c<=>3, d != 4, j->>'$.a' FROM t",
            "SELECT a >= ?, b <> ?, c <=> ?, d != ?, j ->> ? FROM t"),
        // comments
        row("/* app=orders */ SELECT 1 -- trailing\n", "SELECT ?"),
        row("SELECT a FROM t # to the end of the line", "SELECT a FROM t"),
        row("SELECT /*+ MAX_EXECUTION_TIME(1000) */ a FROM t", "SELECT a FROM t"),
        row("SELECT /*! STRAIGHT_JOIN */ a FROM t", "SELECT STRAIGHT_JOIN a FROM t"),
        row("/*!40101 SET NAMES utf8mb4 */", "SET NAMES utf8mb4"),
        row("SELECT '/* not a comment */', \"-- nor this\" FROM t", "SELECT ?, ? FROM t"),
        // strings with quotes and escapes
        row("SELECT 'it''s', 'back\\\\slash', 'esc\\'aped' FROM t", "SELECT ?, ?, ? FROM t"),
        row("SELECT 'a' 'b' \"c\" FROM t", "SELECT ? FROM t"),
        row(
            "SELECT * FROM t WHERE name = 'O\\'Brien; DROP TABLE t'",
            "SELECT * FROM t WHERE name = ?"),
        // numbers
        row("SELECT -1, - 2, +3, a-1, a - -1, b+-2", "SELECT ?, ?, ?, a - ?, a - ?, b + ?"),
        row("SELECT 1.5, .5, 1., 1e5, 1.5e-3, 2E+10, 3e-7", "SELECT ?, ?, ?, ?, ?, ?, ?"),
        row("SELECT 0x1F, X'1F', x'ab', b'01', 0b101, N'abc'", "SELECT ?, ?, ?, ?, ?, ?"),
        row(
            "SELECT _utf8mb4'abc', _binary 'x' COLLATE utf8mb4_bin",
            "SELECT ?, ? COLLATE utf8mb4_bin"),
        row(
            "SELECT CASE WHEN a = -1 THEN -2 ELSE +3 END FROM t",
            "SELECT CASE WHEN a = ? THEN ? ELSE ? END FROM t"),
        row(
            "SELECT * FROM t WHERE d > NOW() - INTERVAL -1 DAY LIMIT 10, 20",
            "SELECT * FROM t WHERE d > NOW() - INTERVAL ? DAY LIMIT ?, ?"),
        // booleans become ?, NULL stays
        row(
            "SELECT TRUE, false, NULL FROM t WHERE x IS NOT NULL",
            "SELECT ?, ?, NULL FROM t WHERE x IS NOT NULL"),
        // identifiers that look like literals stay
        row("select 1abc, t1.col, 0xg from t1", "SELECT 1abc, t1.col, 0xg FROM t1"),
        row(
            "SELECT `Weird Col`, `t`.`c` FROM `db`.`t` WHERE `id` = 3",
            "SELECT `Weird Col`, `t`.`c` FROM `db`.`t` WHERE `id` = ?"),
        row("SELECT `it``s` FROM t", "SELECT `it``s` FROM t"),
        row(
            "SELECT x FROM t_2024_06 WHERE y LIKE 'abc%'",
            "SELECT x FROM t_2024_06 WHERE y LIKE ?"),
        // IN lists
        row("SELECT * FROM t WHERE a IN (1, 2, 3)", "SELECT * FROM t WHERE a IN (...)"),
        row("SELECT * FROM t WHERE a IN(1)", "SELECT * FROM t WHERE a IN (...)"),
        row(
            "SELECT * FROM t WHERE a NOT IN ('x', -2, NULL, 1.5, 0x1F, ?)",
            "SELECT * FROM t WHERE a NOT IN (...)"),
        row(
            "SELECT * FROM t WHERE a IN (SELECT b FROM u WHERE c = 1)",
            "SELECT * FROM t WHERE a IN (SELECT b FROM u WHERE c = ?)"),
        row("SELECT * FROM t WHERE a IN (b, 1)", "SELECT * FROM t WHERE a IN (b, ?)"),
        // multi-row inserts
        row("INSERT INTO t VALUES (1,2),(3,4),(5,6)", "INSERT INTO t VALUES (?, ?), ..."),
        row("INSERT INTO t VALUES(1, NOW())", "INSERT INTO t VALUES (?, NOW())"),
        row(
            "INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y') ON DUPLICATE KEY UPDATE b = VALUES(b)",
            "INSERT INTO t (a, b) VALUES (?, ?), ... ON DUPLICATE KEY UPDATE b = VALUES (b)"),
        row("REPLACE INTO t VALUE (1, (2)), (3, (4))", "REPLACE INTO t VALUE (?, (?)), ..."),
        // variables, several statements, calls
        row("SET @a := 5, @@session.sql_mode = 'ANSI'", "SET @a := ?, @@session.sql_mode = ?"),
        row("SELECT 1; SELECT 2;", "SELECT ?; SELECT ?"),
        row("CALL p(1, 'x')", "CALL p(?, ?)"),
        row("", ""));
  }

  private static Arguments row(String sql, String digest) {
    return Arguments.of(sql, digest);
  }

  @ParameterizedTest
  @MethodSource("statements")
  void normalisesLikeProxySqlsDigest(String sql, String expected) {
    assertThat(text(sql)).as("digest text of %s", sql).isEqualTo(expected);
  }

  @ParameterizedTest
  @MethodSource("statements")
  void statementsWithTheSameTextHaveTheSameHash(String sql, String expected) {
    // The text is itself a statement of that digest: its ? are placeholders.
    assertThat(hash(expected))
        .as("the hash of %s and of its digest text %s", sql, expected)
        .isEqualTo(hash(sql));
  }

  @Test
  void statementsThatDifferOnlyInLiteralsShareAHash() {
    assertThat(hash("SELECT c FROM sbtest1 WHERE id=1"))
        .isEqualTo(hash("select c from SBTEST1 where ID = 987654 -- note"))
        .isEqualTo(hash("SELECT c FROM sbtest1 WHERE id='x'"))
        .isEqualTo(hash("SELECT c FROM sbtest1 WHERE id=-1.5e3"));
    assertThat(hash("SELECT * FROM t WHERE a IN (1)"))
        .isEqualTo(hash("SELECT * FROM t WHERE a IN (1, 2, 3, 'four', NULL)"));
    assertThat(hash("INSERT INTO t VALUES (1, 'a'), (2, 'b')"))
        .isEqualTo(hash("INSERT INTO t VALUES (7, 'x'), (8, 'y'), (9, 'z')"));
  }

  @Test
  void statementsThatDifferInShapeDoNot() {
    assertThat(hash("SELECT c FROM sbtest1 WHERE id=1"))
        .isNotEqualTo(hash("SELECT c FROM sbtest2 WHERE id=1"))
        .isNotEqualTo(hash("SELECT c FROM sbtest1 WHERE id>1"))
        .isNotEqualTo(hash("SELECT k FROM sbtest1 WHERE id=1"));
    assertThat(hash("SELECT a - 1 FROM t")).isNotEqualTo(hash("SELECT a + 1 FROM t"));
    assertThat(hash("SELECT ab FROM t")).isNotEqualTo(hash("SELECT a b FROM t"));
    assertThat(hash("INSERT INTO t VALUES (1)"))
        .isNotEqualTo(hash("INSERT INTO t VALUES (1), (2)"));
    assertThat(hash("SELECT `a` FROM t")).isNotEqualTo(hash("SELECT `A` FROM t"));
  }

  @Test
  void withNoBackslashEscapesABackslashEndsNothing() {
    String sql = "SELECT 'a\\', b FROM t";
    assertThat(text(sql, true)).isEqualTo("SELECT ?, b FROM t");
    assertThat(text(sql, false)).as("with escapes the string runs on").isEqualTo("SELECT ?");
  }

  @Test
  void aLongStatementIsCutAtTheBudgetAndSharesTheDigestOfItsPrefix() {
    StringBuilder columns = new StringBuilder("SELECT c0");
    for (int i = 1; i < 400; i++) {
      columns.append(", c").append(i);
    }
    String text = text(columns + " FROM t WHERE id = 1");
    assertThat(text).startsWith("SELECT c0, c1, c2").endsWith(" ...");
    assertThat(text.length()).isLessThanOrEqualTo(DigestNormalizer.MAX_TEXT + 4);
    assertThat(hash(columns + " FROM t WHERE id = 1")).isEqualTo(hash(columns + " FROM u"));
  }

  @Test
  void aBulkInsertPastTheTokenBoundHasTheDigestOfAShortOne() {
    StringBuilder rows = new StringBuilder("INSERT INTO t (a, b) VALUES (0, 'x')");
    for (int i = 1; i < 5000; i++) {
      rows.append(", (").append(i).append(", 'row ").append(i).append("')");
    }
    assertThat(hash(rows.toString()))
        .isEqualTo(hash("INSERT INTO t (a, b) VALUES (1, 'a'), (2, 'b')"));
    assertThat(text(rows.toString())).isEqualTo("INSERT INTO t (a, b) VALUES (?, ?), ... ...");
  }

  @Test
  void readsOnlyItsRangeAndLeavesTheBufferAlone() {
    ByteBuf buf =
        Unpooled.copiedBuffer("xxSELECT 'secret' FROM t WHERE a = 5yy", StandardCharsets.UTF_8);
    try {
      int end = buf.writerIndex() - 2;
      assertThat(normalizer.text(buf, 2, end, false)).isEqualTo("SELECT ? FROM t WHERE a = ?");
      assertThat(normalizer.hash(buf, 2, end, false))
          .isEqualTo(hash("SELECT 'other' FROM t WHERE a = 6"));
      assertThat(buf.readerIndex()).isZero();
      assertThat(buf.refCnt()).isEqualTo(1);
    } finally {
      buf.release();
    }
  }

  private long hash(String sql) {
    ByteBuf buf = Unpooled.copiedBuffer(sql, StandardCharsets.UTF_8);
    try {
      return normalizer.hash(buf, 0, buf.writerIndex(), false);
    } finally {
      buf.release();
    }
  }

  private String text(String sql) {
    return text(sql, false);
  }

  private String text(String sql, boolean noBackslashEscapes) {
    ByteBuf buf = Unpooled.copiedBuffer(sql, StandardCharsets.UTF_8);
    try {
      return normalizer.text(buf, 0, buf.writerIndex(), noBackslashEscapes);
    } finally {
      buf.release();
    }
  }
}
