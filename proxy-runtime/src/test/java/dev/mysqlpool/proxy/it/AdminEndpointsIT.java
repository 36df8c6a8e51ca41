package dev.mysqlpool.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** What an operator's probes and Prometheus see on the admin port. */
@ExtendWith(LeakGuard.class)
class AdminEndpointsIT {
  private static ProxyHarness proxy;
  private static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start() {
    proxy = ProxyHarness.start(EmbeddedMariaDb.shared(), "pool: {minIdle: 1, maxConnections: 4}\n");
  }

  @AfterAll
  static void stop() {
    proxy.close();
  }

  private static HttpResponse<String> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(proxy.adminUrl(path))).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void healthReadinessAndBackendHealth() throws Exception {
    assertThat(get("/healthz").statusCode()).isEqualTo(200);
    assertThat(get("/readyz").statusCode()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(10)).until(() -> get("/backendz").statusCode() == 200);
    assertThat(get("/backendz").body()).isEqualTo("primary up\n");
  }

  @Test
  void metricsExposePoolStateAcquireWaitAndQueryLatency() throws Exception {
    try (Connection c = proxy.mariadb("");
        Statement s = c.createStatement()) {
      s.executeQuery("SELECT 1").close();
      String metrics = get("/metrics").body();
      assertThat(metrics)
          // Other tests' sessions may still be closing, so at least this one.
          .containsPattern("mysqlpool_pool_connections\\{backend=\"primary\",state=\"used\"} [1-9]")
          .contains("mysqlpool_pool_connections{backend=\"primary\",state=\"free\"}")
          .contains("mysqlpool_pool_connections{backend=\"primary\",state=\"pending\"} 0.0")
          .contains("mysqlpool_pool_acquire_seconds_bucket{backend=\"primary\"")
          .contains("mysqlpool_query_seconds_count{backend=\"primary\"}")
          .containsPattern("mysqlpool_frontend_client_connections [1-9]")
          .contains("mysqlpool_pool_connections_opened_total{backend=\"primary\"}")
          .contains("mysqlpool_backend_queries_total{backend=\"primary\"}");
    }
  }

  @Test
  void statsHasOneRowPerBackendLikeProxySqlConnectionPool() throws Exception {
    try (Connection c = proxy.mariadb("");
        Statement s = c.createStatement()) {
      s.executeQuery("SELECT 1").close();
    }
    HttpResponse<String> r = get("/stats");
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode stats = new ObjectMapper().readTree(r.body());
    JsonNode row = stats.get("backends").get(0);
    assertThat(row.get("backend").asText()).isEqualTo("primary");
    assertThat(row.get("up").asBoolean()).isTrue();
    assertThat(row.get("queries").asLong()).isGreaterThan(0);
    assertThat(row.get("bytesReceived").asLong()).isGreaterThan(0);
    assertThat(row.get("connOk").asLong()).isGreaterThan(0);
    assertThat(row.get("serverWaitTimeoutSeconds").asLong()).isEqualTo(28800);
  }
}
