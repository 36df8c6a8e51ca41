package dev.mysqlpool.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mysqlpool.operator.MySQLPoolOperator;
import dev.mysqlpool.operator.api.MySQLPool;
import dev.mysqlpool.operator.api.MySQLPoolSpec;
import dev.mysqlpool.operator.render.RenderSettings;
import dev.mysqlpool.operator.testing.Fixtures;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The operator against fabric8's mock API server in CRUD mode. The mock has no server-side apply,
 * so SSA is off here (the k3s end-to-end tier runs with it on) and it has no garbage collector, so
 * deletion is checked through the owner references Kubernetes collects by.
 */
@EnableKubernetesMockClient(crud = true)
class MySQLPoolReconcilerTest {
  static {
    // The mock server logs every request through java.util.logging; the tests' own assertions say
    // enough.
    java.util.logging.Logger.getLogger("io.fabric8.mockwebserver")
        .setLevel(java.util.logging.Level.WARNING);
  }

  static final String NS = Fixtures.NAMESPACE;
  static final Class<?>[] OWNED = {
    ServiceAccount.class,
    ConfigMap.class,
    Service.class,
    Deployment.class,
    PodDisruptionBudget.class
  };

  KubernetesClient client;
  Operator operator;
  final AtomicInteger reconciles = new AtomicInteger();

  @BeforeEach
  void start() {
    CustomResourceDefinition crd =
        new KubernetesSerialization()
            .unmarshal(
                Fixtures.read("crds/mysqlpools.mysqlpool.dev-v1.yml"),
                CustomResourceDefinition.class);
    client.apiextensions().v1().customResourceDefinitions().resource(crd).create();
    MySQLPoolReconciler counting =
        new MySQLPoolReconciler(RenderSettings.defaults()) {
          @Override
          public UpdateControl<MySQLPool> reconcile(MySQLPool pool, Context<MySQLPool> context) {
            reconciles.incrementAndGet();
            return super.reconcile(pool, context);
          }
        };
    operator =
        MySQLPoolOperator.operator(
            client,
            counting,
            Set.of(),
            o ->
                o.withSSABasedCreateUpdateMatchForDependentResources(false)
                    .withUseSSAToPatchPrimaryResource(false)
                    .withCloseClientOnStop(false));
    operator.start();
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
    return client.resources(MySQLPool.class).inNamespace(NS).withName("orders").get();
  }

  private <T extends HasMetadata> T get(Class<T> type, String name) {
    return client.resources(type).inNamespace(NS).withName(name).get();
  }

  private Condition condition(String type) {
    MySQLPool p = pool();
    return p == null || p.getStatus() == null
        ? null
        : Conditions.find(p.getStatus().conditions, type);
  }

  private String conditionLine(String type) {
    Condition c = condition(type);
    return c == null ? null : c.getStatus() + " " + c.getReason();
  }

