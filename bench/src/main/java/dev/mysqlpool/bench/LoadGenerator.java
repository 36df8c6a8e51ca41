package dev.mysqlpool.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Histogram;

/**
 * Closed-loop load: each client thread holds its own JDBC connection (MariaDB Connector/J, text
 * protocol) and sends the next statement as soon as the last one is answered. Latency is recorded
 * per operation in an HdrHistogram (1 µs to 60 s, 3 significant digits), only for operations that
 * start and end inside the measured window.
 */
final class LoadGenerator {
  /** What one operation is. */
  enum Workload {
    /** {@code SELECT c FROM sbtest1 WHERE id=?}: one statement per operation. */
    POINT_SELECT("point select", 1),
    /**
     * BEGIN; point select; UPDATE sbtest1 SET k=k+1 WHERE id=?; COMMIT: four statements per
     * operation.
     */
    READ_WRITE("read-write txn", 4);

    final String label;
    final int statements;

    Workload(String label, int statements) {
      this.label = label;
      this.statements = statements;
    }
  }

  /** One measured window; latencies in microseconds. */
  record Result(
      long operations,
      double seconds,
      double qps,
      long p50,
      long p95,
      long p99,
      long errors,
      String firstError) {}

  private final int rows;
  private final int reconnectEvery;

  /**
   * @param rows ids are drawn uniformly from 1..rows
   */
  LoadGenerator(int rows) {
    this(rows, 0);
  }

  /**
   * @param reconnectEvery after this many operations a client closes its connection and opens a new
   *     one, preparing its statements again (as an application whose pool retires connections); 0:
   *     one connection for the whole run
   */
  LoadGenerator(int rows, int reconnectEvery) {
    this.rows = rows;
    this.reconnectEvery = reconnectEvery;
  }

  /**
   * Connects {@code clients} threads to {@code url}, lets each run one operation, then runs for
   * {@code warmupMillis} unmeasured and {@code measureMillis} measured, and closes the connections.
   * Bounded: threads stop at the window's end and are abandoned (daemon) if a statement hangs 30 s
   * past it.
   */
  Result run(
      String url,
      String user,
      String password,
      Workload workload,
      int clients,
      long warmupMillis,
      long measureMillis)
      throws InterruptedException {
    CountDownLatch connected = new CountDownLatch(clients);
    CountDownLatch go = new CountDownLatch(1);
    long[] window = new long[2];
    List<Histogram> histograms = new ArrayList<>();
    long[][] errors = new long[clients][1];
    AtomicReference<String> firstError = new AtomicReference<>();
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < clients; i++) {
      Histogram h = new Histogram(1, TimeUnit.SECONDS.toMicros(60), 3);
      histograms.add(h);
      long[] err = errors[i];
      Thread t =
          new Thread(
              null,
              () ->
                  client(url, user, password, workload, connected, go, window, h, err, firstError),
              "load-" + i,
              256 * 1024);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
    if (!connected.await(120, TimeUnit.SECONDS)) {
      throw new IllegalStateException(
          connected.getCount()
              + " of "
              + clients
              + " clients did not connect to "
              + url
              + " within 120s");
    }
    long now = System.nanoTime();
    window[0] = now + TimeUnit.MILLISECONDS.toNanos(warmupMillis);
    window[1] = window[0] + TimeUnit.MILLISECONDS.toNanos(measureMillis);
    go.countDown();
    long joinDeadline = window[1] + TimeUnit.SECONDS.toNanos(30);
    for (Thread t : threads) {
      t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(joinDeadline - System.nanoTime())));
    }
    Histogram all = new Histogram(1, TimeUnit.SECONDS.toMicros(60), 3);
    long errorCount = 0;
    for (int i = 0; i < clients; i++) {
      synchronized (histograms.get(i)) {
        all.add(histograms.get(i));
      }
      errorCount += errors[i][0];
    }
    double seconds = measureMillis / 1000.0;
    long ops = all.getTotalCount();
    return new Result(
        ops,
        seconds,
        ops * workload.statements / seconds,
        all.getValueAtPercentile(50),
        all.getValueAtPercentile(95),
        all.getValueAtPercentile(99),
        errorCount,
        firstError.get());
  }

  private void client(
      String url,
      String user,
      String password,
      Workload workload,
      CountDownLatch connected,
      CountDownLatch go,
      long[] window,
      Histogram h,
      long[] errors,
      AtomicReference<String> firstError) {
    Connection c = null;
    try {
      c = DriverManager.getConnection(url, user, password);
      PreparedStatement select = c.prepareStatement("SELECT c FROM sbtest1 WHERE id=?");
      PreparedStatement update = c.prepareStatement("UPDATE sbtest1 SET k=k+1 WHERE id=?");
      Statement plain = c.createStatement();
      once(workload, select, update, plain);
      connected.countDown();
      go.await();
      long start = window[0];
      long end = window[1];
      ThreadLocalRandom random = ThreadLocalRandom.current();
      long operations = 0;
      while (true) {
        long t0 = System.nanoTime();
        if (t0 >= end) {
          break;
        }
        try {
          if (reconnectEvery > 0 && ++operations % reconnectEvery == 0) {
            // Counted in the operation's latency, as an application would wait for it.
            c.close();
            c = DriverManager.getConnection(url, user, password);
            select = c.prepareStatement("SELECT c FROM sbtest1 WHERE id=?");
            update = c.prepareStatement("UPDATE sbtest1 SET k=k+1 WHERE id=?");
            plain = c.createStatement();
          }
          if (workload == Workload.POINT_SELECT) {
            pointSelect(select, 1 + random.nextInt(rows));
          } else {
            transaction(select, update, plain, 1 + random.nextInt(rows));
          }
        } catch (SQLException e) {
          errors[0]++;
          firstError.compareAndSet(null, e.getMessage());
          if (errors[0] > 1000) {
            return;
          }
          continue;
        }
        long t1 = System.nanoTime();
        if (t0 >= start && t1 <= end) {
          synchronized (h) {
            h.recordValue(Math.max(1, (t1 - t0) / 1000));
          }
        }
      }
    } catch (SQLException e) {
      errors[0]++;
      firstError.compareAndSet(null, "connect/setup: " + e.getMessage());
      connected.countDown();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      if (c != null) {
        try {
          c.close(); // closes its statements
        } catch (SQLException e) {
          // the measurement is over
        }
      }
    }
  }

  private void once(
      Workload workload, PreparedStatement select, PreparedStatement update, Statement plain)
      throws SQLException {
    if (workload == Workload.POINT_SELECT) {
      pointSelect(select, 1);
    } else {
      transaction(select, update, plain, 1);
    }
  }

  private static void pointSelect(PreparedStatement select, int id) throws SQLException {
    select.setInt(1, id);
    try (ResultSet rs = select.executeQuery()) {
      if (!rs.next()) {
        throw new SQLException("row " + id + " of sbtest1 is missing");
      }
      rs.getString(1);
    }
  }

  private static void transaction(
      PreparedStatement select, PreparedStatement update, Statement plain, int id)
      throws SQLException {
    plain.execute("BEGIN");
    try {
      pointSelect(select, id);
      update.setInt(1, id);
      update.executeUpdate();
      plain.execute("COMMIT");
    } catch (SQLException e) {
      plain.execute("ROLLBACK");
      throw e;
    }
  }

  /** Opens a connection, for scenario code. */
  static Connection connect(String url, String user, String password) throws SQLException {
    return DriverManager.getConnection(url, user, password);
  }
}
