package dev.mysqlpool.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mysqlpool.operator.api.MySQLPool;
import dev.mysqlpool.operator.api.MySQLPoolSpec;
import dev.mysqlpool.operator.render.RenderSettings;
import dev.mysqlpool.operator.testing.Fixtures;
import dev.mysqlpool.operator.testing.MockOperators;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.javaoperatorsdk.operator.Operator;
import java.time.Duration;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What applications and GitOps tools read from a pool on the mock API server: the connection Secret
 * (written by name, following a rotated password) and a status that keeps showing what runs while a
 * change is refused.
 */
@EnableKubernetesMockClient(crud = true)
class ConnectionSecretAndStatusTest {
  KubernetesClient client;
  Operator operator;

  @BeforeEach
  void start() {
    operator = MockOperators.start(client, new MySQLPoolReconciler(RenderSettings.defaults()));
  }

  @AfterEach
  void stop() {
    operator.stop();
  }

  @SafeVarargs
  private MySQLPool apply(Consumer<MySQLPoolSpec>... mutators) {
    return client.resource(Fixtures.pool(mutators)).create();
  }

  private MySQLPool pool() {
    return get(MySQLPool.class, "orders");
  }

  private <T extends HasMetadata> T get(Class<T> type, String name) {
    return client.resources(type).inNamespace(Fixtures.NAMESPACE).withName(name).get();
  }

  private String conditionLine(String type) {
    MySQLPool p = pool();
    Condition c =
        p == null || p.getStatus() == null ? null : Conditions.find(p.getStatus().conditions, type);
    return c == null ? null : c.getStatus() + " " + c.getReason();
  }

  private void awaitSteady() {
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              assertThat(get(Deployment.class, "orders")).isNotNull();
              assertThat(get(PodDisruptionBudget.class, "orders")).isNotNull();
              assertThat(conditionLine("SizingValid")).isEqualTo("True Computed");
            });
  }

  @Test
  void theConnectionSecretHoldsHostPortAndAUriPerUser() {
    client.resource(Fixtures.secret()).create();
    MySQLPool created = apply();
    awaitSteady();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> get(Secret.class, "orders-connection") != null);
    Secret s = get(Secret.class, "orders-connection");
    Map<String, String> data = new java.util.TreeMap<>();
    s.getData()
        .forEach(
            (k, v) ->
                data.put(
                    k,
                    new String(
                        java.util.Base64.getDecoder().decode(v),
                        java.nio.charset.StandardCharsets.UTF_8)));
    assertThat(data)
        .containsEntry("host", "orders.shop.svc")
        .containsEntry("port", "3306")
        .containsEntry("app.uri", "mysql://app:change-me-app@orders.shop.svc:3306/")
        .containsEntry(
            "reporting.jdbcUrl",
            "jdbc:mysql://orders.shop.svc:3306/?user=reporting&password=change-me-reporting");
    assertThat(s.getMetadata().getOwnerReferences().get(0).getUid())
        .as("deleting the pool deletes its connection Secret")
        .isEqualTo(created.getMetadata().getUid());

    // A rotated password reaches the connection Secret at the next reconciliation.
    Secret users = get(Secret.class, "orders-db-users");
    users.getData().put("app", "bmV3LXBhc3N3b3Jk"); // new-password
    client.resource(users).update();
    MySQLPool p = pool();
    p.getSpec().workload.peakTps = 1001;
    client.resource(p).update();
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () ->
                assertThat(
                        new String(
                            java.util.Base64.getDecoder()
                                .decode(
                                    get(Secret.class, "orders-connection")
                                        .getData()
                                        .get("app.uri"))))
                    .isEqualTo("mysql://app:new-password@orders.shop.svc:3306/"));
  }

  @Test
  void aBlockedPoolKeepsTheStatusOfWhatRuns() {
    client.resource(Fixtures.secret()).create();
    apply();
    awaitSteady();
    Service svc = get(Service.class, "orders");
    svc.setStatus(
        new io.fabric8.kubernetes.api.model.ServiceStatusBuilder()
            .withNewLoadBalancer()
            .addNewIngress()
            .withHostname("orders-1234.elb.eu-west-1.amazonaws.com")
            .endIngress()
            .endLoadBalancer()
            .build());
    client.resource(svc).updateStatus();
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(() -> assertThat(pool().getStatus().endpoint).isNotNull());

    // A change that cannot be applied: a budget of 3 cannot give the 4 pods of a rollout one each.
    MySQLPool p = pool();
    p.getSpec().backend.maxConnections = 23;
    client.resource(p).update();
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              assertThat(conditionLine("Stalled")).isEqualTo("True BackendTooSmall");
              assertThat(conditionLine("Ready")).isEqualTo("False BackendTooSmall");
              assertThat(pool().getStatus().observedGeneration).isEqualTo(2L);
            });
    MySQLPool blocked = pool();
    assertThat(blocked.getStatus().sizing.perReplica)
        .as("status shows the numbers the running proxies have, not ones never applied")
        .isEqualTo(50);
    assertThat(blocked.getStatus().sizing.backendBudget).isEqualTo(480);
    assertThat(blocked.getStatus().endpoint)
        .as("clients still connect while the pool is blocked")
        .isEqualTo("orders-1234.elb.eu-west-1.amazonaws.com:3306");
    assertThat(get(ConfigMap.class, "orders-config").getData().get("proxy.yaml"))
        .contains("maxConnections: 50");
  }
}
