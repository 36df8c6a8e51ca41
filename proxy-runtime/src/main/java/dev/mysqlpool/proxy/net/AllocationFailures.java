package dev.mysqlpool.proxy.net;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Buffer allocations that failed for lack of memory (Netty's {@code OutOfDirectMemoryError}, the
 * JDK's "Cannot reserve direct buffer memory", a heap buffer's {@code OutOfMemoryError}): how many,
 * and whether one happened recently, which is what {@code /healthz} reports. Every pipeline's last
 * handler reports what reaches its {@code exceptionCaught} here, then closes only its own
 * connection.
 *
 * <p>Threading: any thread; lock-free.
 */
public final class AllocationFailures {
  private static final Logger log = LoggerFactory.getLogger(AllocationFailures.class);

  /**
   * How long after a failed allocation {@code /healthz} reports unhealthy. With the kubelet's
   * defaults (a probe every 10 s, restart after 3 failures) a pod restarts only when allocations
   * keep failing for about 30 s, not after one burst it recovered from.
   */
  public static final long UNHEALTHY_NANOS = TimeUnit.SECONDS.toNanos(10);

  private final LongAdder count = new LongAdder();

  /** System.nanoTime() of the last failure; 0: none yet. */
  private final AtomicLong last = new AtomicLong();

  private volatile String lastMessage;

  /** One per process: {@link Buffers#FAILURES}; tests make their own. */
  AllocationFailures() {}

  /**
   * Counts {@code cause} when it is, or was caused by, an {@link OutOfMemoryError}: what a
   * pipeline's last handler calls from {@code exceptionCaught} before it closes its connection.
   * Logs the first failure of each unhealthy period.
   *
   * @return whether it was counted
   */
  public boolean recordIfOutOfMemory(Throwable cause) {
    Throwable t = cause;
    for (int depth = 0; t != null && depth < 8 && !(t instanceof OutOfMemoryError); depth++) {
      t = t.getCause();
    }
    if (!(t instanceof OutOfMemoryError)) {
      return false;
    }
    count.increment();
    long now = System.nanoTime() | 1; // never 0, which means "none"
    long before = last.getAndSet(now);
    lastMessage = t.toString();
    if (before == 0 || now - before > UNHEALTHY_NANOS) {
      log.warn(
          "a buffer allocation failed ({}); direct memory in use {} of {} bytes. The affected"
              + " connection is closed, and /healthz reports unhealthy while failures recur within"
              + " {}s: raise -XX:MaxDirectMemorySize (and the pod's memory limit) if this persists",
          t.toString(),
          Buffers.usedDirectMemory(),
          Buffers.maxDirectMemory(),
          TimeUnit.NANOSECONDS.toSeconds(UNHEALTHY_NANOS));
    }
    return true;
  }

  /** Failed allocations since the process started. */
  public long count() {
    return count.sum();
  }

  /**
   * A sentence for {@code /healthz} when an allocation failed within {@link #UNHEALTHY_NANOS}, else
   * null (healthy).
   */
  public String recentFailure() {
    long at = last.get();
    if (at == 0) {
      return null;
    }
    long ago = System.nanoTime() - at;
    if (ago > UNHEALTHY_NANOS) {
      return null;
    }
    return "buffer allocation failed "
        + TimeUnit.NANOSECONDS.toMillis(ago)
        + "ms ago ("
        + count()
        + " failures since start; last: "
        + lastMessage
        + ")";
  }
}
