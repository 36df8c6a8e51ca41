package dev.mysqlpool.proxy.testsupport;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Samples what the server sees while a test runs, from one root connection on a fixed rate: the
 * sessions of one account, those of them whose statement contains a marker, and {@code
 * Threads_connected} above what it was when sampling started. Peaks are kept per phase, and a
 * sample belongs to the phase that was current when it started, so a test switches phase before it
 * changes what the bound is.
 *
 * <p>A sampling failure is kept and thrown by {@link #close}, so a sampler that died cannot pass a
 * test with peaks of zero; {@link #samples} tells how many samples a phase got.
 */
public final class SessionSampler implements AutoCloseable {
  private static final String QUERY =
      "SELECT SUM(USER = ?), SUM(USER = ? AND INFO LIKE ? AND ID <> CONNECTION_ID()),"
          + " (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS"
          + "  WHERE VARIABLE_NAME = 'THREADS_CONNECTED')"
          + " FROM information_schema.PROCESSLIST";

  /** One sample. */
  public record Sample(int sessions, int marked, int threadsAboveBaseline) {}

  /** The peaks of one phase. */
  public record Peaks(int sessions, int threadsAboveBaseline, int samples) {}

  private final Connection root;
  private final PreparedStatement query;
  private final int baseline;
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "session-sampler");
            t.setDaemon(true);
            return t;
          });
  private final Map<String, int[]> peaks = new ConcurrentHashMap<>();
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private volatile String phase;
  private volatile Sample last;

  private SessionSampler(EmbeddedMariaDb db, String user, String marker, String phase)
      throws SQLException {
    this.root = db.rootConnection();
    this.query = root.prepareStatement(QUERY);
    query.setString(1, user);
    query.setString(2, user);
    query.setString(3, "%" + marker + "%");
    this.phase = phase;
    this.baseline = read(0).threadsAboveBaseline();
  }

  /**
   * Starts sampling every {@code every}.
   *
   * @param user the account whose sessions are counted
   * @param marker text that marks the statements counted in {@link Sample#marked}
   * @param phase the first phase
   */
  public static SessionSampler start(
      EmbeddedMariaDb db, String user, String marker, String phase, Duration every)
      throws SQLException {
    SessionSampler s = new SessionSampler(db, user, marker, phase);
    s.timer.scheduleAtFixedRate(s::sample, 0, every.toMillis(), TimeUnit.MILLISECONDS);
    return s;
  }

  /** Samples started from now on count under {@code name}. */
  public void phase(String name) {
    phase = name;
  }

  /** The latest sample, or null before the first; throws if sampling failed. */
  public Sample last() {
    rethrow();
    return last;
  }

  /** The peaks of a phase (zeros if it got no sample). */
  public Peaks peaks(String name) {
    int[] p = peaks.get(name);
    return p == null ? new Peaks(0, 0, 0) : new Peaks(p[0], p[1], p[2]);
  }

  /** How many samples a phase got. */
  public int samples(String name) {
    return peaks(name).samples();
  }

  private void sample() {
    if (failure.get() != null) {
      return;
    }
    String current = phase;
    try {
      Sample s = read(baseline);
      last = s;
      peaks.compute(
          current,
          (k, p) -> {
            int[] q = p == null ? new int[3] : p;
            q[0] = Math.max(q[0], s.sessions());
            q[1] = Math.max(q[1], s.threadsAboveBaseline());
            q[2]++;
            return q;
          });
    } catch (SQLException | RuntimeException e) {
      failure.compareAndSet(null, e);
    }
  }

  private Sample read(int threadsBefore) throws SQLException {
    try (ResultSet rs = query.executeQuery()) {
      rs.next();
      return new Sample(rs.getInt(1), rs.getInt(2), rs.getInt(3) - threadsBefore);
    }
  }

  private void rethrow() {
    Throwable t = failure.get();
    if (t != null) {
      throw new AssertionError("the server sampler failed: " + t, t);
    }
  }

  /** Stops sampling; throws if any sample failed. */
  @Override
  public void close() throws SQLException {
    timer.shutdownNow();
    try {
      timer.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    root.close();
    rethrow();
  }
}
