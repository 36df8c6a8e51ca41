package dev.mysqlpool.proxy.net;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;

/** The allocator of every proxy channel. */
public final class Buffers {
  /**
   * A pooled allocator with 4 MiB chunks and one direct arena per core. Netty 4.2's defaults
   * reserve 16 MiB chunks (adaptive and pooled alike) and, with an arena per event loop, exhausted
   * a 32 MiB direct-memory limit while streaming a large result; small chunks keep the footprint
   * proportional to what is really in flight.
   */
  public static final ByteBufAllocator ALLOCATOR =
      new PooledByteBufAllocator(
          true, 0, Math.max(1, Runtime.getRuntime().availableProcessors()), 8192, 9);

  private Buffers() {}
}
