package dev.mysqlpool.proxy.sql;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The SQL words the proxy reacts to, recognised case-insensitively by {@link SqlLexer}. Not a list
 * of the server's reserved words: a word is here because some caller decides something on it.
 * Function names ({@code GET_LOCK}) and system variable names ({@code IDENTITY}) are here too,
 * since the lexer matches them the same way. The query digest decides on the literals ({@code
 * TRUE}, {@code NULL}), the lists it collapses ({@code IN}, {@code VALUES}) and the words after
 * which a {@code -} is a sign rather than a subtraction ({@code AND}, {@code THEN}, ...).
 */
public enum Keyword {
  ANALYZE,
  AND,
  BACKUP,
  BENCHMARK,
  BETWEEN,
  BINARY,
  BINLOG,
  CASE,
  CHARACTER,
  CONCURRENT,
  CONNECTION,
  CREATE,
  DATA,
  DEFAULT,
  DELETE,
  DESC,
  DESCRIBE,
  DIV,
  ELSE,
  ENGINE,
  ERRORS,
  EXPLAIN,
  EXTENDED,
  FALSE,
  FLUSH,
  FOR,
  FORMAT,
  FOUND_ROWS,
  GET_LOCK,
  GLOBAL,
  HANDLER,
  HELP,
  IDENTITY,
  IN,
  INNODB_READ_ONLY,
  INSERT,
  INTERVAL,
  INTO,
  IS_FREE_LOCK,
  IS_USED_LOCK,
  KILL,
  LASTVAL,
  LAST_INSERT_ID,
  LIKE,
  LIMIT,
  LOAD,
  LOCAL,
  LOCK,
  LOW_PRIORITY,
  MASTER,
  MASTER_GTID_WAIT,
  MASTER_POS_WAIT,
  MOD,
  NEXT,
  NEXTVAL,
  NOT,
  NULL,
  ONLY,
  OR,
  PARTITIONS,
  PERSIST,
  PERSIST_ONLY,
  PREPARE,
  PREVIOUS,
  PROCESSLIST,
  PROFILE,
  PROFILES,
  QUERY,
  READ,
  READ_ONLY,
  REGEXP,
  RELAYLOG,
  RELEASE_ALL_LOCKS,
  RELEASE_LOCK,
  REPLACE,
  REPLICA,
  REPLICAS,
  RETURN,
  ROW_COUNT,
  SELECT,
  SESSION,
  SET,
  SETVAL,
  SHARE,
  SHOW,
  SLAVE,
  SLAVES,
  SLEEP,
  SOURCE_POS_WAIT,
  SQL_CALC_FOUND_ROWS,
  START,
  STATEMENT,
  STATUS,
  SUPER_READ_ONLY,
  TABLE,
  TEMPORARY,
  THEN,
  TRANSACTION,
  TRUE,
  UPDATE,
  USE,
  VALUE,
  VALUES,
  WAIT_FOR_EXECUTED_GTID_SET,
  WAIT_UNTIL_SQL_THREAD_AFTER_GTIDS,
  WARNINGS,
  WHEN,
  WITH,
  XA,
  XML,
  XOR;

  /**
   * Open addressing on (length, first letter, last letter): most words of a statement are not
   * keywords and miss at the first, empty slot. 1,024 slots and the multipliers in {@link #slot}
   * put 106 of the 111 keywords in their first slot: 1.05 probes a keyword and 1.13 a word that is
   * none (any first and last letter, 2 to 12 letters), against 1.45 and 2.07 with 256 slots, where
   * the lexer's lookup was the hottest method of transaction mode's statement scan.
   */
  private static final Keyword[] SLOTS = new Keyword[1024];

  private static final int LONGEST;

  static {
    int longest = 0;
    for (Keyword k : values()) {
      longest = Math.max(longest, k.spelling.length);
      int slot = slot(k.spelling.length, k.spelling[0], k.spelling[k.spelling.length - 1]);
      while (SLOTS[slot] != null) {
        slot = (slot + 1) & (SLOTS.length - 1);
      }
      SLOTS[slot] = k;
    }
    LONGEST = longest;
  }

  /** Lower-case ASCII. */
  private final byte[] spelling;

  Keyword() {
    this.spelling = name().toLowerCase(Locale.ROOT).getBytes(StandardCharsets.US_ASCII);
  }

  private static int slot(int length, int first, int last) {
    return (first * 21 + last * 43 + length * 13) & (SLOTS.length - 1);
  }

  /**
   * The keyword spelled by the bytes {@code [start, end)} of {@code buf} in any letter case, or
   * null. Reads only those bytes.
   */
  static Keyword of(ByteBuf buf, int start, int end) {
    return end - start < 2 ? null : of(buf, start, end, buf.getByte(start), buf.getByte(end - 1));
  }

  /**
   * {@link #of(ByteBuf, int, int)} for a caller that has read the first and last byte already: the
   * bytes between are read only for a word that looks like a keyword.
   */
  static Keyword of(ByteBuf buf, int start, int end, int firstByte, int lastByte) {
    int length = end - start;
    if (length < 2 || length > LONGEST) {
      return null;
    }
    int first = lower(firstByte);
    int last = lower(lastByte);
    for (int slot = slot(length, first, last); ; slot = (slot + 1) & (SLOTS.length - 1)) {
      Keyword k = SLOTS[slot];
      if (k == null) {
        return null;
      }
      byte[] s = k.spelling;
      if (s.length == length && s[0] == first && s[length - 1] == last && matches(buf, start, s)) {
        return k;
      }
    }
  }

  private static boolean matches(ByteBuf buf, int start, byte[] spelling) {
    for (int i = 1; i < spelling.length - 1; i++) {
      if (lower(buf.getByte(start + i)) != spelling[i]) {
        return false;
      }
    }
    return true;
  }

  /** ASCII lower case; other bytes unchanged (a UTF-8 byte never folds onto a keyword letter). */
  private static int lower(int b) {
    return b >= 'A' && b <= 'Z' ? b | 0x20 : b;
  }
}
