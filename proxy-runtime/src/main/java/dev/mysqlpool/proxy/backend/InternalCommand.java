package dev.mysqlpool.proxy.backend;

import dev.mysqlpool.proxy.protocol.PacketCursor;
import dev.mysqlpool.proxy.protocol.Packets;
import dev.mysqlpool.proxy.protocol.ResponseTracker;
import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One command the proxy itself sends on a backend connection that no client holds (ping, reset,
 * init-db, a query for a server variable), with a deadline. Runs on the backend channel's own event
 * loop.
 */
final class InternalCommand implements BackendListener {
  /**
   * @param firstRow the values of the first row, for queries; null otherwise
   * @param error the server's error as "code (state): text", or null on success
   * @param columns the column names of a query's result set; null when it had none
   */
  record Result(String error, List<String> firstRow, int status, List<String> columns) {
    boolean ok() {
      return error == null;
    }
  }

  private final Promise<Result> promise;
  private final EventExecutor loop;
  private final ResponseTracker tracker;
  private List<String> firstRow;
  private List<String> columns;
  private String error;
  private ScheduledFuture<?> timeout;

  private InternalCommand(BackendConnection c) {
    this.loop = c.channel.eventLoop();
    this.promise = c.channel.eventLoop().newPromise();
    this.tracker = new ResponseTracker(c.capabilities);
  }

  /**
   * Sends {@code command} (ownership passes here) and completes with the reply; fails when the
   * connection closes or the deadline passes, in which case the connection is closed too.
   */
  static Future<Result> run(BackendConnection c, ByteBuf command, long timeoutMillis) {
    InternalCommand op = new InternalCommand(c);
    int commandByte = Packets.firstByte(command);
    c.channel.eventLoop().execute(() -> op.start(c, command, commandByte, timeoutMillis));
    return op.promise;
  }

  private void start(BackendConnection c, ByteBuf command, int commandByte, long timeoutMillis) {
    c.listener(this);
    if (!c.channel.isActive()) {
      command.release();
      promise.tryFailure(new IllegalStateException("backend connection " + c + " is closed"));
      return;
    }
    tracker.expect(commandByte);
    timeout =
        c.channel
            .eventLoop()
            .schedule(
                () -> {
                  if (promise.tryFailure(
                      new IllegalStateException(
                          "backend "
                              + c
                              + " did not answer "
                              + commandByteName(commandByte)
                              + " within "
                              + timeoutMillis
                              + "ms"))) {
                    c.channel.close();
                  }
                },
                timeoutMillis,
                TimeUnit.MILLISECONDS);
    c.channel.writeAndFlush(command, c.channel.voidPromise());
  }

  private static String commandByteName(int command) {
    return dev.mysqlpool.proxy.protocol.Commands.name(command);
  }

  @Override
  public EventExecutor executor() {
    return loop;
  }

  @Override
  public void onPacket(BackendConnection c, ByteBuf packets) {
    try {
      PacketCursor cursor = new PacketCursor(packets);
      while (cursor.advance()) {
        ByteBuf packet = cursor.packet();
        int header = Packets.firstByte(packet);
        if (header == Packets.ERR && error == null) {
          error = Packets.describeError(packet);
        } else if (tracker.readingColumns()) {
          if (columns == null) {
            columns = new ArrayList<>();
          }
          columns.add(Packets.columnName(packet));
        } else if (firstRow == null && tracker.readingRows() && header != Packets.EOF) {
          firstRow = Packets.textRow(packet);
        }
        if (tracker.onPacket(packet)) {
          timeout.cancel(false);
          promise.trySuccess(new Result(error, firstRow, tracker.lastStatus(), columns));
        }
      }
    } catch (RuntimeException e) {
      promise.tryFailure(e);
      c.channel.close();
    } finally {
      packets.release();
    }
  }

  @Override
  public void onReadComplete(BackendConnection c) {}

  @Override
  public void onWritabilityChanged(BackendConnection c) {}

  @Override
  public void onClosed(BackendConnection c) {
    if (timeout != null) {
      timeout.cancel(false);
    }
    promise.tryFailure(new IllegalStateException("backend connection " + c + " closed"));
  }
}
