package dev.mysqlpool.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue 12, the acceptance test: 32 clients write in a loop through the proxy while the writer
 * switches from A to B (A turns read-only, then the host name moves to B). Transactions that start
 * after A turned read-only all commit, on B; the only errors are for transactions in flight at the
 * switch, each saying the writer changed; no client connection is dropped; within a few seconds no
 * connection to A is left; /stats and /metrics show the switch. And the same with B never
 * appearing: borrowers fail after switchoverTimeout naming the backend and the wait, and the pool
 * recovers by itself when B appears.
 */
class WriterSwitch12IT {
  private static final Logger log = LoggerFactory.getLogger(WriterSwitch12IT.class);
  private static final int CLIENTS = 32;
  private static final String WRITER_CHANGED = "the writer of backend 'primary' changed";

  @TempDir Path dir;

  /** One client: its own connection to the proxy, short write transactions in a loop. */
  private static final class Client extends Thread {
    record Outcome(int n, long startNanos, long endNanos, SQLException error) {}

    final int id;
    final String url;
    final ConcurrentLinkedQueue<Outcome> outcomes = new ConcurrentLinkedQueue<>();
    final AtomicInteger committed = new AtomicInteger();
    volatile boolean running = true;
    volatile boolean connectionValidAtEnd;
    volatile Throwable crashed;

    Client(int id, String url) {
      super("switch-client-" + id);
      this.id = id;
      this.url = url;
    }

    @Override
    public void run() {
      try (Connection c =
          DriverManager.getConnection(
              url, EmbeddedMariaDb.APP_USER, EmbeddedMariaDb.APP_PASSWORD)) {
        c.setAutoCommit(false);
        try (PreparedStatement insert = c.prepareStatement("INSERT INTO sw VALUES (?, ?)")) {
          for (int n = 1; running; n++) {
            long start = System.nanoTime();
            try {
              insert.setInt(1, id);
              insert.setInt(2, n);
              insert.executeUpdate();
              c.commit();
              committed.incrementAndGet();
              outcomes.add(new Outcome(n, start, System.nanoTime(), null));
            } catch (SQLException e) {
              outcomes.add(new Outcome(n, start, System.nanoTime(), e));
              try {
                c.rollback();
              } catch (SQLException ignored) {
                // the outcome above is what counts
              }
            }
          }
        }
        connectionValidAtEnd = c.isValid(5);
      } catch (Throwable t) {
        crashed = t;
      }
    }
  }

  private static List<Client> startClients(String url) {
    List<Client> clients = new ArrayList<>();
    for (int i = 0; i < CLIENTS; i++) {
      Client c = new Client(i, url);
      clients.add(c);
      c.start();
    }
    return clients;
  }

  private static void stop(List<Client> clients) throws InterruptedException {
    for (Client c : clients) {
      c.running = false;
    }
    for (Client c : clients) {
      c.join(TimeUnit.SECONDS.toMillis(30));
    }
  }

  private static Set<String> rows(EmbeddedMariaDb db) throws SQLException {
    Set<String> keys = new HashSet<>();
    try (Connection c = db.rootConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT client, n FROM app.sw")) {
      while (rs.next()) {
        keys.add(rs.getInt(1) + "/" + rs.getInt(2));
      }
    }
    return keys;
  }

  @Test
  void transactionModeClientsFollowTheWriterFromAToB() throws Exception {
    writerSwitch("transaction", 16);
  }

  @Test
  void sessionModeClientsFollowTheWriterFromAToB() throws Exception {
    writerSwitch("session", CLIENTS + 8);
  }

  @Test
  void withoutANewWriterBorrowersFailAfterSwitchoverTimeoutAndThePoolRecoversByItself()
      throws Exception {
    try (WriterSwitchHarness h = new WriterSwitchHarness(dir)) {
      h.relayB.cutAll(); // B does not answer yet
      h.startProxy(
          "pool: {mode: transaction, dnsTtl: 1s, switchoverTimeout: 3s, acquireTimeout: 1s,"
              + " connectTimeout: 1s}\n");
      try (Connection c =
              DriverManager.getConnection(
                  h.jdbcUrl(), EmbeddedMariaDb.APP_USER, EmbeddedMariaDb.APP_PASSWORD);
          Statement s = c.createStatement()) {
        s.executeUpdate("INSERT INTO sw VALUES (100, 1)");
        h.a.execute("SET GLOBAL read_only = 1");
        h.pointNameAt("127.0.0.3");

        long start = System.nanoTime();
        SQLException e =
            catchThrowableOfType(
                SQLException.class, () -> s.executeUpdate("INSERT INTO sw VALUES (100, 2)"));
        long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat((Throwable) e).as("a write while no writer answers").isNotNull();
        assertThat(e.getMessage())
            .contains("pool 'primary' (" + WriterSwitchHarness.HOST_NAME)
            .contains("the writer is switching")
            .contains("pool.switchoverTimeout (3000ms; waited");
        assertThat(waitedMillis)
            .as("the client waited switchoverTimeout, not acquireTimeout (1s)")
            .isBetween(2500L, 10_000L);
        assertThat(h.switchover().get("switchoverTimeouts").asLong()).isGreaterThanOrEqualTo(1);

        h.relayB.resume();
        await()
            .atMost(Duration.ofSeconds(15))
            .ignoreExceptions()
            .untilAsserted(
                () ->
                    assertThat(s.executeUpdate("INSERT INTO sw VALUES (100, 3)"))
                        .as("the same client connection writes again once B answers")
                        .isEqualTo(1));
        assertThat(rows(h.b)).contains("100/3");
        assertThat(h.switchover().get("switching").asBoolean()).isFalse();
      }
      assertThat(h.output()).doesNotContain("LEAK");
    }
  }

