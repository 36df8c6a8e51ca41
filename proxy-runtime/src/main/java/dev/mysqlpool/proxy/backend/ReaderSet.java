package dev.mysqlpool.proxy.backend;

import dev.mysqlpool.proxy.config.ProxyConfig;
import dev.mysqlpool.proxy.config.ProxyConfig.Backend;
import dev.mysqlpool.proxy.config.ProxyConfig.BackendRole;
import io.netty.channel.EventLoopGroup;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The backends declared {@code role: reader}, each with its own {@link BackendPool} (as every
 * backend has) and a {@link ReplicaCheck} that reads its replication lag every second. A reader
 * <i>serves</i> reads while its server is reachable, its lag is known and at most {@code
 * routing.maxReplicationLag}; {@link #pick()} chooses among the serving readers by weight.
 *
 * <p>The choice is smooth weighted round robin (nginx's): with weights 1 and 3 every four picks are
 * B, A, B, B, so a light reader is not handed a burst. The order is computed when the set of
 * serving readers changes (at most once a second per reader, by the checks), so a pick is a
 * volatile read, an atomic increment and a look at the chosen pool's reachability, with no lock and
 * no allocation.
 *
 * <p>Threading: every public method may be called from any thread and never blocks.
 */
public final class ReaderSet implements AutoCloseable {
  private static final Reader[] NONE = new Reader[0];

  /**
   * One reader as /backendz and the metrics show it.
   *
   * @param up whether its server is reachable (as {@code mysqlpool_backend_up})
   * @param serving whether it gets reads now
   * @param lagSeconds the last lag read, NaN when unknown
   * @param line its /backendz line, e.g. {@code replica-a up reader lag 0s} or {@code replica-a
   *     lagging 12s > maxReplicationLag 5s}
   */
  public record ReaderStatus(
      String name, boolean up, boolean serving, double lagSeconds, String line) {}

  /** A reader's pool and weight, and what its check found last. */
  static final class Reader {
    final BackendPool pool;
    final int weight;
    volatile ReplicaLag lag = ReplicaLag.NOT_CHECKED;
    volatile boolean serving;
    ReplicaCheck check;

    Reader(BackendPool pool, int weight) {
      this.pool = pool;
      this.weight = weight;
    }
  }

  private final List<Reader> readers;
  private final Duration maxLag;
  private final AtomicLong turn = new AtomicLong();
  private final LongAdder fallbacks = new LongAdder();
  private volatile Reader[] order = NONE;

  ReaderSet(List<Reader> readers, Duration maxLag) {
    this.readers = List.copyOf(readers);
    this.maxLag = maxLag;
  }

  /**
   * The readers of {@code config} ({@code role: reader}, in file order), over the pools the proxy
   * built for them; their checks run on {@code group}'s loops once {@link #start()}ed. Empty when
   * the config has no reader.
   */
  public static ReaderSet of(
      ProxyConfig config, Map<String, BackendPool> pools, EventLoopGroup group) {
    List<Reader> readers = new ArrayList<>();
    for (Backend b : config.backends()) {
      if (b.role() == BackendRole.READER) {
        BackendPool pool = pools.get(b.name());
        if (pool == null) {
          throw new IllegalArgumentException(
              "backends: reader '" + b.name() + "' has no pool; build one per backend first");
        }
        readers.add(new Reader(pool, b.weight()));
      }
    }
    Duration maxLag = config.routing().maxReplicationLag();
    ReaderSet set = new ReaderSet(readers, maxLag);
    for (Reader r : set.readers) {
      r.check = new ReplicaCheck(set, r, group.next(), maxLag.toMillis());
    }
    return set;
  }

  /** Starts every reader's lag check; the first runs at once. */
  public void start() {
    for (Reader r : readers) {
      r.check.start();
    }
  }

  /**
   * The pool of the reader the next read goes to, by weight among the readers serving now; null
   * when none serves (each is down, lagging or of unknown lag), and the read then goes to the
   * writer. Such a fallback is counted ({@link #fallbacks()}) when readers are configured.
   */
  public BackendPool pick() {
    return pick(null);
  }

  /**
   * As {@link #pick()}, among the serving readers whose last check showed them past {@code
   * required} (read-your-writes: a client's last write); null or empty: any serving reader. Null
   * when none qualifies; a fallback is counted only when no reader serves at all.
   */
  public BackendPool pick(GtidPosition required) {
    Reader[] o = order;
    boolean anyReachable = false;
    if (o.length > 0) {
      int start = (int) Long.remainderUnsigned(turn.getAndIncrement(), o.length);
      for (int i = 0; i < o.length; i++) {
        Reader r = o[(start + i) % o.length];
        // Its pool's last login failed since the last check: skip it without waiting for the
        // check, which takes it out of the order within a second.
        if (!r.pool.reachable()) {
          continue;
        }
        anyReachable = true;
        if (required == null || required.isEmpty() || r.lag.applied().covers(required)) {
          return r.pool;
        }
      }
    }
    if (!anyReachable && !readers.isEmpty()) {
      fallbacks.increment();
    }
    return null;
  }

  /** Whether at least one reader serves reads now. */
  public boolean anyServing() {
    for (Reader r : order) {
      if (r.pool.reachable()) {
        return true;
      }
    }
    return false;
  }

  /** Whether no reader is configured. */
  public boolean isEmpty() {
    return readers.isEmpty();
  }

  /** How often {@link #pick()} found no serving reader, since the start. */
  public long fallbacks() {
    return fallbacks.sum();
  }

  /** {@code routing.maxReplicationLag}: a reader further behind serves no reads. */
  public Duration maxReplicationLag() {
    return maxLag;
  }

  /** Every reader's state, in file order. */
  public List<ReaderStatus> status() {
    List<ReaderStatus> out = new ArrayList<>(readers.size());
    for (Reader r : readers) {
      out.add(status(r));
    }
    return out;
  }

  /** The state of the reader named {@code backend}, or null when it is not a reader. */
  public ReaderStatus status(String backend) {
    for (Reader r : readers) {
      if (r.pool.name().equals(backend)) {
        return status(r);
      }
    }
    return null;
  }

  private ReaderStatus status(Reader r) {
    ReplicaLag lag = r.lag;
    boolean up = r.pool.reachable();
    boolean serving = r.serving && up;
    String name = r.pool.name();
    String line;
    if (!up) {
      String why = r.pool.unreachableBecause();
      line = name + " down" + (why == null ? "" : ": " + why.replace('\n', ' '));
    } else if (!lag.known()) {
      line = name + " up reader lag unknown, not serving: " + lag.unknownBecause();
    } else if (lag.millis() > maxLag.toMillis()) {
      line =
          name
              + " lagging "
              + lag.text()
              + " > maxReplicationLag "
              + ReplicaLag.ofMillis(maxLag.toMillis()).text();
    } else {
      line = name + " up reader lag " + lag.text() + (serving ? "" : ", not serving yet");
    }
    return new ReaderStatus(
        name, up, serving, lag.known() ? lag.millis() / 1000.0 : Double.NaN, line);
  }

  /** A reader's check decided that it starts or stops serving; recomputes the order. */
  synchronized void serving(Reader r, boolean serving) {
    r.serving = serving;
    List<Reader> now = new ArrayList<>();
    for (Reader x : readers) {
      if (x.serving) {
        now.add(x);
      }
    }
    int[] weights = new int[now.size()];
    for (int i = 0; i < weights.length; i++) {
      weights[i] = now.get(i).weight;
    }
    int[] slots = smoothOrder(weights);
    Reader[] next = new Reader[slots.length];
    for (int i = 0; i < slots.length; i++) {
      next[i] = now.get(slots[i]);
    }
    order = next;
  }

  /**
   * One cycle of smooth weighted round robin over {@code weights} (each at least 1), reduced by
   * their greatest common divisor: the index chosen at each step, as many steps as the reduced
   * weights add up to. Each step adds every weight to its counter, takes the highest (the first on
   * a tie) and lowers it by the total.
   */
  static int[] smoothOrder(int[] weights) {
    int g = 0;
    for (int w : weights) {
      g = gcd(g, w);
    }
    int total = 0;
    int[] w = new int[weights.length];
    for (int i = 0; i < weights.length; i++) {
      w[i] = weights[i] / g;
      total += w[i];
    }
    int[] current = new int[w.length];
    int[] out = new int[total];
    for (int step = 0; step < total; step++) {
      int best = 0;
      for (int i = 0; i < w.length; i++) {
        current[i] += w[i];
        if (current[i] > current[best]) {
          best = i;
        }
      }
      current[best] -= total;
      out[step] = best;
    }
    return out;
  }

  private static int gcd(int a, int b) {
    return b == 0 ? a : gcd(b, a % b);
  }

  /** Stops the checks and closes their side connections; the pools are closed by their owner. */
  @Override
  public void close() {
    for (Reader r : readers) {
      if (r.check != null) {
        r.check.close();
      }
    }
  }
}
