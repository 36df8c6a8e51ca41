package dev.mysqlpool.proxy.backend;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What {@code pool.maxConnections} counts: connections open, logins in progress, and connections
 * the pool has closed whose server end has not closed yet (the server still lists them, e.g. a
 * discarded connection whose statement waits for its KILL). Keeps {@link Demand}'s open and opening
 * counts in step.
 *
 * <p>Not thread-safe: guarded by the pool's lock ({@link PoolCore}).
 */
final class Slots {
  private final Set<BackendConnection> open = new HashSet<>();
  private final Set<BackendConnection> closing = new HashSet<>();
  private final Demand demand;
  private final PoolCounters counters;
  private int opening;

  Slots(Demand demand, PoolCounters counters) {
    this.demand = demand;
    this.counters = counters;
  }

  /** Everything the cap counts. */
  int total() {
    return open.size() + opening + closing.size();
  }

  int open() {
    return open.size();
  }

  int opening() {
    return opening;
  }

  int closing() {
    return closing.size();
  }

  boolean contains(BackendConnection c) {
    return open.contains(c);
  }

  boolean isClosing(BackendConnection c) {
    return closing.contains(c);
  }

  /** A copy of the open and closing connections, to visit or close. */
  List<BackendConnection> all() {
    List<BackendConnection> out = new ArrayList<>(open);
    out.addAll(closing);
    return out;
  }

  /** A copy of the open connections. */
  List<BackendConnection> openConnections() {
    return new ArrayList<>(open);
  }

  void loginStarted(PoolKey key) {
    opening++;
    demand.opening(key, 1);
  }

  void loginEnded(PoolKey key) {
    opening--;
    demand.opening(key, -1);
  }

  void add(BackendConnection c) {
    open.add(c);
    demand.opened(c.key, 1);
  }

  /**
   * An open connection is being closed: it no longer serves anyone but keeps counting until {@link
   * #closed}. False if it was not open.
   */
  boolean closing(BackendConnection c) {
    if (!open.remove(c)) {
      return false;
    }
    demand.opened(c.key, -1);
    counters.destroyed.increment();
    closing.add(c);
    return true;
  }

  /**
   * The connection's channel closed: true if that freed a place. One awaiting its KILL keeps its
   * place until the KILL is done too (see {@link PoolCore#killAnswered}).
   */
  boolean closed(BackendConnection c) {
    return !c.killPending && closing.remove(c);
  }

  /** Marks the open connection of backend thread {@code threadId} as awaiting a KILL; or null. */
  BackendConnection holdUntilKilled(long threadId) {
    for (BackendConnection c : open) {
      if (c.threadId() == threadId) {
        c.killPending = true;
        return c;
      }
    }
    return null;
  }
}
