package dev.mysqlpool.proxy.sql;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Locale;

/**
 * The SQL words the proxy reacts to, recognised case-insensitively by {@link SqlLexer}. Not a list
 * of the server's reserved words: a word is here because some caller decides something on it.
 * Function names ({@code GET_LOCK}) and system variable names ({@code IDENTITY}) are here too,
 * since the lexer matches them the same way.
 */
public enum Keyword {
  BACKUP,
  CHARACTER,
  CONCURRENT,
  CONNECTION,
  CREATE,
  DATA,
  FLUSH,
  FOUND_ROWS,
  GET_LOCK,
  GLOBAL,
  HANDLER,
  IDENTITY,
  INTO,
  KILL,
  LAST_INSERT_ID,
  LOAD,
  LOCAL,
  LOCK,
  LOW_PRIORITY,
  PERSIST,
  PERSIST_ONLY,
  PREPARE,
  QUERY,
  ROW_COUNT,
  SELECT,
  SESSION,
  SET,
  SQL_CALC_FOUND_ROWS,
  STATEMENT,
  TEMPORARY,
  TRANSACTION,
  USE,
  XA,
  XML;

  /** Keywords by length, so a word is compared only with the few of its length. */
  private static final Keyword[][] BY_LENGTH;

  static {
    int longest = 0;
    for (Keyword k : values()) {
      longest = Math.max(longest, k.spelling.length);
    }
    BY_LENGTH = new Keyword[longest + 1][];
    for (Keyword k : values()) {
      Keyword[] same = BY_LENGTH[k.spelling.length];
      Keyword[] grown = same == null ? new Keyword[1] : Arrays.copyOf(same, same.length + 1);
      grown[grown.length - 1] = k;
      BY_LENGTH[k.spelling.length] = grown;
    }
  }

  /** Lower-case ASCII. */
  private final byte[] spelling;

  Keyword() {
    this.spelling = name().toLowerCase(Locale.ROOT).getBytes(StandardCharsets.US_ASCII);
  }

  /**
   * The keyword spelled by the bytes {@code [start, end)} of {@code buf} in any letter case, or
   * null. Reads only those bytes.
   */
  static Keyword of(ByteBuf buf, int start, int end) {
    int length = end - start;
    if (length >= BY_LENGTH.length || BY_LENGTH[length] == null) {
      return null;
    }
    int first = lower(buf.getByte(start));
    for (Keyword k : BY_LENGTH[length]) {
      byte[] s = k.spelling;
      if (s[0] != first) {
        continue;
      }
      int i = 1;
      while (i < length && lower(buf.getByte(start + i)) == s[i]) {
        i++;
      }
      if (i == length) {
        return k;
      }
    }
    return null;
  }

  /** ASCII lower case; other bytes unchanged (a UTF-8 byte never folds onto a keyword letter). */
  private static int lower(byte b) {
    return b >= 'A' && b <= 'Z' ? b | 0x20 : b;
  }
}
