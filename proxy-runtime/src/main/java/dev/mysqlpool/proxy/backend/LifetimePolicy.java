package dev.mysqlpool.proxy.backend;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;

/**
 * When a connection is retired: after {@code pool.maxLifetime} (by default 30 minutes) minus up to
 * 2.5% jitter, so connections opened together do not all log in again together; and always before
 * 80% of the server's own {@code wait_timeout}, which each new connection reads, so the server
 * never closes a connection the pool would lend.
 *
 * <p>Guarded by the pool's lock ({@link PoolCore}), except {@link #serverWaitTimeoutSeconds()}.
 */
final class LifetimePolicy {
  static final long DEFAULT_MAX_LIFETIME_NANOS = TimeUnit.MINUTES.toNanos(30);
  private static final double MAX_JITTER = 0.025;

  private final String poolName;
  private final Logger log;
  private Duration maxLifetime;
  private volatile long serverWaitTimeoutSeconds = -1;
  private long warnedFor = -1;

  /**
   * @param maxLifetime pool.maxLifetime, or null to derive it
   */
  LifetimePolicy(String poolName, Logger log, Duration maxLifetime) {
    this.poolName = poolName;
    this.log = log;
    this.maxLifetime = maxLifetime;
  }

  /** The wait_timeout the last new connection reported, or -1 before any; for the stats. */
  long serverWaitTimeoutSeconds() {
    return serverWaitTimeoutSeconds;
  }

  /** Gives a new connection its jitter and retirement time. */
  void assign(BackendConnection c) {
    serverWaitTimeoutSeconds = c.serverWaitTimeoutSeconds;
    c.lifetimeJitter = MAX_JITTER * ThreadLocalRandom.current().nextDouble();
    retime(c);
  }

  /**
   * A reloaded pool.maxLifetime; the caller then {@link #retime}s every open connection, so a
   * shorter lifetime retires old connections too and a longer one spares them.
   */
  void maxLifetime(Duration next) {
    if (next == null ? maxLifetime != null : !next.equals(maxLifetime)) {
      warnedFor = -1;
    }
    maxLifetime = next;
  }

  /** Sets the retirement time from the connection's age, jitter and the current settings. */
  void retime(BackendConnection c) {
    long lifetime = effectiveMaxLifetimeNanos(c.serverWaitTimeoutSeconds);
    c.retireAtNanos = c.createdNanos + lifetime - (long) (lifetime * c.lifetimeJitter);
  }

  boolean retired(BackendConnection c, long now) {
    return c.retiring || now - c.retireAtNanos >= 0;
  }

  /**
   * The configured maxLifetime, or the derived default, never at or above 80% of the server's
   * wait_timeout.
   */
  private long effectiveMaxLifetimeNanos(long waitTimeoutSeconds) {
    long ceiling =
        waitTimeoutSeconds > 0
            ? TimeUnit.SECONDS.toNanos(waitTimeoutSeconds) * 8 / 10
            : Long.MAX_VALUE;
    if (maxLifetime == null) {
      return Math.min(DEFAULT_MAX_LIFETIME_NANOS, ceiling);
    }
    long configured = maxLifetime.toNanos();
    if (configured > ceiling) {
      if (warnedFor != waitTimeoutSeconds) {
        warnedFor = waitTimeoutSeconds;
        log.warn(
            "pool '{}': pool.maxLifetime {}s is not safely below the server's wait_timeout {}s;"
                + " retiring connections after {}s instead",
            poolName,
            configured / 1_000_000_000L,
            waitTimeoutSeconds,
            ceiling / 1_000_000_000L);
      }
      return ceiling;
    }
    return configured;
  }
}
