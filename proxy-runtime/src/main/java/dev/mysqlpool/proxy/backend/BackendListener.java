package dev.mysqlpool.proxy.backend;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.EventExecutor;

/**
 * Whoever currently uses a backend connection: a client session, the pool while the connection is
 * idle, or one of the pool's own commands (ping, reset). Every callback runs on {@link
 * #executor()}, in order.
 */
public interface BackendListener {
  /** The thread the callbacks run on. */
  EventExecutor executor();

  /**
   * One or more whole wire packets from the server, in order (walk them with a PacketCursor); the
   * listener owns the buffer and must forward or release it.
   */
  void onPacket(BackendConnection connection, ByteBuf packets);

  /** The end of one socket read's worth of packets: the moment to flush, and to ask for more. */
  void onReadComplete(BackendConnection connection);

  /** The backend channel's outbound buffer crossed a watermark. */
  void onWritabilityChanged(BackendConnection connection);

  /** The backend channel closed. */
  void onClosed(BackendConnection connection);
}
