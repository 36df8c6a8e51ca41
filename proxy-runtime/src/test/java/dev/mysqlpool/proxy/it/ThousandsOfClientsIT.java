package dev.mysqlpool.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.management.UnixOperatingSystemMXBean;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.mysqlpool.proxy.ProxyServer;
import dev.mysqlpool.proxy.backend.PoolStats;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The multiplexing promise of {@code pool.mode: transaction} at the scale users run it: 2,000
 * client connections, held open by 20 HikariCP pools of 100 on MySQL Connector/J, running short
 * transactions through a proxy with {@code maxConnections: 20}. The server never sees more than 20
 * sessions of the application user, and its {@code Threads_connected} never more than those 20 plus
 * this test's one monitor connection; every transaction commits, and the database holds exactly
 * what was committed.
 *
 * <p>Runs in about 35 s on 2 cores. The test JVM holds both ends of the 2,000 client connections
 * (drivers and proxy), so it needs more than 4,000 file descriptors (checked first). The heap in
 * use after a full GC is logged at the end: about 150 MiB with all 2,000 open, well within
 * failsafe's default maximum heap (a quarter of the machine's memory), so the build sets none.
 */
@ExtendWith(LeakGuard.class)
class ThousandsOfClientsIT {
  private static final Logger log = LoggerFactory.getLogger(ThousandsOfClientsIT.class);

  private static final int POOLS = 20;
  private static final int PER_POOL = 100;
  private static final int CLIENTS = POOLS * PER_POOL;
  private static final int MAX_CONNECTIONS = 20;

  /**
   * Application threads sharing the 20 pools: far fewer than connections, as in a real fleet of
   * services.
   */
  private static final int WORKERS = 64;

  private static final Duration LOAD = Duration.ofSeconds(10);

  /**
   * Server sessions that are not the proxy's while the clients run: exactly one, the sampler's own
   * root connection (it counts itself in {@code Threads_connected}). The test opens no other
   * connection to the server until the sampler has stopped, and the proxy opens none outside its
   * pool (its KILL side connection is only used when a client goes away mid-statement, which
   * nothing here does).
   */
  private static final int MONITOR_SESSIONS = 1;

  private static EmbeddedMariaDb db;
  private ProxyHarness proxy;
  private final List<HikariDataSource> pools = new ArrayList<>();

  @BeforeAll
  static void server() {
    db = EmbeddedMariaDb.shared();
  }

