package dev.mysqlpool.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mysqlpool.proxy.testsupport.LeakGuard;
import dev.mysqlpool.proxy.testsupport.ReplicatedMariaDb;
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
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code routing.readWriteSplit} against a real primary and a real GTID replica: reads go to the
 * replica ({@code @@server_id} 2 proves it) and everything that is not a safe read to the primary;
 * a client reads its own writes; a lagging, stopped or killed replica moves reads to the primary
 * without an error.
 */
@ExtendWith(LeakGuard.class)
class ReadWriteSplitIT {
  private static final String PRIMARY = "1";
  private static final String REPLICA = "2";

  private static ReplicatedMariaDb pair;
  private ProxyHarness proxy;

  @BeforeAll
  static void servers() {
    pair = ReplicatedMariaDb.start();
    pair.primary()
        .execute(
            "CREATE TABLE app.rw (id INT AUTO_INCREMENT PRIMARY KEY, owner INT, v INT)",
            "INSERT INTO app.rw (owner, v) VALUES (0, 0)");
    pair.awaitCaughtUp();
  }

  @AfterAll
  static void stopServers() {
    if (pair != null) {
      pair.close();
    }
  }

  @AfterEach
  void stopProxy() {
    if (proxy != null) {
      proxy.close();
    }
  }

  private void start(String maxReplicationLag) {
    start(maxReplicationLag, "");
  }

  /** {@code routingFields}: more fields of the routing section, each ", name: value". */
  private void start(String maxReplicationLag, String routingFields) {
    proxy =
        ProxyHarness.fromYaml(
            pair.splitProxyYaml(
                "mode: transaction, maxConnections: 8, acquireTimeout: 20s",
                "readWriteSplit: true, maxReplicationLag: "
                    + maxReplicationLag
                    + ", readYourWrites: session"
                    + routingFields));
    await("the replica serving reads")
        .atMost(Duration.ofSeconds(20))
        .until(() -> backendz().matches("(?s).*replica up reader lag \\d+s\n.*"));
  }

  private String backendz() throws Exception {
    return get("/backendz");
  }

