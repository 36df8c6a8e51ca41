package dev.mysqlpool.proxy.sql;

import io.netty.buffer.ByteBuf;

/**
 * Recognises {@code LOAD DATA|XML [LOW_PRIORITY | CONCURRENT] LOCAL ...}: the statements after
 * which a server may ask the client for a file. The proxy lets a file request through only after
 * one of them (a server that asks at any other time is after the client's files).
 *
 * @see <a href="https://mariadb.com/kb/en/load-data-infile/">LOAD DATA INFILE</a>
 */
public final class LoadLocal {
  private LoadLocal() {}

  /**
   * Whether the SQL text of {@code buf} between {@code start} and {@code end} starts with LOAD DATA
   * or LOAD XML with LOCAL, whitespace or comments between the words. Reads only those bytes;
   * allocates only for a LOAD statement.
   */
  public static boolean matches(ByteBuf buf, int start, int end) {
    if (SqlLexer.firstKeyword(buf, start, end) != Keyword.LOAD) {
      return false;
    }
    SqlLexer lexer = new SqlLexer().reset(buf, start, end);
    lexer.next(); // LOAD
    Keyword k = word(lexer);
    if (k != Keyword.DATA && k != Keyword.XML) {
      return false;
    }
    k = word(lexer);
    if (k == Keyword.LOW_PRIORITY || k == Keyword.CONCURRENT) {
      k = word(lexer);
    }
    // The server wants INFILE after LOCAL; without anything there it fails before asking for a
    // file.
    return k == Keyword.LOCAL && lexer.next() != Token.END;
  }

  private static Keyword word(SqlLexer lexer) {
    return lexer.next() == Token.WORD ? lexer.keyword() : null;
  }
}
