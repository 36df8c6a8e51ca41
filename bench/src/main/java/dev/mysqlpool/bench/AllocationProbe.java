package dev.mysqlpool.bench;

import dev.mysqlpool.proxy.ProxyServer;
import dev.mysqlpool.proxy.backend.PoolStats;
import dev.mysqlpool.proxy.config.ConfigLoader;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import java.lang.management.ManagementFactory;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Issue 16's allocation figure: the bytes the proxy's event loops allocate per statement, read from
 * {@code com.sun.management.ThreadMXBean#getThreadAllocatedBytes} of those threads before and after
 * a fixed number of statements. Unlike throughput, it does not depend on what else the machine
 * runs, so it is the number to decide hot-path changes by.
 *
 * <p>The real proxy runs in this JVM ({@link ProxyServer#start}) in front of the embedded MariaDB,
 * once in session mode and once in transaction mode; client threads (MariaDB Connector/J, text
 * protocol, the steady-load section's statements on a table of their own) first warm it up, then
 * run the measured statements. Only the proxy's Netty threads are counted (the clients' threads are
 * not), and the proxy's idle allocation over the same time (its housekeeping timers) is reported
 * beside it. Also reported: backend connections lent per statement, and the share of those lends
 * that crossed event loops (a connection lent to a client on another loop: each of its packets then
 * costs a task hand-off and a wakeup each way).
 *
 * <p>Run from {@code bench/run.sh} (section {@code alloc}) or alone: {@code java -cp
 * "bench/target-bench/classes:$(cat bench/target-bench/classpath.txt)"
 * dev.mysqlpool.bench.AllocationProbe [clients] [statements]}.
 */
public final class AllocationProbe {
  /** Threads of the proxy's event loop groups (Netty's default thread factory names them so). */
  private static final String LOOP_THREAD_PREFIX = "multiThreadIoEventLoopGroup";

  private static final int ROWS = 1000;

  private static final String TABLE = "alloc_probe";

  /** What one client operation is. */
  enum Workload {
    POINT_SELECT("point select", 1),
    READ_WRITE("read-write txn", 4);

    final String label;
    final int statements;

    Workload(String label, int statements) {
      this.label = label;
      this.statements = statements;
    }
  }

  /** One measured case. */
  record Result(
      String mode,
      Workload workload,
      int clients,
      long statements,
      double bytesPerStatement,
      double idleBytesPerSecond,
      double seconds,
      double lendsPerStatement,
      double crossLoopShare) {}

  private AllocationProbe() {}

  /**
   * Runs every case once and prints the table. Args: [clients] [statements per case] [modes, comma
   * separated: session,transaction] [sites: also record each measured phase with JFR and list where
   * the proxy's threads allocated].
   */
  public static void main(String[] args) throws Exception {
    int clients = args.length > 0 ? Integer.parseInt(args[0]) : 32;
    long statements = args.length > 1 ? Long.parseLong(args[1]) : 100_000;
    List<String> modes =
        args.length > 2 ? List.of(args[2].split(",")) : List.of("session", "transaction");
    boolean sites = args.length > 3 && args[3].equals("sites");
    System.out.print(run(EmbeddedMariaDb.shared(), clients, statements, modes, sites));
    System.exit(0);
  }

  /** Runs the modes with both workloads and returns the section as Markdown. */
  static String run(
      EmbeddedMariaDb db, int clients, long statements, List<String> modes, boolean sites)
      throws Exception {
    createTable(db);
    List<Result> results = new ArrayList<>();
    StringBuilder siteTables = new StringBuilder();
    for (String mode : modes) {
      for (Workload w : Workload.values()) {
        AllocationSites recording = sites ? new AllocationSites(LOOP_THREAD_PREFIX) : null;
        Result r = measure(db, mode, w, clients, statements, recording);
        results.add(r);
        if (recording != null) {
          siteTables
              .append("\n### Where: ")
              .append(mode)
              .append(", ")
              .append(w.label)
              .append("\n\n")
              .append(recording.table(r.statements()));
        }
      }
    }
    StringBuilder md = new StringBuilder();
    md.append("\n## Allocation per statement (issue 16)\n\n");
    md.append(
        String.format(
            Locale.ROOT,
            "The proxy in this JVM on %d event loops, %d clients (MariaDB Connector/J, text"
                + " protocol), %,d statements per case after as many to warm up; bytes the proxy's"
                + " event-loop threads allocated (ThreadMXBean), divided by statements.%n%n",
            Runtime.getRuntime().availableProcessors(),
            clients,
            statements));
    md.append(
        "| mode | workload | bytes/statement | idle bytes/s | lends/statement | lends across loops"
            + " |\n|---|---|---|---|---|---|\n");
    for (Result r : results) {
      md.append(
          String.format(
              Locale.ROOT,
              "| %s | %s | %,.0f | %,.0f | %.3f | %.1f%% |%n",
              r.mode(),
              r.workload().label,
              r.bytesPerStatement(),
              r.idleBytesPerSecond(),
              r.lendsPerStatement(),
              100 * r.crossLoopShare()));
    }
    return md.append(siteTables).toString();
  }

  private static Result measure(
      EmbeddedMariaDb db,
      String mode,
      Workload workload,
      int clients,
      long statements,
      AllocationSites sites)
      throws Exception {
    String yaml =
        "listen: {host: 127.0.0.1, port: 0}\n"
            + "admin: {host: 127.0.0.1, port: 0}\n"
            + "backends:\n  - {name: primary, host: 127.0.0.1, port: "
            + db.port()
            + ", tls: {mode: disabled}}\n"
            + "users:\n  - {name: "
            + EmbeddedMariaDb.APP_USER
            + ", password: "
            + EmbeddedMariaDb.APP_PASSWORD
            + "}\n"
            + "pool: {mode: "
            + mode
            + ", maxConnections: "
            + (mode.equals("session") ? clients + 8 : Math.min(clients, 32))
            + ", acquireTimeout: 30s}\n";
    ProxyServer proxy = ProxyServer.start(ConfigLoader.parse(yaml, null));
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    List<Connection> connections = new ArrayList<>();
    try {
      String url =
          EmbeddedMariaDb.jdbcUrl("127.0.0.1", proxy.listenPort(), EmbeddedMariaDb.APP_DATABASE);
      for (int i = 0; i < clients; i++) {
        connections.add(
            DriverManager.getConnection(
                url, EmbeddedMariaDb.APP_USER, EmbeddedMariaDb.APP_PASSWORD));
      }
      long operations = statements / workload.statements;
      drive(pool, connections, workload, operations);
      long[] idle = idleAllocation();
      PoolStats before = proxy.pool("primary").stats();
      Map<Long, Long> start = loopThreadAllocations();
      if (sites != null) {
        sites.start();
      }
      long t0 = System.nanoTime();
      drive(pool, connections, workload, operations);
      double seconds = (System.nanoTime() - t0) / 1e9;
      Map<Long, Long> end = loopThreadAllocations();
      if (sites != null) {
        sites.stop();
      }
      PoolStats after = proxy.pool("primary").stats();
      long allocated = 0;
      for (Map.Entry<Long, Long> e : end.entrySet()) {
        allocated += e.getValue() - start.getOrDefault(e.getKey(), 0L);
      }
      long done = operations * workload.statements;
      double idlePerSecond = idle[0] / (idle[1] / 1e9);
      long lends = after.acquired() - before.acquired();
      return new Result(
          mode,
          workload,
          clients,
          done,
          (allocated - idlePerSecond * seconds) / done,
          idlePerSecond,
          seconds,
          (double) lends / done,
          // Over the proxy's whole life: a session-mode client borrows once, at its first command.
          (double) after.lentAcrossLoops() / after.acquired());
    } finally {
      for (Connection c : connections) {
        try {
          c.close();
        } catch (SQLException e) {
          // the measurement is over
        }
      }
      pool.shutdownNow();
      proxy.close();
    }
  }

  /** Bytes the proxy's loops allocate while no client sends anything, and over how many nanos. */
  private static long[] idleAllocation() throws InterruptedException {
    Map<Long, Long> start = loopThreadAllocations();
    long t0 = System.nanoTime();
    Thread.sleep(2000);
    Map<Long, Long> end = loopThreadAllocations();
    long bytes = 0;
    for (Map.Entry<Long, Long> e : end.entrySet()) {
      bytes += e.getValue() - start.getOrDefault(e.getKey(), 0L);
    }
    return new long[] {bytes, System.nanoTime() - t0};
  }

  /** Every client runs operations from a shared count until {@code operations} are done. */
  private static void drive(
      ExecutorService pool, List<Connection> connections, Workload workload, long operations)
      throws Exception {
    AtomicLong left = new AtomicLong(operations);
    List<Future<?>> running = new ArrayList<>();
    for (Connection c : connections) {
      running.add(
          pool.submit(
              () -> {
                try (PreparedStatement select =
                        c.prepareStatement("SELECT c FROM " + TABLE + " WHERE id=?");
                    PreparedStatement update =
                        c.prepareStatement("UPDATE " + TABLE + " SET k=k+1 WHERE id=?");
                    Statement plain = c.createStatement()) {
                  ThreadLocalRandom random = ThreadLocalRandom.current();
                  while (left.getAndDecrement() > 0) {
                    int id = 1 + random.nextInt(ROWS);
                    if (workload == Workload.POINT_SELECT) {
                      pointSelect(select, id);
                    } else {
                      plain.execute("BEGIN");
                      pointSelect(select, id);
                      update.setInt(1, id);
                      update.executeUpdate();
                      plain.execute("COMMIT");
                    }
                  }
                }
                return null;
              }));
    }
    for (Future<?> f : running) {
      f.get(10, TimeUnit.MINUTES);
    }
  }

  private static void pointSelect(PreparedStatement select, int id) throws SQLException {
    select.setInt(1, id);
    try (ResultSet rs = select.executeQuery()) {
      if (!rs.next()) {
        throw new SQLException("row " + id + " of " + TABLE + " is missing");
      }
      rs.getString(1);
    }
  }

  /** Allocated bytes so far of each live thread of the proxy's event loops, by thread id. */
  private static Map<Long, Long> loopThreadAllocations() {
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    Map<Long, Long> out = new LinkedHashMap<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().startsWith(LOOP_THREAD_PREFIX)) {
        long bytes = threads.getThreadAllocatedBytes(t.getId());
        if (bytes >= 0) {
          out.put(t.getId(), bytes);
        }
      }
    }
    return out;
  }

  /** sysbench's table layout, {@value #ROWS} rows (created once per server). */
  private static void createTable(EmbeddedMariaDb db) throws SQLException {
    try (Connection c = db.appConnection();
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE IF NOT EXISTS "
              + TABLE
              + " (id INT NOT NULL AUTO_INCREMENT, k INT NOT NULL DEFAULT 0,"
              + " c CHAR(120) NOT NULL DEFAULT '', pad CHAR(60) NOT NULL DEFAULT '',"
              + " PRIMARY KEY (id), KEY k_1 (k)) ENGINE=InnoDB");
      try (ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM " + TABLE)) {
        rs.next();
        if (rs.getLong(1) == ROWS) {
          return;
        }
      }
      s.execute("DELETE FROM " + TABLE);
      StringBuilder sql = new StringBuilder("INSERT INTO " + TABLE + " (id, k, c, pad) VALUES ");
      ThreadLocalRandom random = ThreadLocalRandom.current();
      for (int id = 1; id <= ROWS; id++) {
        sql.append(id == 1 ? "" : ",")
            .append('(')
            .append(id)
            .append(',')
            .append(random.nextInt(ROWS))
            .append(",'")
            .append(String.format(Locale.ROOT, "%0120d", random.nextLong(Long.MAX_VALUE)))
            .append("','")
            .append(String.format(Locale.ROOT, "%060d", random.nextLong(Long.MAX_VALUE)))
            .append("')");
      }
      s.execute(sql.toString());
    }
  }
}