  private String get(String path) throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(proxy.adminUrl(path))).build(),
                HttpResponse.BodyHandlers.ofString());
    return r.body();
  }

  private static String text(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  @Test
  void readsGoToTheReplicaAndEverythingElseToThePrimary() throws Exception {
    start("5s");
    try (Connection c = proxy.mariadb("")) {
      assertThat(text(c, "SELECT @@server_id")).isEqualTo(REPLICA);
      assertThat(text(c, "/* a comment first */ select @@server_id")).isEqualTo(REPLICA);
      assertThat(text(c, "SELECT @@server_id FROM app.rw LIMIT 1 FOR UPDATE")).isEqualTo(PRIMARY);

      c.setAutoCommit(false);
      assertThat(text(c, "SELECT @@server_id"))
          .withFailMessage("a SELECT inside a transaction must run where the transaction runs")
          .isEqualTo(PRIMARY);
      c.commit();
      c.setAutoCommit(true);
      assertThat(text(c, "SELECT @@server_id")).isEqualTo(REPLICA);

      try (Statement s = c.createStatement()) {
        s.execute("START TRANSACTION READ ONLY");
        assertThat(text(c, "SELECT @@server_id"))
            .withFailMessage("a read-only transaction may go to a reader as a whole")
            .isEqualTo(REPLICA);
        s.execute("COMMIT");
      }
      assertThat(text(c, "SELECT @@server_id")).isEqualTo(REPLICA);
    }
    try (Connection locks = proxy.mariadb("")) {
      assertThat(text(locks, "SELECT @@server_id, GET_LOCK('split-it', 0)")).isEqualTo(PRIMARY);
      assertThat(text(locks, "SELECT @@server_id"))
          .withFailMessage("a client holding a named lock stays on the primary that holds it")
          .isEqualTo(PRIMARY);
      assertThat(text(locks, "SELECT RELEASE_LOCK('split-it') + @@server_id - 1"))
          .isEqualTo(PRIMARY);
    }
    try (Connection vars = proxy.mariadb("");
        Statement s = vars.createStatement()) {
      s.execute("SET @mine = 41");
      assertThat(text(vars, "SELECT @mine + 1"))
          .withFailMessage("user variables live on the primary session that set them")
          .isEqualTo("42");
    }
    String metrics = get("/metrics");
    assertThat(metrics)
        .contains("mysqlpool_routing_decisions_total{reason=\"read\",to=\"reader\"}")
        .contains("reason=\"side_effect_function\",to=\"writer\"")
        .contains("reason=\"in_transaction\",to=\"writer\"");
    assertThat(get("/stats"))
        .contains("\"routing\" : {")
        .contains("\"reader/read\" : ")
        .contains("\"role\" : \"reader\"");
    assertThat(metrics).contains("mysqlpool_backend_info{backend=\"replica\",role=\"reader\"} 1");
  }

  @Test
  void aClientReadsItsOwnWritesWhileOthersReadTheReplica() throws Exception {
    // The replica applies each event 2 s late: still within maxReplicationLag, so it serves reads,
    // but a client that just wrote would miss its row there. No waiting on the reader: the
    // writer serves the client's reads until the replica has its write.
    pair.delay(Duration.ofSeconds(2));
    try {
      start("10s", ", readYourWritesWait: 0");
      try (Connection writer = proxy.mariadb("");
          Connection other = proxy.mariadb("");
          Statement w = writer.createStatement()) {
        for (int i = 0; i < 20; i++) {
          w.executeUpdate("INSERT INTO app.rw (owner, v) VALUES (1, " + i + ")");
          String id = text(writer, "SELECT LAST_INSERT_ID()");
          assertThat(text(writer, "SELECT COUNT(*) FROM app.rw WHERE id = " + id))
              .withFailMessage("the client's read right after its insert must see the row")
              .isEqualTo("1");
          assertThat(text(other, "SELECT @@server_id"))
              .withFailMessage("a client that wrote nothing keeps reading the replica")
              .isEqualTo(REPLICA);
        }
        await("the writing client's reads back on the replica once it caught up")
            .atMost(Duration.ofSeconds(20))
            .until(() -> REPLICA.equals(text(writer, "SELECT @@server_id")));
      }
      assertThat(get("/metrics")).contains("reason=\"read_your_writes\",to=\"writer\"");
    } finally {
      pair.delay(Duration.ZERO);
      pair.awaitCaughtUp();
    }
  }

  @Test
  void aReadAfterTheClientsWriteWaitsForTheReplicaToApplyIt() throws Exception {
    // 1 s behind, and reads may wait up to 5 s on the replica for the client's write.
    pair.delay(Duration.ofSeconds(1));
    try {
      start("10s", ", readYourWritesWait: 5s");
      try (Connection c = proxy.mariadb("");
          Statement w = c.createStatement()) {
        for (int i = 0; i < 3; i++) {
          w.executeUpdate("INSERT INTO app.rw (owner, v) VALUES (2, " + i + ")");
          String id = text(c, "SELECT LAST_INSERT_ID()");
          assertThat(
                  text(c, "SELECT CONCAT(COUNT(*), '@', @@server_id) FROM app.rw WHERE id = " + id))
              .withFailMessage("the replica, having waited for the client's insert, serves the row")
              .isEqualTo("1@" + REPLICA);
        }
      }
      assertThat(get("/metrics")).contains("reason=\"read_your_writes_wait\",to=\"reader\"");
    } finally {
      pair.delay(Duration.ZERO);
      pair.awaitCaughtUp();
    }
  }

  @Test
  void aReplicaThatStopsApplyingLosesItsReadsWithoutAnError() throws Exception {
    start("2s");
    try (Connection c = proxy.mariadb("")) {
      assertThat(text(c, "SELECT @@server_id")).isEqualTo(REPLICA);
      pair.stopSqlThread();
      try {
        await("reads moving to the primary")
            .atMost(Duration.ofSeconds(20))
            .until(() -> PRIMARY.equals(text(c, "SELECT @@server_id")));
        assertThat(backendz()).contains("replica");
      } finally {
        pair.startSqlThread();
      }
      await("reads back on the replica once it applies again")
          .atMost(Duration.ofSeconds(20))
          .until(() -> REPLICA.equals(text(c, "SELECT @@server_id")));
    }
    assertThat(get("/metrics")).contains("reason=\"lag_fallback\",to=\"writer\"");
  }

  @Test
  void aKilledReplicaCostsNoClientAnError() throws Exception {
    start("5s");
    int clients = 8;
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicInteger reads = new AtomicInteger();
    ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
    CountDownLatch warmedUp = new CountDownLatch(clients);
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < clients; i++) {
      Thread t =
          new Thread(
              () -> {
                try (Connection c = proxy.mariadb("")) {
                  boolean counted = false;
                  while (running.get()) {
                    text(c, "SELECT @@server_id, SLEEP(0.01)");
                    reads.incrementAndGet();
                    if (!counted) {
                      counted = true;
                      warmedUp.countDown();
                    }
                  }
                } catch (SQLException e) {
                  errors.add(e.getMessage());
                  warmedUp.countDown();
                }
              },
              "split-reader-" + i);
      t.start();
      threads.add(t);
    }
    try {
      assertThat(warmedUp.await(20, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
      pair.killReplica();
      int before = reads.get();
      await("reads going on after the replica died")
          .atMost(Duration.ofSeconds(20))
          .until(() -> reads.get() > before + 200);
    } finally {
      running.set(false);
      for (Thread t : threads) {
        t.join(20_000);
      }
      pair.restartReplica();
    }
    assertThat(errors).withFailMessage("client errors: %s", errors).isEmpty();
    try (Connection c = proxy.mariadb("")) {
      await("reads back on the restarted replica")
          .atMost(Duration.ofSeconds(30))
          .until(() -> REPLICA.equals(text(c, "SELECT @@server_id")));
    }
  }
}
