package dev.mysqlpool.proxy.backend;

/**
 * No backend connection became available within pool.acquireTimeout; the message carries the pool's
 * counts.
 */
public final class AcquireTimeoutException extends RuntimeException {
  public AcquireTimeoutException(String message, Throwable lastBackendError) {
    super(message, lastBackendError, false, false);
  }

  /** The error a waiter gets, with the pool's counts and the last login failure while down. */
  static AcquireTimeoutException of(
      PoolStats s, long waitedMillis, int maxConnections, Throwable lastBackendError) {
    String message =
        String.format(
            "pool '%s' (%s:%d): backend connection not available, request timed out after %dms"
                + " (total=%d, active=%d, idle=%d, waiting=%d, connecting=%d, maxConnections=%d)%s",
            s.backend(),
            s.host(),
            s.port(),
            waitedMillis,
            s.total(),
            s.used(),
            s.free(),
            s.pending(),
            s.connecting(),
            maxConnections,
            lastBackendError != null
                ? "; last backend error: " + lastBackendError.getMessage()
                : "");
    return new AcquireTimeoutException(message, lastBackendError);
  }
}
