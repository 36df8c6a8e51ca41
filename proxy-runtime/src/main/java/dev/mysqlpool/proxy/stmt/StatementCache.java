package dev.mysqlpool.proxy.stmt;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The proxy-wide cache of prepared statements, keyed by {@link StatementKey}: a client's
 * COM_STMT_PREPARE of a statement some client prepared before is answered from here without a
 * backend round trip. Also counts what the server holds (statements prepared across all backend
 * connections, which {@code max_prepared_stmt_count} limits) and how often the cache answered.
 * Thread-safe.
 */
public final class StatementCache {
  /**
   * Entries kept; beyond it new statements are still shared between backends, just not cached for
   * later prepares. Bounds memory against applications that build SQL text with literals.
   */
  public static final int MAX_ENTRIES = 10_000;

  private final ConcurrentHashMap<StatementKey, SharedStatement> entries =
      new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong();
  private final AtomicLong serverStatements = new AtomicLong();
  private final LongAdder hits = new LongAdder();
  private final LongAdder misses = new LongAdder();
  private final LongAdder reprepares = new LongAdder();
  private final LongAdder evictions = new LongAdder();

  /** A cache whose meters are registered in {@code registry}. */
  public StatementCache(MeterRegistry registry) {
    Gauge.builder("mysqlpool.prepared.statements", serverStatements, AtomicLong::get)
        .description(
            "Server-side prepared statements open on all backend connections of this proxy")
        .register(registry);
    Gauge.builder("mysqlpool.prepared.statement.cache.entries", entries, ConcurrentHashMap::size)
        .description("Distinct prepared statements the proxy can answer COM_STMT_PREPARE for")
        .register(registry);
    FunctionCounter.builder("mysqlpool.prepared.statement.cache.hits", hits, LongAdder::sum)
        .description("Client COM_STMT_PREPAREs answered from the proxy's cache")
        .register(registry);
    FunctionCounter.builder("mysqlpool.prepared.statement.cache.misses", misses, LongAdder::sum)
        .description("Client COM_STMT_PREPAREs sent to a backend")
        .register(registry);
    FunctionCounter.builder("mysqlpool.prepared.statement.reprepares", reprepares, LongAdder::sum)
        .description("Statements prepared again on a backend connection that had not seen them")
        .register(registry);
    FunctionCounter.builder("mysqlpool.prepared.statement.evictions", evictions, LongAdder::sum)
        .description(
            "Statements closed on a backend connection to stay within"
                + " pool.maxPreparedStatementsPerConnection")
        .register(registry);
  }

  /** The cached statement for {@code key}, or null. */
  public SharedStatement get(StatementKey key) {
    return entries.get(key);
  }

  /**
   * A backend answered a prepare of {@code key}: the statement every client that prepares it shares
   * from now on. An entry of another shape (a DDL changed the columns since) is replaced.
   *
   * @param reply the server's reply packets, headers included
   */
  public SharedStatement add(
      StatementKey key,
      byte[] reply,
      int params,
      int columns,
      int scanFlags,
      String pin,
      String pinDetail) {
    SharedStatement old = entries.get(key);
    if (old != null && old.params() == params && old.columns() == columns) {
      return old;
    }
    SharedStatement s =
        new SharedStatement(
            ids.incrementAndGet(), key, reply, params, columns, scanFlags, pin, pinDetail);
    if (old != null) {
      entries.replace(key, old, s);
    } else if (entries.size() < MAX_ENTRIES) {
      SharedStatement raced = entries.putIfAbsent(key, s);
      if (raced != null && raced.params() == params && raced.columns() == columns) {
        return raced;
      }
    }
    return s;
  }

  /**
   * The server answered an execute of {@code s} differently from its cached prepare reply (a DDL
   * changed its columns): later prepares go to a backend again and cache what it says then.
   */
  public void invalidate(SharedStatement s) {
    entries.remove(s.key(), s);
  }

  /** A prepare was answered from the cache. */
  public void hit() {
    hits.increment();
  }

  /** A prepare went to a backend. */
  public void miss() {
    misses.increment();
  }

  /** A statement was prepared again on a connection that had not seen it. */
  public void reprepared() {
    reprepares.increment();
  }

  void evicted() {
    evictions.increment();
  }

  void serverPrepared(long delta) {
    serverStatements.addAndGet(delta);
  }

  /** A snapshot for /stats. */
  public Stats stats() {
    long h = hits.sum();
    long m = misses.sum();
    return new Stats(
        serverStatements.get(),
        entries.size(),
        h,
        m,
        h + m == 0 ? 0 : (double) h / (h + m),
        reprepares.sum(),
        evictions.sum());
  }

  /**
   * What /stats shows of prepared statements.
   *
   * @param open server-side statements open on all backend connections now
   * @param cached distinct statements in the cache
   * @param hitRatio share of client prepares answered from the cache
   */
  public record Stats(
      long open,
      int cached,
      long cacheHits,
      long cacheMisses,
      double hitRatio,
      long reprepares,
      long evictions) {}
}
