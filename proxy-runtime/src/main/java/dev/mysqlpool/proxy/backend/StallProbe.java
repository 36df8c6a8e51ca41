package dev.mysqlpool.proxy.backend;

import io.netty.util.concurrent.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;

/**
 * Finds lent connections whose server stopped answering without closing the socket. TCP keepalive
 * catches a peer that is gone (no ACKs); it cannot catch a server, a relay or a middlebox that
 * still ACKs but never replies. So when a lent connection has waited longer than the keepalive
 * window for a reply, the pool asks the server whether it is there at all: one login over a side
 * connection, outside maxConnections, within pool.connectTimeout. No answer: every connection that
 * has waited that long is closed, and its client gets an error that says why instead of hanging. An
 * answer (a login, or a refusal the server sent: 1040 at its connection limit, a locked account):
 * the waits are long statements, and nothing is asked again for one window.
 *
 * <p>Threading: {@link #stalledLocked} under the pool's lock, {@link #probe} after leaving it, from
 * the housekeeping thread; the probe completes on another loop, hence the atomic.
 */
final class StallProbe {
  private final BackendPool pool;
  private final Logins logins;
  private final Logger log;
  private final AtomicBoolean probing = new AtomicBoolean();
  private volatile long quietUntilNanos = System.nanoTime();

  StallProbe(BackendPool pool, Logins logins, Logger log) {
    this.pool = pool;
    this.logins = logins;
    this.log = log;
  }

  /**
   * The lent connections that have waited for a reply longer than {@code windowNanos}; empty when a
   * probe runs or one answered within the last window.
   */
  List<BackendConnection> stalledLocked(List<BackendConnection> open, long now, long windowNanos) {
    if (windowNanos <= 0 || probing.get() || now - quietUntilNanos < 0) {
      return List.of();
    }
    List<BackendConnection> stalled = null;
    for (BackendConnection c : open) {
      if (c.state != BackendConnection.IN_USE || c.activity == null || !c.channel.isActive()) {
        continue;
      }
      long since = c.activity.waitingSinceNanos();
      if (since != -1 && now - since > windowNanos) {
        if (stalled == null) {
          stalled = new ArrayList<>();
        }
        stalled.add(c);
      }
    }
    return stalled == null ? List.of() : stalled;
  }

  /** Asks the server whether it is there; closes {@code stalled} if it does not answer in time. */
  void probe(List<BackendConnection> stalled, long windowNanos) {
    if (stalled.isEmpty() || !probing.compareAndSet(false, true)) {
      return;
    }
    BackendConnection first = stalled.get(0);
    long started = System.nanoTime();
    logins
        .login(first.channel.eventLoop(), pool, first.key, true)
        .addListener(
            (Future<BackendConnection> f) -> {
              try {
                boolean answered =
                    f.isSuccess()
                        || (f.cause() instanceof BackendException e && e.serverAnswered());
                if (answered) {
                  if (f.isSuccess()) {
                    Hangup.start(f.getNow(), pool.settings().connectTimeout().toMillis());
                  }
                  quietUntilNanos = System.nanoTime() + windowNanos;
                  log.debug(
                      "pool '{}': {} connection(s) wait long for replies, but the server answers",
                      pool.name(),
                      stalled.size());
                  return;
                }
                closeStalled(stalled, started, windowNanos, f.cause());
              } finally {
                probing.set(false);
              }
            });
  }

  private void closeStalled(
      List<BackendConnection> stalled, long started, long windowNanos, Throwable cause) {
    long windowSeconds = TimeUnit.NANOSECONDS.toSeconds(windowNanos);
    String reason =
        "backend '"
            + pool.name()
            + "' stopped answering: no reply for more than "
            + windowSeconds
            + "s (the pool.tcpKeepAlive window) and a new login failed: "
            + BackendConnector.rootMessage(cause);
    log.warn("pool '{}': closing {} connection(s): {}", pool.name(), stalled.size(), reason);
    for (BackendConnection c : stalled) {
      // Only those still waiting since before the probe: a reply may have come meanwhile.
      long since = c.activity.waitingSinceNanos();
      if (since != -1 && started - since > windowNanos) {
        c.closeReason = reason;
        c.channel.close();
      }
    }
  }
}
