package dev.mysqlpool.operator.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.mysqlpool.operator.MySQLPoolOperator;
import dev.mysqlpool.operator.api.BackendTlsSpec;
import dev.mysqlpool.operator.api.FrontendTlsSpec;
import dev.mysqlpool.operator.api.MySQLPool;
import dev.mysqlpool.operator.render.RenderSettings;
import dev.mysqlpool.operator.testing.Fixtures;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
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
 * The operator in this JVM against a real Kubernetes (k3s in Testcontainers): the CRD from crds/,
 * the Helm chart's RBAC (the operator impersonates its ServiceAccount, so a missing verb fails
 * here), leader election, server-side apply, the schema's CEL rules and enums, and the examples/
 * pool. Proxy pods do not start here (their image is not loaded; {@link ClusterE2E} runs the
 * images); objects and status are asserted.
 *
 * <p>Needs a Docker engine; without one it is skipped with a message naming the command.
 */
@ExtendWith(RequiresDocker.class)
@Testcontainers
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MySQLPoolE2E {
  static final String OPERATOR_NS = "mysqlpool-system";
  static final String NS = "shop";
  static final KubernetesSerialization K8S = new KubernetesSerialization();

  @Container
  static final K3sContainer K3S =
      new K3sContainer(DockerImageName.parse("rancher/k3s:v1.31.4-k3s1"));

  static KubernetesClient admin;
  static KubernetesClient asOperator;
  static Operator operator;

  @BeforeAll
  static void installAndStart() {
    admin =
        new KubernetesClientBuilder()
            .withConfig(Config.fromKubeconfig(K3S.getKubeConfigYaml()))
            .build();
    CustomResourceDefinition crd =
        K8S.unmarshal(
            Fixtures.read("crds/mysqlpools.mysqlpool.dev-v1.yml"), CustomResourceDefinition.class);
    admin.resource(crd).serverSideApply();
    admin
        .apiextensions()
        .v1()
        .customResourceDefinitions()
        .withName(crd.getMetadata().getName())
        .waitUntilCondition(
            c ->
                c.getStatus() != null
                    && c.getStatus().getConditions().stream()
                        .anyMatch(
                            x -> "Established".equals(x.getType()) && "True".equals(x.getStatus())),
            60,
            java.util.concurrent.TimeUnit.SECONDS);
    for (String ns : List.of(OPERATOR_NS, NS)) {
      admin
          .resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
          .serverSideApply();
    }

    // The chart's RBAC, as the operator's ServiceAccount will have it.
    admin
        .resource(
            new ServiceAccountBuilder()
                .withNewMetadata()
                .withName("mysqlpool-operator")
                .withNamespace(OPERATOR_NS)
                .endMetadata()
                .build())
        .serverSideApply();
    admin
        .resource(
            K8S.unmarshal(
                Fixtures.read("helm/mysqlpool-operator/templates/clusterrole.yaml"),
                ClusterRole.class))
        .serverSideApply();
    Role role =
        K8S.unmarshal(Fixtures.read("helm/mysqlpool-operator/templates/role.yaml"), Role.class);
    role.getMetadata().setNamespace(OPERATOR_NS);
    admin.resource(role).serverSideApply();
    admin
        .resource(
            new ClusterRoleBindingBuilder()
                .withNewMetadata()
                .withName("mysqlpool-operator")
                .endMetadata()
                .withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", "mysqlpool-operator")
                .addNewSubject()
                .withKind("ServiceAccount")
                .withName("mysqlpool-operator")
                .withNamespace(OPERATOR_NS)
                .endSubject()
                .build())
        .serverSideApply();
    admin
        .resource(
            new RoleBindingBuilder()
                .withNewMetadata()
                .withName("mysqlpool-operator-leader-election")
                .withNamespace(OPERATOR_NS)
                .endMetadata()
                .withNewRoleRef(
                    "rbac.authorization.k8s.io", "Role", "mysqlpool-operator-leader-election")
                .addNewSubject()
                .withKind("ServiceAccount")
                .withName("mysqlpool-operator")
                .withNamespace(OPERATOR_NS)
                .endSubject()
                .build())
        .serverSideApply();

    Config config = Config.fromKubeconfig(K3S.getKubeConfigYaml());
    config.setImpersonateUsername("system:serviceaccount:" + OPERATOR_NS + ":mysqlpool-operator");
    config.setImpersonateGroups(
        "system:serviceaccounts", "system:serviceaccounts:" + OPERATOR_NS, "system:authenticated");
    asOperator = new KubernetesClientBuilder().withConfig(config).build();
    operator =
        MySQLPoolOperator.operator(
            asOperator,
            RenderSettings.defaults(),
            Set.of(),
            o ->
                o.withLeaderElectionConfiguration(
                    new LeaderElectionConfiguration("mysqlpool-operator", OPERATOR_NS)));
    operator.start();
  }

  @AfterAll
  static void stop() {
    if (operator != null) {
      operator.stop();
    }
    if (admin != null) {
      admin.close();
    }
  }

  private static <T extends HasMetadata> T get(Class<T> type, String name) {
    return admin.resources(type).inNamespace(NS).withName(name).get();
  }

  private static String condition(String type) {
    MySQLPool p = get(MySQLPool.class, "orders");
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

  private static void applyExample(String file) {
    for (HasMetadata o :
        admin
            .load(new ByteArrayInputStream(Fixtures.read(file).getBytes(StandardCharsets.UTF_8)))
            .items()) {
      admin.resource(o).serverSideApply();
    }
  }

  @Test
  @Order(1)
  void theSchemaRejectsWhatItCan() {
    MySQLPool bad = Fixtures.pool(s -> s.backend.reservedConnections = 600);
    assertThatThrownBy(() -> admin.resource(bad).create())
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("reservedConnections must be below maxConnections");
    MySQLPool badDuration = Fixtures.pool(s -> s.workload.holdTime = "50");
    assertThatThrownBy(() -> admin.resource(badDuration).create())
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("spec.workload.holdTime");
    MySQLPool badMode = Fixtures.pool(s -> s.pool.mode = "statement");
    assertThatThrownBy(() -> admin.resource(badMode).create())
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("spec.pool.mode")
        .hasMessageContaining("session");
    MySQLPool badCidr = Fixtures.pool(s -> s.service.sourceRanges.add("999.1.1.1/99"));
    assertThatThrownBy(() -> admin.resource(badCidr).create())
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("spec.service.sourceRanges[0]");
    MySQLPool caWithoutVerification =
        Fixtures.pool(
            s -> {
              s.backend.tls = new BackendTlsSpec();
              s.backend.tls.mode = "required";
              s.backend.tls.ca = new BackendTlsSpec.CaSource();
              s.backend.tls.ca.configMapName = "rds-ca";
            });
    assertThatThrownBy(() -> admin.resource(caWithoutVerification).create())
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("ca is used only with mode verify-ca or verify-identity");
    MySQLPool certificateWithTlsOff =
        Fixtures.pool(
            s -> {
              s.tls = new FrontendTlsSpec();
              s.tls.mode = "disabled";
              s.tls.secretName = "orders-pool-tls";
            });
    assertThatThrownBy(() -> admin.resource(certificateWithTlsOff).create())
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("secretName is not used with mode disabled");
  }

  @Test
  @Order(2)
  void theExamplePoolReconcilesIntoEveryObject() {
    applyExample("examples/basic-pool.yaml");
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () -> assertThat(condition("CredentialsFound")).isEqualTo("False SecretNotFound"));
    applyExample("examples/basic-secret.yaml");

    await()
        .atMost(Duration.ofSeconds(90))
        .untilAsserted(
            () -> {
              assertThat(get(Deployment.class, "orders")).isNotNull();
              assertThat(get(ConfigMap.class, "orders-config").getData().get("proxy.yaml"))
                  .contains("maxConnections: 50");
              assertThat(condition("SizingValid")).isEqualTo("True Computed");
              assertThat(condition("TimeoutsValid")).isEqualTo("True Consistent");
              assertThat(condition("CredentialsFound")).isEqualTo("True Found");
              MySQLPool p = get(MySQLPool.class, "orders");
              assertThat(p.getStatus().sizing.perReplica).isEqualTo(50);
              assertThat(p.getStatus().observedGeneration)
                  .isEqualTo(p.getMetadata().getGeneration());
            });
    Service s = get(Service.class, "orders");
    assertThat(s.getMetadata().getAnnotations())
        .containsEntry(
            "service.beta.kubernetes.io/aws-load-balancer-listener-attributes.TCP-3306",
            "tcp.idle_timeout.seconds=350");
    assertThat(s.getMetadata().getAnnotations())
        .containsEntry("service.beta.kubernetes.io/aws-load-balancer-healthcheck-path", "/readyz")
        .containsEntry(
            "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes",
            "deregistration_delay.timeout_seconds=60,deregistration_delay.connection_termination.enabled=true"
                + ",preserve_client_ip.enabled=true");
    // Behind the NLB the proxy fails its health check at SIGTERM and serves 25s (2 checks 10s apart
    // + 5s) before it drains 30s, all inside the 60s delay; no preStop sleep.
    assertThat(get(ConfigMap.class, "orders-config").getData().get("proxy.yaml"))
        .contains("role: writer")
        .contains("loadBalancerWait: 25s");
    Deployment d = get(Deployment.class, "orders");
    assertThat(d.getSpec().getTemplate().getSpec().getContainers().get(0).getLifecycle()).isNull();
    assertThat(d.getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds())
        .isEqualTo(65L);
  }

  @Test
  @Order(3)
  void anUnchangedSpecWritesNothingAndDriftIsReverted() {
    await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(30)).until(() -> true);
    Long generation = get(Deployment.class, "orders").getMetadata().getGeneration();
    String configVersion = get(ConfigMap.class, "orders-config").getMetadata().getResourceVersion();
    // A foreign label on the ConfigMap makes the operator reconcile (its informer sees it); nothing
    // it owns may be rewritten.
    ConfigMap touched = get(ConfigMap.class, "orders-config");
    touched.getMetadata().getLabels().put("touched", "yes");
    admin.resource(touched).update();
    configVersion = get(ConfigMap.class, "orders-config").getMetadata().getResourceVersion();
    await().during(Duration.ofSeconds(5)).atMost(Duration.ofSeconds(30)).until(() -> true);
    // The Deployment's status moves (its pods cannot pull the proxy image here); its spec must not
    // be rewritten.
    assertThat(get(Deployment.class, "orders").getMetadata().getGeneration()).isEqualTo(generation);
    assertThat(get(ConfigMap.class, "orders-config").getMetadata().getResourceVersion())
        .isEqualTo(configVersion);

    admin.apps().deployments().inNamespace(NS).withName("orders").scale(5);
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () -> assertThat(get(Deployment.class, "orders").getSpec().getReplicas()).isEqualTo(2));
  }

  @Test
  @Order(4)
  void deletingThePoolDeletesEverything() {
    admin.resources(MySQLPool.class).inNamespace(NS).withName("orders").delete();
    await()
        .atMost(Duration.ofSeconds(90))
        .untilAsserted(
            () -> {
              assertThat(get(Deployment.class, "orders")).isNull();
              assertThat(get(ConfigMap.class, "orders-config")).isNull();
              assertThat(get(Service.class, "orders")).isNull();
            });
  }
}
