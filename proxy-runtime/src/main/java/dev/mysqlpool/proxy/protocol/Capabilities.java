package dev.mysqlpool.proxy.protocol;

/**
 * Capability flags of the client/server protocol.
 *
 * @see <a
 *     href="https://dev.mysql.com/doc/dev/mysql-server/latest/group__group__cs__capabilities__flags.html">
 *     Capabilities Flags</a>
 */
public final class Capabilities {
  public static final int CLIENT_LONG_PASSWORD = 1;
  public static final int CLIENT_FOUND_ROWS = 1 << 1;
  public static final int CLIENT_LONG_FLAG = 1 << 2;
  public static final int CLIENT_CONNECT_WITH_DB = 1 << 3;
  public static final int CLIENT_NO_SCHEMA = 1 << 4;
  public static final int CLIENT_COMPRESS = 1 << 5;
  public static final int CLIENT_ODBC = 1 << 6;
  public static final int CLIENT_LOCAL_FILES = 1 << 7;
  public static final int CLIENT_IGNORE_SPACE = 1 << 8;
  public static final int CLIENT_PROTOCOL_41 = 1 << 9;
  public static final int CLIENT_INTERACTIVE = 1 << 10;
  public static final int CLIENT_SSL = 1 << 11;
  public static final int CLIENT_IGNORE_SIGPIPE = 1 << 12;
  public static final int CLIENT_TRANSACTIONS = 1 << 13;
  public static final int CLIENT_RESERVED = 1 << 14;
  public static final int CLIENT_SECURE_CONNECTION = 1 << 15;
  public static final int CLIENT_MULTI_STATEMENTS = 1 << 16;
  public static final int CLIENT_MULTI_RESULTS = 1 << 17;
  public static final int CLIENT_PS_MULTI_RESULTS = 1 << 18;
  public static final int CLIENT_PLUGIN_AUTH = 1 << 19;
  public static final int CLIENT_CONNECT_ATTRS = 1 << 20;
  public static final int CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA = 1 << 21;
  public static final int CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS = 1 << 22;
  public static final int CLIENT_SESSION_TRACK = 1 << 23;
  public static final int CLIENT_DEPRECATE_EOF = 1 << 24;
  public static final int CLIENT_QUERY_ATTRIBUTES = 1 << 27;

  /**
   * What the proxy can offer a client, TLS aside (SSL is added to the greeting when {@code
   * frontend.tls} is on). Left out: COMPRESS (would need a compression hop per side),
   * QUERY_ATTRIBUTES (changes the COM_QUERY layout the proxy inspects), CONNECT_WITH_DB toward
   * backends (the proxy sets the schema itself). MariaDB's extended flags: {@link
   * #MARIADB_PROXY_SUPPORTED}.
   */
  public static final int PROXY_SUPPORTED =
      CLIENT_LONG_PASSWORD
          | CLIENT_FOUND_ROWS
          | CLIENT_LONG_FLAG
          | CLIENT_CONNECT_WITH_DB
          | CLIENT_ODBC
          | CLIENT_LOCAL_FILES
          | CLIENT_IGNORE_SPACE
          | CLIENT_PROTOCOL_41
          | CLIENT_INTERACTIVE
          | CLIENT_IGNORE_SIGPIPE
          | CLIENT_TRANSACTIONS
          | CLIENT_RESERVED
          | CLIENT_SECURE_CONNECTION
          | CLIENT_MULTI_STATEMENTS
          | CLIENT_MULTI_RESULTS
          | CLIENT_PS_MULTI_RESULTS
          | CLIENT_PLUGIN_AUTH
          | CLIENT_CONNECT_ATTRS
          | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA
          | CLIENT_SESSION_TRACK
          | CLIENT_DEPRECATE_EOF;

  /**
   * Flags that change what a backend connection does or how its packets look, and that neither
   * COM_CHANGE_USER nor COM_RESET_CONNECTION renegotiates: a backend is opened with the client's
   * choice of these, and pooled by them. INTERACTIVE is left out on purpose: the proxy times out
   * idle clients itself and keeps backends non-interactive.
   */
  public static final int BACKEND_PASSTHROUGH =
      CLIENT_FOUND_ROWS
          | CLIENT_LONG_FLAG
          | CLIENT_ODBC
          | CLIENT_LOCAL_FILES
          | CLIENT_IGNORE_SPACE
          | CLIENT_TRANSACTIONS
          | CLIENT_MULTI_STATEMENTS
          | CLIENT_MULTI_RESULTS
          | CLIENT_PS_MULTI_RESULTS
          | CLIENT_SESSION_TRACK
          | CLIENT_DEPRECATE_EOF;

  /** Flags every backend connection of the proxy uses, whatever the client chose. */
  public static final int BACKEND_REQUIRED =
      CLIENT_LONG_PASSWORD
          | CLIENT_PROTOCOL_41
          | CLIENT_SECURE_CONNECTION
          | CLIENT_PLUGIN_AUTH
          | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA
          | CLIENT_RESERVED;

  /**
   * MariaDB's extended capability (bit 34, bit 2 of the extended word) that allows
   * COM_STMT_BULK_EXECUTE: one command for a whole batch of parameter rows.
   */
  public static final int MARIADB_CLIENT_STMT_BULK_OPERATIONS = 1 << 2;

  /**
   * MariaDB's extended capabilities the proxy passes between clients and MariaDB backends (both
   * sides must have them). Left out: PROGRESS (progress reports inside replies), EXTENDED_METADATA
   * and CACHE_METADATA (they change result layouts, and the proxy pools connections across clients
   * that differ in them).
   */
  public static final int MARIADB_PROXY_SUPPORTED = MARIADB_CLIENT_STMT_BULK_OPERATIONS;

  private Capabilities() {}
}
