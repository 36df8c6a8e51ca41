package dev.mysqlpool.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mysqlpool.operator.api.BackendTlsSpec;
import dev.mysqlpool.operator.api.FrontendTlsSpec;
import dev.mysqlpool.operator.api.MySQLPool;
import dev.mysqlpool.operator.api.MySQLPoolSpec;
import dev.mysqlpool.operator.render.RenderSettings;
import dev.mysqlpool.operator.testing.Fixtures;
import dev.mysqlpool.operator.testing.MockOperators;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.javaoperatorsdk.operator.Operator;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * spec.tls and spec.backend.tls against the mock API server: a Secret or ConfigMap that is missing
 * or lacks its key is a condition and an Event naming it and the fix, with no proxy created; one
 * that arrives later is picked up by itself; a renewed certificate leaves the pod template alone.
 */
@EnableKubernetesMockClient(crud = true)
class CertificatesInClusterTest {
  static final String NS = Fixtures.NAMESPACE;
  static final String PEM_CERT =
      "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";
  static final String PEM_KEY = "-----BEGIN PRIVATE KEY-----\nMIGfake\n-----END PRIVATE KEY-----\n";

  KubernetesClient client;
  Operator operator;

  @BeforeEach
  void start() {
    operator = MockOperators.start(client, new MySQLPoolReconciler(RenderSettings.defaults()));
    client.resource(Fixtures.secret()).create();
  }

  @AfterEach
  void stop() {
    operator.stop();
  }

  static Consumer<MySQLPoolSpec> tlsFrom(String secretName) {
    return s -> {
      s.tls = new FrontendTlsSpec();
      s.tls.mode = "required";
      s.tls.secretName = secretName;
    };
  }

  static Secret tlsSecret(String cert, String key) {
    SecretBuilder b =
        new SecretBuilder()
            .withNewMetadata()
            .withName("orders-pool-tls")
            .withNamespace(NS)
            .endMetadata()
            .withType("kubernetes.io/tls")
            .addToData("tls.crt", b64(cert));
    if (key != null) {
      b.addToData("tls.key", b64(key));
    }
    return b.build();
  }

  static String b64(String s) {
    return java.util.Base64.getEncoder().encodeToString(s.getBytes());
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

  private List<Event> warnings() {
    return client.v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> "orders".equals(e.getInvolvedObject().getName()))
        .toList();
  }

  @Test
  void aMissingTlsSecretIsAConditionAndAnEventThenALateOneRenders() {
    client.resource(Fixtures.pool(tlsFrom("orders-pool-tls"))).create();
    await()
        .atMost(Duration.ofSeconds(40))
        .untilAsserted(
            () -> {
              assertThat(conditionLine("CertificatesFound")).isEqualTo("False TLSSecretNotFound");
              assertThat(conditionLine("Stalled")).isEqualTo("True TLSSecretNotFound");
              assertThat(condition("CertificatesFound").getMessage())
                  .startsWith(
                      "Secret \"orders-pool-tls\" (spec.tls.secretName) not found in namespace"
                          + " shop; point a cert-manager Certificate's spec.secretName at it");
              assertThat(warnings())
                  .anySatisfy(
                      e -> {
                        assertThat(e.getReason()).isEqualTo("TLSSecretNotFound");
                        assertThat(e.getMessage()).contains("orders-pool-tls");
                      });
            });
    assertThat(get(Deployment.class, "orders"))
        .as("no pod that would wait forever for a volume")
        .isNull();

    client.resource(tlsSecret(PEM_CERT, null)).create();
    await()
        .atMost(Duration.ofSeconds(40))
        .untilAsserted(
            () -> {
              assertThat(conditionLine("CertificatesFound")).isEqualTo("False TLSKeyMissing");
              assertThat(condition("CertificatesFound").getMessage())
                  .startsWith("Secret \"orders-pool-tls\" (spec.tls.secretName) has no tls.key;");
            });
    assertThat(get(Deployment.class, "orders")).isNull();

    client.resource(tlsSecret(PEM_CERT, PEM_KEY)).update();
    await()
        .atMost(Duration.ofSeconds(40))
        .untilAsserted(
            () -> {
              assertThat(conditionLine("CertificatesFound")).isEqualTo("True Found");
              assertThat(get(Deployment.class, "orders")).isNotNull();
              assertThat(get(ConfigMap.class, "orders-config").getData().get("proxy.yaml"))
                  .contains("certFile: tls/tls.crt");
            });
  }

