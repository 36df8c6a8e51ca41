package dev.mysqlpool.proxy.stmt;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The shared statements one backend connection has prepared (proxy statement → the server's id),
 * least recently used first, bounded by {@code pool.maxPreparedStatementsPerConnection}: the caller
 * closes what {@link #put} evicts on the server. Belongs to the connection's server session; used
 * by whoever holds the connection, and emptied from the connection's own thread when it closes,
 * hence the lock (uncontended).
 */
public final class ServerStatements {
  /** One statement as prepared on this connection. */
  public static final class Entry {
    /** The server's statement id on this connection. */
    public final int serverId;

    /**
     * The parameter types the server last received for it (from any client), which an execute
     * without types (new_params_bound_flag 0) uses; null before the first execute.
     */
    public byte[] types;

    Entry(int serverId) {
      this.serverId = serverId;
    }
  }

  private final LinkedHashMap<SharedStatement, Entry> lru = new LinkedHashMap<>(16, 0.75f, true);
  private StatementCache counter;

  /** The server id of {@code s} on this connection (now the most recently used), or null. */
  public synchronized Entry get(SharedStatement s) {
    return lru.get(s);
  }

  /**
   * Records that the server prepared {@code s} as {@code serverId}.
   *
   * @return the server id of the least recently used statement, dropped to stay within {@code
   *     bound}, which the caller closes on the server (COM_STMT_CLOSE); or -1
   */
  public synchronized int put(SharedStatement s, int serverId, int bound, StatementCache cache) {
    counter = cache;
    if (lru.put(s, new Entry(serverId)) == null) {
      cache.serverPrepared(1);
    }
    if (lru.size() <= bound) {
      return -1;
    }
    Iterator<Map.Entry<SharedStatement, Entry>> eldest = lru.entrySet().iterator();
    int evicted = eldest.next().getValue().serverId;
    eldest.remove();
    cache.serverPrepared(-1);
    cache.evicted();
    return evicted;
  }

  /** Forgets {@code s} here (the caller closed it on the server, or the server lost it). */
  public synchronized void remove(SharedStatement s) {
    if (lru.remove(s) != null && counter != null) {
      counter.serverPrepared(-1);
    }
  }

  /** The server dropped every statement: COM_RESET_CONNECTION, or the connection closed. */
  public synchronized void clear() {
    if (counter != null) {
      counter.serverPrepared(-lru.size());
    }
    lru.clear();
  }

  public synchronized int size() {
    return lru.size();
  }
}
