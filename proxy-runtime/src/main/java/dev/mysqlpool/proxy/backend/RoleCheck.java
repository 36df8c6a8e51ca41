package dev.mysqlpool.proxy.backend;

import dev.mysqlpool.proxy.protocol.Commands;
import dev.mysqlpool.proxy.protocol.Packets;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.List;

/**
 * Reads whether a server is writable: {@code @@global.read_only} (MySQL, MariaDB; on by the
 * operator or by a switchover that demoted the server) and {@code @@global.innodb_read_only}
 * (Aurora MySQL readers). A server without the second variable is asked for the first only.
 */
final class RoleCheck {
  static final String QUERY = "SELECT @@global.read_only, @@global.innodb_read_only";
  static final String FALLBACK = "SELECT @@global.read_only";

  /** Error 1193, Unknown system variable. */
  private static final String UNKNOWN_VARIABLE = "1193";

  private RoleCheck() {}

  /**
   * Completes with null when the server is writable, or with what makes it read-only (e.g. {@code
   * "read_only=1"}); fails when it does not answer within {@code timeoutMillis} (the connection is
   * then closed). Runs on the connection's loop; nobody else may hold the connection meanwhile.
   */
  static Future<String> readOnlyReason(BackendConnection c, long timeoutMillis) {
    Promise<String> result = c.channel.eventLoop().newPromise();
    ask(c, QUERY, timeoutMillis, result, true);
    return result;
  }

  private static void ask(
      BackendConnection c, String sql, long timeoutMillis, Promise<String> result, boolean first) {
    InternalCommand.run(
            c, Packets.command(c.channel.alloc(), Commands.COM_QUERY, sql), timeoutMillis)
        .addListener(
            (Future<InternalCommand.Result> f) -> {
              if (!f.isSuccess()) {
                result.tryFailure(f.cause());
                return;
              }
              InternalCommand.Result r = f.getNow();
              if (!r.ok() && first && r.error().startsWith(UNKNOWN_VARIABLE)) {
                ask(c, FALLBACK, timeoutMillis, result, false);
                return;
              }
              if (!r.ok() || r.firstRow() == null) {
                result.tryFailure(
                    new BackendException("the server refused " + sql + ": " + r.error()));
                return;
              }
              result.trySuccess(reason(r.firstRow()));
            });
  }

  /** What makes a server read-only from the row of {@link #QUERY} or {@link #FALLBACK}. */
  static String reason(List<String> row) {
    if (on(row.get(0))) {
      return "read_only=" + row.get(0);
    }
    if (row.size() > 1 && on(row.get(1))) {
      return "innodb_read_only=" + row.get(1);
    }
    return null;
  }

  private static boolean on(String value) {
    return value != null && (value.equals("1") || value.equalsIgnoreCase("ON"));
  }
}
