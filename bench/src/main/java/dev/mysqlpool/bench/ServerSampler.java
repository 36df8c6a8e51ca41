package dev.mysqlpool.bench;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Samples the server's {@code Threads_connected} on its own root connection while a case runs, and
 * reads {@code Max_used_connections} at the end. The case starts with {@code FLUSH STATUS}, which
 * in MariaDB resets {@code Max_used_connections} to the current count, so the figure is per case.
 * Both figures exclude the sampler's own connection.
 *
 * <p>Use from one thread: {@link #start()}, then {@link #stop()}.
 */
final class ServerSampler {
  private static final String SQL =
      "SHOW GLOBAL STATUS WHERE Variable_name IN "
          + "('Threads_connected', 'Max_used_connections')";

  private final Connection root;
  private final long periodMillis;
  private volatile boolean running;
  private volatile int maxThreadsConnected;
  private volatile String error;
  private Thread thread;

  /**
   * @param root an open root connection that this sampler uses alone until {@link #stop()}
   */
  ServerSampler(Connection root, long periodMillis) {
    this.root = root;
    this.periodMillis = periodMillis;
  }

  /** FLUSH STATUS, then sample in a daemon thread. */
  void start() throws SQLException {
    try (Statement s = root.createStatement()) {
      s.execute("FLUSH STATUS");
    }
    maxThreadsConnected = 0;
    running = true;
    thread = new Thread(this::loop, "server-sampler");
    thread.setDaemon(true);
    thread.start();
  }

  private void loop() {
    while (running) {
      try {
        int[] v = read();
        if (v[0] > maxThreadsConnected) {
          maxThreadsConnected = v[0];
        }
      } catch (SQLException e) {
        error = e.getMessage();
        return;
      }
      Procs.sleep(periodMillis);
    }
  }

  /** {Threads_connected, Max_used_connections}, both without the sampler's own connection. */
  private int[] read() throws SQLException {
    int threads = -1;
    int maxUsed = -1;
    try (Statement s = root.createStatement();
        ResultSet rs = s.executeQuery(SQL)) {
      while (rs.next()) {
        if (rs.getString(1).equalsIgnoreCase("Threads_connected")) {
          threads = Integer.parseInt(rs.getString(2)) - 1;
        } else {
          maxUsed = Integer.parseInt(rs.getString(2)) - 1;
        }
      }
    }
    return new int[] {threads, maxUsed};
  }

  /** Stops sampling and returns {max Threads_connected seen, Max_used_connections}. */
  int[] stop() throws SQLException {
    running = false;
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (error != null) {
      throw new SQLException("the Threads_connected sampler failed: " + error);
    }
    int[] last = read();
    return new int[] {Math.max(maxThreadsConnected, last[0]), last[1]};
  }
}
