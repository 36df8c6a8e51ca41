package dev.mysqlpool.operator.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.marcnuri.helm.Helm;
import dev.mysqlpool.operator.api.MySQLPool;
import dev.mysqlpool.operator.testing.Fixtures;
import dev.mysqlpool.proxy.config.ConfigLoader;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.ReplicaSet;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.k3s.K3sContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * The whole product on a real Kubernetes (k3s in Testcontainers), as a user installs it: both
 * images built from their Dockerfiles and imported into k3s, the Helm chart installed (its operator
 * Deployment, probes, RBAC and leader election), a MariaDB in the cluster, the example pool pointed
 * at it, and real clients through the pool's Service: the mariadb CLI with the example's
 * credentials, and an application that takes everything from the pool's connection Secret. Then an
 * HPA scales the pool through its scale subresource without a rollout, and an invalid pool stalls.
 *
 * <p>Needs a Docker engine (and the internet, for the k3s and MariaDB images); without one it is
 * skipped with a message naming the command.
 */
@ExtendWith(RequiresDocker.class)
@Testcontainers
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterE2E {
  static final String OPERATOR_NS = "mysqlpool-system";
  static final String NS = "shop";
  static final String CLIENT_IMAGE = "mariadb:11.4";

  @Container
  static final K3sContainer K3S =
      new K3sContainer(DockerImageName.parse("rancher/k3s:v1.31.4-k3s1"));

  static KubernetesClient admin;

  @BeforeAll
  static void install() {
    Path repo = Fixtures.repo();
    String operatorImage =
        Images.build(
            Images.OPERATOR, repo.resolve("operator"), Path.of(System.getProperty("operator.jar")));
    String proxyImage =
        Images.build(
            Images.PROXY, repo.resolve("proxy-runtime"), Path.of(System.getProperty("proxy.jar")));
    Images.importInto(K3S, operatorImage);
    Images.importInto(K3S, proxyImage);
    admin =
        new KubernetesClientBuilder()
            .withConfig(Config.fromKubeconfig(K3S.getKubeConfigYaml()))
            .build();

    // The chart as a user installs it; the images come from k3s's containerd, never a registry.
    new Helm(repo.resolve("helm/mysqlpool-operator"))
        .install()
        .withName("mysqlpool-operator")
        .withNamespace(OPERATOR_NS)
        .createNamespace()
        .withKubeConfigContents(K3S.getKubeConfigYaml())
        .set("image.tag", Images.TAG)
        .set("image.pullPolicy", "Never")
        .set("proxyImage.tag", Images.TAG)
        .waitReady()
        .withTimeout(300)
        .call();

    admin
        .resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build())
        .serverSideApply();
    apply(Fixtures.read("operator/src/test/resources/e2e/mariadb.yaml"));
    admin
        .apps()
        .deployments()
        .inNamespace(NS)
        .withName("mariadb")
        .waitUntilReady(5, java.util.concurrent.TimeUnit.MINUTES);
    apply(Fixtures.read("examples/basic-secret.yaml"));
    // The example pool, pointed at the in-cluster MariaDB and reachable inside the cluster only.
    apply(
        Fixtures.read("examples/basic-pool.yaml")
            .replace(
                "host: orders.cluster-abc123.eu-west-1.rds.amazonaws.com",
                "host: mariadb.shop.svc.cluster.local")
            .replace("  replicas: 2", "  replicas: 2\n  service:\n    type: ClusterIP"));
  }

  @AfterAll
  static void close() {
    if (admin != null) {
      admin.close();
    }
  }

  @Test
  @Order(1)
  void theProxiesBecomeReadyAndAClientQueriesThroughTheService() {
    await()
        .atMost(Duration.ofMinutes(5))
        .untilAsserted(
            () -> {
              assertThat(condition("orders", "Ready")).isEqualTo("True ProxiesReady");
              assertThat(condition("orders", "Stalled")).isEqualTo("False Rendered");
              assertThat(pool("orders").getStatus().endpoint).isEqualTo("orders.shop.svc:3306");
            });
    String out =
        runClient(
            "cli",
            "mariadb --skip-ssl -h orders.shop.svc -P 3306 -u app -pchange-me-app app"
                + " -N -e 'SELECT 6 * 7'",
            false);
    assertThat(out.strip()).isEqualTo("42");
    // The operator asks the ready proxies at their admin port which writer they reach: the
    // MariaDB Service's cluster IP, which its host name resolves to.
    String mariadb =
        admin.services().inNamespace(NS).withName("mariadb").get().getSpec().getClusterIP()
            + ":3306";
    await()
        .atMost(Duration.ofMinutes(2))
        .untilAsserted(
            () -> {
              assertThat(pool("orders").getStatus().writer).as("status.writer").isNotNull();
              assertThat(pool("orders").getStatus().writer.address).isEqualTo(mariadb);
              assertThat(pool("orders").getStatus().writer.proxiesAgreeing).isEqualTo(2);
              assertThat(condition("orders", "WriterConsistent")).isEqualTo("True ProxiesAgree");
            });
  }

  @Test
  @Order(2)
  void anApplicationConnectsWithTheConnectionSecretAlone() {
    // The URI mysql://user:password@host:port/ taken apart by the shell, as an application's
    // driver would.
    String out =
        runClient(
            "dsn",
            "u=${URI#mysql://}; creds=${u%%@*}; hostport=${u#*@}; hostport=${hostport%/};"
                + " mariadb --skip-ssl -h \"${hostport%:*}\" -P \"${hostport#*:}\""
                + " -u \"${creds%%:*}\" -p\"${creds#*:}\" app -N -e 'SELECT CURRENT_USER()';"
                + " echo \"host=$HOST port=$PORT\"",
            true);
    assertThat(out).contains("app@", "host=orders.shop.svc port=3306");
  }

  @Test
  @Order(3)
  void anHpaScalesThePoolThroughItsScaleSubresourceWithoutARollout() {
    List<ReplicaSet> before = replicaSets();
    assertThat(before).hasSize(1);
    // The example HPA, with a minimum above the pool's 2 replicas: the HPA controller scales up to
    // its minimum without waiting for CPU metrics.
    apply(
        Fixtures.read("examples/hpa.yaml")
            .replace("minReplicas: 2", "minReplicas: 3")
            .replace("maxReplicas: 6", "maxReplicas: 3"));
    await()
        .atMost(Duration.ofMinutes(3))
        .untilAsserted(
            () -> {
              assertThat(pool("orders").getSpec().replicas).isEqualTo(3);
              ConfigMap cm = get(ConfigMap.class, "orders-config");
              assertThat(ConfigLoader.check(cm.getData().get("proxy.yaml")).pool().maxConnections())
                  .as("100 connections split over 3 proxies")
                  .isEqualTo(34);
              assertThat(get(Deployment.class, "orders").getSpec().getReplicas()).isEqualTo(3);
              assertThat(condition("orders", "Ready")).isEqualTo("True ProxiesReady");
            });
    assertThat(replicaSets())
        .as(
            "the new split reached the proxies through the ConfigMap: no new ReplicaSet, no rollout")
        .hasSize(1)
        .extracting(rs -> rs.getMetadata().getName())
        .containsExactly(before.get(0).getMetadata().getName());
    assertThat(
            runClient(
                    "after-scale",
                    "mariadb --skip-ssl -h orders.shop.svc -u app"
                        + " -pchange-me-app app -N -e 'SELECT 1'",
                    false)
                .strip())
        .isEqualTo("1");
  }

  @Test
  @Order(4)
  void aPoolTheOperatorRefusesStallsAtOnce() {
    apply(
        Fixtures.read("examples/basic-pool.yaml")
            .replace("name: orders", "name: too-big")
            .replace("maxConnections: 500", "maxConnections: 23"));
    await()
        .atMost(Duration.ofMinutes(1))
        .untilAsserted(
            () -> {
              assertThat(condition("too-big", "Stalled")).isEqualTo("True BackendTooSmall");
              assertThat(condition("too-big", "Ready")).isEqualTo("False BackendTooSmall");
            });
    assertThat(get(Deployment.class, "too-big")).isNull();
  }

  /**
   * Runs {@code script} in a client pod and returns its output; with {@code fromSecret} the pod
   * gets URI, HOST and PORT from the pool's connection Secret.
   */
  private static String runClient(String name, String script, boolean fromSecret) {
    String job = "client-" + name;
    JobBuilder b =
        new JobBuilder()
            .withNewMetadata()
            .withName(job)
            .withNamespace(NS)
            .endMetadata()
            .withNewSpec()
            .withBackoffLimit(10)
            .withNewTemplate()
            .withNewSpec()
            .withRestartPolicy("Never")
            .addNewContainer()
            .withName("client")
            .withImage(CLIENT_IMAGE)
            .withCommand("sh", "-c", script)
            .endContainer()
            .endSpec()
            .endTemplate()
            .endSpec();
    Job j = b.build();
    if (fromSecret) {
      var c = j.getSpec().getTemplate().getSpec().getContainers().get(0);
      c.setEnv(
          List.of(
              secretEnv("URI", "app.uri"), secretEnv("HOST", "host"), secretEnv("PORT", "port")));
    }
    admin.resource(j).create();
    await()
        .atMost(Duration.ofMinutes(3))
        .until(
            () -> {
              Job s = admin.batch().v1().jobs().inNamespace(NS).withName(job).get();
              return s.getStatus() != null
                  && s.getStatus().getSucceeded() != null
                  && s.getStatus().getSucceeded() > 0;
            });
    Pod pod =
        admin.pods().inNamespace(NS).withLabel("job-name", job).list().getItems().stream()
            .filter(p -> "Succeeded".equals(p.getStatus().getPhase()))
            .findFirst()
            .orElseThrow();
    return admin.pods().inNamespace(NS).withName(pod.getMetadata().getName()).getLog();
  }

  private static io.fabric8.kubernetes.api.model.EnvVar secretEnv(String env, String key) {
    return new io.fabric8.kubernetes.api.model.EnvVarBuilder()
        .withName(env)
        .withNewValueFrom()
        .withNewSecretKeyRef(key, "orders-connection", false)
        .endValueFrom()
        .build();
  }

  private static List<ReplicaSet> replicaSets() {
    return admin
        .apps()
        .replicaSets()
        .inNamespace(NS)
        .withLabel("app.kubernetes.io/instance", "orders")
        .list()
        .getItems();
  }

  private static void apply(String yaml) {
    for (HasMetadata o :
        admin.load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))).items()) {
      admin.resource(o).forceConflicts().serverSideApply();
    }
  }

  private static MySQLPool pool(String name) {
    return get(MySQLPool.class, name);
  }

  private static <T extends HasMetadata> T get(Class<T> type, String name) {
    return admin.resources(type).inNamespace(NS).withName(name).get();
  }

  private static String condition(String pool, String type) {
    MySQLPool p = pool(pool);
    if (p == null || p.getStatus() == null) {
      return null;
    }
    for (Condition c : p.getStatus().conditions) {
      if (type.equals(c.getType())) {
        return c.getStatus() + " " + c.getReason();
      }
    }
    return null;
  }
}
