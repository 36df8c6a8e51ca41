package dev.mysqlpool.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.mysqlpool.operator.RenderCommandAccess;
import dev.mysqlpool.operator.api.MySQLPool;
import dev.mysqlpool.operator.api.MySQLPoolSpec;
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
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.javaoperatorsdk.operator.Operator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 14: specs a user could write, each through {@code render} and through the reconciler on the
 * mock API server. Each pool either renders a proxy.yaml that the proxy's own {@link ConfigLoader}
 * accepts, or stops with a condition (and {@code render} with exit status 1) that names the field
 * and the fix; never both "fits" and a config the proxy refuses.
 */
@EnableKubernetesMockClient(crud = true)
class RenderedOrRefused14Test {
  static {
    java.util.logging.Logger.getLogger("io.fabric8.mockwebserver")
        .setLevel(java.util.logging.Level.WARNING);
  }

  private static final KubernetesSerialization K8S = new KubernetesSerialization();

  KubernetesClient client;
  Operator operator;
  @TempDir Path dir;

  /**
   * A case: the pools applied in order, and for each the expected outcome (true: rendered and
   * accepted by the proxy; false: refused with a condition).
   */
  record Case(String name, List<MySQLPool> pools, List<Boolean> renders) {
    @Override
    public String toString() {
      return name;
    }
  }

  @SafeVarargs
  private static MySQLPool pool(String name, Consumer<MySQLPoolSpec>... mutators) {
    MySQLPool p = Fixtures.pool(mutators);
    p.getMetadata().setName(name);
    return p;
  }

  static Stream<Arguments> cases() {
    return Stream.of(
            new Case(
                "max_connections 169, 20 reserved, minIdle = maxIdle = 50: idle limits clamped",
                List.of(
                    pool(
                        "orders",
                        s -> {
                          s.backend.maxConnections = 169;
                          s.pool.minIdle = 50;
                          s.pool.maxIdle = 50;
                        })),
                List.of(true)),
            new Case(
                "1,000,000 TPS x 1h: exact arithmetic, clamped, LoadExceedsBackend",
                List.of(
                    pool(
                        "orders",
                        s -> {
                          s.workload.peakTps = 1_000_000;
                          s.workload.holdTime = "1h";
                        })),
                List.of(true)),
            new Case(
                "10,000,000 TPS x 150s: no overflow, no exception",
                List.of(
                    pool(
                        "orders",
                        s -> {
                          s.workload.peakTps = 10_000_000;
                          s.workload.holdTime = "150s";
                        })),
                List.of(true)),
            new Case("one replica", List.of(pool("orders", s -> s.replicas = 1)), List.of(true)),
            new Case(
                "four replicas during a rollout: six pods hold pools, clamped to fit",
                List.of(
                    pool(
                        "orders",
                        s -> {
                          s.replicas = 4;
                          s.backend.maxConnections = 150;
                        })),
                List.of(true)),
            new Case(
                "explicit maxIdle above explicit maxConnections: the spec is refused at the field",
                List.of(
                    pool(
                        "orders",
                        s -> {
                          s.pool.maxConnections = 49;
                          s.pool.maxIdle = 50;
                        })),
                List.of(false)),
            new Case(
                "two pools on one writer that together exceed it: the second is refused",
                List.of(
                    pool("orders", s -> s.workload.holdTime = "100ms"),
                    pool(
                        "billing",
                        s -> {
                          s.workload.holdTime = "100ms";
                          s.backend.host = s.backend.host.toUpperCase();
                        })),
                List.of(true, false)),
            new Case(
                "two pools on one writer that fit together",
                List.of(pool("orders"), pool("billing")),
                List.of(true, true)))
        .map(Arguments::of);
  }

