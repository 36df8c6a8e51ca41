package dev.mysqlpool.operator.render;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mysqlpool.operator.api.BackendTlsSpec;
import dev.mysqlpool.operator.api.FrontendTlsSpec;
import dev.mysqlpool.operator.api.MySQLPool;
import dev.mysqlpool.operator.api.MySQLPoolSpec;
import dev.mysqlpool.operator.api.ReaderSpec;
import dev.mysqlpool.operator.api.RoutingSpec;
import dev.mysqlpool.operator.testing.Fixtures;
import dev.mysqlpool.operator.validation.MySQLPoolValidator;
import io.fabric8.kubernetes.api.model.AffinityBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import io.fabric8.kubernetes.api.model.TopologySpreadConstraintBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Specs in, whole manifests out: every object of a pool is compared with a reviewed file under
 * src/test/resources/golden. After an intended change, rerun with -Dgolden.update=true and review
 * the diff.
 */
class ManifestsGoldenTest {
  static Stream<Arguments> cases() {
    return Stream.of(
        Arguments.of("seed-nlb", (Consumer<MySQLPoolSpec>) s -> {}),
        Arguments.of(
            "one-replica-no-cross-zone",
            (Consumer<MySQLPoolSpec>)
                s -> {
                  s.replicas = 1;
                  s.service.crossZoneLoadBalancing = false;
                }),
        Arguments.of(
            "cluster-ip",
            (Consumer<MySQLPoolSpec>)
                s -> {
                  s.service.type = "ClusterIP";
                  s.service.annotations.put("example.com/team", "orders");
                  s.replicas = 3;
                }),
        Arguments.of(
            "internet-facing",
            (Consumer<MySQLPoolSpec>)
                s -> {
                  s.service.scheme = "internet-facing";
                  s.service.port = 3307;
                  s.service.nlbIdleTimeoutSeconds = 600;
                  s.service.deregistrationDelaySeconds = 60;
                  s.service.sourceRanges.add("203.0.113.0/24");
                  s.tls = new FrontendTlsSpec();
                  s.tls.mode = "required";
                  s.tls.secretName = "orders-pool-tls";
                  s.service.annotations.put(
                      "service.beta.kubernetes.io/aws-load-balancer-additional-resource-tags",
                      "team=orders");
                }),
        Arguments.of(
            "backend-verify-identity-rds-ca",
            (Consumer<MySQLPoolSpec>)
                s -> {
                  s.backend.tls = new BackendTlsSpec();
                  s.backend.tls.mode = "verify-identity";
                  s.backend.tls.ca = new BackendTlsSpec.CaSource();
                  s.backend.tls.ca.configMapName = "rds-ca";
                  s.backend.tls.ca.key = "global-bundle.pem";
                  s.tls = new FrontendTlsSpec();
                }),
        Arguments.of(
            "read-write-split",
            (Consumer<MySQLPoolSpec>)
                s -> {
                  s.pool.mode = "transaction";
                  s.workload.readShare = 0.9;
                  s.backend.readers.add(
                      new ReaderSpec("orders.cluster-ro-abc123.eu-west-1.rds.amazonaws.com"));
                  ReaderSpec replica = new ReaderSpec("orders-replica-b.example");
                  replica.name = "replica-b";
                  replica.weight = 2;
                  s.backend.readers.add(replica);
                  s.routing = new RoutingSpec();
                  s.routing.readWriteSplit = true;
                  s.routing.maxReplicationLag = "10s";
                  s.routing.rules.add(new RoutingSpec.Rule("^SELECT .* FOR UPDATE", "writer"));
                }),
        Arguments.of(
            "clamped-override-custom-pod",
            (Consumer<MySQLPoolSpec>)
                s -> {
                  s.backend.maxConnections = 200;
                  s.pool.maxConnections = 100;
                  s.pool.minIdle = 5;
                  s.pool.switchoverTimeout = "45s";
                  s.pool.dnsTtl = "2s";
                  s.pool.tcpKeepAliveIdle = "20s";
                  s.pool.tcpKeepAliveInterval = "5s";
                  s.pool.tcpKeepAliveCount = 4;
                  s.pod.image = "registry.example.com/mysqlpool/proxy:1.2.3";
                  s.pod.resources =
                      new ResourceRequirementsBuilder()
                          .addToRequests("cpu", new Quantity("1"))
                          .addToLimits("memory", new Quantity("1Gi"))
                          .build();
                  s.pod.nodeSelector.put("node.kubernetes.io/pool", "db-proxies");
                  s.pod.tolerations.add(
                      new TolerationBuilder()
                          .withKey("dedicated")
                          .withOperator("Equal")
                          .withValue("db")
                          .withEffect("NoSchedule")
                          .build());
                  s.pod.priorityClassName = "db-critical";
                  s.pod.labels.put("example.com/team", "orders");
                  s.pod.imagePullSecrets.add(
                      new io.fabric8.kubernetes.api.model.LocalObjectReference("registry-creds"));
                  s.service.labels.put("example.com/team", "orders");
                  s.service.annotations.put(
                      "service.beta.kubernetes.io/aws-load-balancer-attributes",
                      "deletion_protection.enabled=true");
                  s.podDisruptionBudget.minAvailable =
                      new io.fabric8.kubernetes.api.model.IntOrString("50%");
                  s.pod.annotations.put("prometheus.io/scrape", "true");
                  s.pod.topologySpreadConstraints.add(
                      new TopologySpreadConstraintBuilder()
                          .withMaxSkew(1)
                          .withTopologyKey("kubernetes.io/hostname")
                          .withWhenUnsatisfiable("DoNotSchedule")
                          .build());
                  s.pod.affinity =
                      new AffinityBuilder()
                          .withNewNodeAffinity()
                          .withNewRequiredDuringSchedulingIgnoredDuringExecution()
                          .addNewNodeSelectorTerm()
                          .addNewMatchExpression()
                          .withKey("kubernetes.io/arch")
                          .withOperator("In")
                          .withValues("arm64")
                          .endMatchExpression()
                          .endNodeSelectorTerm()
                          .endRequiredDuringSchedulingIgnoredDuringExecution()
                          .endNodeAffinity()
                          .build();
                }));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void rendersWholeObjects(String name, Consumer<MySQLPoolSpec> mutator) throws IOException {
    MySQLPool pool = Fixtures.pool(mutator);
    assertThat(MySQLPoolValidator.validate(pool)).isEmpty();
    String got = render(Manifests.all(Plan.of(pool, RenderSettings.defaults())));
    Path golden = Path.of("src/test/resources/golden", name + ".yaml");
    if (Boolean.getBoolean("golden.update")) {
      Files.createDirectories(golden.getParent());
      Files.writeString(golden, got);
    }
    assertThat(golden)
        .withFailMessage(
            "%s is missing: a golden file is written only on request; rerun with"
                + " -Dgolden.update=true and review it before committing",
            golden)
        .exists();
    assertThat(got)
        .withFailMessage(
            "%s: the rendering differs from %s; if intended, rerun with -Dgolden.update=true and review"
                + " the diff%n--- got:%n%s",
            name, golden, got)
        .isEqualTo(Files.readString(golden));
  }

  static String render(List<HasMetadata> objects) {
    return KubectlYaml.print(objects);
  }
}
