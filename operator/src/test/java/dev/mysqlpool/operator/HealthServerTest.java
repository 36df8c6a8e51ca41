package dev.mysqlpool.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mysqlpool.operator.render.RenderSettings;
import dev.mysqlpool.operator.testing.Fixtures;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The operator's own /healthz, /readyz and /metrics, with the operator running against the mock API
 * server.
 */
@EnableKubernetesMockClient(crud = true)
class HealthServerTest {
  static {
    java.util.logging.Logger.getLogger("io.fabric8.mockwebserver")
        .setLevel(java.util.logging.Level.WARNING);
  }

  KubernetesClient client;

  private static HttpResponse<String> get(int port, String path) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
            HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void servesHealthReadinessAndMetrics() throws Exception {
    client
        .resource(
            new KubernetesSerialization()
                .unmarshal(
                    Fixtures.read("crds/mysqlpools.mysqlpool.dev-v1.yml"),
                    CustomResourceDefinition.class))
        .create();
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Operator operator =
        MySQLPoolOperator.operator(
            client,
            RenderSettings.defaults(),
            Set.of(),
            o ->
                o.withSSABasedCreateUpdateMatchForDependentResources(false)
                    .withUseSSAToPatchPrimaryResource(false)
                    .withCloseClientOnStop(false)
                    .withMetrics(MicrometerMetrics.withoutPerResourceMetrics(registry)));
    HealthServer health = HealthServer.start(0, operator, registry);
    try {
      assertThat(get(health.port(), "/readyz").statusCode())
          .withFailMessage("not ready before start")
          .isEqualTo(503);
      operator.start();
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () -> {
                assertThat(get(health.port(), "/readyz").statusCode()).isEqualTo(200);
                assertThat(get(health.port(), "/healthz").statusCode()).isEqualTo(200);
              });
      client.resource(Fixtures.secret()).create();
      client.resource(Fixtures.pool()).create();
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThat(get(health.port(), "/metrics").body())
                      .contains("operator_sdk_reconciliations_started_total"));
    } finally {
      operator.stop();
      health.stop();
    }
  }
}
