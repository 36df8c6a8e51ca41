package dev.mysqlpool.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mysqlpool.operator.api.MySQLPool;
import dev.mysqlpool.operator.api.MySQLPoolSpec;
import dev.mysqlpool.operator.render.RenderSettings;
import dev.mysqlpool.operator.testing.Fixtures;
import dev.mysqlpool.operator.testing.MockOperators;
import dev.mysqlpool.proxy.config.ConfigLoader;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.javaoperatorsdk.operator.Operator;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 14, elastic pools: an HPA changes spec.replicas through the scale subresource; the operator
 * writes the new per-replica split into the ConfigMap (the proxies reload it) and leaves the pod
 * template alone, so no proxy restarts. A setting the proxy reads only at startup still rolls them.
 */
@EnableKubernetesMockClient(crud = true)
class ScaleWithoutRollout14Test {
  /**
   * How long a scale step takes to settle here (90 s in a cluster): long enough for the test to see
   * the intermediate step on a loaded machine.
   */
  static final Duration SETTLE = Duration.ofSeconds(10);

  KubernetesClient client;
  Operator operator;

  @BeforeEach
  void start() {
    operator =
        MockOperators.start(
            client,
            new MySQLPoolReconciler(
                RenderSettings.defaults(),
                java.time.Clock.systemUTC(),
                new io.micrometer.core.instrument.composite.CompositeMeterRegistry(),
                SETTLE));
    client.resource(Fixtures.secret()).create();
    client.resource(Fixtures.pool()).create();
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              assertThat(maxConnections()).isEqualTo(50);
              assertThat(pool().getStatus()).isNotNull();
              assertThat(pool().getStatus().sizing).isNotNull();
            });
  }

  @AfterEach
  void stop() {
    operator.stop();
  }

  @Test
  void twoToFourReplicasChangesTheConfigMapAndNotThePodTemplate() {
    Deployment before = get(Deployment.class, "orders");
    PodTemplateSpec template = before.getSpec().getTemplate();
    assertThat(pool().getStatus().selector)
        .as("the scale subresource's selector finds the proxy pods")
        .isEqualTo("app.kubernetes.io/name=mysqlpool-proxy,app.kubernetes.io/instance=orders");

    editSpec(spec -> spec.replicas = 4);
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              assertThat(maxConnections()).as("100 connections split over 4").isEqualTo(25);
              assertThat(get(Deployment.class, "orders").getSpec().getReplicas()).isEqualTo(4);
              assertThat(pool().getStatus().sizing.perReplica).isEqualTo(25);
            });
    assertThat(get(Deployment.class, "orders").getSpec().getTemplate())
        .as("no rollout: the proxies apply the new split live")
        .isEqualTo(template);
  }

  @Test
  void aLargeJumpGoesInStepsTheBudgetCovers() {
    PodTemplateSpec template = get(Deployment.class, "orders").getSpec().getTemplate();
    // Every replica count the Deployment is given, as a watch sees it: the step shows even when a
    // loaded machine polls too slowly to catch it.
    List<Integer> applied = new CopyOnWriteArrayList<>();
    try (Watch watch =
        client
            .apps()
            .deployments()
            .inNamespace(Fixtures.NAMESPACE)
            .withName("orders")
            .watch(
                new Watcher<>() {
                  @Override
                  public void eventReceived(Action action, Deployment d) {
                    Integer r = d.getSpec().getReplicas();
                    if (applied.isEmpty() || !applied.get(applied.size() - 1).equals(r)) {
                      applied.add(r);
                    }
                  }

                  @Override
                  public void onClose(WatcherException cause) {}
                })) {
      editSpec(spec -> spec.replicas = 6);
      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () ->
                  assertThat(condition("Reconciling"))
                      .contains("ScalingInSteps", "scaling 2 -> 6"));
      await()
          .atMost(Duration.ofSeconds(40))
          .untilAsserted(
              () -> {
                assertThat(get(Deployment.class, "orders").getSpec().getReplicas()).isEqualTo(6);
                assertThat(maxConnections()).as("100 over 6").isEqualTo(17);
                assertThat(pool().getStatus().sizing.replicas).isEqualTo(6);
              });
    }
    // 2 -> 4 first: old proxies at 50 and new ones at 25 stay within 4 pods x (50 + 1), which the
    // budget check for 2 replicas counted.
    assertThat(applied).as("replica counts the Deployment was given").containsSubsequence(4, 6);
    assertThat(applied).doesNotContain(3, 5);
    assertThat(get(Deployment.class, "orders").getSpec().getTemplate()).isEqualTo(template);
  }

  @Test
  void aSettingTheProxyReadsAtStartupRollsThePods() {
    String hash = hash();
    editSpec(
        spec -> {
          spec.workload.peakTps = 2000;
          spec.pool.idleTimeout = "5m";
        });
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(() -> assertThat(maxConnections()).isEqualTo(100));
    assertThat(hash()).as("pool size and idle timeout reload live").isEqualTo(hash);

    editSpec(spec -> spec.pool.connectTimeout = "2s");
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> assertThat(hash()).as("connectTimeout needs a restart").isNotEqualTo(hash));
  }

  /**
   * Changes the spec as a user's kubectl edit would, again on a conflict: the operator writes the
   * status meanwhile, which moves the resourceVersion.
   */
  private void editSpec(Consumer<MySQLPoolSpec> change) {
    await()
        .atMost(Duration.ofSeconds(20))
        .ignoreExceptionsMatching(
            e -> e instanceof KubernetesClientException k && k.getCode() == 409)
        .until(
            () -> {
              MySQLPool p = pool();
              change.accept(p.getSpec());
              client.resource(p).update();
              return true;
            });
  }

  private int maxConnections() {
    ConfigMap cm = get(ConfigMap.class, "orders-config");
    return cm == null
        ? -1
        : ConfigLoader.check(cm.getData().get("proxy.yaml")).pool().maxConnections();
  }

  private String condition(String type) {
    var c = Conditions.find(pool().getStatus().conditions, type);
    return c == null ? "" : c.getStatus() + " " + c.getReason() + " " + c.getMessage();
  }

  private String hash() {
    return get(Deployment.class, "orders")
        .getSpec()
        .getTemplate()
        .getMetadata()
        .getAnnotations()
        .get("mysqlpool.dev/config-hash");
  }

  private MySQLPool pool() {
    return get(MySQLPool.class, "orders");
  }

  private <T extends HasMetadata> T get(Class<T> type, String name) {
    return client.resources(type).inNamespace(Fixtures.NAMESPACE).withName(name).get();
  }
}
