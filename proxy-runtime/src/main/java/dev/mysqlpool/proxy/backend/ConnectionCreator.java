package dev.mysqlpool.proxy.backend;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.Future;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * Starts the logins the pool decided on, and remembers how the last ones went: after a failure the
 * next login waits a growing backoff (50ms doubling to 1s), the last error is kept for the acquire
 * timeout's message, and a pool with nothing open probes the backend by itself so /backendz follows
 * it.
 *
 * <p>Fields are guarded by the pool's lock ({@link PoolCore}), except {@link #reachable()}; {@link
 * #start} is called after leaving it.
 */
final class ConnectionCreator {
  private static final long PROBE_WHILE_UP_NANOS = TimeUnit.SECONDS.toNanos(30);
  private static final long PROBE_WHILE_DOWN_NANOS = TimeUnit.SECONDS.toNanos(2);

  /** A login to start, on the event loop of the client that needs it. */
  record Create(PoolKey key, EventLoop loop) {}

  private final BackendPool pool;
  private final Logins logins;
  private final EventLoopGroup group;
  private volatile Throwable lastError;
  private int consecutiveFailures;
  private long nextConnectNanos;
  private boolean retryScheduled;
  private long nextProbeNanos;
  private volatile boolean reachable;

  ConnectionCreator(BackendPool pool, Logins logins, EventLoopGroup group) {
    this.pool = pool;
    this.logins = logins;
    this.group = group;
  }

  /**
   * Starts each login; {@code done} gets its key and outcome. Call outside the pool's lock. On a
   * writer backend a login counts only once the server answered that it is writable: a read-only
   * one is closed, reported to the {@link WriterWatch} and counted as a failed login (so the next
   * one, after a backoff, resolves the name again).
   */
  void start(List<Create> creates, BiConsumer<PoolKey, Future<BackendConnection>> done) {
    for (Create c : creates) {
      logins
          .login(c.loop(), pool, c.key(), false)
          .addListener(
              (Future<BackendConnection> f) -> {
                if (!f.isSuccess() || !pool.watch().writer()) {
                  done.accept(c.key(), f);
                } else {
                  checkRole(f.getNow(), c, done);
                }
              });
    }
  }

  private void checkRole(
      BackendConnection conn, Create c, BiConsumer<PoolKey, Future<BackendConnection>> done) {
    long timeout = pool.settings().connectTimeout().toMillis();
    RoleCheck.readOnlyReason(conn, timeout)
        .addListener(
            (Future<String> r) -> {
              if (r.isSuccess() && r.getNow() == null) {
                pool.watch().writable(conn);
                done.accept(c.key(), c.loop().newSucceededFuture(conn));
                return;
              }
              String why =
                  r.isSuccess()
                      ? "is read-only (" + r.getNow() + "), not the writer"
                      : "did not answer the role check: " + BackendConnector.rootMessage(r.cause());
              if (r.isSuccess()) {
                pool.watch().readOnly(conn, r.getNow());
              }
              Hangup.start(conn, timeout);
              done.accept(
                  c.key(),
                  c.loop()
                      .newFailedFuture(
                          new BackendException(
                              "backend '"
                                  + pool.name()
                                  + "' at "
                                  + conn.channel.remoteAddress()
                                  + " "
                                  + why)));
            });
  }

  /**
   * True after the last login attempt succeeded (or a connection is open), false after it failed.
   */
  boolean reachable() {
    return reachable;
  }

  /** The last login failure while the backend is unreachable, else null. */
  Throwable lastErrorIfDown() {
    return reachable ? null : lastError;
  }

  void succeeded() {
    reachable = true;
    consecutiveFailures = 0;
    nextConnectNanos = 0;
  }

  void failed(Throwable cause) {
    reachable = false;
    lastError = cause;
    consecutiveFailures++;
    long backoffMillis = Math.min(1000, 50L << Math.min(5, consecutiveFailures));
    nextConnectNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoffMillis);
  }

  /** How long until the next login may start after failures; 0 when it may start now. */
  long backoffLeftNanos(long now) {
    long left = nextConnectNanos - now;
    return left > 0 ? left : 0;
  }

  /** Runs {@code refill} once the backoff has passed, unless a run is already scheduled. */
  void scheduleRetry(long delayNanos, Runnable refill) {
    if (retryScheduled) {
      return;
    }
    retryScheduled = true;
    group.next().schedule(refill, delayNanos, TimeUnit.NANOSECONDS);
  }

  /** The scheduled retry is running; a later one may be scheduled again. */
  void retryRan() {
    retryScheduled = false;
  }

  /**
   * Whether a pool with nothing open should try a login now: with no connection open nothing else
   * tells whether the backend is up, and /backendz and mysqlpool_backend_up report it; clients may
   * not come while it is down, so the pool must find out by itself.
   */
  boolean probeDue(long now) {
    if (now - nextProbeNanos < 0 || backoffLeftNanos(now) > 0) {
      return false;
    }
    nextProbeNanos = now + (reachable ? PROBE_WHILE_UP_NANOS : PROBE_WHILE_DOWN_NANOS);
    return true;
  }

  EventLoop anyLoop() {
    return group.next();
  }
}
