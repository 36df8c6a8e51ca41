package dev.mysqlpool.proxy.protocol;

/**
 * Error codes the proxy itself sends, with the SQLSTATE a MySQL server would pair them with.
 *
 * @see <a href="https://dev.mysql.com/doc/mysql-errors/8.0/en/server-error-reference.html">Server
 *     Error Reference</a>
 */
public final class ErrorCodes {
  /** ER_CON_COUNT_ERROR: the proxy's own client limit (frontend.maxClientConnections). */
  public static final int TOO_MANY_CONNECTIONS = 1040;

  /** ER_ACCESS_DENIED_ERROR. */
  public static final int ACCESS_DENIED = 1045;

  /** ER_UNKNOWN_COM_ERROR. */
  public static final int UNKNOWN_COMMAND = 1047;

  /** ER_NET_PACKET_TOO_LARGE. */
  public static final int PACKET_TOO_LARGE = 1153;

  /** ER_NET_PACKETS_OUT_OF_ORDER. */
  public static final int PACKETS_OUT_OF_ORDER = 1156;

  /** ER_SERVER_SHUTDOWN: the proxy is draining. */
  public static final int SERVER_SHUTDOWN = 1053;

  /** ER_NO_SUCH_THREAD: KILL of an id the proxy does not know. */
  public static final int NO_SUCH_THREAD = 1094;

  /** ER_KILL_DENIED_ERROR. */
  public static final int KILL_DENIED = 1095;

  /** ER_NOT_SUPPORTED_YET: a statement form the proxy cannot serve (e.g. KILL USER). */
  public static final int NOT_SUPPORTED_YET = 1235;

  /**
   * ER_SECURE_TRANSPORT_REQUIRED (MySQL 5.7+): a client without TLS while {@code frontend.tls.mode}
   * is required.
   */
  public static final int SECURE_TRANSPORT_REQUIRED = 3159;

  /** The wording of {@link #SECURE_TRANSPORT_REQUIRED}, as a MySQL server sends it. */
  public static final String SECURE_TRANSPORT_REQUIRED_MESSAGE =
      "Connections using insecure transport are prohibited while --require_secure_transport=ON.";

  /** ER_HANDSHAKE_ERROR. */
  public static final int HANDSHAKE_ERROR = 1043;

  /** CR_SERVER_LOST as a server-side error: the backend went away during a command. */
  public static final int LOST_CONNECTION = 2013;

  /**
   * The pool could not lend a backend connection in time; ProxySQL's code for the same situation.
   */
  public static final int POOL_TIMEOUT = 9001;

  /**
   * The proxy's own: in transaction mode, a statement read ROW_COUNT() or FOUND_ROWS() of a
   * previous statement that ran on another backend connection.
   */
  public static final int PREVIOUS_STATEMENT_ELSEWHERE = 9002;

  /** ER_CLIENT_INTERACTION_TIMEOUT (MariaDB/MySQL 8.0.24+): the client was idle too long. */
  public static final int CLIENT_IDLE_TIMEOUT = 4031;

  private ErrorCodes() {}
}
