package dev.mysqlpool.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mysqlpool.operator.api.MySQLPool;
import dev.mysqlpool.operator.api.ReaderSpec;
import dev.mysqlpool.operator.api.RoutingSpec;
import dev.mysqlpool.operator.render.RenderSettings;
import dev.mysqlpool.operator.testing.Fixtures;
import dev.mysqlpool.operator.testing.MockOperators;
import dev.mysqlpool.proxy.config.ConfigLoader;
import dev.mysqlpool.proxy.config.ProxyConfig;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.javaoperatorsdk.operator.Operator;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 15 on the mock API server: a split pool reaches the ConfigMap as readers and a routing
 * section the proxy's own loader accepts, with the readers' sizing in the status; a split the proxy
 * would refuse (session mode) is a condition and an Event naming the field and the fix, never a
 * ConfigMap, and the running proxies keep theirs.
 */
@EnableKubernetesMockClient(crud = true)
class ReadWriteSplitInCluster15Test {
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

  @Test
  void aSplitPoolRendersItsReadersAndARefusedChangeKeepsWhatRuns() {
    client
        .resource(
            Fixtures.pool(
                s -> {
                  s.pool.mode = "transaction";
                  s.backend.readers.add(
                      new ReaderSpec("orders.cluster-ro-abc123.eu-west-1.rds.amazonaws.com"));
                  s.routing = new RoutingSpec();
                  s.routing.readWriteSplit = true;
                  s.routing.rules.add(new RoutingSpec.Rule("^SELECT .* FOR UPDATE", "writer"));
                }))
        .create();
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              assertThat(configMap()).isNotNull();
              assertThat(pool().getStatus().sizing).isNotNull();
            });
    ProxyConfig running = ConfigLoader.check(configMap().getData().get("proxy.yaml"));
    assertThat(running.routing().readWriteSplit()).isTrue();
    assertThat(running.routing().rules()).hasSize(1);
    assertThat(running.backends())
        .extracting(b -> b.name() + " " + b.role())
        .containsExactly("writer WRITER", "reader-1 READER");
    var sizing = pool().getStatus().sizing;
    assertThat(sizing.perReplica).as("the writer keeps the whole load's size").isEqualTo(50);
    assertThat(sizing.readShare).isEqualTo(0.8);
    assertThat(sizing.readers).hasSize(1);
    assertThat(sizing.readers.get(0).needed).as("ceil(100 x 0.8)").isEqualTo(80);
    assertThat(sizing.readers.get(0).budget).isEqualTo(480);
    assertThat(condition("SizingValid").getMessage())
        .contains("readers by weight, read share 0.8 of total 100: reader-1 80 (weight 1)");

    MySQLPool p = pool();
    p.getSpec().pool.mode = "session";
    client.resource(p).update();
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              Condition c = condition("SpecValid");
              assertThat(c.getStatus() + " " + c.getReason()).isEqualTo("False InvalidSpec");
              assertThat(c.getMessage())
                  .isEqualTo(
                      "spec.routing.readWriteSplit: needs spec.pool.mode: transaction (the proxy"
                          + " moves a client between the writer and the readers statement by"
                          + " statement, which only transaction mode does); set spec.pool.mode:"
                          + " transaction, or turn readWriteSplit off");
              assertThat(condition("Stalled").getStatus()).isEqualTo("True");
              assertThat(
                      client
                          .v1()
                          .events()
                          .inNamespace(Fixtures.NAMESPACE)
                          .list()
                          .getItems()
                          .stream()
                          .map(Event::getReason))
                  .contains("InvalidSpec");
            });
    assertThat(ConfigLoader.check(configMap().getData().get("proxy.yaml")))
        .as("the running proxies keep the split they run")
        .isEqualTo(running);
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

  private Condition condition(String type) {
    MySQLPool p = pool();
    return p == null || p.getStatus() == null
        ? null
        : Conditions.find(p.getStatus().conditions, type);
  }
}
