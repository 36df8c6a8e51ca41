package dev.mysqlpool.proxy.backend;

import dev.mysqlpool.proxy.protocol.Packets;
import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ImmediateEventExecutor;

/**
 * Listens to idle connections, which keep reading (auto-read) so that a server-side close is
 * noticed at once. Any packet from an idle connection is unsolicited: it is logged if it is an
 * error (a server says why before it closes, e.g. MariaDB's 4031 on wait_timeout) and the
 * connection is discarded.
 */
final class IdleListener implements BackendListener {
  private final PoolCore core;

  IdleListener(PoolCore core) {
    this.core = core;
  }

  @Override
  public EventExecutor executor() {
    return ImmediateEventExecutor.INSTANCE;
  }

  @Override
  public void onPacket(BackendConnection c, ByteBuf packets) {
    try {
      if (Packets.firstByte(packets) == Packets.ERR) {
        c.pool
            .log()
            .info(
                "pool '{}': idle connection {} got {}",
                c.pool.name(),
                c,
                Packets.describeError(packets));
      }
    } finally {
      packets.release();
    }
    core.destroy(c, "unsolicited packet while idle");
  }

  @Override
  public void onReadComplete(BackendConnection c) {}

  @Override
  public void onWritabilityChanged(BackendConnection c) {}

  @Override
  public void onClosed(BackendConnection c) {}
}