  @Test
  void aRenewedCertificateRollsNoPod() {
    client.resource(tlsSecret(PEM_CERT, PEM_KEY)).create();
    client.resource(Fixtures.pool(tlsFrom("orders-pool-tls"))).create();
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(() -> assertThat(get(Deployment.class, "orders")).isNotNull());
    Deployment before = get(Deployment.class, "orders");
    PodTemplateSpec template = before.getSpec().getTemplate();

    // cert-manager renews: new certificate and key in the same Secret.
    client
        .resource(
            tlsSecret(PEM_CERT.replace("fake", "renewed"), PEM_KEY.replace("fake", "renewed")))
        .update();
    // Any reconciliation after it (here: a live-reloadable change) must leave the template alone.
    editSpec(s -> s.pool.maxIdle = 10);
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () ->
                assertThat(get(ConfigMap.class, "orders-config").getData().get("proxy.yaml"))
                    .contains("maxIdle: 10"));
    Deployment after = get(Deployment.class, "orders");
    assertThat(after.getSpec().getTemplate())
        .as("the kubelet updates the mounted files; the proxy re-reads them")
        .isEqualTo(template);
    assertThat(after.getMetadata().getGeneration()).isEqualTo(before.getMetadata().getGeneration());
  }

  @Test
  void aCaConfigMapWithoutItsKeyNamesTheKeyAndTheField() {
    client
        .resource(
            new ConfigMapBuilder()
                .withNewMetadata()
                .withName("rds-ca")
                .withNamespace(NS)
                .endMetadata()
                .addToData("global-bundle.pem", PEM_CERT)
                .build())
        .create();
    client
        .resource(
            Fixtures.pool(
                s -> {
                  s.backend.tls = new BackendTlsSpec();
                  s.backend.tls.mode = "verify-identity";
                  s.backend.tls.ca = new BackendTlsSpec.CaSource();
                  s.backend.tls.ca.configMapName = "rds-ca";
                }))
        .create();
    await()
        .atMost(Duration.ofSeconds(40))
        .untilAsserted(
            () -> {
              assertThat(conditionLine("CertificatesFound")).isEqualTo("False CAKeyMissing");
              assertThat(condition("CertificatesFound").getMessage())
                  .startsWith(
                      "ConfigMap \"rds-ca\" (spec.backend.tls.ca.configMapName) has no key ca.crt"
                          + " (spec.backend.tls.ca.key)");
              assertThat(warnings()).extracting(Event::getReason).contains("CAKeyMissing");
            });
    assertThat(get(Deployment.class, "orders")).isNull();

    editSpec(s -> s.backend.tls.ca.key = "global-bundle.pem");
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              assertThat(conditionLine("CertificatesFound")).isEqualTo("True Found");
              assertThat(get(ConfigMap.class, "orders-config").getData().get("proxy.yaml"))
                  .contains("caFile: backend-ca/global-bundle.pem");
            });
  }

  @Test
  void anInternetFacingPoolWithoutTlsOrSourceRangesSaysBothFixes() {
    client.resource(Fixtures.pool(s -> s.service.scheme = "internet-facing")).create();
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              assertThat(conditionLine("SpecValid")).isEqualTo("False InvalidSpec");
              assertThat(condition("SpecValid").getMessage())
                  .startsWith("spec.service.scheme: internet-facing with neither TLS required")
                  .contains("spec.tls.mode: required", "spec.service.sourceRanges");
              assertThat(warnings())
                  .anySatisfy(
                      e -> assertThat(e.getMessage()).contains("spec.service.sourceRanges"));
            });
    assertThat(get(Deployment.class, "orders")).isNull();
  }

  /** Changes the spec as kubectl edit would, again on a conflict with a status write. */
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
}
