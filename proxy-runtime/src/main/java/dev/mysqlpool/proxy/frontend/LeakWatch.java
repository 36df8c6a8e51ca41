package dev.mysqlpool.proxy.frontend;

import dev.mysqlpool.proxy.backend.BackendConnection;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HikariCP's {@code leakDetectionThreshold} for the proxy: a client that holds a backend connection
 * longer than {@code pool.leakDetectionThreshold} is logged once per lend, with the reason the
 * session mode gives for holding it. Threading: the session's event loop.
 */
final class LeakWatch {
  /** Logs as the session: what a client's session logs, operators find under one logger name. */
  private static final Logger log = LoggerFactory.getLogger(ClientSession.class);

  private final ClientSession session;
  private BackendConnection watched;
  private long lentAtNanos;
  private ScheduledFuture<?> timer;

  LeakWatch(ClientSession session) {
    this.session = session;
  }

  /** A lend of {@code c} starts now. */
  void start(BackendConnection c) {
    watched = c;
    lentAtNanos = System.nanoTime();
    long thresholdMillis = thresholdMillis();
    if (thresholdMillis > 0) {
      timer = session.loop.schedule(this::warn, thresholdMillis, TimeUnit.MILLISECONDS);
    }
  }

  /** The lend ended. */
  void stop() {
    watched = null;
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  private long thresholdMillis() {
    return session.frontend.config().pool().leakDetectionThreshold().toMillis();
  }

  private void warn() {
    timer = null;
    if (watched == null) {
      return;
    }
    long heldMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lentAtNanos);
    session.metrics().error("leak_suspected");
    log.warn(
        "client #{} ({}) has held backend connection {} for {}ms, longer than"
            + " pool.leakDetectionThreshold ({}ms); {}",
        session.id,
        session.describe(),
        watched,
        heldMs,
        thresholdMillis(),
        session.mode().holdReason());
  }
}
