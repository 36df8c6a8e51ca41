package dev.mysqlpool.proxy.net;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.internal.PlatformDependent;

/**
 * The allocator of every proxy channel, and what it tells about memory: direct memory in use, and
 * the allocations that failed.
 */
public final class Buffers {
  /**
   * A pooled allocator with 4 MiB chunks and one direct arena per core. Netty 4.2's defaults
   * reserve 16 MiB chunks (adaptive and pooled alike) and, with an arena per event loop, exhausted
   * a 32 MiB direct-memory limit while streaming a large result; small chunks keep the footprint
   * proportional to what is really in flight.
   */
  private static final PooledByteBufAllocator POOLED =
      new PooledByteBufAllocator(
          true, 0, Math.max(1, Runtime.getRuntime().availableProcessors()), 8192, 9);

  /** Every failed allocation, process-wide like the allocator. */
  public static final AllocationFailures FAILURES = new AllocationFailures();

  /** The allocator of every proxy channel. */
  public static final ByteBufAllocator ALLOCATOR = POOLED;

  private Buffers() {}

  /** Direct memory the proxy's allocator holds (its chunks, and buffers larger than a chunk). */
  public static long usedDirectMemory() {
    return POOLED.metric().usedDirectMemory();
  }

  /** The direct-memory limit Netty enforces: {@code -XX:MaxDirectMemorySize} by default. */
  public static long maxDirectMemory() {
    return PlatformDependent.maxDirectMemory();
  }
}
