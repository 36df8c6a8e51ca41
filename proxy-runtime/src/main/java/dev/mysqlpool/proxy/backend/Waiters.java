package dev.mysqlpool.proxy.backend;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Borrowers waiting for a connection, oldest first, and the choice of which one a free connection
 * goes to. Keeps {@link Demand}'s waiting counts in step.
 *
 * <p>Not thread-safe: guarded by the pool's lock ({@link PoolCore}).
 */
final class Waiters implements Iterable<Waiters.Waiter> {
  private final ArrayDeque<Waiter> queue = new ArrayDeque<>();
  private final Demand demand;

  Waiters(Demand demand) {
    this.demand = demand;
  }

  void add(Waiter w) {
    queue.addLast(w);
    demand.waiting(w.key, 1);
  }

  /** Removes {@code w} if it still waits; false when it was served or timed out already. */
  boolean remove(Waiter w) {
    if (!queue.remove(w)) {
      return false;
    }
    demand.waiting(w.key, -1);
    return true;
  }

  boolean contains(Waiter w) {
    return queue.contains(w);
  }

  boolean isEmpty() {
    return queue.isEmpty();
  }

  int size() {
    return queue.size();
  }

  @Override
  public Iterator<Waiter> iterator() {
    return queue.iterator();
  }

  /** Removes and returns every waiter, e.g. to fail them when the pool closes. */
  List<Waiter> drain() {
    List<Waiter> out = new ArrayList<>(queue);
    queue.clear();
    demand.clearWaiting();
    return out;
  }

  /**
   * Takes the waiter a free connection goes to: one on the connection's own event loop if any fits,
   * so the session's packets need no thread hop for its whole life; but the oldest fitting waiter
   * once it has waited {@code patienceNanos}, so no loop's clients starve. Null if none fits.
   */
  Waiter takeFor(BackendConnection c, long patienceNanos, long now) {
    if (queue.isEmpty()) {
      return null; // the common case, without an iterator
    }
    Waiter oldest = null;
    Waiter sameLoop = null;
    for (Waiter w : queue) {
      if (!w.accepts(c)) {
        continue;
      }
      if (oldest == null) {
        oldest = w;
      }
      if (w.loop == c.channel.eventLoop()) {
        sameLoop = w;
        break;
      }
    }
    if (oldest == null) {
      return null;
    }
    Waiter w = sameLoop == null || now - oldest.startNanos > patienceNanos ? oldest : sameLoop;
    remove(w);
    return w;
  }

  /**
   * A waiter for whom a connection of other settings may be closed to make room: the oldest once it
   * has waited {@code patienceNanos}, or else the first of a kind with no connection open or
   * opening. Otherwise a connection of other settings stays (it serves its own kind's next
   * borrower), since closing and logging in again on every hand-back churns when clients of two
   * drivers share a pool in transaction mode. Null if there is none.
   */
  Waiter starving(long patienceNanos, long now) {
    if (queue.isEmpty()) {
      return null; // the common case, without an iterator over the waited-for kinds
    }
    Waiter oldest = queue.peekFirst();
    return oldest != null && isStarving(oldest, patienceNanos, now)
        ? oldest
        : firstWithNothingOpen();
  }

  boolean isStarving(Waiter w, long patienceNanos, long now) {
    return demand.nothingFor(w.key) || now - w.startNanos > patienceNanos;
  }

  /**
   * The first waiter of a kind with no connection open or opening; looks through the kinds, not
   * every waiter.
   */
  Waiter firstWithNothingOpen() {
    for (PoolKey key : demand.waitedFor()) {
      if (demand.nothingFor(key)) {
        for (Waiter w : queue) {
          if (w.key.equals(key)) {
            return w;
          }
        }
      }
    }
    return null;
  }

  /** One borrower waiting; its promise completes on its own event loop. */
  static final class Waiter {
    final Promise<BackendConnection> promise;
    final EventLoop loop;
    final PoolKey key;
    final boolean needNoSchema;
    final long startNanos;

    /** Set right after the waiter is queued, outside the lock; read only by whoever serves it. */
    volatile ScheduledFuture<?> timeout;

    /** It waited on past acquireTimeout because the writer was switching. */
    boolean held;

    Waiter(
        Promise<BackendConnection> promise,
        EventLoop loop,
        PoolKey key,
        boolean needNoSchema,
        long startNanos) {
      this.promise = promise;
      this.loop = loop;
      this.key = key;
      this.needNoSchema = needNoSchema;
      this.startNanos = startNanos;
    }

    boolean accepts(BackendConnection c) {
      return IdleConnections.fits(c, key, needNoSchema);
    }
  }
}
