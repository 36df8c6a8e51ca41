package dev.mysqlpool.proxy.backend;

import dev.mysqlpool.proxy.backend.ConnectionCreator.Create;
import dev.mysqlpool.proxy.backend.Waiters.Waiter;
import dev.mysqlpool.proxy.config.ProxyConfig.Pool;
import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;

/**
 * Decides which logins to start now: one for each waiting borrower of a kind nobody is opening a
 * connection for yet, while the cap and {@code maxConcurrentConnects} allow; when the pool is full,
 * an idle connection of other settings is closed to make room for a starving kind (see {@link
 * Waiters#starving}); with nobody waiting, warm-up to {@code minIdle}; and a probe of a backend
 * with nothing open. Nothing while logins back off after a failure: a retry is scheduled instead.
 *
 * <p>Not thread-safe: guarded by the pool's lock ({@link PoolCore}); the caller starts the logins
 * after leaving it.
 */
final class Refill {
  private final Slots slots;
  private final Waiters waiters;
  private final Demand demand;
  private final IdleConnections idle;
  private final ConnectionCreator creator;
  private final Consumer<BackendConnection> evictLocked;
  private final Runnable retry;
  private final Logger log;
  private final String poolName;

  /**
   * @param evictLocked marks an idle connection dead and starts closing it
   * @param retry what runs once a login backoff has passed
   */
  Refill(
      Slots slots,
      Waiters waiters,
      Demand demand,
      IdleConnections idle,
      ConnectionCreator creator,
      Consumer<BackendConnection> evictLocked,
      Runnable retry,
      Logger log,
      String poolName) {
    this.slots = slots;
    this.waiters = waiters;
    this.demand = demand;
    this.idle = idle;
    this.creator = creator;
    this.evictLocked = evictLocked;
    this.retry = retry;
    this.log = log;
    this.poolName = poolName;
  }

  /** The logins to start now (counted as opening already). */
  List<Create> planLocked(Pool s, PoolKey warmKey) {
    long now = System.nanoTime();
    long backoff = creator.backoffLeftNanos(now);
    if (backoff > 0) {
      creator.scheduleRetry(backoff, retry);
      return List.of();
    }
    // Nobody waits most of the time: then no iterator is made over the empty queue.
    List<Create> out = waiters.isEmpty() ? null : forWaitersLocked(s, now);
    while (waiters.isEmpty()
        && warmKey != null
        && idle.sizeWithPinging() + slots.opening() < s.minIdle()
        && slots.total() < s.maxConnections()
        && slots.opening() < s.maxConcurrentConnects()) {
      out = add(out, startLocked(warmKey, creator.anyLoop()));
    }
    return out == null ? List.of() : out;
  }

  /** Logins for waiting borrowers, within the cap and maxConcurrentConnects; null when none. */
  private List<Create> forWaitersLocked(Pool s, long now) {
    if (slots.total() >= s.maxConnections() && idle.isEmpty()) {
      // At the cap with nothing idle to close for room (the loop below would find no victim):
      // the usual state of a busy pool, checked on every borrow and hand-back.
      return null;
    }
    long patience = s.acquireTimeout().toNanos() / 4;
    List<Create> out = null;
    for (Waiter w : waiters) {
      if (slots.opening() >= s.maxConcurrentConnects()) {
        break;
      }
      if (!demand.wantsAnother(w.key)) {
        continue;
      }
      if (slots.total() >= s.maxConnections()) {
        // Younger waiters have waited less; a kind with nothing open is looked for below.
        Waiter starving = waiters.isStarving(w, patience, now) ? w : waiters.firstWithNothingOpen();
        BackendConnection victim =
            starving == null ? null : idle.oldestNotFitting(starving.key, starving.needNoSchema);
        if (victim == null) {
          // One the pool opened on its own that no client has used (the warm-up's, keyed with
          // capabilities guessed before any client said which it asks for) serves nobody waiting:
          // it gives way now rather than after a quarter of acquireTimeout.
          victim = idle.oldestUnusedNotFitting(w.key, w.needNoSchema);
          starving = victim == null ? null : w;
        }
        if (victim == null) {
          break;
        }
        log.debug(
            "pool '{}': closing idle {}: making room for a waiting client with other connection"
                + " settings",
            poolName,
            victim);
        evictLocked.accept(victim);
        if (slots.total() >= s.maxConnections()) {
          break; // still at or above a lowered cap
        }
        w = starving;
      }
      out = add(out, startLocked(w.key, w.loop));
    }
    return out;
  }

  /**
   * A login that tells whether the backend is up, when nothing is open or opening: nothing else
   * would, and /readyz depends on it. Null when none is due.
   */
  Create probeLocked(Pool s, PoolKey warmKey, long now) {
    if (slots.open() == 0
        && slots.opening() == 0
        && warmKey != null
        && slots.total() < s.maxConnections()
        && creator.probeDue(now)) {
      return startLocked(warmKey, creator.anyLoop());
    }
    return null;
  }

  private Create startLocked(PoolKey key, EventLoop loop) {
    slots.loginStarted(key);
    return new Create(key, loop);
  }

  private static List<Create> add(List<Create> list, Create item) {
    List<Create> l = list == null ? new ArrayList<>(2) : list;
    l.add(item);
    return l;
  }
}
