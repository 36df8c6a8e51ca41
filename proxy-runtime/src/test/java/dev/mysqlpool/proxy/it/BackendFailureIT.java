package dev.mysqlpool.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.mysqlpool.proxy.ProxyServer;
import dev.mysqlpool.proxy.config.ConfigLoader;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A backend server killed with SIGKILL and restarted under load, with a second backend next to it.
 *
 * <p>Proxy A serves two backends: {@code crashy} (a server of this test's own, which is crashed)
 * for user {@code app}, and {@code steady} (the shared server) for user {@code other}. Proxy B
 * serves only {@code crashy}, with one idle connection kept open, so its {@code /backendz} shows
 * that backend's state alone. Sixteen client threads run short transactions through proxy A that
 * also leave session state behind (a user variable, a temporary table) while the server is killed
 * and started again.
 */
@ExtendWith(LeakGuard.class)
class BackendFailureIT {
  private static final Logger log = LoggerFactory.getLogger(BackendFailureIT.class);
  private static final int CRASHY_CLIENTS = 12;
  private static final int STEADY_CLIENTS = 4;
  private static final int MAX_CONNECTIONS = 6;
  private static final String OTHER_USER = "other";
  private static final String OTHER_PASSWORD = "other-secret";

  /**
   * Every call has a deadline: a hang shows up as a read timeout and is classified as a failure.
   */
  private static final String CLIENT_PARAMS = "connectTimeout=5000&socketTimeout=10000";

  private static EmbeddedMariaDb crashy;
  private static EmbeddedMariaDb steady;
  private static ProxyServer proxyA;
  private static ProxyHarness proxyB;
  private static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start() {
    steady = EmbeddedMariaDb.shared();
    crashy = EmbeddedMariaDb.startNew();
    for (EmbeddedMariaDb db : List.of(steady, crashy)) {
      db.execute("CREATE TABLE IF NOT EXISTS app.failure_counter (id INT PRIMARY KEY, n INT)");
      for (int i = 0; i < CRASHY_CLIENTS + STEADY_CLIENTS; i++) {
        db.execute("INSERT IGNORE INTO app.failure_counter VALUES (" + i + ", 0)");
      }
    }
    String yaml =
        "listen: {host: 127.0.0.1, port: 0}\n"
            + "admin: {host: 127.0.0.1, port: 0}\n"
            + "backends:\n"
            + "  - {name: crashy, host: "
            + crashy.host()
            + ", port: "
            + crashy.port()
            + "}\n"
            + "  - {name: steady, host: "
            + steady.host()
            + ", port: "
            + steady.port()
            + "}\n"
            + "users:\n"
            + "  - {name: app, password: "
            + EmbeddedMariaDb.APP_PASSWORD
            + ", backend: crashy}\n"
            + "  - {name: "
            + OTHER_USER
            + ", password: "
            + OTHER_PASSWORD
            + ", backend: steady, backendUser: app,"
            + " backendPassword: "
            + EmbeddedMariaDb.APP_PASSWORD
            + "}\n"
            + "pool: {maxConnections: "
            + MAX_CONNECTIONS
            + ", acquireTimeout: 1s, connectTimeout: 1s}\n";
    try {
      proxyA = ProxyServer.start(ConfigLoader.parse(yaml, null));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    proxyB =
        ProxyHarness.start(crashy, "pool: {minIdle: 1, acquireTimeout: 1s, connectTimeout: 1s}\n");
  }

  @AfterAll
  static void stop() {
    if (proxyA != null) {
      proxyA.close();
    }
    if (proxyB != null) {
      proxyB.close();
    }
    if (crashy != null) {
      crashy.close();
    }
  }

  private static Connection connect(String user, String password) throws SQLException {
    return DriverManager.getConnection(
        "jdbc:mariadb://127.0.0.1:" + proxyA.listenPort() + "/app?" + CLIENT_PARAMS,
        user,
        password);
  }

  private static int status(int adminPort, String path) throws Exception {
    HttpRequest r =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + path))
            .timeout(Duration.ofSeconds(5))
            .build();
    return http.send(r, HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  private static boolean crashyUp() {
    return proxyA.stats().backends().stream()
        .filter(b -> b.backend().equals("crashy"))
        .findFirst()
        .orElseThrow()
        .up();
  }

  /**
   * One load thread: short transactions on its own row, leaving a user variable and a temporary
   * table behind.
   */
  private static final class Client extends Thread {
    final int id;
    final boolean onCrashy;
    final AtomicBoolean running;
    final AtomicInteger committed = new AtomicInteger();
    final Map<String, Integer> errors;
    final List<String> unexpected;

    Client(
        int id,
        boolean onCrashy,
        AtomicBoolean running,
        Map<String, Integer> errors,
        List<String> unexpected) {
      super("failure-load-" + id);
      this.id = id;
      this.onCrashy = onCrashy;
      this.running = running;
      this.errors = errors;
      this.unexpected = unexpected;
    }

    @Override
    public void run() {
      Connection c = null;
      int txInConnection = 0;
      while (running.get()) {
        try {
          if (c == null) {
            c =
                onCrashy
                    ? connect(EmbeddedMariaDb.APP_USER, EmbeddedMariaDb.APP_PASSWORD)
                    : connect(OTHER_USER, OTHER_PASSWORD);
            c.setAutoCommit(false);
            txInConnection = 0;
          }
          try (Statement s = c.createStatement()) {
            s.execute("SET @failure_dirty = " + id);
            s.execute("CREATE TEMPORARY TABLE IF NOT EXISTS failure_tmp (i INT)");
            s.executeUpdate("UPDATE failure_counter SET n = n + 1 WHERE id = " + id);
          }
          c.commit();
          committed.incrementAndGet();
          // Sessions end now and then, so pooled connections pass from one dirty session to the
          // next.
          if (++txInConnection == 4) {
            c.close();
            c = null;
          }
        } catch (SQLException e) {
          String kind = classify(e, onCrashy);
          errors.merge((onCrashy ? "crashy " : "steady ") + kind, 1, Integer::sum);
          if (kind.startsWith("UNEXPECTED")) {
            synchronized (unexpected) {
              unexpected.add(getName() + ": " + kind + ": " + describe(e));
            }
          }
          closeQuietly(c);
          c = null;
        }
      }
      closeQuietly(c);
    }
  }

  /**
   * The errors clients may see from a session on a backend that died: 2013 lost connection (the
   * proxy's ERR during a command), a communications error (the proxy closed a session whose backend
   * died while it was idle), or 9001 naming the pool (and, while the server is down, the last
   * backend error). A read timeout means a hang; anything else is unexpected too. A session on the
   * other backend may see nothing at all.
   */
  static String classify(SQLException e, boolean onCrashy) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SocketTimeoutException) {
        return "UNEXPECTED hang (read timed out)";
      }
    }
    if (!onCrashy) {
      return "UNEXPECTED error on the backend that stayed up";
    }
    for (Throwable t = e; t != null; t = t.getCause()) {
      String m = String.valueOf(t.getMessage());
      if (t instanceof SQLException s && s.getErrorCode() == 9001
          || m.contains("backend connection not available")) {
        if (!m.contains("pool 'crashy'") || !m.contains("request timed out after")) {
          return "UNEXPECTED 9001 wording";
        }
        // While the server is down the message carries the reason; right after the restart, a
        // waiter can still
        // time out while the pool refills (at most maxConcurrentConnects logins at once), with the
        // pool's counts.
        return m.contains("last backend error")
            ? "9001 acquire timeout, backend down"
            : "9001 acquire timeout, pool refilling";
      }
      if (t instanceof SQLException s && s.getErrorCode() == 2013) {
        return m.contains("Lost connection to backend 'crashy'")
            ? "2013 lost connection"
            : "UNEXPECTED 2013 wording";
      }
    }
    String state = e.getSQLState();
    if (state != null && state.startsWith("08")) {
      return "08xxx communications error";
    }
    return "UNEXPECTED";
  }

  private static String describe(Throwable e) {
    StringBuilder sb = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      sb.append(t.getClass().getSimpleName());
      if (t instanceof SQLException s) {
        sb.append('[').append(s.getErrorCode()).append('/').append(s.getSQLState()).append(']');
      }
      sb.append(": ").append(t.getMessage()).append(" <- ");
    }
    return sb.toString();
  }

  private static void closeQuietly(Connection c) {
    if (c != null) {
      try {
        c.close();
      } catch (SQLException ignored) {
        // the connection is broken; closing is best effort
      }
    }
  }

  private static int total(List<Client> clients) {
    return clients.stream().mapToInt(c -> c.committed.get()).sum();
  }

  @Test
  void
      serverKilledUnderLoadGivesOnlyClearErrorsReadinessFollowsAndServiceResumesWhileTheOtherBackendNeverFails()
          throws Exception {
    AtomicBoolean running = new AtomicBoolean(true);
    Map<String, Integer> errors = new ConcurrentHashMap<>();
    List<String> unexpected = new ArrayList<>();
    List<Client> crashyClients = new ArrayList<>();
    List<Client> steadyClients = new ArrayList<>();
    for (int i = 0; i < CRASHY_CLIENTS + STEADY_CLIENTS; i++) {
      Client c = new Client(i, i < CRASHY_CLIENTS, running, errors, unexpected);
      (c.onCrashy ? crashyClients : steadyClients).add(c);
      c.start();
    }
    List<Client> all = new ArrayList<>(crashyClients);
    all.addAll(steadyClients);
    try {
      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () ->
                  assertThat(all)
                      .as("every client has committed a few transactions before the crash")
                      .allMatch(c -> c.committed.get() >= 3));
      assertThat(status(proxyB.server.adminPort(), "/backendz")).isEqualTo(200);
      int steadyBefore = total(steadyClients);

      long crashedAt = System.nanoTime();
      crashy.crash();
      log.info("crashy server killed with SIGKILL");
      await()
          .atMost(Duration.ofSeconds(5))
          .untilAsserted(
              () ->
                  assertThat(status(proxyB.server.adminPort(), "/backendz"))
                      .as("/backendz of the proxy whose only backend is down")
                      .isEqualTo(503));
      assertThat(status(proxyB.server.adminPort(), "/readyz"))
          .as("/readyz stays 200 through a backend outage, so an NLB keeps every proxy (issue 12)")
          .isEqualTo(200);
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThat(errors.getOrDefault("crashy 9001 acquire timeout, backend down", 0))
                      .as("clients told the pool timed out while the server is down")
                      .isGreaterThanOrEqualTo(CRASHY_CLIENTS));
      assertThat(crashyUp()).as("/stats shows the crashed backend down").isFalse();
      assertThat(status(proxyA.adminPort(), "/readyz"))
          .as("/readyz of the two-backend proxy: it can still serve the other backend")
          .isEqualTo(200);
      assertThat(status(proxyA.adminPort(), "/backendz"))
          .as("/backendz of the two-backend proxy: one of its backends is down")
          .isEqualTo(503);
      int crashyDuringOutage = total(crashyClients);

      crashy.start();
      long restartedAt = System.nanoTime();
      log.info("crashy server restarted after {} ms down", (restartedAt - crashedAt) / 1_000_000);
      int[] crashyAtRestart = crashyClients.stream().mapToInt(c -> c.committed.get()).toArray();
      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () -> {
                for (int i = 0; i < CRASHY_CLIENTS; i++) {
                  assertThat(crashyClients.get(i).committed.get())
                      .as(
                          "transactions of client %d after the restart, without restarting the proxy",
                          i)
                      .isGreaterThanOrEqualTo(crashyAtRestart[i] + 3);
                }
              });
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThat(status(proxyB.server.adminPort(), "/backendz"))
                      .as("/backendz after the server is back")
                      .isEqualTo(200));
      assertThat(crashyUp()).isTrue();
      assertThat(total(steadyClients))
          .as("the other backend served all along")
          .isGreaterThan(steadyBefore);
      log.info(
          "commits: crashy {} (at crash {}), steady {}; errors {}",
          total(crashyClients),
          crashyDuringOutage,
          total(steadyClients),
          new TreeMap<>(errors));
    } finally {
      running.set(false);
      for (Client c : all) {
        c.join(20_000);
      }
    }
    assertThat(all).as("load threads finished (none stuck)").noneMatch(Thread::isAlive);
    assertThat(unexpected)
        .as("errors other than 2013, communications errors and 9001 with the pool's reason")
        .isEmpty();
    assertThat(errors.keySet()).as("error kinds seen").noneMatch(k -> k.startsWith("steady"));

    assertSessionsSeeCleanState(EmbeddedMariaDb.APP_USER, EmbeddedMariaDb.APP_PASSWORD, "crashy");
    assertSessionsSeeCleanState(OTHER_USER, OTHER_PASSWORD, "steady");
  }

  /**
   * Holds {@code MAX_CONNECTIONS} sessions at once, so every connection of the pool is lent out,
   * each after the dirty sessions of the load; none sees their user variable, temporary table or an
   * open transaction.
   */
  private static void assertSessionsSeeCleanState(String user, String password, String backend)
      throws Exception {
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(proxyA.pool(backend).stats().used())
                    .as("connections still lent after the load stopped")
                    .isZero());
    assertThat(proxyA.pool(backend).stats().total())
        .as("connections pooled for %s", backend)
        .isPositive();
    List<Connection> held = new ArrayList<>();
    try {
      for (int i = 0; i < MAX_CONNECTIONS; i++) {
        Connection c = connect(user, password);
        held.add(c);
        try (Statement s = c.createStatement();
            ResultSet rs =
                s.executeQuery("SELECT @failure_dirty, @@in_transaction, CONNECTION_ID()")) {
          rs.next();
          assertThat(rs.getObject(1))
              .as("%s session %d: user variable of an earlier session", backend, i)
              .isNull();
          assertThat(rs.getInt(2)).as("%s session %d: open transaction", backend, i).isZero();
        }
        try (Statement s = c.createStatement()) {
          assertThatThrownBy(() -> s.executeQuery("SELECT * FROM failure_tmp").close())
              .as("%s session %d: temporary table of an earlier session", backend, i)
              .isInstanceOf(SQLException.class)
              .satisfies(e -> assertThat(((SQLException) e).getErrorCode()).isEqualTo(1146));
        }
      }
    } finally {
      for (Connection c : held) {
        closeQuietly(c);
      }
    }
  }
}