  private List<String> warnings() {
    return client.v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> "orders".equals(e.getInvolvedObject().getName()))
        .map(Event::getReason)
        .toList();
  }

  @SuppressWarnings("unchecked")
  private Map<String, String> versions() {
    Map<String, String> v = new LinkedHashMap<>();
    for (Class<?> type : OWNED) {
      String name = type == ConfigMap.class ? "orders-config" : "orders";
      HasMetadata o = get((Class<HasMetadata>) type, name);
      v.put(type.getSimpleName(), o == null ? null : o.getMetadata().getResourceVersion());
    }
    v.put("MySQLPool", pool().getMetadata().getResourceVersion());
    Secret connection = get(Secret.class, "orders-connection");
    v.put(
        "connection Secret",
        connection == null ? null : connection.getMetadata().getResourceVersion());
    return v;
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
  void createsEveryObjectOwnedByThePoolAndExplainsTheSizing() {
    client.resource(Fixtures.secret()).create();
    MySQLPool created = apply();
    awaitSteady();

    @SuppressWarnings("unchecked")
    Class<HasMetadata>[] owned = (Class<HasMetadata>[]) OWNED;
    for (Class<HasMetadata> type : owned) {
      HasMetadata o = get(type, type == (Class<?>) ConfigMap.class ? "orders-config" : "orders");
      assertThat(o).withFailMessage("%s was not created", type.getSimpleName()).isNotNull();
      OwnerReference ref = o.getMetadata().getOwnerReferences().get(0);
      assertThat(ref.getKind() + "/" + ref.getName() + "/" + ref.getUid())
          .withFailMessage(
              "%s must be owned by the pool so deleting the pool deletes it: %s",
              type.getSimpleName(), ref)
          .isEqualTo("MySQLPool/orders/" + created.getMetadata().getUid());
      assertThat(o.getMetadata().getLabels())
          .containsEntry("app.kubernetes.io/managed-by", "mysqlpool-operator");
    }
    assertThat(get(ConfigMap.class, "orders-config").getData().get("proxy.yaml"))
        .contains("maxConnections: 50");

    await()
        .untilAsserted(
            () -> {
              MySQLPool p = pool();
              assertThat(p.getStatus().observedGeneration)
                  .isEqualTo(p.getMetadata().getGeneration());
              assertThat(p.getStatus().sizing.required).isEqualTo(50);
              assertThat(p.getStatus().sizing.total).isEqualTo(100);
              assertThat(p.getStatus().sizing.perReplica).isEqualTo(50);
              assertThat(p.getStatus().timeouts.terminationGracePeriodSeconds).isEqualTo(65);
              assertThat(p.getStatus().timeouts.loadBalancerWait).isEqualTo("25s");
              assertThat(conditionLine("SpecValid")).isEqualTo("True Valid");
              assertThat(conditionLine("TimeoutsValid")).isEqualTo("True Consistent");
              assertThat(conditionLine("CredentialsFound")).isEqualTo("True Found");
              assertThat(conditionLine("Ready")).isEqualTo("False ProxiesNotReady");
            });
    assertThat(warnings()).withFailMessage("a rollout in progress is not worth an Event").isEmpty();

    // The pods come up: the Deployment's status makes the pool Ready, and the Service's NLB its
    // endpoint.
    Deployment d = get(Deployment.class, "orders");
    d.setStatus(
        new DeploymentStatusBuilder()
            .withReplicas(2)
            .withReadyReplicas(2)
            .withUpdatedReplicas(2)
            .withObservedGeneration(d.getMetadata().getGeneration())
            .build());
    client.resource(d).updateStatus();
    Service s = get(Service.class, "orders");
    s.setStatus(
        new io.fabric8.kubernetes.api.model.ServiceStatusBuilder()
            .withNewLoadBalancer()
            .addNewIngress()
            .withHostname("orders-1234.elb.eu-west-1.amazonaws.com")
            .endIngress()
            .endLoadBalancer()
            .build());
    client.resource(s).updateStatus();
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              assertThat(conditionLine("Ready")).isEqualTo("True ProxiesReady");
              assertThat(pool().getStatus().readyReplicas).isEqualTo(2);
              assertThat(pool().getStatus().endpoint)
                  .isEqualTo("orders-1234.elb.eu-west-1.amazonaws.com:3306");
            });
  }

  @Test
  void theExamplesReconcile() {
    for (String file : List.of("examples/basic-secret.yaml", "examples/basic-pool.yaml")) {
      client
          .load(
              new java.io.ByteArrayInputStream(
                  Fixtures.read(file).getBytes(java.nio.charset.StandardCharsets.UTF_8)))
          .items()
          .forEach(o -> client.resource(o).create());
    }
    awaitSteady();
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              assertThat(conditionLine("CredentialsFound")).isEqualTo("True Found");
              assertThat(pool().getStatus().sizing.perReplica).isEqualTo(50);
            });
    assertThat(get(Service.class, "orders").getMetadata().getAnnotations())
        .containsEntry("service.beta.kubernetes.io/aws-load-balancer-scheme", "internal");
  }

  @Test
  void anUnchangedSpecChangesNothing() {
    client.resource(Fixtures.secret()).create();
    apply();
    awaitSteady();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> get(Secret.class, "orders-connection") != null);
    await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(10)).until(() -> true);
    int count = reconciles.get();

    // A label someone adds to the ConfigMap makes the operator reconcile again (its informer sees
    // the change); nothing may be written, the foreign label is left alone.
    ConfigMap touched = get(ConfigMap.class, "orders-config");
    touched.getMetadata().getLabels().put("touched", "yes");
    client.resource(touched).update();
    Map<String, String> before = versions();
    await().atMost(Duration.ofSeconds(10)).until(() -> reconciles.get() > count);
    await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5)).until(() -> true);
    assertThat(versions())
        .withFailMessage("an unchanged spec must not rewrite anything")
        .isEqualTo(before);
  }

  @Test
  void driftIsRevertedAndASpecChangeRollsOut() {
    client.resource(Fixtures.secret()).create();
    apply();
    awaitSteady();
    String hash =
        get(Deployment.class, "orders")
            .getSpec()
            .getTemplate()
            .getMetadata()
            .getAnnotations()
            .get("mysqlpool.dev/config-hash");

    Deployment edited = get(Deployment.class, "orders");
    edited.getSpec().setReplicas(5);
    edited.getSpec().getTemplate().getSpec().getContainers().get(0).setImage("evil:latest");
    client.resource(edited).update();
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              Deployment d = get(Deployment.class, "orders");
              assertThat(d.getSpec().getReplicas()).isEqualTo(2);
              assertThat(d.getSpec().getTemplate().getSpec().getContainers().get(0).getImage())
                  .isEqualTo(RenderSettings.DEFAULT_PROXY_IMAGE);
            });

    MySQLPool p = pool();
    p.getSpec().workload.peakTps = 2000;
    p.getSpec().pool.mode = "transaction";
    client.resource(p).update();
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              assertThat(get(ConfigMap.class, "orders-config").getData().get("proxy.yaml"))
                  .contains("maxConnections: 100", "mode: transaction");
              assertThat(
                      get(Deployment.class, "orders")
                          .getSpec()
                          .getTemplate()
                          .getMetadata()
                          .getAnnotations()
                          .get("mysqlpool.dev/config-hash"))
                  .isNotEqualTo(hash);
              assertThat(pool().getStatus().sizing.perReplica).isEqualTo(100);
              assertThat(pool().getStatus().observedGeneration).isEqualTo(2L);
            });
  }

  @Test
  void aBadSpecIsAConditionAndAnEventNotALoop() {
    client.resource(Fixtures.secret()).create();
    apply(s -> s.pool.maxLifetime = "9h");
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              assertThat(conditionLine("TimeoutsValid")).isEqualTo("False TimeoutsClash");
              assertThat(condition("TimeoutsValid").getMessage())
                  .startsWith(
                      "spec.pool.maxLifetime (9h) clashes with"
                          + " spec.backend.waitTimeoutSeconds (28800)");
              assertThat(conditionLine("Ready")).isEqualTo("False TimeoutsClash");
              assertThat(condition("Ready").getMessage())
                  .endsWith("no proxies are created until this is fixed");
              assertThat(warnings()).containsExactly("TimeoutsClash");
            });
    assertThat(get(Deployment.class, "orders")).isNull();
    int settled = reconciles.get();
    await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() -> true);
    assertThat(reconciles.get())
        .withFailMessage("a bad spec must not be retried in a loop")
        .isEqualTo(settled);
    assertThat(warnings())
        .withFailMessage("one Event per condition that turned False, not one per reconcile")
        .hasSize(1);
  }

  @Test
  void anInvalidSpecThatSlipsPastTheSchemaKeepsTheRunningProxies() {
    client.resource(Fixtures.secret()).create();
    apply();
    awaitSteady();
    String version = get(Deployment.class, "orders").getMetadata().getResourceVersion();

    MySQLPool p = pool();
    p.getSpec().workload.holdTime = "fifty";
    client.resource(p).update();
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              assertThat(conditionLine("SpecValid")).isEqualTo("False InvalidSpec");
              assertThat(condition("SpecValid").getMessage())
                  .isEqualTo(
                      "spec.workload.holdTime: 'fifty' is not a positive"
                          + " duration; write it like 50ms or 2s");
              assertThat(condition("Ready").getMessage())
                  .endsWith("the running proxies keep their last good configuration");
              assertThat(warnings()).contains("InvalidSpec");
            });
    assertThat(get(Deployment.class, "orders").getMetadata().getResourceVersion())
        .isEqualTo(version);
  }

  @Test
  void aLateSecretReconcilesByItself() {
    apply();
    await()
        .atMost(Duration.ofSeconds(40))
        .untilAsserted(
            () -> {
              assertThat(conditionLine("CredentialsFound")).isEqualTo("False SecretNotFound");
              assertThat(conditionLine("Stalled")).isEqualTo("True SecretNotFound");
              assertThat(condition("CredentialsFound").getMessage())
                  .startsWith("Secret \"orders-db-users\" not found in" + " namespace shop");
              assertThat(warnings()).contains("SecretNotFound");
            });
    assertThat(get(Deployment.class, "orders")).isNull();

    Secret partial = Fixtures.secret();
    partial.getData().remove("reporting");
    client.resource(partial).create();
    await()
        .atMost(Duration.ofSeconds(40))
        .untilAsserted(
            () -> {
              assertThat(conditionLine("CredentialsFound")).isEqualTo("False KeyMissing");
              assertThat(condition("CredentialsFound").getMessage())
                  .as("names only the missing key, never the Secret's other keys")
                  .startsWith("Secret \"orders-db-users\" has no key for user reporting;")
                  .doesNotContain("app");
            });

    client.resource(Fixtures.secret()).update();
    await().atMost(Duration.ofSeconds(40)).until(() -> get(Deployment.class, "orders") != null);
    await()
        .atMost(Duration.ofSeconds(40))
        .untilAsserted(() -> assertThat(conditionLine("CredentialsFound")).isEqualTo("True Found"));
  }

  @Test
  void anOversizedPoolIsClampedAndSaysSo() {
    client.resource(Fixtures.secret()).create();
    apply(s -> s.backend.maxConnections = 100);
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              assertThat(conditionLine("SizingValid")).isEqualTo("False ExceedsBackend");
              assertThat(condition("SizingValid").getMessage())
                  .startsWith(
                      "4 pods (2 replicas + 2 rolling) x (50 + 1 KILL connection) = 204"
                          + " connections exceed the backend budget of 80 (max_connections 100 -"
                          + " reserved 20); clamped to 19 per replica (4 x (19 + 1 KILL connection)"
                          + " = 80 during a rollout;");
              assertThat(get(ConfigMap.class, "orders-config").getData().get("proxy.yaml"))
                  .contains("maxConnections: 19");
              assertThat(warnings()).contains("ExceedsBackend");
            });
  }
}
