package dev.mysqlpool.proxy.backend;

import dev.mysqlpool.proxy.protocol.Commands;
import dev.mysqlpool.proxy.protocol.Packets;
import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * Cleans a connection a session leaves behind before anyone else gets it: COM_RESET_CONNECTION
 * (rolls back, drops user variables, temporary tables, prepared statements and locks); in
 * transaction mode then state tracking turned back on and the carried variables read back. MariaDB
 * keeps the default database across a reset, and MySQL documents the same.
 */
final class ConnectionReset {
  private final LongSupplier timeoutMillis;

  /**
   * @param timeoutMillis the deadline of each command (pool.connectTimeout, read at each use)
   */
  ConnectionReset(LongSupplier timeoutMillis) {
    this.timeoutMillis = timeoutMillis;
  }

  /**
   * Resets {@code c}, which nobody else uses meanwhile. Completes on the connection's loop with
   * null when it is clean, or with why it is not (then it must be discarded).
   */
  Future<String> run(BackendConnection c) {
    Promise<String> done = c.channel.eventLoop().newPromise();
    ByteBuf reset = Packets.command(c.channel.alloc(), Commands.COM_RESET_CONNECTION);
    InternalCommand.run(c, reset, timeoutMillis.getAsLong())
        .addListener(
            (Future<InternalCommand.Result> f) -> {
              if (!f.isSuccess() || !f.getNow().ok()) {
                done.trySuccess(
                    "COM_RESET_CONNECTION failed: "
                        + (f.isSuccess() ? f.getNow().error() : f.cause().getMessage()));
                return;
              }
              // The server dropped its prepared statements.
              c.session.statements().clear();
              if (c.session.variables() != null) {
                afterResetInTransactionMode(c, done);
              } else {
                done.trySuccess(null);
              }
            });
    return done;
  }

  /**
   * A reset turns state tracking back to the server's defaults, so it is turned on again; and it
   * leaves variables as the server's defaults are, which need not be what a login left
   * (CLIENT_IGNORE_SPACE adds to sql_mode at login only), so they are read back.
   */
  private void afterResetInTransactionMode(BackendConnection c, Promise<String> done) {
    long timeout = timeoutMillis.getAsLong();
    ByteBuf track =
        Packets.command(
            c.channel.alloc(), Commands.COM_QUERY, BackendConnector.TRACK_STATE_CHANGES);
    InternalCommand.run(c, track, timeout)
        .addListener(
            (Future<InternalCommand.Result> f) -> {
              if (!f.isSuccess() || !f.getNow().ok()) {
                done.trySuccess("could not turn session state tracking back on after a reset");
                return;
              }
              ByteBuf snapshot =
                  Packets.command(
                      c.channel.alloc(), Commands.COM_QUERY, c.session.variables().snapshotQuery());
              InternalCommand.run(c, snapshot, timeout)
                  .addListener(
                      (Future<InternalCommand.Result> g) -> {
                        List<String> row =
                            g.isSuccess() && g.getNow().ok() ? g.getNow().firstRow() : null;
                        if (!c.session.recordSnapshot(c.session.variables(), row, false)) {
                          done.trySuccess("could not read the session variables after a reset");
                          return;
                        }
                        done.trySuccess(null);
                      });
            });
  }
}
