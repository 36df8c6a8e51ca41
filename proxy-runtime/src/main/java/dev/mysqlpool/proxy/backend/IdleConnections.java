package dev.mysqlpool.proxy.backend;

import io.netty.channel.EventLoop;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Set;

/**
 * The idle connections, ordered by when they were last used: the head is the most recently used,
 * which is what the pool lends first, so the tail is what decays to {@code minIdle}.
 *
 * <p>Not thread-safe: guarded by the pool's lock ({@link PoolCore}).
 */
final class IdleConnections {
  private final ArrayDeque<BackendConnection> deque = new ArrayDeque<>();

  /** Taken out for a validation ping: still idle as far as minIdle is concerned. */
  private final Set<BackendConnection> pinging = new HashSet<>();

  static boolean fits(BackendConnection c, PoolKey key, boolean needNoSchema) {
    return c.key.equals(key) && (!needNoSchema || c.session.surelyNoSchema());
  }

  /** Idle connections ready to lend. */
  int size() {
    return deque.size();
  }

  /** Idle connections, including those out for a validation ping: what minIdle counts. */
  int sizeWithPinging() {
    return deque.size() + pinging.size();
  }

  void takeForPing(BackendConnection c) {
    deque.remove(c);
    pinging.add(c);
  }

  /** The connection is back from its ping, or gone; no-op if it was not out for one. */
  void pinged(BackendConnection c) {
    pinging.remove(c);
  }

  boolean isEmpty() {
    return deque.isEmpty();
  }

  /** A connection just used: it goes to the head. */
  void addMostRecent(BackendConnection c) {
    deque.addFirst(c);
  }

  /**
   * A connection back from a keepalive (validation ping): it goes back to its place by when it was
   * last really used, so the ping neither makes it look used nor spares it from decay.
   */
  void addByIdleSince(BackendConnection c) {
    Iterator<BackendConnection> older = deque.descendingIterator();
    int fromTail = 0;
    while (older.hasNext() && older.next().idleSinceNanos - c.idleSinceNanos < 0) {
      fromTail++;
    }
    if (fromTail == 0) {
      deque.addLast(c);
      return;
    }
    if (fromTail == deque.size()) {
      deque.addFirst(c);
      return;
    }
    // Rare and short (housekeeping, a handful of idle connections): rebuild around the place.
    ArrayDeque<BackendConnection> tail = new ArrayDeque<>(fromTail);
    for (int i = 0; i < fromTail; i++) {
      tail.addFirst(deque.removeLast());
    }
    deque.addLast(c);
    deque.addAll(tail);
  }

  boolean remove(BackendConnection c) {
    return deque.remove(c);
  }

  /**
   * Removes and returns a connection that fits, preferring one on the borrower's own event loop so
   * its packets need no thread hop; the most recently used otherwise. Null if none fits.
   */
  BackendConnection take(PoolKey key, boolean needNoSchema, EventLoop loop) {
    if (deque.isEmpty()) {
      return null; // every borrow asks, and under load none is idle: no iterator then
    }
    BackendConnection fallback = null;
    for (Iterator<BackendConnection> it = deque.iterator(); it.hasNext(); ) {
      BackendConnection c = it.next();
      if (!fits(c, key, needNoSchema)) {
        continue;
      }
      if (c.channel.eventLoop() == loop) {
        it.remove();
        return c;
      }
      if (fallback == null) {
        fallback = c;
      }
    }
    if (fallback != null) {
      deque.remove(fallback);
    }
    return fallback;
  }

  /** The least recently used connection that does not fit, to close for room; null if none. */
  BackendConnection oldestNotFitting(PoolKey key, boolean needNoSchema) {
    for (Iterator<BackendConnection> it = deque.descendingIterator(); it.hasNext(); ) {
      BackendConnection c = it.next();
      if (!fits(c, key, needNoSchema)) {
        return c;
      }
    }
    return null;
  }

  /**
   * The least recently used connection that no client has used yet and that does not fit; null if
   * none.
   */
  BackendConnection oldestUnusedNotFitting(PoolKey key, boolean needNoSchema) {
    for (Iterator<BackendConnection> it = deque.descendingIterator(); it.hasNext(); ) {
      BackendConnection c = it.next();
      if (!c.everLent && !fits(c, key, needNoSchema)) {
        return c;
      }
    }
    return null;
  }

  /** The least recently used connection, or null. */
  BackendConnection oldest() {
    return deque.peekLast();
  }

  /** Least recently used first; the caller may not modify the list while iterating. */
  Iterator<BackendConnection> oldestFirst() {
    return deque.descendingIterator();
  }
}
