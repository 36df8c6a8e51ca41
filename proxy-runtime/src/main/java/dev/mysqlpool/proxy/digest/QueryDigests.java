package dev.mysqlpool.proxy.digest;

import dev.mysqlpool.proxy.config.ProxyConfig;
import io.netty.util.concurrent.EventExecutor;
import java.time.Instant;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The proxy's query digest view, like ProxySQL's {@code stats_mysql_query_digest}: per normalised
 * statement ({@link DigestNormalizer}), backend and user, how often it ran, its total, least and
 * greatest time, rows sent and affected, errors, first and last seen.
 *
 * <p>Each event loop counts in a table of its own ({@link LoopDigests}), so the data path takes no
 * lock; reading the view merges the tables. At most {@code stats.maxQueryDigests} distinct rows are
 * kept ({@link DigestSet}); statements beyond count in one {@code other} row. {@link #reset} starts
 * over, like reading ProxySQL's {@code stats_mysql_query_digest_reset}.
 *
 * <p>Threading: {@link #recorder} from the session's event loop; the views and {@link #reset} from
 * any thread (the admin endpoint's).
 */
public final class QueryDigests {
  /** Rows of the digest view that {@code /stats} includes, by total time. */
  public static final int TOP_IN_STATS = 100;

  private final boolean enabled;
  private final int max;
  private final Map<EventExecutor, LoopDigests> loops = new ConcurrentHashMap<>();
  private volatile DigestSet current;

  /** A view as {@code stats} configures it. */
  public QueryDigests(ProxyConfig.Stats stats) {
    this(stats.queryDigests(), stats.maxQueryDigests());
  }

  QueryDigests(boolean enabled, int max) {
    this.enabled = enabled;
    this.max = max;
    this.current = new DigestSet(max, System.currentTimeMillis());
  }

  /** What a session on {@code loop} records with; {@link DigestRecorder#NONE} when disabled. */
  public DigestRecorder recorder(EventExecutor loop) {
    if (!enabled) {
      return DigestRecorder.NONE;
    }
    return new DigestRecorder(loops.computeIfAbsent(loop, l -> new LoopDigests(this)));
  }

  DigestSet current() {
    return current;
  }

  /** Distinct digests counted since the last reset (the {@code other} row not included). */
  public int distinct() {
    return current.size();
  }

  /** The {@code limit} largest rows by {@code sort}; empty when disabled. */
  public List<DigestRow> top(DigestSort sort, int limit) {
    return sorted(rows(current), sort, limit);
  }

  /** The whole document of {@code /stats/digests}. */
  public DigestReport report(DigestSort sort, int limit) {
    return report(current, sort, limit);
  }

  /**
   * Starts counting over and returns what was counted until now. Statements whose replies complete
   * during the reset itself may be counted on neither side.
   */
  public DigestReport reset(DigestSort sort, int limit) {
    DigestSet old = current;
    DigestReport before = report(old, sort, limit);
    current = new DigestSet(max, System.currentTimeMillis());
    return before;
  }

  private DigestReport report(DigestSet set, DigestSort sort, int limit) {
    List<DigestRow> rows = rows(set);
    long overflow = 0;
    for (DigestRow r : rows) {
      if (r.digest().equals("other")) {
        overflow = r.count();
      }
    }
    return new DigestReport(
        enabled,
        Instant.ofEpochMilli(set.sinceMillis).toString(),
        max,
        set.size(),
        overflow,
        sort.parameter(),
        sorted(rows, sort, limit));
  }

  private static List<DigestRow> sorted(List<DigestRow> rows, DigestSort sort, int limit) {
    rows.sort(sort.order());
    return rows.size() > limit ? new ArrayList<>(rows.subList(0, limit)) : rows;
  }

  /** Every loop's entries of {@code set}, merged by key. */
  private List<DigestRow> rows(DigestSet set) {
    Map<DigestKey, long[]> merged = new IdentityHashMap<>();
    for (LoopDigests loop : loops.values()) {
      for (LoopDigests.Entry e : loop.entries(set)) {
        if (e == null || e.get(LoopDigests.COUNT) == 0) {
          continue; // sent, no reply yet
        }
        long[] sum = merged.get(e.key);
        if (sum == null) {
          sum = new long[LoopDigests.COUNTERS];
          sum[LoopDigests.MIN_NANOS] = Long.MAX_VALUE;
          sum[LoopDigests.FIRST_SEEN_NANOS] = Long.MAX_VALUE;
          sum[LoopDigests.LAST_SEEN_NANOS] = Long.MIN_VALUE;
          merged.put(e.key, sum);
        }
        add(sum, e);
      }
    }
    long nowNanos = System.nanoTime();
    long nowMillis = System.currentTimeMillis();
    List<DigestRow> rows = new ArrayList<>(merged.size());
    for (Map.Entry<DigestKey, long[]> m : merged.entrySet()) {
      rows.add(row(m.getKey(), m.getValue(), nowNanos, nowMillis));
    }
    return rows;
  }

  private static void add(long[] sum, LoopDigests.Entry e) {
    sum[LoopDigests.COUNT] += e.get(LoopDigests.COUNT);
    sum[LoopDigests.TOTAL_NANOS] += e.get(LoopDigests.TOTAL_NANOS);
    sum[LoopDigests.MIN_NANOS] = Math.min(sum[LoopDigests.MIN_NANOS], e.get(LoopDigests.MIN_NANOS));
    sum[LoopDigests.MAX_NANOS] = Math.max(sum[LoopDigests.MAX_NANOS], e.get(LoopDigests.MAX_NANOS));
    sum[LoopDigests.ROWS_SENT] += e.get(LoopDigests.ROWS_SENT);
    sum[LoopDigests.ROWS_AFFECTED] += e.get(LoopDigests.ROWS_AFFECTED);
    sum[LoopDigests.ERRORS] += e.get(LoopDigests.ERRORS);
    sum[LoopDigests.FIRST_SEEN_NANOS] =
        Math.min(sum[LoopDigests.FIRST_SEEN_NANOS], e.get(LoopDigests.FIRST_SEEN_NANOS));
    sum[LoopDigests.LAST_SEEN_NANOS] =
        Math.max(sum[LoopDigests.LAST_SEEN_NANOS], e.get(LoopDigests.LAST_SEEN_NANOS));
  }

  private static DigestRow row(DigestKey key, long[] c, long nowNanos, long nowMillis) {
    long count = c[LoopDigests.COUNT];
    long total = c[LoopDigests.TOTAL_NANOS];
    return new DigestRow(
        key.isOther() ? "other" : String.format("0x%016X", key.hash),
        key.text,
        key.backend,
        key.user,
        count,
        total / 1000,
        c[LoopDigests.MIN_NANOS] / 1000,
        c[LoopDigests.MAX_NANOS] / 1000,
        total / count / 1000,
        c[LoopDigests.ROWS_SENT],
        c[LoopDigests.ROWS_AFFECTED],
        c[LoopDigests.ERRORS],
        wallClock(c[LoopDigests.FIRST_SEEN_NANOS], nowNanos, nowMillis),
        wallClock(c[LoopDigests.LAST_SEEN_NANOS], nowNanos, nowMillis));
  }

  /** A System.nanoTime() reading as a time of day: nanoTime is what the data path reads anyway. */
  private static String wallClock(long nanos, long nowNanos, long nowMillis) {
    return Instant.ofEpochMilli(nowMillis - (nowNanos - nanos) / 1_000_000).toString();
  }
}
