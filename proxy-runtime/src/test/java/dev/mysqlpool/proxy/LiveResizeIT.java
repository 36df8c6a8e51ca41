package dev.mysqlpool.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.mysqlpool.proxy.backend.PoolStats;
import dev.mysqlpool.proxy.config.ConfigLoader;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import dev.mysqlpool.proxy.testsupport.SessionSampler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue 14's elastic pool, the proxy half: under load from 32 client threads through HikariCP, the
 * operator rewrites pool.maxConnections in the config file from 10 to 4 to 16, and the proxy
 * applies each without a restart. The server's sessions, sampled throughout, never exceed the
 * larger cap of each change, and never the new cap once the pool has settled; growing takes effect
 * at once.
 */
@ExtendWith(LeakGuard.class)
class LiveResizeIT {
  private static final Logger log = LoggerFactory.getLogger(LiveResizeIT.class);
  private static final int CLIENT_THREADS = 32;

  @TempDir Path dir;
  private final EmbeddedMariaDb db = EmbeddedMariaDb.shared();
  private Path file;
  private ProxyServer server;
  private ConfigReloader reloader;

  @AfterEach
  void stop() {
    if (reloader != null) {
      reloader.close();
    }
    if (server != null) {
      server.close();
    }
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> db.threadIds(EmbeddedMariaDb.APP_USER).isEmpty());
  }

  private void writeConfig(int maxConnections) throws Exception {
    Files.writeString(
        file,
        "listen: {host: 127.0.0.1, port: 0}\nadmin: {host: 127.0.0.1, port: 0}\n"
            + "backends:\n  - {name: primary, host: "
            + db.host()
            + ", port: "
            + db.port()
            + "}\n"
            + "users:\n  - {name: app, password: "
            + EmbeddedMariaDb.APP_PASSWORD
            + "}\n"
            + "pool: {mode: transaction, maxConnections: "
            + maxConnections
            + ", acquireTimeout: 20s}\n");
  }

  private PoolStats stats() {
    return server.pool("primary").stats();
  }

  @Test
  void resizedFrom10To4To16UnderLoadTheServerNeverSeesMoreThanTheLargerCap() throws Exception {
    file = dir.resolve("proxy.yaml");
    writeConfig(10);
    // Started first, so that Threads_connected's baseline holds no session of the proxy.
    SessionSampler sampler =
        SessionSampler.start(
            db, EmbeddedMariaDb.APP_USER, "SLEEP(0.005)", "cap 10", Duration.ofMillis(10));
    server = ProxyServer.start(ConfigLoader.load(file));
    reloader = new ConfigReloader(file, server, Duration.ofMillis(100));

    HikariConfig hc = new HikariConfig();
    hc.setJdbcUrl("jdbc:mariadb://127.0.0.1:" + server.listenPort() + "/app");
    hc.setUsername(EmbeddedMariaDb.APP_USER);
    hc.setPassword(EmbeddedMariaDb.APP_PASSWORD);
    hc.setMaximumPoolSize(CLIENT_THREADS);
    hc.setMinimumIdle(CLIENT_THREADS);
    hc.setConnectionTimeout(30_000);
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicLong queries = new AtomicLong();
    List<Throwable> clientErrors = new ArrayList<>();
    ExecutorService clients = Executors.newFixedThreadPool(CLIENT_THREADS);
    try (sampler;
        HikariDataSource ds = new HikariDataSource(hc)) {
      for (int i = 0; i < CLIENT_THREADS; i++) {
        clients.submit(
            () -> {
              while (running.get()) {
                try (Connection c = ds.getConnection();
                    Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT SLEEP(0.005)")) {
                  rs.next();
                  queries.incrementAndGet();
                } catch (SQLException | RuntimeException e) {
                  if (running.get()) {
                    synchronized (clientErrors) {
                      clientErrors.add(e);
                    }
                  }
                }
              }
            });
      }
      await().atMost(Duration.ofSeconds(20)).until(() -> stats().total() == 10);
      awaitQueries(queries, 300);

      sampler.phase("10 -> 4");
      writeConfig(4);
      await().atMost(Duration.ofSeconds(5)).until(() -> stats().total() <= 4);
      assertThat(server.config().pool().maxConnections()).isEqualTo(4);
      sampler.phase("cap 4");
      awaitQueries(queries, 300);
      PoolStats at4 = stats();

      sampler.phase("4 -> 16");
      writeConfig(16);
      // Growth takes effect at once: waiting clients get new connections.
      await()
          .alias("the pool grows past 10 within 3s of the edit")
          .atMost(Duration.ofSeconds(3))
          .until(() -> stats().total() > 10);
      awaitQueries(queries, 300);
      running.set(false);

      log.info(
          "live resize under {} client threads: cap 10 {}, 10 -> 4 {}, cap 4 {}, 4 -> 16 {};"
              + " pool at 4: {}; {} queries",
          CLIENT_THREADS,
          sampler.peaks("cap 10"),
          sampler.peaks("10 -> 4"),
          sampler.peaks("cap 4"),
          sampler.peaks("4 -> 16"),
          at4,
          queries.get());
      assertPeaks(sampler, "cap 10", 10);
      assertPeaks(sampler, "10 -> 4", 10);
      assertPeaks(sampler, "cap 4", 4);
      assertPeaks(sampler, "4 -> 16", 16);
      assertThat(sampler.peaks("4 -> 16").sessions())
          .as("the server saw the pool grow past its first cap")
          .isGreaterThan(10);
      assertThat(at4.total()).isLessThanOrEqualTo(4);
    } finally {
      running.set(false);
      clients.shutdown();
      assertThat(clients.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(clientErrors).as("client errors during the resizes").isEmpty();
  }

  private static void assertPeaks(SessionSampler sampler, String phase, int cap) {
    SessionSampler.Peaks p = sampler.peaks(phase);
    assertThat(p.samples()).as("samples in phase '%s'", phase).isGreaterThanOrEqualTo(10);
    assertThat(p.sessions())
        .as("app sessions on the server in phase '%s'", phase)
        .isLessThanOrEqualTo(cap);
    assertThat(p.threadsAboveBaseline())
        .as("Threads_connected above baseline in phase '%s'", phase)
        .isLessThanOrEqualTo(cap);
  }

  /** Waits until the clients have run {@code more} queries, so each phase sees real load. */
  private static void awaitQueries(AtomicLong queries, long more) {
    long target = queries.get() + more;
    await().atMost(Duration.ofSeconds(30)).until(() -> queries.get() >= target);
  }
}