  private void writerSwitch(String mode, int maxConnections) throws Exception {
    try (WriterSwitchHarness h = new WriterSwitchHarness(dir)) {
      h.startProxy(
          "pool: {mode: "
              + mode
              + ", maxConnections: "
              + maxConnections
              + ", dnsTtl: 1s, switchoverTimeout: 20s, acquireTimeout: 5s,"
              + " validationInterval: 1s, connectTimeout: 2s}\n");
      List<Client> clients = startClients(h.jdbcUrl());
      try {
        await()
            .atMost(Duration.ofSeconds(30))
            .untilAsserted(
                () ->
                    assertThat(clients)
                        .as("every client commits on A before the switch")
                        .allMatch(c -> c.committed.get() >= 3));

        assertThat(h.switchover().get("writerAddress").asText())
            .as("/stats names the address the writer's name led to")
            .isEqualTo("127.0.0.2:" + h.port);
        assertThat(h.switchover().get("lastSwitchAt").isNull()).as("no switch yet").isTrue();
        Instant switchStartedAt = Instant.now();
        long switchStart = System.nanoTime();
        h.a.execute("SET GLOBAL read_only = 1");
        long readOnlyDone = System.nanoTime();
        await()
            .atMost(Duration.ofSeconds(5))
            .untilAsserted(
                () ->
                    assertThat(h.switchover().get("switching").asBoolean())
                        .as("the proxy noticed that A turned read-only")
                        .isTrue());
        h.pointNameAt("127.0.0.3");
        int[] atMove = clients.stream().mapToInt(c -> c.committed.get()).toArray();
        await()
            .atMost(Duration.ofSeconds(20))
            .untilAsserted(
                () -> {
                  for (Client c : clients) {
                    assertThat(c.committed.get())
                        .as("client %d commits on B after the switch", c.id)
                        .isGreaterThanOrEqualTo(atMove[c.id] + 3);
                  }
                });
        await()
            .atMost(Duration.ofSeconds(5))
            .untilAsserted(
                () ->
                    assertThat(h.a.threadIds(WriterSwitchHarness.BACKEND_USER))
                        .as("connections to A left in the pool")
                        .isEmpty());
        stop(clients);

        Set<String> onB = rows(h.b);
        int errors = 0;
        int afterSwitch = 0;
        long longestPause = 0;
        for (Client c : clients) {
          assertThat(c.crashed).as("client %d's connection", c.id).isNull();
          assertThat(c.connectionValidAtEnd)
              .as("client %d's connection survived the switch", c.id)
              .isTrue();
          for (Client.Outcome o : c.outcomes) {
            if (o.error() != null) {
              errors++;
              assertThat(o.startNanos())
                  .as(
                      "client %d's transaction %d failed (%s) though it started after A turned"
                          + " read-only",
                      c.id, o.n(), o.error().getMessage())
                  .isLessThan(readOnlyDone);
              assertThat(o.error().getMessage())
                  .as("the error of a transaction in flight at the switch")
                  .contains(WRITER_CHANGED);
            } else if (o.startNanos() > readOnlyDone) {
              afterSwitch++;
              longestPause = Math.max(longestPause, o.endNanos() - o.startNanos());
              assertThat(onB)
                  .as("client %d's transaction %d, started after the switch, is on B", c.id, o.n())
                  .contains(c.id + "/" + o.n());
            }
          }
        }
        JsonNode sw = h.switchover();
        assertThat(sw.get("switches").asLong()).isEqualTo(1);
        assertThat(sw.get("switching").asBoolean()).isFalse();
        assertThat(sw.get("role").asText()).isEqualTo("writer");
        assertThat(sw.get("lastSwitchMillis").asLong()).isBetween(0L, 20_000L);
        assertThat(sw.get("writerAddress").asText())
            .as("/stats names the new writer's address")
            .isEqualTo("127.0.0.3:" + h.port);
        assertThat(Instant.parse(sw.get("lastSwitchAt").asText()))
            .as("the switch ended after it started, on the wall clock")
            .isBetween(switchStartedAt, Instant.now());
        String metrics = h.get("/metrics").body();
        assertThat(metrics)
            .contains("mysqlpool_backend_switches_total{backend=\"primary\"} 1.0")
            .contains("mysqlpool_backend_writer{backend=\"primary\"} 1.0");
        assertThat(h.output()).doesNotContain("LEAK");
        log.info(
            "{} mode: switch took {}ms (read_only at +{}ms); {} transactions committed after it,"
                + " the longest took {}ms; {} errors (in flight at the switch); clients held {},"
                + " errored {}",
            mode,
            sw.get("lastSwitchMillis").asLong(),
            TimeUnit.NANOSECONDS.toMillis(readOnlyDone - switchStart),
            afterSwitch,
            TimeUnit.NANOSECONDS.toMillis(longestPause),
            errors,
            sw.get("clientsHeld").asLong(),
            sw.get("clientsErrored").asLong());
      } finally {
        stop(clients);
      }
    }
  }
}
