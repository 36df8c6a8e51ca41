package dev.mysqlpool.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.mysqlpool.proxy.backend.BackendPool;
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
import java.sql.SQLTimeoutException;
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

  @Test
  void burstOf1000ClientsNeverOpensMoreThanMaxConnectionsOnTheServer() throws Exception {
    proxy = ProxyHarness.start(db, "pool: {maxConnections: 20, acquireTimeout: 3s}\n");
    AtomicBoolean sampling = new AtomicBoolean(true);
    AtomicInteger maxAppSessions = new AtomicInteger();
    AtomicInteger maxPoolTotal = new AtomicInteger();
    Thread sampler =
        new Thread(
            () -> {
              try (Connection root = db.rootConnection();
                  Statement s = root.createStatement()) {
                while (sampling.get()) {
                  try (ResultSet rs =
                      s.executeQuery(
                          "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'app'")) {
                    rs.next();
                    maxAppSessions.accumulateAndGet(rs.getInt(1), Math::max);
                  }
                  maxPoolTotal.accumulateAndGet(stats().total(), Math::max);
                }
              } catch (SQLException e) {
                throw new IllegalStateException(e);
              }
            });
    sampler.start();
    ExecutorService clients = Executors.newFixedThreadPool(100);
    AtomicInteger ok = new AtomicInteger();
    List<String> otherFailures = new ArrayList<>();
    AtomicInteger timeouts = new AtomicInteger();
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int i = 0; i < 1000; i++) {
        futures.add(
            clients.submit(
                () -> {
                  try (Connection c = proxy.mariadb("connectTimeout=20000")) {
                    scalar(c, "SELECT SLEEP(0.02)");
                    ok.incrementAndGet();
                  } catch (SQLException e) {
                    if (e.getErrorCode() == 9001 && e.getMessage().contains("timed out after")) {
                      timeouts.incrementAndGet();
                    } else {
                      synchronized (otherFailures) {
                        otherFailures.add(e.getErrorCode() + " " + e.getMessage());
                      }
                    }
                  }
                  return null;
                }));
      }
      for (Future<?> f : futures) {
        f.get(120, TimeUnit.SECONDS);
      }
    } finally {
      clients.shutdownNow();
      sampling.set(false);
      sampler.join();
    }
    assertThat(otherFailures)
        .as("every client either succeeds or gets the acquire-timeout error")
        .isEmpty();
    assertThat(ok.get() + timeouts.get()).isEqualTo(1000);
    assertThat(ok.get()).isGreaterThan(0);
    assertThat(maxAppSessions.get())
        .as("server sessions of the app user during the burst")
        .isLessThanOrEqualTo(20);
    assertThat(maxPoolTotal.get()).isLessThanOrEqualTo(20);
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

  @Test
  void idleConnectionsAreCappedAtMaxIdleAndDecayToMinIdleAfterIdleTimeout() throws Exception {
    proxy =
        ProxyHarness.start(
            db,
            "pool: {maxConnections: 10, maxIdle: 3, minIdle: 1, idleTimeout: 1s, validationInterval: 0}\n");
    List<Connection> open = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      Connection c = proxy.mariadb("");
      scalar(c, "SELECT 1");
      open.add(c);
    }
    assertThat(stats().used()).isEqualTo(6);
    for (Connection c : open) {
      c.close();
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> stats().used() == 0);
    assertThat(stats().free()).as("free connections right after the burst").isLessThanOrEqualTo(3);
    await().atMost(Duration.ofSeconds(5)).until(() -> stats().free() == 1);
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> db.threadIds(EmbeddedMariaDb.APP_USER).size() == 1);
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
  void maxLifetimeDefaultsBelowTheServersWaitTimeoutSoNoClosedConnectionIsLent() throws Exception {
    db.execute("SET GLOBAL wait_timeout = 4");
    try (LogCapture log = new LogCapture(BackendPool.class)) {
      proxy = ProxyHarness.start(db, "pool: {minIdle: 1, maxIdle: 1, validationInterval: 0}\n");
      await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> db.threadIds(EmbeddedMariaDb.APP_USER).size() == 1);
      long first = db.threadIds(EmbeddedMariaDb.APP_USER).get(0);
      assertThat(stats().serverWaitTimeoutSeconds()).isEqualTo(4);
      // The idle connection is retired (at most 80% of wait_timeout) and replaced before the server
      // would close it.
      await()
          .atMost(Duration.ofSeconds(6))
          .until(
              () -> {
                List<Long> ids = db.threadIds(EmbeddedMariaDb.APP_USER);
                return ids.size() == 1 && ids.get(0) != first;
              });
      try (Connection c = proxy.mariadb("")) {
        assertThat(scalar(c, "SELECT 7")).isEqualTo(7);
      }
      assertThat(log.messages()).noneMatch(m -> m.contains("closed by the server"));
    } finally {
      db.execute("SET GLOBAL wait_timeout = 28800");
    }
  }

  @Test
  void configuredMaxLifetimeRetiresConnections() {
    proxy =
        ProxyHarness.start(
            db, "pool: {minIdle: 1, maxIdle: 1, maxLifetime: 1s, validationInterval: 0}\n");
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> db.threadIds(EmbeddedMariaDb.APP_USER).size() == 1);
    long first = db.threadIds(EmbeddedMariaDb.APP_USER).get(0);
    await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () -> !db.threadIds(EmbeddedMariaDb.APP_USER).contains(first) && stats().free() == 1);
    assertThat(stats().destroyed()).isGreaterThanOrEqualTo(1);
  }

  @Test
  void idleConnectionClosedByTheServerIsReplacedInvisiblyToClients() throws Exception {
    proxy = ProxyHarness.start(db, "pool: {minIdle: 2, maxIdle: 2, validationInterval: 0}\n");
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> db.threadIds(EmbeddedMariaDb.APP_USER).size() == 2);
    List<Long> before = db.threadIds(EmbeddedMariaDb.APP_USER);
    for (long id : before) {
      db.kill(id);
    }
    await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () -> {
              List<Long> now = db.threadIds(EmbeddedMariaDb.APP_USER);
              return now.size() == 2
                  && now.stream().noneMatch(before::contains)
                  && stats().free() == 2;
            });
    try (Connection c = proxy.mariadb("")) {
      assertThat(scalar(c, "SELECT 3")).isEqualTo(3);
    }
  }

  @Test
  void idleConnectionsArePingedEveryValidationInterval() throws Exception {
    proxy = ProxyHarness.start(db, "pool: {minIdle: 2, maxIdle: 2, validationInterval: 500ms}\n");
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> db.threadIds(EmbeddedMariaDb.APP_USER).size() == 2);
    long started = System.nanoTime();
    // Without pings a session's idle TIME keeps growing; with them it never reaches 2 seconds.
    await()
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              try (Connection root = db.rootConnection();
                  Statement s = root.createStatement();
                  ResultSet rs =
                      s.executeQuery(
                          "SELECT MAX(TIME) FROM information_schema.PROCESSLIST WHERE USER = 'app'")) {
                rs.next();
                assertThat(rs.getInt(1))
                    .as("seconds since an idle backend connection last saw a command")
                    .isLessThan(2);
              }
              return System.nanoTime() - started > TimeUnit.SECONDS.toNanos(3);
            });
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

  @Test
  void leakDetectionWarnsNamingTheClientThatHoldsABackend() throws Exception {
    try (LogCapture log = new LogCapture(ClientSession.class)) {
      proxy = ProxyHarness.start(db, "pool: {leakDetectionThreshold: 1s}\n");
      try (Connection c = proxy.mariadb("")) {
        scalar(c, "SELECT 1");
        await()
            .atMost(Duration.ofSeconds(5))
            .until(
                () ->
                    log.messages().stream()
                        .anyMatch(
                            m ->
                                m.contains("longer than pool.leakDetectionThreshold")
                                    && m.contains("(app@127.0.0.1)")));
      }
    }
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
      HttpRequest readyz = HttpRequest.newBuilder(URI.create(proxy.adminUrl("/readyz"))).build();
      await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> http.send(readyz, HttpResponse.BodyHandlers.ofString()).statusCode() == 503);
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
      assertThat(http.send(readyz, HttpResponse.BodyHandlers.ofString()).statusCode())
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

  @Test
  void connectorJQueryTimeoutCancelsTheStatementAndTheConnectionStaysUsable() throws Exception {
    proxy = ProxyHarness.start(db, "");
    try (Connection c = proxy.mysql("");
        Statement s = c.createStatement()) {
      s.setQueryTimeout(1);
      assertThatThrownBy(() -> s.executeQuery("SELECT SLEEP(20)").close())
          .isInstanceOf(SQLTimeoutException.class);
      assertThat(scalar(c, "SELECT 4")).isEqualTo(4);
    }
  }
}
