package dev.mysqlpool.proxy.protocol;

/**
 * Server status flags carried by OK and EOF packets.
 *
 * @see <a
 *     href="https://dev.mysql.com/doc/dev/mysql-server/latest/mysql__com_8h.html">mysql_com.h</a>
 */
public final class ServerStatus {
  public static final int IN_TRANS = 1;
  public static final int AUTOCOMMIT = 1 << 1;
  public static final int MORE_RESULTS_EXISTS = 1 << 3;
  public static final int CURSOR_EXISTS = 1 << 6;
  public static final int LAST_ROW_SENT = 1 << 7;

  /** sql_mode has NO_BACKSLASH_ESCAPES: a backslash in a string literal is an ordinary byte. */
  public static final int NO_BACKSLASH_ESCAPES = 1 << 9;

  public static final int IN_TRANS_READONLY = 1 << 13;
  public static final int SESSION_STATE_CHANGED = 1 << 14;

  private ServerStatus() {}
}
