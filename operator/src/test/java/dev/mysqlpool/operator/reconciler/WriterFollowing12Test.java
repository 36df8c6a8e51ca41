package dev.mysqlpool.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mysqlpool.operator.api.MySQLPool;
import dev.mysqlpool.operator.render.RenderSettings;
import dev.mysqlpool.operator.testing.Fixtures;
import dev.mysqlpool.operator.testing.MockOperators;
import dev.mysqlpool.proxy.config.ConfigLoader;
import dev.mysqlpool.proxy.config.ProxyConfig;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.javaoperatorsdk.operator.Operator;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 12 on the mock API server: a pool's proxies follow its writer with the spec's switchover
 * timeout and DNS TTL and stop in the order the NLB needs; a deregistration delay too short for
 * that order is refused with the three values, and the running proxies keep their configuration.
 */
@EnableKubernetesMockClient(crud = true)
class WriterFollowing12Test {
  KubernetesClient client;
  Operator operator;

  @BeforeEach
  void start() {
    client.resource(Fixtures.secret()).create();
    operator = MockOperators.start(client, new MySQLPoolReconciler(RenderSettings.defaults()));
  }

  @AfterEach
  void stop() {
    operator.stop();
  }

  private MySQLPool pool() {
    return client
        .resources(MySQLPool.class)
        .inNamespace(Fixtures.NAMESPACE)
        .withName("orders")
        .get();
  }

  private ConfigMap configMap() {
    return client.configMaps().inNamespace(Fixtures.NAMESPACE).withName("orders-config").get();
  }

  private ProxyConfig proxyConfig() {
    return ConfigLoader.check(configMap().getData().get("proxy.yaml"));
  }

  private Condition condition(String type) {
    MySQLPool p = pool();
    return p == null || p.getStatus() == null
        ? null
        : Conditions.find(p.getStatus().conditions, type);
  }

  @Test
  void theProxiesFollowTheWriterAndARefusedShutdownOrderKeepsWhatRuns() {
    client
        .resource(
            Fixtures.pool(
                s -> {
                  s.pool.switchoverTimeout = "45s";
                  s.pool.dnsTtl = "2s";
                }))
        .create();
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              assertThat(configMap()).isNotNull();
              assertThat(pool().getStatus().timeouts).isNotNull();
            });
    ProxyConfig running = proxyConfig();
    assertThat(running.backends().get(0).role()).isEqualTo(ProxyConfig.BackendRole.WRITER);
    assertThat(running.pool().switchoverTimeout()).isEqualTo(Duration.ofSeconds(45));
    assertThat(running.pool().dnsTtl()).isEqualTo(Duration.ofSeconds(2));
    assertThat(running.shutdown())
        .isEqualTo(new ProxyConfig.Shutdown(Duration.ofSeconds(30), Duration.ofSeconds(25)));
    assertThat(pool().getStatus().timeouts.loadBalancerWait).isEqualTo("25s");
    assertThat(pool().getStatus().timeouts.terminationGracePeriodSeconds).isEqualTo(65);
    String deploymentVersion =
        client
            .apps()
            .deployments()
            .inNamespace(Fixtures.NAMESPACE)
            .withName("orders")
            .get()
            .getMetadata()
            .getResourceVersion();

    MySQLPool p = pool();
    p.getSpec().shutdown.drainTimeout = "60s";
    client.resource(p).update();

    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              Condition c = condition("TimeoutsValid");
              assertThat(c).isNotNull();
              assertThat(c.getStatus() + " " + c.getReason()).isEqualTo("False TimeoutsClash");
              assertThat(c.getMessage())
                  .contains("spec.service.deregistrationDelaySeconds (60)")
                  .contains("shutdown.loadBalancerWait (25s")
                  .contains("spec.shutdown.drainTimeout (1m) = 85s")
                  .contains("use at least 85 or shorten spec.shutdown.drainTimeout");
            });
    assertThat(proxyConfig().shutdown())
        .as("the running proxies keep the order that fits")
        .isEqualTo(running.shutdown());
    Deployment d =
        client.apps().deployments().inNamespace(Fixtures.NAMESPACE).withName("orders").get();
    assertThat(d.getMetadata().getResourceVersion()).isEqualTo(deploymentVersion);
    assertThat(pool().getStatus().timeouts.drainTimeout)
        .as("the status shows what runs")
        .isEqualTo("30s");
  }
}
