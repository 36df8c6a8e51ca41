package dev.mysqlpool.proxy.backend;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Per kind of connection ({@link PoolKey}): how many are open, being opened, and wanted by waiting
 * borrowers. The pool opens a connection for a kind only while fewer are being opened than are
 * waited for, and makes room for a kind with nothing open at all.
 *
 * <p>Not thread-safe: guarded by the pool's lock ({@link PoolCore}).
 */
final class Demand {
  private final Map<PoolKey, int[]> open = new HashMap<>();
  private final Map<PoolKey, int[]> opening = new HashMap<>();
  private final Map<PoolKey, int[]> waiting = new HashMap<>();

  void opened(PoolKey key, int delta) {
    count(open, key, delta);
  }

  void opening(PoolKey key, int delta) {
    count(opening, key, delta);
  }

  void waiting(PoolKey key, int delta) {
    count(waiting, key, delta);
  }

  /** Whether another login for {@code key} would serve a borrower nobody is opening one for. */
  boolean wantsAnother(PoolKey key) {
    return get(opening, key) < get(waiting, key);
  }

  /** Whether no connection of this kind is open or being opened. */
  boolean nothingFor(PoolKey key) {
    return get(open, key) + get(opening, key) == 0;
  }

  /** The kinds some borrower is waiting for. */
  Set<PoolKey> waitedFor() {
    return waiting.keySet();
  }

  void clearWaiting() {
    waiting.clear();
  }

  private static int get(Map<PoolKey, int[]> m, PoolKey k) {
    int[] v = m.get(k);
    return v == null ? 0 : v[0];
  }

  private static void count(Map<PoolKey, int[]> m, PoolKey k, int delta) {
    int[] v = m.computeIfAbsent(k, x -> new int[1]);
    v[0] += delta;
    if (v[0] <= 0) {
      m.remove(k);
    }
  }
}
