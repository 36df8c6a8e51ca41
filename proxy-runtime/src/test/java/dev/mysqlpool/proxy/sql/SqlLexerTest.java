package dev.mysqlpool.proxy.sql;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SqlLexerTest {
  /** The tokens as {@code KIND text}, {@code KIND text KEYWORD} for a keyword, END excluded. */
  private static List<String> tokens(String sql) {
    return tokens(sql, false);
  }

  private static List<String> tokens(String sql, boolean noBackslashEscapes) {
    ByteBuf buf = Unpooled.copiedBuffer(sql, StandardCharsets.UTF_8);
    try {
      return tokens(buf, 0, buf.writerIndex(), noBackslashEscapes);
    } finally {
      buf.release();
    }
  }

  private static List<String> tokens(ByteBuf buf, int start, int end, boolean noBackslashEscapes) {
    SqlLexer lexer = new SqlLexer().reset(buf, start, end, noBackslashEscapes);
    List<String> out = new ArrayList<>();
    for (Token t = lexer.next(); t != Token.END; t = lexer.next()) {
      assertThat(lexer.tokenStart()).as("token start within the input").isBetween(start, end);
      assertThat(lexer.tokenEnd()).as("token end within the input").isBetween(start, end);
      out.add(
          t + " " + lexer.text() + (lexer.keyword() == null ? "" : " " + lexer.keyword().name()));
    }
    assertThat(lexer.next()).as("END stays END").isEqualTo(Token.END);
    return out;
  }

  @Test
  void wordsKeywordsAndSymbols() {
    assertThat(tokens("select c FROM sbtest1 WHERE id=?"))
        .containsExactly(
            "WORD select SELECT",
            "WORD c",
            "WORD FROM",
            "WORD sbtest1",
            "WORD WHERE",
            "WORD id",
            "SYMBOL =",
            "SYMBOL ?");
    assertThat(tokens("kIlL QuErY 1.5, db.t"))
        .containsExactly(
            "WORD kIlL KILL",
            "WORD QuErY QUERY",
            "WORD 1",
            "SYMBOL .",
            "WORD 5",
            "SYMBOL ,",
            "WORD db",
            "SYMBOL .",
            "WORD t");
    assertThat(tokens("SAT KOLL LUAD xa XB sql_calc_found_rowz"))
        .as("same length, first and last letter as a keyword")
        .containsExactly(
            "WORD SAT",
            "WORD KOLL",
            "WORD LUAD",
            "WORD xa XA",
            "WORD XB",
            "WORD sql_calc_found_rowz");
    assertThat(tokens("KILLS LOCKS get_lock$"))
        .containsExactly("WORD KILLS", "WORD LOCKS", "WORD get_lock$");
  }

  @Test
  void stringsWithDoubledQuotesAndBackslashEscapes() {
    assertThat(tokens("'it''s' \"say \"\"hi\"\"\" 'it\\'s' x"))
        .containsExactly(
            "STRING 'it''s'", "STRING \"say \"\"hi\"\"\"", "STRING 'it\\'s'", "WORD x");
    assertThat(tokens("'a\\\\' b"))
        .as("an escaped backslash")
        .containsExactly("STRING 'a\\\\'", "WORD b");
  }

  @Test
  void noBackslashEscapesEndsAStringAtItsQuote() {
    String sql = "SELECT 'C:\\', GET_LOCK('a', 1)";
    assertThat(tokens(sql, true))
        .containsExactly(
            "WORD SELECT SELECT",
            "STRING 'C:\\'",
            "SYMBOL ,",
            "WORD GET_LOCK GET_LOCK",
            "SYMBOL (",
            "STRING 'a'",
            "SYMBOL ,",
            "WORD 1",
            "SYMBOL )");
    assertThat(tokens(sql, false))
        .as("with escapes, \\' does not close: the string runs to the next quote")
        .startsWith("WORD SELECT SELECT", "STRING 'C:\\', GET_LOCK('", "WORD a")
        .doesNotContain("WORD GET_LOCK GET_LOCK");
  }

  @Test
  void backticksQuoteIdentifiersWithoutEscapes() {
    assertThat(tokens("SELECT `a``b`, `c\\` FROM `select`"))
        .containsExactly(
            "WORD SELECT SELECT",
            "QUOTED_IDENTIFIER `a``b`",
            "SYMBOL ,",
            "QUOTED_IDENTIFIER `c\\`",
            "WORD FROM",
            "QUOTED_IDENTIFIER `select`");
  }

  @Test
  void commentsAreSkippedTheWayTheServerSkipsThem() {
    assertThat(tokens("# KILL 1\nSELECT 1 # x")).containsExactly("WORD SELECT SELECT", "WORD 1");
    assertThat(tokens("-- KILL 1\nSELECT 1 --\tx\n--"))
        .containsExactly("WORD SELECT SELECT", "WORD 1");
    assertThat(tokens("SELECT 1--1"))
        .as("-- without a space after it is two minus signs")
        .containsExactly("WORD SELECT SELECT", "WORD 1", "SYMBOL -", "SYMBOL -", "WORD 1");
    assertThat(tokens("/* KILL 1 */SELECT/**/1/* x"))
        .containsExactly("WORD SELECT SELECT", "WORD 1");
    assertThat(tokens("/* it's */ SELECT '/* not a comment */'"))
        .as("quotes mean nothing in a comment, comments nothing in a string")
        .containsExactly("WORD SELECT SELECT", "STRING '/* not a comment */'");
  }

  @Test
  void executableCommentsAreReadAsSql() {
    assertThat(tokens("/*!KILL 5*/")).containsExactly("WORD KILL KILL", "WORD 5");
    assertThat(tokens("/*!40101 SET @x = 1 */;"))
        .containsExactly("WORD SET SET", "USER_VARIABLE @x", "SYMBOL =", "WORD 1", "SYMBOL ;");
    assertThat(tokens("/*!100000 USE db*/ /*M!100502 USE db2 */ /*M!USE db3*/"))
        .as("six-digit versions and MariaDB's /*M!")
        .containsExactly(
            "WORD USE USE", "WORD db", "WORD USE USE", "WORD db2", "WORD USE USE", "WORD db3");
    assertThat(tokens("/*!123 x*/"))
        .as("fewer than five digits are content, as the server reads them")
        .containsExactly("WORD 123", "WORD x");
    assertThat(tokens("/*Mx USE db */ /*m!USE db*/")).as("only /*! and /*M! execute").isEmpty();
    assertThat(tokens("/*! SELECT 2 /* a comment */ */ * 3"))
        .as("one plain comment inside; the next */ closes the executable one")
        .containsExactly("WORD SELECT SELECT", "WORD 2", "SYMBOL *", "WORD 3");
    assertThat(tokens("SELECT 2*/3"))
        .as("outside a comment */ is two symbols")
        .containsExactly("WORD SELECT SELECT", "WORD 2", "SYMBOL *", "SYMBOL /", "WORD 3");
    assertThat(tokens("/*!SELECT '*/'*/")).containsExactly("WORD SELECT SELECT", "STRING '*/'");
  }

  @Test
  void variablesAndAssignment() {
    assertThat(
            tokens(
                "SET @a := @'b c', @`d`=@\"e\", @@session.sql_mode, @@IDENTITY, @@local.last_insert_id"))
        .containsExactly(
            "WORD SET SET",
            "USER_VARIABLE @a",
            "ASSIGN :=",
            "USER_VARIABLE @'b c'",
            "SYMBOL ,",
            "USER_VARIABLE @`d`",
            "SYMBOL =",
            "USER_VARIABLE @\"e\"",
            "SYMBOL ,",
            "SYSTEM_VARIABLE session.sql_mode",
            "SYMBOL ,",
            "SYSTEM_VARIABLE IDENTITY IDENTITY",
            "SYMBOL ,",
            "SYSTEM_VARIABLE local.last_insert_id LAST_INSERT_ID");
    assertThat(tokens("'u'@'h' : = x"))
        .containsExactly("STRING 'u'", "USER_VARIABLE @'h'", "SYMBOL :", "SYMBOL =", "WORD x");
  }

  @Test
  void nonAsciiBytesArePartOfWords() {
    assertThat(tokens("SELECT café, 'ü' FROM tëst WHERE x=1 -- ñ"))
        .containsExactly(
            "WORD SELECT SELECT",
            "WORD café",
            "SYMBOL ,",
            "STRING 'ü'",
            "WORD FROM",
            "WORD tëst",
            "WORD WHERE",
            "WORD x",
            "SYMBOL =",
            "WORD 1");
    assertThat(tokens("SËT USÉ"))
        .as("no keyword has a non-ASCII letter")
        .containsExactly("WORD SËT", "WORD USÉ");
    byte[] latin1 = {'S', 'E', 'L', (byte) 0xC9, 'C', 'T', ' ', (byte) 0xFF, ';'};
    ByteBuf buf = Unpooled.wrappedBuffer(latin1);
    assertThat(tokens(buf, 0, latin1.length, false)).hasSize(3);
    buf.release();
  }

  @Test
  void statementsAndWhatFollowsASemicolon() {
    SqlLexer lexer = new SqlLexer();
    ByteBuf buf = Unpooled.copiedBuffer("SELECT 1; -- c\n", StandardCharsets.UTF_8);
    lexer.reset(buf, 0, buf.writerIndex());
    lexer.next();
    lexer.next();
    assertThat(lexer.next()).isEqualTo(Token.SYMBOL);
    assertThat(lexer.isSymbol(';')).isTrue();
    assertThat(lexer.textFollows())
        .as("a comment after ; is one more statement to the server")
        .isTrue();
    assertThat(lexer.next()).isEqualTo(Token.END);
    buf.release();

    buf = Unpooled.copiedBuffer("SELECT 1; \t\r\n", StandardCharsets.UTF_8);
    lexer.reset(buf, 0, buf.writerIndex());
    lexer.next();
    lexer.next();
    lexer.next();
    assertThat(lexer.textFollows()).isFalse();
    buf.release();
  }

  @Test
  void markAndRewindKeepTheExecutableCommentState() {
    ByteBuf buf = Unpooled.copiedBuffer("/*!SELECT a*/ * b", StandardCharsets.UTF_8);
    SqlLexer lexer = new SqlLexer().reset(buf, 0, buf.writerIndex());
    lexer.next();
    int mark = lexer.mark();
    assertThat(lexer.next()).isEqualTo(Token.WORD);
    assertThat(lexer.next()).isEqualTo(Token.SYMBOL); // the * after the comment
    lexer.rewind(mark);
    assertThat(lexer.next()).isEqualTo(Token.WORD);
    assertThat(lexer.text()).isEqualTo("a");
    assertThat(lexer.next())
        .as("*/ closes the comment again after the rewind")
        .isEqualTo(Token.SYMBOL);
    assertThat(lexer.isSymbol('*')).isTrue();
    assertThat(lexer.next()).isEqualTo(Token.WORD);
    assertThat(lexer.next()).isEqualTo(Token.END);
    buf.release();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "KILL 5",
        "  /* x */ kill QUERY 5",
        "/*!KILL 5*/",
        "/*!*/KILL 5",
        "-- c\nLOAD DATA",
        "#\nUSE db",
        "(SELECT 1)",
        "'KILL'",
        "",
        "   ",
        "/* KILL",
        "killer",
        "SET",
      })
  void firstKeywordIsTheLexersFirstKeyword(String sql) {
    ByteBuf buf = Unpooled.copiedBuffer(sql, StandardCharsets.UTF_8);
    SqlLexer lexer = new SqlLexer().reset(buf, 0, buf.writerIndex());
    Keyword expected = lexer.next() == Token.WORD ? lexer.keyword() : null;
    assertThat(SqlLexer.firstKeyword(buf, 0, buf.writerIndex())).isEqualTo(expected);
    buf.release();
  }

  /**
   * Every prefix of statements with every kind of unterminated construct, lexed from a buffer that
   * ends exactly there (a read past it throws) and from one where more bytes follow (they must not
   * change the tokens). Direct memory too, where a stray read would not even be bounds-checked by
   * an array.
   */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "SELECT 'a\\'b', \"c\"\"d\", `e``f` FROM t -- x\n# y\n/* z */ /*!40101 SET @v := 1*/;",
        "KILL QUERY 12345; SELECT @@session.sql_mode, @'q', :=",
        "/*M!100000 LOAD DATA LOCAL INFILE 'ü.csv' INTO TABLE t */ --",
      })
  void truncatedInputNeverReadsPastTheEnd(String sql) {
    byte[] bytes = sql.getBytes(StandardCharsets.UTF_8);
    ByteBuf direct = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length + 8);
    try {
      direct.writeZero(3).writeBytes(bytes).writeBytes("'*/`\"x".getBytes(StandardCharsets.UTF_8));
      for (int n = 0; n <= bytes.length; n++) {
        ByteBuf exact = Unpooled.wrappedBuffer(bytes, 0, n);
        List<String> alone = tokens(exact, 0, n, false);
        exact.release();
        assertThat(tokens(direct, 3, 3 + n, false))
            .as("bytes after the end change nothing, prefix %d", n)
            .isEqualTo(alone);
        assertThat(SqlLexer.firstKeyword(direct, 3, 3 + n)).isEqualTo(firstKeyword(bytes, n));
      }
      assertThat(direct.readerIndex()).as("the lexer leaves the indexes alone").isZero();
      assertThat(direct.refCnt()).isEqualTo(1);
    } finally {
      direct.release();
    }
  }

  private static Keyword firstKeyword(byte[] bytes, int n) {
    ByteBuf exact = Unpooled.wrappedBuffer(bytes, 0, n);
    try {
      return SqlLexer.firstKeyword(exact, 0, n);
    } finally {
      exact.release();
    }
  }

  @Test
  void everyKeywordIsRecognisedInAnyCase() {
    for (Keyword k : Keyword.values()) {
      String lower = k.name().toLowerCase(java.util.Locale.ROOT);
      assertThat(tokens(lower + " " + k.name()))
          .containsExactly("WORD " + lower + " " + k.name(), "WORD " + k.name() + " " + k.name());
    }
  }

  /**
   * Where a quoted token ends, against a byte-by-byte reading of the server's rules, for random
   * texts of quotes, backslashes and letters (the lexer searches several bytes at a time).
   */
  @Test
  void quotedTextEndsWhereAByteByByteReadingEndsIt() {
    java.util.Random random = new java.util.Random(20261210);
    String alphabet = "a'\\\"` ";
    for (int n = 0; n < 2000; n++) {
      StringBuilder text = new StringBuilder().append("'\"`".charAt(random.nextInt(3)));
      int length = random.nextInt(random.nextBoolean() ? 12 : 200);
      for (int k = 0; k < length; k++) {
        text.append(alphabet.charAt(random.nextInt(alphabet.length())));
      }
      byte[] bytes = text.toString().getBytes(StandardCharsets.US_ASCII);
      for (boolean noBackslashEscapes : new boolean[] {false, true}) {
        ByteBuf buf = Unpooled.wrappedBuffer(bytes);
        SqlLexer lexer = new SqlLexer().reset(buf, 0, bytes.length, noBackslashEscapes);
        lexer.next();
        int quote = bytes[0];
        assertThat(lexer.tokenEnd())
            .as("%s, NO_BACKSLASH_ESCAPES %s", text, noBackslashEscapes)
            .isEqualTo(referenceEnd(bytes, quote, quote != '`' && !noBackslashEscapes));
        buf.release();
      }
    }
  }

  private static int referenceEnd(byte[] b, int quote, boolean escapes) {
    int j = 1;
    while (j < b.length) {
      if (escapes && b[j] == '\\') {
        j += 2;
      } else if (b[j] == quote && j + 1 < b.length && b[j + 1] == quote) {
        j += 2;
      } else if (b[j] == quote) {
        return j + 1;
      } else {
        j++;
      }
    }
    return b.length;
  }
}
