package dev.mysqlpool.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Histogram;

/**
 * The multiplexing case of {@code pool.mode: transaction}: a fleet of HikariCP pools (MariaDB
 * Connector/J) that hold all their connections open ({@code minimumIdle = maximumPoolSize}), shared
 * by a bounded number of application threads running short read-write transactions, as services
 * behind one database do. Every connection runs one transaction before the clock starts (HikariCP
 * lends its most recently used connection first, so a load alone would leave most of them idle);
 * then the workers run closed-loop, each taking its next connection from the next pool in turn,
 * while the server's {@code Threads_connected} is sampled from the moment the first pool starts
 * filling.
 *
 * <p>Latency is per transaction as the application sees it: borrow from HikariCP, BEGIN, point
 * select, UPDATE, COMMIT, give back. Not thread-safe: one run at a time.
 */
final class Multiplex {
  /** Application threads sharing the pools, far fewer than connections. */
  static final int WORKERS = 64;

  private static final String SELECT = "SELECT c FROM sbtest1 WHERE id=?";
  private static final String UPDATE = "UPDATE sbtest1 SET k=k+1 WHERE id=?";

  private Multiplex() {}

  /**
   * One target's figures; latencies in microseconds; server figures without the sampler's own
   * connection; RSS in KiB and CPU in ms of the forwarding process, -1 for the server itself.
   */
  record Result(
      int connections,
      double openSeconds,
      long transactions,
      double seconds,
      double tps,
      long p50,
      long p95,
      long p99,
      long errors,
      String firstError,
      int maxThreadsConnected,
      int maxUsedConnections,
      long rssKib,
      long peakRssKib,
      long cpuMillis) {}

