package dev.mysqlpool.proxy.backend;

/**
 * No backend connection became available within pool.acquireTimeout; the message carries the pool's
 * counts.
 */
public final class AcquireTimeoutException extends RuntimeException {
  public AcquireTimeoutException(String message, Throwable lastBackendError) {
    super(message, lastBackendError, false, false);
  }
}
