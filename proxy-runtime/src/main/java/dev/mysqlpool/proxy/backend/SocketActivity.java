package dev.mysqlpool.proxy.backend;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;

/**
 * The first handler of a backend channel: when bytes last arrived and when the proxy last wrote. A
 * connection written to after its last read is waiting for a reply; {@link StallProbe} asks whether
 * the server is still there when that wait outlasts the keepalive window. Written on the channel's
 * event loop, read from the pool's housekeeping thread, hence volatile. Passes every message on
 * untouched, so it owns no buffer.
 */
final class SocketActivity extends ChannelDuplexHandler {
  static final String NAME = "activity";

  private volatile long lastReadNanos = System.nanoTime();
  private volatile long lastWriteNanos = lastReadNanos;

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    lastReadNanos = System.nanoTime();
    ctx.fireChannelRead(msg);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    lastWriteNanos = System.nanoTime();
    ctx.write(msg, promise);
  }

  /**
   * Since when the connection has waited for a reply (written to, nothing read since), or -1 when
   * it is not waiting.
   */
  long waitingSinceNanos() {
    long written = lastWriteNanos;
    return written - lastReadNanos > 0 ? written : -1;
  }
}