  /**
   * Opens {@code pools} HikariCP pools of {@code perPool} connections each to 127.0.0.1:{@code
   * port}, runs one transaction on every connection, then {@link #WORKERS} threads for {@code
   * warmupMillis} unmeasured and {@code measureMillis} measured, and closes the pools. Bounded: the
   * pools must fill within 3 minutes, and workers are abandoned (daemon) 30 s after the window if a
   * statement hangs.
   *
   * @param pid the forwarding process (proxy or HAProxy) whose RSS and CPU are reported, or -1
   */
  static Result run(
      EmbeddedMariaDb db,
      String label,
      int port,
      long pid,
      int pools,
      int perPool,
      int rows,
      long warmupMillis,
      long measureMillis)
      throws SQLException, InterruptedException {
    String url =
        EmbeddedMariaDb.jdbcUrl("127.0.0.1", port, EmbeddedMariaDb.APP_DATABASE)
            + "&connectTimeout=30000&socketTimeout=120000";
    List<HikariDataSource> fleet = new ArrayList<>();
    try (Connection root = db.rootConnection()) {
      awaitAlone(root);
      ServerSampler sampler = new ServerSampler(root, 10);
      sampler.start();
      long t0 = System.nanoTime();
      double openSeconds;
      try {
        for (int p = 0; p < pools; p++) {
          fleet.add(pool(url, label + "-" + p, perPool));
        }
        awaitFilled(fleet, perPool, label);
        openSeconds = (System.nanoTime() - t0) / 1e9;
        useEveryConnection(fleet, rows);
      } catch (RuntimeException e) {
        sampler.stop();
        throw e;
      }

      long[] window = new long[2];
      window[0] = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(warmupMillis);
      window[1] = window[0] + TimeUnit.MILLISECONDS.toNanos(measureMillis);
      Histogram all = new Histogram(1, TimeUnit.SECONDS.toMicros(60), 3);
      AtomicLong errors = new AtomicLong();
      AtomicReference<String> firstError = new AtomicReference<>();
      List<Thread> threads = new ArrayList<>();
      for (int w = 0; w < WORKERS; w++) {
        int worker = w;
        Thread t =
            new Thread(
                null,
                () -> work(fleet, worker, rows, window, all, errors, firstError),
                "mux-" + label + "-" + w,
                256 * 1024);
        t.setDaemon(true);
        threads.add(t);
        t.start();
      }
      sleepUntil(window[0]);
      long cpu0 = pid > 0 ? Procs.cpuMillis(pid) : -1;
      sleepUntil(window[1]);
      long cpu1 = pid > 0 ? Procs.cpuMillis(pid) : -1;
      long rss = pid > 0 ? Procs.rssKib(pid) : -1;
      long peakRss = pid > 0 ? Procs.peakRssKib(pid) : -1;
      long joinDeadline = window[1] + TimeUnit.SECONDS.toNanos(30);
      for (Thread t : threads) {
        t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(joinDeadline - System.nanoTime())));
      }
      int[] server = sampler.stop();
      long txns;
      long p50;
      long p95;
      long p99;
      synchronized (all) {
        txns = all.getTotalCount();
        p50 = all.getValueAtPercentile(50);
        p95 = all.getValueAtPercentile(95);
        p99 = all.getValueAtPercentile(99);
      }
      double seconds = measureMillis / 1000.0;
      return new Result(
          pools * perPool,
          openSeconds,
          txns,
          seconds,
          txns / seconds,
          p50,
          p95,
          p99,
          errors.get(),
          firstError.get(),
          server[0],
          server[1],
          rss,
          peakRss,
          cpu0 < 0 || cpu1 < 0 ? -1 : cpu1 - cpu0);
    } finally {
      for (HikariDataSource ds : fleet) {
        ds.close();
      }
    }
  }

  /**
   * Waits (at most 10 s) until this root connection is the server's only client, so that the
   * high-water mark the sampler starts from holds no session an earlier case or probe closed but
   * the server has not reaped yet.
   */
  private static void awaitAlone(Connection root) throws SQLException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      try (Statement s = root.createStatement();
          ResultSet rs = s.executeQuery("SHOW GLOBAL STATUS LIKE 'Threads_connected'")) {
        rs.next();
        if (Integer.parseInt(rs.getString(2)) <= 1) {
          return;
        }
      }
      Procs.sleep(20);
    }
  }

  private static HikariDataSource pool(String url, String name, int size) {
    HikariConfig cfg = new HikariConfig();
    cfg.setJdbcUrl(url);
    cfg.setUsername(EmbeddedMariaDb.APP_USER);
    cfg.setPassword(EmbeddedMariaDb.APP_PASSWORD);
    cfg.setPoolName(name);
    cfg.setMaximumPoolSize(size);
    cfg.setMinimumIdle(size);
    cfg.setConnectionTimeout(30_000);
    return new HikariDataSource(cfg);
  }

  private static void awaitFilled(List<HikariDataSource> fleet, int perPool, String label) {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    while (true) {
      int open = 0;
      for (HikariDataSource ds : fleet) {
        open += ds.getHikariPoolMXBean().getTotalConnections();
      }
      if (open == fleet.size() * perPool) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            label
                + ": only "
                + open
                + " of "
                + fleet.size() * perPool
                + " client connections opened within 3 minutes");
      }
      Procs.sleep(100);
    }
  }

  /** Each pool lends all its connections at once, and each runs one transaction. */
  private static void useEveryConnection(List<HikariDataSource> fleet, int rows)
      throws InterruptedException {
    AtomicReference<Exception> failure = new AtomicReference<>();
    List<Thread> threads = new ArrayList<>();
    for (HikariDataSource ds : fleet) {
      Thread t =
          new Thread(
              () -> {
                List<Connection> held = new ArrayList<>();
                try {
                  for (int i = 0; i < ds.getMaximumPoolSize(); i++) {
                    held.add(ds.getConnection());
                  }
                  for (Connection c : held) {
                    transaction(c, 1 + ThreadLocalRandom.current().nextInt(rows));
                  }
                } catch (SQLException e) {
                  failure.compareAndSet(null, e);
                } finally {
                  for (Connection c : held) {
                    try {
                      c.close();
                    } catch (SQLException e) {
                      failure.compareAndSet(null, e);
                    }
                  }
                }
              },
              "mux-first-use");
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
    for (Thread t : threads) {
      t.join(TimeUnit.MINUTES.toMillis(3));
    }
    if (failure.get() != null) {
      throw new IllegalStateException(
          "a client connection failed its first transaction: " + failure.get(), failure.get());
    }
  }

  private static void work(
      List<HikariDataSource> fleet,
      int worker,
      int rows,
      long[] window,
      Histogram all,
      AtomicLong errors,
      AtomicReference<String> firstError) {
    Histogram mine = new Histogram(1, TimeUnit.SECONDS.toMicros(60), 3);
    ThreadLocalRandom random = ThreadLocalRandom.current();
    for (int i = 0; ; i++) {
      long t0 = System.nanoTime();
      if (t0 >= window[1]) {
        break;
      }
      try (Connection c = fleet.get((worker + i) % fleet.size()).getConnection()) {
        transaction(c, 1 + random.nextInt(rows));
      } catch (SQLException e) {
        errors.incrementAndGet();
        firstError.compareAndSet(null, e.getMessage());
        continue;
      }
      long t1 = System.nanoTime();
      if (t0 >= window[0] && t1 <= window[1]) {
        mine.recordValue(Math.max(1, (t1 - t0) / 1000));
      }
    }
    synchronized (all) {
      all.add(mine);
    }
  }

  private static void transaction(Connection c, int id) throws SQLException {
    try (Statement plain = c.createStatement();
        PreparedStatement select = c.prepareStatement(SELECT);
        PreparedStatement update = c.prepareStatement(UPDATE)) {
      plain.execute("BEGIN");
      try {
        select.setInt(1, id);
        try (ResultSet rs = select.executeQuery()) {
          if (!rs.next()) {
            throw new SQLException("row " + id + " of sbtest1 is missing");
          }
        }
        update.setInt(1, id);
        update.executeUpdate();
        plain.execute("COMMIT");
      } catch (SQLException e) {
        plain.execute("ROLLBACK");
        throw e;
      }
    }
  }

  private static void sleepUntil(long nanoTime) {
    long left = nanoTime - System.nanoTime();
    if (left > 0) {
      Procs.sleep(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
    }
  }
}
