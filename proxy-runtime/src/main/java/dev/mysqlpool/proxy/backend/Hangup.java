package dev.mysqlpool.proxy.backend;

import dev.mysqlpool.proxy.protocol.Commands;
import dev.mysqlpool.proxy.protocol.Packets;
import io.netty.channel.Channel;
import io.netty.channel.socket.DuplexChannel;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * How the pool closes a connection it no longer wants: COM_QUIT, then a half-close, and the channel
 * stays open until the server closes its end, which is when the server's session is gone. Only then
 * does the connection stop counting under {@code pool.maxConnections}, so a login that takes its
 * place never meets it on the server. A server that does not close within the deadline (hung, or
 * busy with a statement nobody killed) is cut off.
 *
 * <p>COM_QUIT also spares the server's log an "Aborted connection" line per pool close.
 */
final class Hangup {
  private Hangup() {}

  /**
   * Starts closing {@code c}; any thread.
   *
   * @param deadlineMillis when to cut the connection if the server has not closed it; 0 for no
   *     deadline yet (a KILL is on its way: see {@link #cutAfter})
   */
  static void start(BackendConnection c, long deadlineMillis) {
    Channel ch = c.channel;
    onLoop(
        ch,
        () -> {
          if (!ch.isActive()) {
            return;
          }
          ch.writeAndFlush(Packets.command(ch.alloc(), Commands.COM_QUIT))
              .addListener(
                  f -> {
                    if (ch instanceof DuplexChannel d && ch.isActive()) {
                      d.shutdownOutput();
                    }
                  });
          if (deadlineMillis > 0) {
            cutAfter(c, deadlineMillis);
          }
        });
  }

  /**
   * Runs {@code task} on the channel's loop; if the loop is shutting down (the proxy stops, and
   * closes every channel anyway) the channel is closed instead. May be called under the pool's
   * lock: it never throws.
   */
  private static void onLoop(Channel ch, Runnable task) {
    try {
      ch.eventLoop().execute(task);
    } catch (RejectedExecutionException e) {
      ch.close();
    }
  }

  /** Closes the channel after {@code millis} unless the server closed it first. */
  static void cutAfter(BackendConnection c, long millis) {
    Channel ch = c.channel;
    try {
      ch.eventLoop()
          .schedule(
              () -> {
                if (ch.isActive()) {
                  c.pool
                      .log()
                      .debug(
                          "pool '{}': {} did not close within {}ms of COM_QUIT; cutting it",
                          c.pool.name(),
                          c,
                          millis);
                  ch.close();
                }
              },
              millis,
              TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      ch.close();
    }
  }
}