  @AfterEach
  void cleanUp() {
    for (HikariDataSource ds : pools) {
      ds.close();
    }
    pools.clear();
    if (proxy != null) {
      proxy.close();
    }
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () ->
                assertThat(db.threadIds(EmbeddedMariaDb.APP_USER))
                    .as(
                        "the application user's sessions left on the server after the proxy stopped")
                    .isEmpty());
    db.execute("DROP TABLE IF EXISTS app.mux_counter", "DROP TABLE IF EXISTS app.mux_touch");
  }

  /** The peaks the sampler saw while the pools filled and the clients ran. */
  private static final class Peaks {
    final AtomicInteger threadsConnected = new AtomicInteger();
    final AtomicInteger appSessions = new AtomicInteger();
    final AtomicInteger poolTotal = new AtomicInteger();
    final AtomicInteger samples = new AtomicInteger();

    /** Clients the proxy held at the lowest point while the workers ran. */
    final AtomicInteger minClientConnections = new AtomicInteger(Integer.MAX_VALUE);

    volatile boolean loadRunning;
    final AtomicReference<Throwable> error = new AtomicReference<>();

    /** What the server listed when Threads_connected was above the bound (the first few times). */
    final ConcurrentLinkedQueue<String> overBound = new ConcurrentLinkedQueue<>();
  }

  /** Which driver each of the 20 HikariCP pools uses. */
  private enum Fleet {
    /**
     * Every pool on MySQL Connector/J, the usual HikariCP pairing: every client asks for the same
     * session.
     */
    CONNECTOR_J,
    /**
     * Even pools on MySQL Connector/J, odd ones on MariaDB Connector/J: two kinds of session in one
     * proxy.
     */
    TWO_DRIVERS
  }

  @Test
  void twoThousandHikariClientsRunShortTransactionsOverTwentyServerConnections() throws Exception {
    run(Fleet.CONNECTOR_J);
  }

  /**
   * The same with half the pools on each Java driver. The two drivers log in with different
   * capability flags (CLIENT_DEPRECATE_EOF) and collations (255 and 45), so the pool keeps their
   * backend connections apart; a connection handed back while only the other driver's clients wait
   * must stay for its own kind rather than be closed to make room (which once cost 805 and 1,324
   * extra logins for about 5,500 transactions, a quarter of the throughput, and a server briefly
   * above the bound while closed sessions were reaped).
   */
  @Test
  void twoThousandClientsOfTwoDriversShareTwentyServerConnectionsWithoutChurn() throws Exception {
    run(Fleet.TWO_DRIVERS);
  }

  private void run(Fleet fleet) throws Exception {
    OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof UnixOperatingSystemMXBean unix) {
      assertThat(unix.getMaxFileDescriptorCount())
          .as(
              "file descriptors available to the test JVM, which holds both ends of %d client connections (raise"
                  + " ulimit -n)",
              CLIENTS)
          .isGreaterThan(2L * CLIENTS + 500);
    }
    createTables();

    Load load;
    try (Connection monitor = db.rootConnection()) {
      // Nothing but the sampler may be connected when counting starts, or the bound below would be
      // off.
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThat(threadsConnected(monitor))
                      .as("server sessions before the proxy starts: only the sampler's own")
                      .isEqualTo(MONITOR_SESSIONS));
      proxy =
          ProxyHarness.start(
              db,
              "pool: {mode: transaction, maxConnections: "
                  + MAX_CONNECTIONS
                  + ", acquireTimeout: 30s}\nfrontend: {maxClientConnections: "
                  + (CLIENTS + 100)
                  + "}\n");
      Peaks peaks = new Peaks();
      ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
      Future<?> sampling =
          sampler.scheduleWithFixedDelay(
              () -> sample(monitor, peaks), 0, 10, TimeUnit.MILLISECONDS);
      long heapUsed;
      try {
        long t0 = System.nanoTime();
        openPools(fleet);
        log.info(
            "{} client connections open in {} ms", CLIENTS, (System.nanoTime() - t0) / 1_000_000);
        t0 = System.nanoTime();
        Set<Connection> used = useEveryConnectionOnce();
        log.info(
            "every client connection ran a transaction, in {} ms",
            (System.nanoTime() - t0) / 1_000_000);
        assertThat(used).as("distinct client connections that ran a transaction").hasSize(CLIENTS);

        load = runLoad(peaks);

        JsonNode stats = new ObjectMapper().readTree(get("/stats"));
        assertThat(stats.get("clientConnections").asInt())
            .as("clients the proxy holds once the load ended")
            .isEqualTo(CLIENTS);
        assertThat(stats.get("poolMode").asText()).isEqualTo("transaction");
        heapUsed = heapUsedAfterGc();
      } finally {
        sampling.cancel(false);
        sampler.shutdown();
        assertThat(sampler.awaitTermination(10, TimeUnit.SECONDS))
            .as("the sampler stopped")
            .isTrue();
      }

      PoolStats pool = proxy.server.pool("primary").stats();
      log.info(
          "{} clients in {} HikariCP pools, {} workers, {} s: {} transactions committed ({} per second);"
              + " server peaks: Threads_connected {} (with {} monitor), app sessions {}; proxy pool maxUsed {},"
              + " {} backend connections created and {} destroyed; test JVM heap after GC {} MiB of {} MiB max",
          CLIENTS,
          POOLS,
          WORKERS,
          LOAD.toSeconds(),
          load.committed.get(),
          load.committed.get() / LOAD.toSeconds(),
          peaks.threadsConnected.get(),
          MONITOR_SESSIONS,
          peaks.appSessions.get(),
          pool.maxUsed(),
          pool.created(),
          pool.destroyed(),
          heapUsed >> 20,
          Runtime.getRuntime().maxMemory() >> 20);
      assertThat(peaks.error.get()).as("sampler failure").isNull();
      assertThat(load.errors).as("failed transactions (first 10)").isEmpty();
      assertThat(peaks.minClientConnections.get())
          .as("clients the proxy held at the lowest point of the load")
          .isEqualTo(CLIENTS);
      assertThat(peaks.samples.get()).as("samples of the server taken").isGreaterThan(10);
      assertThat(peaks.appSessions.get())
          .as(
              "the application user's sessions on the server (information_schema.PROCESSLIST), at most")
          .isLessThanOrEqualTo(MAX_CONNECTIONS);
      assertThat(peaks.threadsConnected.get())
          .as(
              "Threads_connected at most: maxConnections %d plus %d monitor session(s)",
              MAX_CONNECTIONS, MONITOR_SESSIONS)
          .withFailMessage(
              () ->
                  "Threads_connected reached "
                      + peaks.threadsConnected.get()
                      + ", above maxConnections "
                      + MAX_CONNECTIONS
                      + " plus "
                      + MONITOR_SESSIONS
                      + " monitor session(s); the server listed:\n"
                      + String.join("\n", peaks.overBound))
          .isLessThanOrEqualTo(MAX_CONNECTIONS + MONITOR_SESSIONS);
      assertThat(pool.maxUsed())
          .as("backend connections in use at once")
          .isLessThanOrEqualTo(MAX_CONNECTIONS);
      assertThat(peaks.poolTotal.get())
          .as("backend connections open at once")
          .isLessThanOrEqualTo(MAX_CONNECTIONS);
      assertThat(pool.acquireTimeouts())
          .as("clients that waited longer than acquireTimeout")
          .isZero();
      // Every login the proxy repeats is a moment where the server may still count the session it
      // replaces. One is
      // expected: the first client's greeting needs the server's version before any client's
      // session settings are
      // known, so that connection is opened with the proxy's guess, which Connector/J's settings do
      // not match; it is
      // closed once the pool is full and a client needs its slot.
      assertThat(pool.created())
          .as("backend connections the proxy opened in the whole run (%d closed)", pool.destroyed())
          .isLessThanOrEqualTo(MAX_CONNECTIONS + 1);
      // No session was pinned during the run; a temporary table pins one, which shows the counter.
      try (Connection c = proxy.mysql("");
          Statement s = c.createStatement()) {
        s.execute("CREATE TEMPORARY TABLE pin_probe (v INT)");
      }
      assertThat(MetricsScrape.of(proxy).family("mysqlpool_session_pins_total"))
          .as("sessions pinned to a backend connection, by reason: only the probe's")
          .containsExactly(Map.entry("{reason=\"temporary_table\"}", 1.0));
    }

    // What the database holds is exactly what the workers committed, row by row.
    try (Connection root = db.rootConnection();
        Statement s = root.createStatement()) {
      long total = 0;
      try (ResultSet rs = s.executeQuery("SELECT id, n FROM app.mux_counter ORDER BY id")) {
        while (rs.next()) {
          int worker = rs.getInt(1);
          assertThat(rs.getLong(2))
              .as("committed increments of worker %d", worker)
              .isEqualTo(load.perWorker[worker]);
          total += rs.getLong(2);
        }
      }
      assertThat(total).as("increments in the table").isEqualTo(load.committed.get());
      try (ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM app.mux_touch WHERE touched = 1")) {
        rs.next();
        assertThat(rs.getInt(1))
            .as("rows touched exactly once, one per client connection")
            .isEqualTo(CLIENTS);
      }
    }

    for (HikariDataSource ds : pools) {
      ds.close();
    }
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () ->
                assertThat(proxy.server.stats().clientConnections())
                    .as("clients the proxy still holds after every pool closed")
                    .isZero());
  }

  // ------------------------------------------------------------------------------------------------------ phases

  private static void createTables() {
    StringBuilder touch = new StringBuilder("INSERT INTO app.mux_touch (id, touched) VALUES ");
    for (int i = 0; i < CLIENTS; i++) {
      touch.append(i == 0 ? "" : ",").append('(').append(i).append(",0)");
    }
    StringBuilder counter = new StringBuilder("INSERT INTO app.mux_counter (id, n) VALUES ");
    for (int w = 0; w < WORKERS; w++) {
      counter.append(w == 0 ? "" : ",").append('(').append(w).append(",0)");
    }
    db.execute(
        "DROP TABLE IF EXISTS app.mux_counter",
        "DROP TABLE IF EXISTS app.mux_touch",
        "CREATE TABLE app.mux_counter (id INT PRIMARY KEY, n BIGINT NOT NULL) ENGINE=InnoDB",
        "CREATE TABLE app.mux_touch (id INT PRIMARY KEY, touched INT NOT NULL) ENGINE=InnoDB",
        counter.toString(),
        touch.toString());
  }

  /**
   * 20 pools that each hold 100 connections open from the start, as HikariCP does with minimumIdle
   * = max.
   */
  private void openPools(Fleet fleet) {
    for (int p = 0; p < POOLS; p++) {
      HikariConfig cfg = new HikariConfig();
      cfg.setJdbcUrl(
          fleet == Fleet.TWO_DRIVERS && p % 2 == 1 ? proxy.mariadbUrl("") : proxy.mysqlUrl(""));
      cfg.setUsername(EmbeddedMariaDb.APP_USER);
      cfg.setPassword(EmbeddedMariaDb.APP_PASSWORD);
      cfg.setPoolName("mux-" + p);
      cfg.setMaximumPoolSize(PER_POOL);
      cfg.setMinimumIdle(PER_POOL);
      cfg.setConnectionTimeout(30_000);
      pools.add(new HikariDataSource(cfg));
    }
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () -> {
              for (HikariDataSource ds : pools) {
                assertThat(ds.getHikariPoolMXBean().getTotalConnections())
                    .as("connections open in %s", ds.getPoolName())
                    .isEqualTo(PER_POOL);
              }
              assertThat(proxy.server.stats().clientConnections())
                  .as("clients the proxy holds")
                  .isEqualTo(CLIENTS);
            });
  }

  /**
   * HikariCP lends the most recently used idle connection first, so a load alone would leave most
   * of the 2,000 untouched. Each pool lends all 100 at once here, and each runs one transaction;
   * returns the driver connections.
   */
  private Set<Connection> useEveryConnectionOnce() throws Exception {
    Set<Connection> used =
        Collections.synchronizedSet(Collections.newSetFromMap(new IdentityHashMap<>()));
    ExecutorService runners = Executors.newFixedThreadPool(POOLS);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int p = 0; p < POOLS; p++) {
        HikariDataSource ds = pools.get(p);
        int base = p * PER_POOL;
        done.add(
            runners.submit(
                () -> {
                  List<Connection> held = new ArrayList<>();
                  try {
                    for (int i = 0; i < PER_POOL; i++) {
                      held.add(ds.getConnection());
                    }
                    for (int i = 0; i < PER_POOL; i++) {
                      Connection c = held.get(i);
                      c.setAutoCommit(false);
                      try (PreparedStatement u =
                          c.prepareStatement(
                              "UPDATE mux_touch SET touched = touched + 1 WHERE id = ?")) {
                        u.setInt(1, base + i);
                        assertThat(u.executeUpdate()).isEqualTo(1);
                      }
                      c.commit();
                      used.add(c.unwrap(Connection.class));
                    }
                  } finally {
                    for (Connection c : held) {
                      c.close();
                    }
                  }
                  return null;
                }));
      }
      for (Future<?> f : done) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      runners.shutdownNow();
    }
    return used;
  }

  /** What the workers did; {@code perWorker[w]} is what row {@code w} of mux_counter must hold. */
  private static final class Load {
    final AtomicLong committed = new AtomicLong();
    final long[] perWorker = new long[WORKERS];
    final ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
  }

  /**
   * 64 workers for 10 s, each taking its next connection from the next pool in turn: BEGIN; UPDATE
   * its own row; SELECT it back (which must show exactly this worker's count so far); COMMIT. Even
   * workers use JDBC's setAutoCommit(false) and commit(), odd ones send BEGIN and COMMIT as
   * statements.
   */
  private Load runLoad(Peaks peaks) throws Exception {
    Load load = new Load();
    long end = System.nanoTime() + LOAD.toNanos();
    // The proxy must hold every client all the while: the sampler watches its count until the
    // workers are done.
    peaks.loadRunning = true;
    ExecutorService workers = Executors.newFixedThreadPool(WORKERS);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int w = 0; w < WORKERS; w++) {
        int worker = w;
        done.add(
            workers.submit(
                () -> {
                  for (int i = 0; System.nanoTime() < end && load.errors.size() < 10; i++) {
                    HikariDataSource ds = pools.get((worker + i) % POOLS);
                    try {
                      transaction(ds, worker, load.perWorker[worker] + 1);
                      load.perWorker[worker]++;
                      load.committed.incrementAndGet();
                    } catch (SQLException | AssertionError e) {
                      load.errors.add("worker " + worker + " via " + ds.getPoolName() + ": " + e);
                    }
                  }
                  return null;
                }));
      }
      // Mid-load, as an operator would see it on the admin endpoint.
      await().atMost(LOAD).until(() -> load.committed.get() >= WORKERS || !load.errors.isEmpty());
      JsonNode stats = new ObjectMapper().readTree(get("/stats"));
      assertThat(stats.get("clientConnections").asInt())
          .as("/stats clientConnections while the load runs")
          .isEqualTo(CLIENTS);
      assertThat(stats.get("backends").get(0).get("total").asInt())
          .as("/stats backend connections while the load" + " runs")
          .isLessThanOrEqualTo(MAX_CONNECTIONS);
      for (Future<?> f : done) {
        f.get(LOAD.toSeconds() + 60, TimeUnit.SECONDS);
      }
    } finally {
      peaks.loadRunning = false;
      workers.shutdownNow();
    }
    for (int w = 0; w < WORKERS; w++) {
      assertThat(load.perWorker[w]).as("transactions committed by worker %d", w).isPositive();
    }
    return load;
  }

  private static void transaction(HikariDataSource ds, int worker, long expected)
      throws SQLException {
    try (Connection c = ds.getConnection()) {
      boolean jdbcStyle = worker % 2 == 0;
      try (Statement s = c.createStatement()) {
        if (jdbcStyle) {
          c.setAutoCommit(false);
        } else {
          s.execute("BEGIN");
        }
        try {
          assertThat(s.executeUpdate("UPDATE mux_counter SET n = n + 1 WHERE id = " + worker))
              .isEqualTo(1);
          try (ResultSet rs = s.executeQuery("SELECT n FROM mux_counter WHERE id = " + worker)) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getLong(1))
                .as("worker %d's row inside its transaction", worker)
                .isEqualTo(expected);
          }
        } catch (SQLException | AssertionError e) {
          if (jdbcStyle) {
            c.rollback();
          } else {
            s.execute("ROLLBACK");
          }
          throw e;
        }
        if (jdbcStyle) {
          c.commit();
        } else {
          s.execute("COMMIT");
        }
      }
    }
  }

  // ----------------------------------------------------------------------------------------------------- helpers

  /** One sample on the monitor connection; runs on the sampler thread only. */
  private void sample(Connection monitor, Peaks peaks) {
    try {
      int threads = threadsConnected(monitor);
      peaks.threadsConnected.accumulateAndGet(threads, Math::max);
      if (threads > MAX_CONNECTIONS + MONITOR_SESSIONS && peaks.overBound.size() < 5) {
        StringBuilder b =
            new StringBuilder(
                "Threads_connected="
                    + threads
                    + " pool="
                    + proxy.server.pool("primary").stats()
                    + " processlist:");
        try (Statement s = monitor.createStatement();
            ResultSet rs =
                s.executeQuery(
                    "SELECT ID, USER, COMMAND, STATE, TIME_MS, INFO FROM information_schema.PROCESSLIST ORDER BY ID")) {
          while (rs.next()) {
            b.append("\n  ")
                .append(rs.getLong(1))
                .append(' ')
                .append(rs.getString(2))
                .append(' ')
                .append(rs.getString(3))
                .append(' ')
                .append(rs.getString(4))
                .append(' ')
                .append(rs.getString(5))
                .append(' ')
                .append(rs.getString(6));
          }
        }
        peaks.overBound.add(b.toString());
      }
      try (Statement s = monitor.createStatement();
          ResultSet rs =
              s.executeQuery(
                  "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = '"
                      + EmbeddedMariaDb.APP_USER
                      + "'")) {
        rs.next();
        peaks.appSessions.accumulateAndGet(rs.getInt(1), Math::max);
      }
      ProxyServer server = proxy.server;
      peaks.poolTotal.accumulateAndGet(server.pool("primary").stats().total(), Math::max);
      if (peaks.loadRunning) {
        peaks.minClientConnections.accumulateAndGet(server.stats().clientConnections(), Math::min);
      }
      peaks.samples.incrementAndGet();
    } catch (SQLException | RuntimeException e) {
      peaks.error.compareAndSet(null, e);
      throw new IllegalStateException("sampling the server failed", e);
    }
  }

  /** {@code Threads_connected}, counting the asking connection itself. */
  private static int threadsConnected(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SHOW GLOBAL STATUS LIKE 'Threads_connected'")) {
      rs.next();
      return Integer.parseInt(rs.getString(2));
    }
  }

  private String get(String path) throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(proxy.adminUrl(path))).build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("GET %s", path).isEqualTo(200);
    return r.body();
  }

  /**
   * Heap in use after a full collection: what 2,000 connections cost at both ends, logged for
   * whoever sizes CI.
   */
  private static long heapUsedAfterGc() {
    System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
