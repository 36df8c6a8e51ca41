package dev.mysqlpool.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.spi.ILoggingEvent;
import dev.mysqlpool.proxy.backend.PoolStats;
import dev.mysqlpool.proxy.frontend.ClientSession;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import dev.mysqlpool.proxy.testsupport.TcpRelay;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Each rule of the backend pool, demonstrated against a real MariaDB through a proxy configured for
 * that rule.
 */
@ExtendWith(LeakGuard.class)
class PoolRulesIT {
  private static EmbeddedMariaDb db;
  private ProxyHarness proxy;

  @BeforeAll
  static void server() {
    db = EmbeddedMariaDb.shared();
    db.execute(
        "CREATE TABLE IF NOT EXISTS app.locks (id INT PRIMARY KEY, v INT)",
        "INSERT IGNORE INTO app.locks VALUES (1, 0)",
        "CREATE TABLE IF NOT EXISTS app.reset_probe (id INT AUTO_INCREMENT PRIMARY KEY, v INT)");
  }

  @AfterEach
  void stopProxy() {
    if (proxy != null) {
      proxy.close();
    }
    // Whatever a test left behind on the server is gone before the next one counts sessions.
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> db.threadIds(EmbeddedMariaDb.APP_USER).isEmpty());
  }

  private PoolStats stats() {
    return proxy.server.pool("primary").stats();
  }

  private static int scalar(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getInt(1);
    }
  }

  /**
   * 1,000 clients through 100 threads against maxConnections 20: every one is served (they queue
   * for a backend, and acquireTimeout is long enough that none has to give up), while the server
   * never sees more than 20 sessions of the application user.
   */
  @Test
  void burstOf1000ClientsIsServedWithoutEverOpeningMoreThanMaxConnectionsOnTheServer()
      throws Exception {
    proxy = ProxyHarness.start(db, "pool: {maxConnections: 20, acquireTimeout: 60s}\n");
    ExecutorService clients = Executors.newFixedThreadPool(100);
    List<String> failures = new ArrayList<>();
    AtomicInteger ok = new AtomicInteger();
    try (Connection root = db.rootConnection();
        PeakSampler sampler =
            new PeakSampler()
                .probe(
                    "app sessions",
                    () ->
                        scalar(
                            root,
                            "SELECT COUNT(*) FROM information_schema.PROCESSLIST"
                                + " WHERE USER = 'app'"))
                .probe("pool total", () -> stats().total())
                .start(Duration.ofMillis(5))) {
      sampler.loadStarts();
      try {
        List<Future<?>> futures = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
          futures.add(
              clients.submit(
                  () -> {
                    try (Connection c = proxy.mariadb("connectTimeout=60000")) {
                      scalar(c, "SELECT SLEEP(0.02)");
                      ok.incrementAndGet();
                    } catch (SQLException e) {
                      synchronized (failures) {
                        failures.add(e.getErrorCode() + " " + e.getMessage());
                      }
                    }
                    return null;
                  }));
        }
        for (Future<?> f : futures) {
          f.get(180, TimeUnit.SECONDS);
        }
      } finally {
        clients.shutdownNow();
      }
      sampler.assertSampledWhileLoadRan(10);
      assertThat(failures).as("clients that failed (each must queue and be served)").isEmpty();
      assertThat(ok.get()).as("clients that ran their query").isEqualTo(1000);
      assertThat(stats().acquireTimeouts()).as("clients that gave up waiting").isZero();
      assertThat(sampler.peak("app sessions"))
          .as("server sessions of the app user during the burst")
          .isBetween(1, 20);
      assertThat(sampler.peak("pool total"))
          .as("backend connections open or opening during the burst")
          .isBetween(1, 20);
    }
    assertThat(stats().maxUsed()).isLessThanOrEqualTo(20);
  }

  @Test
  void clientThatCannotGetABackendInTimeGetsAClearErrorWithThePoolCounts() throws Exception {
    proxy = ProxyHarness.start(db, "pool: {maxConnections: 1, acquireTimeout: 300ms}\n");
    try (Connection holder = proxy.mysql("")) {
      scalar(holder, "SELECT 1");
      assertThatThrownBy(() -> proxy.mysql("").close())
          .isInstanceOf(SQLException.class)
          .satisfies(e -> assertThat(((SQLException) e).getErrorCode()).isEqualTo(9001))
          .hasMessageContaining("pool 'primary'")
          .hasMessageContaining("request timed out after")
          .hasMessageContaining("total=1, active=1, idle=0");
      assertThat(scalar(holder, "SELECT 2")).as("the holder is unaffected").isEqualTo(2);
    }
    assertThat(stats().acquireTimeouts()).isEqualTo(1);
  }

  /**
   * Six connections come back at once: three are closed at return (maxIdle), three stay free for
   * idleTimeout, and only then do two of them decay, down to minIdle. A pool that trimmed straight
   * to minIdle, or never decayed, fails. validationInterval is 0 here: the decay with validation
   * pings is a test of its own.
   */
  @Test
  void idleConnectionsAreCappedAtMaxIdleAndDecayToMinIdleAfterIdleTimeout() throws Exception {
    Duration idleTimeout = Duration.ofSeconds(4);
    proxy =
        ProxyHarness.start(
            db,
            "pool: {maxConnections: 10, maxIdle: 3, minIdle: 1, idleTimeout: 4s,"
                + " validationInterval: 0}\n");
    List<Connection> open = new ArrayList<>();
    // No connection can have been idle for longer than the time since this moment: a backend's
    // idle time counts from its last traffic, the first SELECT 1 at the earliest.
    long firstUsedAt = System.nanoTime();
    for (int i = 0; i < 6; i++) {
      Connection c = proxy.mariadb("");
      scalar(c, "SELECT 1");
      open.add(c);
    }
    assertThat(stats().used()).isEqualTo(6);
    long returnedAt = System.nanoTime();
    for (Connection c : open) {
      c.close();
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> stats().used() == 0);
    assertThat(stats().free()).as("free connections right after the burst (maxIdle)").isEqualTo(3);
    await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(
            () ->
                assertThat(db.threadIds(EmbeddedMariaDb.APP_USER))
                    .as("server sessions once the three above maxIdle are closed")
                    .hasSize(3));
    Duration quiet = idleTimeout.minus(since(firstUsedAt)).minusMillis(500);
    assertThat(quiet)
        .as("time left to watch the free connections before idleTimeout can apply")
        .isGreaterThan(Duration.ofSeconds(1));
    await()
        .during(quiet)
        .atMost(quiet.plusSeconds(2))
        .until(() -> stats().free() == 3 && stats().total() == 3);
    await()
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> stats().free() == 1 && stats().total() == 1);
    assertThat(since(firstUsedAt))
        .as("time from the first use to the decay to minIdle (idleTimeout 4s)")
        .isGreaterThanOrEqualTo(idleTimeout);
    assertThat(since(returnedAt))
        .as("time from the return to the decay to minIdle (idleTimeout 4s, housekeeping 250ms)")
        .isLessThanOrEqualTo(idleTimeout.plusSeconds(3));
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> db.threadIds(EmbeddedMariaDb.APP_USER).size() == 1);
  }

  private static Duration since(long nanos) {
    return Duration.ofNanos(System.nanoTime() - nanos);
  }

  @Test
  void warmUpOpensMinIdleConnectionsBeforeAnyClient() {
    proxy = ProxyHarness.start(db, "pool: {minIdle: 3, maxIdle: 5}\n");
    await().atMost(Duration.ofSeconds(10)).until(() -> stats().free() == 3);
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> db.threadIds(EmbeddedMariaDb.APP_USER).size() == 3);
  }

  @Test
  void noMoreThanMaxConcurrentConnectsLoginsRunAtOnce() throws Exception {
    proxy =
        ProxyHarness.start(
            db, "pool: {maxConnections: 10, maxConcurrentConnects: 1, acquireTimeout: 20s}\n");
    AtomicBoolean sampling = new AtomicBoolean(true);
    AtomicInteger maxConnecting = new AtomicInteger();
    Thread sampler =
        new Thread(
            () -> {
              while (sampling.get()) {
                maxConnecting.accumulateAndGet(stats().connecting(), Math::max);
              }
            });
    sampler.start();
    ExecutorService clients = Executors.newFixedThreadPool(10);
    try {
      List<Future<Integer>> results = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        results.add(
            clients.submit(
                () -> {
                  try (Connection c = proxy.mariadb("")) {
                    return scalar(c, "SELECT SLEEP(0.3) + 1");
                  }
                }));
      }
      for (Future<Integer> f : results) {
        assertThat(f.get(60, TimeUnit.SECONDS)).isEqualTo(1);
      }
    } finally {
      clients.shutdownNow();
      sampling.set(false);
      sampler.join();
    }
    assertThat(maxConnecting.get()).as("logins in flight at once").isEqualTo(1);
    assertThat(stats().created()).isGreaterThan(1);
  }

  @Test
  void aSessionThatEndsLeavesNoStateForTheNextClientOfTheSameBackend() throws Exception {
    proxy = ProxyHarness.start(db, "pool: {maxConnections: 1}\n");
    long firstBackendThread;
    try (Connection c = proxy.mariadb("");
        Statement s = c.createStatement()) {
      s.execute("SET @leak = 42");
      s.execute("CREATE TEMPORARY TABLE tmp_leak (i INT)");
      s.execute("SET SESSION sql_mode = 'ANSI_QUOTES'");
      c.setAutoCommit(false);
      s.executeUpdate("INSERT INTO reset_probe (v) VALUES (666)");
      firstBackendThread = scalar(c, "SELECT CONNECTION_ID()");
    }
    try (Connection c = proxy.mariadb("");
        Statement s = c.createStatement()) {
      assertThat(scalar(c, "SELECT CONNECTION_ID()"))
          .as("the same backend connection was reused")
          .isEqualTo((int) firstBackendThread);
      try (ResultSet rs = s.executeQuery("SELECT @leak, @@SESSION.sql_mode = @@GLOBAL.sql_mode")) {
        rs.next();
        assertThat(rs.getObject(1)).as("user variable of the previous client").isNull();
        assertThat(rs.getInt(2)).as("session sql_mode is back to the global one").isEqualTo(1);
      }
      assertThatThrownBy(() -> s.executeQuery("SELECT * FROM tmp_leak").close())
          .hasMessageContaining("doesn't exist");
      assertThat(scalar(c, "SELECT COUNT(*) FROM reset_probe WHERE v = 666"))
          .as("the uncommitted insert of the previous client")
          .isZero();
    }
  }

  @Test
  void clientThatVanishesMidTransactionFreesItsRowLocksWithinASecond() throws Exception {
    proxy = ProxyHarness.start(db, "pool: {maxConnections: 2}\n");
    Connection a = proxy.mysql("");
    a.setAutoCommit(false);
    try (Statement s = a.createStatement()) {
      s.executeQuery("SELECT * FROM locks WHERE id = 1 FOR UPDATE").close();
    }
    try (Connection direct = db.appConnection();
        Statement s = direct.createStatement()) {
      assertThatThrownBy(
              () -> s.executeQuery("SELECT * FROM locks WHERE id = 1 FOR UPDATE NOWAIT").close())
          .as("the row is locked while the client is there")
          .isInstanceOf(SQLException.class);
      a.abort(Runnable::run);
      await()
          .atMost(Duration.ofSeconds(1))
          .pollInterval(Duration.ofMillis(50))
          .ignoreExceptions()
          .until(
              () -> {
                s.executeQuery("SELECT * FROM locks WHERE id = 1 FOR UPDATE NOWAIT").close();
                direct.rollback();
                return true;
              });
    }
  }

  @Test
  void clientThatVanishesMidQueryHasItsStatementKilledOnTheServer() throws Exception {
    proxy = ProxyHarness.start(db, "pool: {maxConnections: 2}\n");
    Connection a = proxy.mysql("");
    ExecutorService runner = Executors.newSingleThreadExecutor();
    try {
      runner.submit(() -> scalar(a, "SELECT SLEEP(30) /* vanishing client */"));
      String probe =
          "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE '%vanishing client%'"
              + " AND INFO NOT LIKE '%PROCESSLIST%'";
      await()
          .atMost(Duration.ofSeconds(5))
          .until(
              () -> {
                try (Connection root = db.rootConnection()) {
                  return scalar(root, probe) == 1;
                }
              });
      a.abort(Runnable::run);
      await()
          .atMost(Duration.ofSeconds(2))
          .until(
              () -> {
                try (Connection root = db.rootConnection()) {
                  return scalar(root, probe) == 0;
                }
              });
    } finally {
      runner.shutdownNow();
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> stats().used() == 0);
  }

  /**
   * In session mode a client holds its backend until it disconnects: one that disconnects within
   * leakDetectionThreshold is never named, one that stays is named once the threshold has passed,
   * not before.
   */
  @Test
  void leakDetectionWarnsNamingTheClientThatHoldsABackendOnlyAfterTheThreshold() throws Exception {
    long thresholdMs = 2000;
    try (LogCapture log = new LogCapture(ClientSession.class)) {
      proxy = ProxyHarness.start(db, "pool: {leakDetectionThreshold: 2s}\n");
      long briefId;
      try (Connection brief = proxy.mariadb("")) {
        scalar(brief, "SELECT 1");
        briefId = ((org.mariadb.jdbc.Connection) brief).getThreadId();
      }
      long holderId;
      long connectedAtMillis = System.currentTimeMillis();
      try (Connection holder = proxy.mariadb("")) {
        scalar(holder, "SELECT 1");
        holderId = ((org.mariadb.jdbc.Connection) holder).getThreadId();
        await().atMost(Duration.ofSeconds(10)).until(() -> !leakWarnings(log).isEmpty());
      }
      List<ILoggingEvent> warnings = leakWarnings(log);
      assertThat(warnings).as("leak warnings").hasSize(1);
      ILoggingEvent w = warnings.get(0);
      assertThat(w.getFormattedMessage())
          .as("the warning names the client that holds its backend")
          .contains("client #" + holderId + " (app@127.0.0.1)")
          .doesNotContain("client #" + briefId + " ");
      assertThat(w.getTimeStamp() - connectedAtMillis)
          .as("ms from the holder's connect to the warning")
          .isGreaterThanOrEqualTo(thresholdMs);
      Matcher held = Pattern.compile("for (\\d+)ms, longer than").matcher(w.getFormattedMessage());
      assertThat(held.find()).as("the warning says how long: %s", w.getFormattedMessage()).isTrue();
      assertThat(Long.parseLong(held.group(1)))
          .as("how long the warning says the backend was held")
          .isGreaterThanOrEqualTo(thresholdMs);
    }
  }

  private static List<ILoggingEvent> leakWarnings(LogCapture log) {
    return log.events().stream()
        .filter(e -> e.getFormattedMessage().contains("longer than pool.leakDetectionThreshold"))
        .toList();
  }

  @Test
  void backendThatDiesGivesClearErrorsAndServiceResumesByItself() throws Exception {
    try (TcpRelay relay = TcpRelay.start(db.host(), db.port())) {
      proxy =
          ProxyHarness.start(
              relay.host(), relay.port(), "pool: {acquireTimeout: 1s, connectTimeout: 1s}\n");
      Connection a = proxy.mariadb("");
      assertThat(scalar(a, "SELECT 1")).isEqualTo(1);
      relay.cutAll();
      assertThatThrownBy(() -> scalar(a, "SELECT 2")).isInstanceOf(SQLException.class);
      a.close();
      assertThatThrownBy(() -> proxy.mariadb("").close())
          .isInstanceOf(SQLException.class)
          // MariaDB Connector/J wraps the server's message as the cause of its own.
          .hasStackTraceContaining("pool 'primary'")
          .hasStackTraceContaining("last backend error");
      HttpClient http = HttpClient.newHttpClient();
      HttpRequest backendz =
          HttpRequest.newBuilder(URI.create(proxy.adminUrl("/backendz"))).build();
      HttpRequest readyz = HttpRequest.newBuilder(URI.create(proxy.adminUrl("/readyz"))).build();
      await()
          .atMost(Duration.ofSeconds(5))
          .until(
              () -> http.send(backendz, HttpResponse.BodyHandlers.ofString()).statusCode() == 503);
      assertThat(http.send(readyz, HttpResponse.BodyHandlers.ofString()).statusCode())
          .as("/readyz stays 200 while the backend is down (issue 12)")
          .isEqualTo(200);
      relay.resume();
      await()
          .atMost(Duration.ofSeconds(10))
          .ignoreExceptions()
          .until(
              () -> {
                try (Connection c = proxy.mariadb("")) {
                  return scalar(c, "SELECT 5") == 5;
                }
              });
      assertThat(http.send(backendz, HttpResponse.BodyHandlers.ofString()).statusCode())
          .isEqualTo(200);
    }
  }

  @Test
  void idleClientIsDisconnectedAfterClientIdleTimeoutAndItsBackendReturned() throws Exception {
    proxy = ProxyHarness.start(db, "frontend: {clientIdleTimeout: 1s}\n");
    try (Connection c = proxy.mariadb("")) {
      scalar(c, "SELECT 1");
      assertThat(stats().used()).isEqualTo(1);
      await().atMost(Duration.ofSeconds(5)).until(() -> stats().used() == 0);
      assertThatThrownBy(() -> scalar(c, "SELECT 2")).isInstanceOf(SQLException.class);
    }
  }

  @Test
  void proxyRefusesClientsBeyondMaxClientConnectionsWith1040() throws Exception {
    proxy = ProxyHarness.start(db, "frontend: {maxClientConnections: 2}\n");
    try (Connection a = proxy.mariadb("");
        Connection b = proxy.mariadb("")) {
      assertThatThrownBy(() -> proxy.mariadb("").close())
          .isInstanceOf(SQLException.class)
          .satisfies(e -> assertThat(((SQLException) e).getErrorCode()).isEqualTo(1040))
          .hasMessageContaining("frontend.maxClientConnections=2");
      assertThat(scalar(a, "SELECT 1") + scalar(b, "SELECT 1")).isEqualTo(2);
    }
  }

  @Test
  void wrongPasswordAndUnknownUserGetAccessDeniedAsMySqlWordsIt() {
    proxy = ProxyHarness.start(db, "");
    String url = proxy.mysqlUrl("");
    assertThatThrownBy(() -> java.sql.DriverManager.getConnection(url, "app", "wrong").close())
        .satisfies(e -> assertThat(((SQLException) e).getErrorCode()).isEqualTo(1045))
        .hasMessageContaining("Access denied for user 'app'@'127.0.0.1' (using password: YES)");
    assertThatThrownBy(() -> java.sql.DriverManager.getConnection(url, "nobody", "x").close())
        .satisfies(e -> assertThat(((SQLException) e).getErrorCode()).isEqualTo(1045))
        .hasMessageContaining("Access denied for user 'nobody'@'127.0.0.1' (using password: YES)");
  }
}
