package dev.mysqlpool.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import dev.mysqlpool.proxy.testsupport.ReplicatedMariaDb;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue 15, the readers' side: a proxy with a writer and a {@code role: reader} in front of a real
 * replicating pair, watched through its admin endpoints as an operator would. A caught-up replica
 * serves reads; one whose lag is unknown (SQL thread stopped), beyond {@code maxReplicationLag}
 * (MASTER_DELAY with a steady stream of writes) or killed stops serving, and serves again once it
 * caught up or came back; /readyz answers 200 throughout, since readiness never depends on a
 * backend.
 */
class ReaderLagIT {
  private static final Logger log = LoggerFactory.getLogger(ReaderLagIT.class);
  private static final Duration MAX_LAG = Duration.ofSeconds(2);
  private static final String SERVING = "replica-a up reader lag 0s";

  private static ReplicatedMariaDb pair;
  private static ProxyHarness proxy;
  private static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start() {
    pair = ReplicatedMariaDb.start();
    pair.primary().execute("CREATE TABLE app.ticks (id INT AUTO_INCREMENT PRIMARY KEY)");
    String yaml =
        "listen: {host: 127.0.0.1, port: 0}\n"
            + "admin: {host: 127.0.0.1, port: 0}\n"
            + "backends:\n"
            + "  - {name: writer, host: 127.0.0.1, port: "
            + pair.primary().port()
            + ", role: writer}\n"
            + "  - {name: replica-a, host: 127.0.0.1, port: "
            + pair.replica().port()
            + ", role: reader, weight: 1}\n"
            + "users:\n  - {name: "
            + EmbeddedMariaDb.APP_USER
            + ", password: "
            + EmbeddedMariaDb.APP_PASSWORD
            + "}\n"
            + "pool: {mode: transaction, minIdle: 1}\n"
            + "routing: {readWriteSplit: true, maxReplicationLag: "
            + MAX_LAG.toSeconds()
            + "s}\n";
    proxy = ProxyHarness.fromYaml(yaml);
  }

  @AfterAll
  static void stop() {
    if (proxy != null) {
      proxy.close();
    }
    if (pair != null) {
      pair.close();
    }
  }

  @BeforeEach
  void replicaServes() {
    awaitBackendz(Duration.ofSeconds(20), SERVING);
  }

  @Test
  void aCaughtUpReplicaServesReads() throws Exception {
    assertThat(backendz()).contains("writer up\n").contains(SERVING + "\n");
    MetricsScrape m = MetricsScrape.of(proxy);
    assertThat(m.value("mysqlpool_backend_serving_reads{backend=\"replica-a\"}")).isEqualTo(1);
    assertThat(m.value("mysqlpool_backend_replication_lag_seconds{backend=\"replica-a\"}"))
        .isEqualTo(0);
    assertThat(m.value("mysqlpool_backend_up{backend=\"replica-a\"}")).isEqualTo(1);
    assertThat(proxy.server.readers().pick())
        .withFailMessage("the serving reader is the one a read goes to")
        .isSameAs(proxy.server.pool("replica-a"));
  }