  @AfterEach
  void stop() {
    if (operator != null) {
      operator.stop();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void throughRender(Case c) throws IOException {
    // Pools rendered from one folder of files: render cannot know which one was applied first, so
    // a set that together exceeds its writer is refused as a whole.
    boolean allRender = !c.renders().contains(false);
    StringBuilder files = new StringBuilder();
    for (MySQLPool p : c.pools()) {
      files.append(K8S.asYaml(p));
    }
    Path f = dir.resolve("pools.yaml");
    Files.writeString(f, files.toString());
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status =
        RenderCommandAccess.run(
            List.of(f.toString()),
            RenderSettings.defaults(),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    String stderr = err.toString(StandardCharsets.UTF_8);
    List<String> configs = proxyConfigs(out.toString(StandardCharsets.UTF_8));
    if (allRender) {
      assertThat(status).withFailMessage("%s: render refused it:%n%s", c, stderr).isZero();
      assertThat(configs).hasSize(c.pools().size());
      for (String yaml : configs) {
        ProxyConfig accepted = ConfigLoader.check(yaml);
        assertThat(accepted.pool().maxIdle()).isLessThanOrEqualTo(accepted.pool().maxConnections());
      }
    } else {
      assertThat(status).withFailMessage("%s: render must refuse it", c).isEqualTo(1);
      assertThat(stderr).contains("spec.").containsAnyOf("Fix", "lower", "raise");
      for (String yaml : configs) {
        ConfigLoader.check(yaml); // whatever it printed, the proxy accepts
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void throughTheReconciler(Case c) {
    startOperator();
    client.resource(Fixtures.secret()).create();
    for (int i = 0; i < c.pools().size(); i++) {
      MySQLPool p = client.resource(c.pools().get(i)).create();
      String name = p.getMetadata().getName();
      boolean renders = c.renders().get(i);
      await()
          .atMost(Duration.ofSeconds(20))
          .untilAsserted(
              () -> {
                Condition stalled = condition(name, "Stalled");
                Condition ready = condition(name, "Ready");
                assertThat(ready).as(name + " Ready").isNotNull();
                assertThat(stalled).as(name + " Stalled: %s", ready).isNotNull();
                if (renders) {
                  ConfigMap cm = get(ConfigMap.class, name + "-config");
                  assertThat(cm).as(name + " ConfigMap").isNotNull();
                  ConfigLoader.check(cm.getData().get("proxy.yaml"));
                  assertThat(stalled.getStatus()).isEqualTo("False");
                  assertThat(ready.getReason()).isEqualTo("ProxiesNotReady");
                } else {
                  assertThat(stalled.getStatus()).as(name + " Stalled").isEqualTo("True");
                  assertThat(stalled.getMessage())
                      .contains("spec.")
                      .containsAnyOf("Fix", "lower", "raise");
                  assertThat(get(Deployment.class, name)).isNull();
                  assertThat(get(ConfigMap.class, name + "-config")).isNull();
                }
              });
    }
  }

  private void startOperator() {
    operator = MockOperators.start(client, new MySQLPoolReconciler(RenderSettings.defaults()));
  }

  private <T extends io.fabric8.kubernetes.api.model.HasMetadata> T get(Class<T> type, String n) {
    return client.resources(type).inNamespace(Fixtures.NAMESPACE).withName(n).get();
  }

  private Condition condition(String pool, String type) {
    MySQLPool p = get(MySQLPool.class, pool);
    return p == null || p.getStatus() == null
        ? null
        : Conditions.find(p.getStatus().conditions, type);
  }

  /** The proxy.yaml of every ConfigMap in render's output. */
  static List<String> proxyConfigs(String rendered) throws IOException {
    List<String> out = new ArrayList<>();
    try (MappingIterator<JsonNode> docs =
        new YAMLMapper().readerFor(JsonNode.class).readValues(rendered)) {
      while (docs.hasNext()) {
        JsonNode d = docs.next();
        if (d != null && "ConfigMap".equals(d.path("kind").asText())) {
          out.add(d.at("/data/proxy.yaml").asText());
        }
      }
    }
    return out;
  }
}
