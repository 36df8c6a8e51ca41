package dev.mysqlpool.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.management.UnixOperatingSystemMXBean;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.mysqlpool.proxy.stmt.StatementCache;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue 13 at its scale: 500 client connections held by HikariCP pools of MySQL Connector/J with
 * {@code useServerPrepStmts=true&cachePrepStmts=true} and 500 of MariaDB Connector/J with {@code
 * useServerPrepStmts=true}, running short transactions of server-side prepared statements (an
 * update, a read-back that must show the worker's own count, a batch insert) through a proxy with
 * {@code maxConnections: 10}. The server never sees more than 10 application sessions nor more than
 * 10 × {@code maxPreparedStatementsPerConnection} prepared statements, no client is pinned, and the
 * tables hold exactly what was committed. About 30 s on 2 cores.
 */
@ExtendWith(LeakGuard.class)
class PreparedStatementsAtScaleIT {
  private static final Logger log = LoggerFactory.getLogger(PreparedStatementsAtScaleIT.class);
  private static final int POOLS = 10;
  private static final int PER_POOL = 100;
  private static final int CLIENTS = POOLS * PER_POOL;
  private static final int MAX_CONNECTIONS = 10;
  private static final int PER_CONNECTION = 16;
  private static final int WORKERS = 32;
  private static final Duration LOAD = Duration.ofSeconds(8);

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
    if (proxy != null) {
      proxy.close();
    }
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> db.threadIds(EmbeddedMariaDb.APP_USER).isEmpty());
    db.execute("DROP TABLE IF EXISTS app.pscale_counter", "DROP TABLE IF EXISTS app.pscale_log");
  }

  private static int globalStatus(Connection root, String name) throws SQLException {
    try (Statement s = root.createStatement();
        ResultSet rs = s.executeQuery("SHOW GLOBAL STATUS LIKE '" + name + "'")) {
      rs.next();
      return rs.getInt(2);
    }
  }

  @Test
  void aThousandClientsOfBothDriversShareTenConnectionsWithServerPreparedStatements()
      throws Exception {
    OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof UnixOperatingSystemMXBean unix) {
      assertThat(unix.getMaxFileDescriptorCount())
          .as("file descriptors for both ends of %d client connections (raise ulimit -n)", CLIENTS)
          .isGreaterThan(2L * CLIENTS + 500);
    }
    StringBuilder rows = new StringBuilder("INSERT INTO app.pscale_counter (id, n) VALUES ");
    for (int w = 0; w < WORKERS; w++) {
      rows.append(w == 0 ? "" : ",").append('(').append(w).append(",0)");
    }
    db.execute(
        "DROP TABLE IF EXISTS app.pscale_counter",
        "DROP TABLE IF EXISTS app.pscale_log",
        "CREATE TABLE app.pscale_counter (id INT PRIMARY KEY, n BIGINT NOT NULL)",
        "CREATE TABLE app.pscale_log (id INT AUTO_INCREMENT PRIMARY KEY, worker INT, i INT,"
            + " note VARCHAR(20) NULL)",
        rows.toString());
    proxy =
        ProxyHarness.start(
            db,
            "pool: {mode: transaction, maxConnections: "
                + MAX_CONNECTIONS
                + ", acquireTimeout: 30s, maxPreparedStatementsPerConnection: "
                + PER_CONNECTION
                + "}\nfrontend: {maxClientConnections: "
                + (CLIENTS + 100)
                + "}\n");
    for (int p = 0; p < POOLS; p++) {
      HikariConfig cfg = new HikariConfig();
      cfg.setJdbcUrl(
          p % 2 == 0
              ? proxy.mysqlUrl("useServerPrepStmts=true&cachePrepStmts=true")
              : proxy.mariadbUrl("useServerPrepStmts=true"));
      cfg.setUsername(EmbeddedMariaDb.APP_USER);
      cfg.setPassword(EmbeddedMariaDb.APP_PASSWORD);
      cfg.setPoolName("pscale-" + p);
      cfg.setMaximumPoolSize(PER_POOL);
      cfg.setMinimumIdle(PER_POOL);
      cfg.setConnectionTimeout(30_000);
      pools.add(new HikariDataSource(cfg));
    }
    try (Connection root = db.rootConnection()) {
      int preparesBefore = globalStatus(root, "Com_stmt_prepare");
      int executesBefore = globalStatus(root, "Com_stmt_execute");
      AtomicLong committed = new AtomicLong();
      long[] perWorker = new long[WORKERS];
      ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
      try (PeakSampler sampler =
          new PeakSampler()
              .probe(
                  "app sessions",
                  () ->
                      ServerProbes.scalar(
                          root,
                          "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = '"
                              + EmbeddedMariaDb.APP_USER
                              + "'"))
              .probe("prepared", () -> globalStatus(root, "Prepared_stmt_count"))
              .start(Duration.ofMillis(10))) {
        sampler.loadStarts();
        await()
            .atMost(Duration.ofSeconds(90))
            .untilAsserted(
                () ->
                    assertThat(proxy.server.stats().clientConnections())
                        .as("clients the proxy holds")
                        .isEqualTo(CLIENTS));
        long end = System.nanoTime() + LOAD.toNanos();
        ExecutorService workers = Executors.newFixedThreadPool(WORKERS);
        try {
          List<Future<?>> done = new ArrayList<>();
          for (int w = 0; w < WORKERS; w++) {
            int worker = w;
            done.add(
                workers.submit(
                    () -> {
                      for (int i = 0; System.nanoTime() < end && errors.size() < 10; i++) {
                        try (Connection c = pools.get((worker + i) % POOLS).getConnection()) {
                          transaction(c, worker, i, perWorker[worker] + 1);
                          perWorker[worker]++;
                          committed.incrementAndGet();
                        } catch (Exception e) {
                          errors.add("worker " + worker + ": " + e);
                        }
                      }
                    }));
          }
          for (Future<?> f : done) {
            f.get(60, TimeUnit.SECONDS);
          }
        } finally {
          workers.shutdownNow();
        }
        sampler.assertSampledWhileLoadRan(10);
        int preparesAfter = globalStatus(root, "Com_stmt_prepare");
        int executesAfter = globalStatus(root, "Com_stmt_execute");
        StatementCache.Stats stats = proxy.server.stats().preparedStatements();
        log.info(
            "{} clients ({} HikariCP pools, both drivers), {} workers, {} s: {} transactions;"
                + " server: peak app sessions {}, peak Prepared_stmt_count {} (bound {}),"
                + " Com_stmt_prepare +{} for {} client prepares, Com_stmt_execute +{}; cache {}",
            CLIENTS,
            POOLS,
            WORKERS,
            LOAD.toSeconds(),
            committed.get(),
            sampler.peak("app sessions"),
            sampler.peak("prepared"),
            MAX_CONNECTIONS * PER_CONNECTION,
            preparesAfter - preparesBefore,
            stats.cacheHits() + stats.cacheMisses(),
            executesAfter - executesBefore,
            stats);
        assertThat(errors).as("failed transactions (first 10)").isEmpty();
        assertThat(committed.get()).as("transactions committed").isGreaterThan(WORKERS);
        assertThat(sampler.peak("app sessions"))
            .as("application sessions on the server, at most maxConnections")
            .isLessThanOrEqualTo(MAX_CONNECTIONS);
        assertThat(sampler.peak("prepared"))
            .as("Prepared_stmt_count at most connections x maxPreparedStatementsPerConnection")
            .isLessThanOrEqualTo(MAX_CONNECTIONS * PER_CONNECTION);
        assertThat(preparesAfter - preparesBefore)
            .as(
                "server prepares: each statement once per backend connection and key, not per client")
            .isLessThan((int) (stats.cacheHits() + stats.cacheMisses()) / 4);
        assertThat(MetricsScrape.of(proxy).family("mysqlpool_session_pins_total"))
            .as("sessions pinned, by reason")
            .isEmpty();
      }
      try (Statement s = root.createStatement()) {
        long total = 0;
        try (ResultSet rs = s.executeQuery("SELECT id, n FROM app.pscale_counter ORDER BY id")) {
          while (rs.next()) {
            assertThat(rs.getLong(2))
                .as("committed increments of worker %d", rs.getInt(1))
                .isEqualTo(perWorker[rs.getInt(1)]);
            total += rs.getLong(2);
          }
        }
        assertThat(total).isEqualTo(committed.get());
        assertThat(ServerProbes.scalar(root, "SELECT COUNT(*) FROM app.pscale_log"))
            .as("two log rows per committed transaction")
            .isEqualTo((int) (2 * committed.get()));
      }
    }
  }

  /** One short transaction of prepared statements; the read-back must show the worker's count. */
  private static void transaction(Connection c, int worker, int i, long expected)
      throws SQLException {
    c.setAutoCommit(false);
    try {
      try (PreparedStatement u =
          c.prepareStatement("UPDATE app.pscale_counter SET n = n + ? WHERE id = ?")) {
        u.setInt(1, 1);
        u.setInt(2, worker);
        if (u.executeUpdate() != 1) {
          throw new SQLException("update touched no row");
        }
      }
      try (PreparedStatement q =
          c.prepareStatement("SELECT n FROM app.pscale_counter WHERE id = ?")) {
        q.setInt(1, worker);
        try (ResultSet rs = q.executeQuery()) {
          rs.next();
          if (rs.getLong(1) != expected) {
            throw new SQLException("read " + rs.getLong(1) + ", expected " + expected);
          }
        }
      }
      try (PreparedStatement b =
          c.prepareStatement("INSERT INTO app.pscale_log (worker, i, note) VALUES (?, ?, ?)")) {
        for (int k = 0; k < 2; k++) {
          b.setInt(1, worker);
          b.setInt(2, i);
          if (k == 0) {
            b.setNull(3, java.sql.Types.VARCHAR);
          } else {
            b.setString(3, "k" + k);
          }
          b.addBatch();
        }
        b.executeBatch();
      }
      c.commit();
    } catch (SQLException e) {
      c.rollback();
      throw e;
    } finally {
      c.setAutoCommit(true);
    }
  }
}