  @Test
  void aStoppedSqlThreadStopsReadsAtOnceAndTheyResumeWhenItRuns() throws Exception {
    long fallbacksBefore = proxy.server.readers().fallbacks();
    long stopped = System.nanoTime();
    pair.stopSqlThread();
    try {
      awaitBackendz(
          Duration.ofSeconds(10),
          "replica-a up reader lag unknown, not serving: replication SQL thread not running"
              + " (Slave_SQL_Running=No)");
      log.info(
          "stopped SQL thread noticed after {} ms",
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopped));
      MetricsScrape m = MetricsScrape.of(proxy);
      assertThat(m.value("mysqlpool_backend_serving_reads{backend=\"replica-a\"}")).isEqualTo(0);
      assertThat(m.value("mysqlpool_backend_replication_lag_seconds{backend=\"replica-a\"}"))
          .withFailMessage("an unknown lag is NaN, never 0")
          .isNaN();
      assertThat(proxy.server.readers().pick()).withFailMessage("reads go to the writer").isNull();
      assertThat(proxy.server.readers().fallbacks()).isEqualTo(fallbacksBefore + 1);
    } finally {
      pair.startSqlThread();
    }
    awaitBackendz(Duration.ofSeconds(10), SERVING);
    assertThat(proxy.server.readers().pick()).isSameAs(proxy.server.pool("replica-a"));
  }

  @Test
  void aReplicaBeyondMaxReplicationLagStopsServingAndServesAgainOnceCaughtUp() throws Exception {
    pair.delay(Duration.ofSeconds(5));
    ScheduledExecutorService writer = Executors.newSingleThreadScheduledExecutor();
    AtomicInteger writes = new AtomicInteger();
    try {
      awaitBackendz(Duration.ofSeconds(10), SERVING);
      // A steady stream keeps the delayed replica about 5s behind, with both threads running.
      writer.scheduleAtFixedRate(
          () -> {
            pair.primary().execute("INSERT INTO app.ticks VALUES ()");
            writes.incrementAndGet();
          },
          0,
          300,
          TimeUnit.MILLISECONDS);
      // When the server itself first reports a lag beyond the limit, as seen by this test.
      long[] serverSaid = {0};
      await()
          .atMost(Duration.ofSeconds(20))
          .pollInterval(Duration.ofMillis(100))
          .untilAsserted(
              () -> {
                assertReady();
                String behind = pair.replicaStatus().get("Seconds_Behind_Master");
                if (serverSaid[0] == 0
                    && behind != null
                    && Long.parseLong(behind) > MAX_LAG.toSeconds()) {
                  serverSaid[0] = System.nanoTime();
                }
                assertThat(backendz())
                    .containsPattern("\nreplica-a lagging [3-9]s > maxReplicationLag 2s\n");
              });
      log.info(
          "lag beyond maxReplicationLag shown {} ms after SHOW REPLICA STATUS first reported it"
              + " to this test",
          serverSaid[0] == 0
              ? "-"
              : TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - serverSaid[0]));
      MetricsScrape m = MetricsScrape.of(proxy);
      assertThat(m.value("mysqlpool_backend_serving_reads{backend=\"replica-a\"}")).isEqualTo(0);
      assertThat(m.value("mysqlpool_backend_replication_lag_seconds{backend=\"replica-a\"}"))
          .isGreaterThan(MAX_LAG.toSeconds());
      assertThat(proxy.server.readers().pick()).isNull();
    } finally {
      writer.shutdownNow();
      writer.awaitTermination(10, TimeUnit.SECONDS);
    }
    try {
      // The last write is applied 5s after it was made; then the lag reads 0 again.
      awaitBackendz(Duration.ofSeconds(20), SERVING);
      assertThat(
              MetricsScrape.of(proxy)
                  .value("mysqlpool_backend_serving_reads{backend=\"replica-a\"}"))
          .isEqualTo(1);
    } finally {
      pair.delay(Duration.ZERO);
    }
    assertThat(writes.get()).as("writes made while lagging").isPositive();
  }

  @Test
  void aKilledReplicaGoesDownAndComesBackWhenRestarted() throws Exception {
    long killed = System.nanoTime();
    pair.killReplica();
    try {
      awaitBackendz(Duration.ofSeconds(15), "replica-a down");
      log.info(
          "killed replica shown down after {} ms",
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed));
      MetricsScrape m = MetricsScrape.of(proxy);
      assertThat(m.value("mysqlpool_backend_up{backend=\"replica-a\"}")).isEqualTo(0);
      assertThat(m.value("mysqlpool_backend_serving_reads{backend=\"replica-a\"}")).isEqualTo(0);
      assertThat(proxy.server.readers().pick()).isNull();
    } finally {
      pair.restartReplica();
    }
    long restarted = System.nanoTime();
    awaitBackendz(Duration.ofSeconds(20), SERVING);
    log.info(
        "restarted replica serving again after {} ms",
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - restarted));
    assertThat(MetricsScrape.of(proxy).value("mysqlpool_backend_up{backend=\"replica-a\"}"))
        .isEqualTo(1);
  }

  /** Waits until /backendz has a line starting with {@code line}; /readyz must be 200 meanwhile. */
  private static void awaitBackendz(Duration atMost, String line) {
    await()
        .atMost(atMost)
        .pollInterval(Duration.ofMillis(100))
        .untilAsserted(
            () -> {
              assertReady();
              assertThat(backendz()).contains("\n" + line).doesNotContain("writer down");
            });
  }

  private static void assertReady() throws Exception {
    HttpResponse<String> r = get("/readyz");
    assertThat(r.statusCode())
        .withFailMessage("/readyz must not depend on readers: %s %s", r.statusCode(), r.body())
        .isEqualTo(200);
  }

  /** The /backendz body, with a leading newline so every line can be matched from its start. */
  private static String backendz() throws Exception {
    return "\n" + get("/backendz").body();
  }

  private static HttpResponse<String> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(proxy.adminUrl(path)))
            .timeout(Duration.ofSeconds(5))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
