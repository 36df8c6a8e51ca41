package dev.mysqlpool.proxy.protocol;

/**
 * Command bytes of the command phase.
 *
 * @see <a
 *     href="https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_command_phase.html">Command
 *     Phase</a>
 */
public final class Commands {
  public static final int COM_SLEEP = 0x00;
  public static final int COM_QUIT = 0x01;
  public static final int COM_INIT_DB = 0x02;
  public static final int COM_QUERY = 0x03;
  public static final int COM_FIELD_LIST = 0x04;
  public static final int COM_CREATE_DB = 0x05;
  public static final int COM_DROP_DB = 0x06;
  public static final int COM_REFRESH = 0x07;
  public static final int COM_SHUTDOWN = 0x08;
  public static final int COM_STATISTICS = 0x09;
  public static final int COM_PROCESS_INFO = 0x0a;
  public static final int COM_CONNECT = 0x0b;
  public static final int COM_PROCESS_KILL = 0x0c;
  public static final int COM_DEBUG = 0x0d;
  public static final int COM_PING = 0x0e;
  public static final int COM_CHANGE_USER = 0x11;
  public static final int COM_BINLOG_DUMP = 0x12;
  public static final int COM_STMT_PREPARE = 0x16;
  public static final int COM_STMT_EXECUTE = 0x17;
  public static final int COM_STMT_SEND_LONG_DATA = 0x18;
  public static final int COM_STMT_CLOSE = 0x19;
  public static final int COM_STMT_RESET = 0x1a;
  public static final int COM_SET_OPTION = 0x1b;
  public static final int COM_STMT_FETCH = 0x1c;
  public static final int COM_RESET_CONNECTION = 0x1f;

  /** MariaDB: executes a prepared statement for a batch of parameter rows. */
  public static final int COM_STMT_BULK_EXECUTE = 0xfa;

  private static final String[] NAMES = new String[256];

  static {
    String[] n = {
      "COM_SLEEP",
      "COM_QUIT",
      "COM_INIT_DB",
      "COM_QUERY",
      "COM_FIELD_LIST",
      "COM_CREATE_DB",
      "COM_DROP_DB",
      "COM_REFRESH",
      "COM_SHUTDOWN",
      "COM_STATISTICS",
      "COM_PROCESS_INFO",
      "COM_CONNECT",
      "COM_PROCESS_KILL",
      "COM_DEBUG",
      "COM_PING",
      "COM_TIME",
      "COM_DELAYED_INSERT",
      "COM_CHANGE_USER",
      "COM_BINLOG_DUMP",
      "COM_TABLE_DUMP",
      "COM_CONNECT_OUT",
      "COM_REGISTER_SLAVE",
      "COM_STMT_PREPARE",
      "COM_STMT_EXECUTE",
      "COM_STMT_SEND_LONG_DATA",
      "COM_STMT_CLOSE",
      "COM_STMT_RESET",
      "COM_SET_OPTION",
      "COM_STMT_FETCH",
      "COM_DAEMON",
      "COM_BINLOG_DUMP_GTID",
      "COM_RESET_CONNECTION"
    };
    System.arraycopy(n, 0, NAMES, 0, n.length);
    NAMES[COM_STMT_BULK_EXECUTE] = "COM_STMT_BULK_EXECUTE";
  }

  private Commands() {}

  /** The protocol's name of a command byte, for error messages. */
  public static String name(int command) {
    if (command < 0) {
      return "an empty command packet";
    }
    String s = NAMES[command & 0xff];
    return s != null ? s : String.format("command 0x%02x", command & 0xff);
  }

  /** Whether the server answers this command at all; CLOSE and SEND_LONG_DATA get no reply. */
  public static boolean expectsResponse(int command) {
    return command != COM_STMT_CLOSE && command != COM_STMT_SEND_LONG_DATA && command != COM_QUIT;
  }

  /** Commands the proxy relays to the backend unchanged. Anything else is answered by the proxy. */
  public static boolean relayed(int command) {
    switch (command) {
      case COM_INIT_DB:
      case COM_QUERY:
      case COM_FIELD_LIST:
      case COM_CREATE_DB:
      case COM_DROP_DB:
      case COM_REFRESH:
      case COM_STATISTICS:
      case COM_PROCESS_INFO:
      case COM_PING:
      case COM_STMT_PREPARE:
      case COM_STMT_EXECUTE:
      case COM_STMT_SEND_LONG_DATA:
      case COM_STMT_CLOSE:
      case COM_STMT_RESET:
      case COM_SET_OPTION:
      case COM_STMT_FETCH:
      case COM_RESET_CONNECTION:
      case COM_STMT_BULK_EXECUTE:
        return true;
      default:
        return false;
    }
  }
}
