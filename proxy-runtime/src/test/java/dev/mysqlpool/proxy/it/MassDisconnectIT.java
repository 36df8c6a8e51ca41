package dev.mysqlpool.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mysqlpool.proxy.backend.PoolStats;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import dev.mysqlpool.proxy.testsupport.SessionSampler;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every client of a full pool leaves in the middle of a long statement while as many others wait
 * for a backend connection. Each statement is killed over a side connection, and the server never
 * sees more than the documented bound: {@code pool.maxConnections} plus the one side connection,
 * because a discarded connection keeps its place until the server has closed it, and KILLs queue
 * for a single side connection instead of logging in once each.
 */
@ExtendWith(LeakGuard.class)
class MassDisconnectIT {
  private static final Logger log = LoggerFactory.getLogger(MassDisconnectIT.class);
  private static final int MAX_CONNECTIONS = 8;
  private static final String MARKER = "mass disconnect probe";
  private final EmbeddedMariaDb db = EmbeddedMariaDb.shared();
  private ProxyHarness proxy;

  @AfterEach
  void stopProxy() {
    if (proxy != null) {
      proxy.close();
    }
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> db.threadIds(EmbeddedMariaDb.APP_USER).isEmpty());
  }

  private PoolStats stats() {
    return proxy.server.pool("primary").stats();
  }

  @Test
  void clientsLeavingMidStatementNeverPushTheServerAboveMaxConnectionsPlusOne() throws Exception {
    proxy =
        ProxyHarness.start(
            db, "pool: {maxConnections: " + MAX_CONNECTIONS + ", acquireTimeout: 30s}\n");
    ExecutorService clients = Executors.newCachedThreadPool();
    List<Connection> leaving = new ArrayList<>();
    List<Future<Integer>> waiting = new ArrayList<>();
    try (SessionSampler sampler =
        SessionSampler.start(
            db, EmbeddedMariaDb.APP_USER, MARKER, "disconnect", Duration.ofMillis(10))) {
      for (int i = 0; i < MAX_CONNECTIONS; i++) {
        Connection c = proxy.mysql("");
        leaving.add(c);
        clients.submit(
            () -> {
              try (Statement s = c.createStatement()) {
                s.executeQuery("SELECT SLEEP(30) /* " + MARKER + " */").close();
              }
              return null;
            });
      }
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> sampler.last() != null && sampler.last().marked() == MAX_CONNECTIONS);
      for (int i = 0; i < MAX_CONNECTIONS; i++) {
        int n = i;
        waiting.add(
            clients.submit(
                () -> {
                  try (Connection c = proxy.mariadb("");
                      Statement s = c.createStatement();
                      ResultSet rs = s.executeQuery("SELECT " + n)) {
                    rs.next();
                    return rs.getInt(1);
                  }
                }));
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> stats().pending() == MAX_CONNECTIONS);

      for (Connection c : leaving) {
        c.abort(Runnable::run);
      }
      for (int i = 0; i < MAX_CONNECTIONS; i++) {
        assertThat(waiting.get(i).get(20, TimeUnit.SECONDS))
            .as("a waiting client is served once the killed sessions are gone")
            .isEqualTo(i);
      }
      await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> sampler.last().marked() == 0 && stats().killsQueued() == 0);

      SessionSampler.Peaks peaks = sampler.peaks("disconnect");
      log.info(
          "mass disconnect of {} clients mid-statement: server peak {} app sessions, {} threads"
              + " above baseline ({} samples); pool {}",
          MAX_CONNECTIONS,
          peaks.sessions(),
          peaks.threadsAboveBaseline(),
          peaks.samples(),
          stats());
      assertThat(peaks.samples()).as("samples taken").isGreaterThan(20);
      assertThat(peaks.sessions())
          .as("app sessions on the server: maxConnections plus one side connection")
          .isLessThanOrEqualTo(MAX_CONNECTIONS + 1);
      assertThat(peaks.threadsAboveBaseline())
          .as("Threads_connected above what it was before")
          .isLessThanOrEqualTo(MAX_CONNECTIONS + 1);
    } finally {
      clients.shutdownNow();
    }
    PoolStats s = stats();
    assertThat(s.kills()).as("one KILL per statement, each answered").isEqualTo(MAX_CONNECTIONS);
    assertThat(s.killFailures()).isZero();
    assertThat(s.killConnectionsOpened()).isBetween(1L, (long) MAX_CONNECTIONS);
    HttpResponse<String> metrics =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(proxy.adminUrl("/metrics"))).build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(metrics.body())
        .contains(
            "mysqlpool_pool_kill_connections_opened_total{backend=\"primary\"} "
                + (double) s.killConnectionsOpened())
        .contains("mysqlpool_pool_kills_total{backend=\"primary\"} " + (double) s.kills());
  }
}
