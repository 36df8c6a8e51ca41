package dev.mysqlpool.operator.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mysqlpool.operator.testing.Fixtures;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The CRD users apply (crds/) is what {@link CrdGeneration} generates from the api package in this
 * build, into the build directory (the POM passes its path).
 */
class CrdDriftTest {
  static final String FILE = CrdGeneration.FILE;

  @Test
  void checkedInCrdMatchesTheGeneratedOne() throws IOException {
    Path generated =
        CrdGeneration.generate(
            Path.of(System.getProperty("crds.generated.dir", "target/crds")).toAbsolutePath());
    Path checkedIn = Fixtures.repo().resolve("crds").resolve(FILE);
    if (Boolean.getBoolean("crds.update")) {
      Files.copy(generated, checkedIn, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      Files.copy(
          generated,
          Fixtures.repo().resolve("helm/mysqlpool-operator/crds").resolve(FILE),
          java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    assertThat(Files.readString(checkedIn))
        .withFailMessage(
            "crds/%s drifted from the Java API types; run `./mvnw -pl operator -am verify"
                + " -Dtest=CrdDriftTest -Dsurefire.failIfNoSpecifiedTests=false -Dcrds.update=true`"
                + " (it updates helm/'s copy too) and commit both",
            FILE)
        .isEqualTo(Files.readString(generated));
  }

  @Test
  void theCrdTeachesKubectlExplainAndValidates() {
    CustomResourceDefinition crd =
        new KubernetesSerialization()
            .unmarshal(Fixtures.read("crds/" + FILE), CustomResourceDefinition.class);
    assertThat(crd.getSpec().getNames().getShortNames()).containsExactly("mpool");
    var version = crd.getSpec().getVersions().get(0);
    assertThat(version.getName()).isEqualTo("v1alpha1");
    assertThat(version.getSubresources().getStatus()).isNotNull();
    var scale = version.getSubresources().getScale();
    assertThat(
            List.of(
                scale.getSpecReplicasPath(),
                scale.getStatusReplicasPath(),
                scale.getLabelSelectorPath()))
        .as("an HPA can target a MySQLPool")
        .containsExactly(".spec.replicas", ".status.replicas", ".status.selector");
    assertThat(version.getAdditionalPrinterColumns())
        .extracting(c -> c.getName())
        .as("kubectl get mpool shows the columns in this order, the reason last")
        .containsExactly(
            "Ready", "Replicas", "Max Conns/Replica", "Endpoint", "Writer", "Age", "Message");
    JSONSchemaProps root = version.getSchema().getOpenAPIV3Schema();
    assertThat(root.getDescription()).as("kubectl explain mpool").isNotBlank();
    assertEveryFieldDescribed("", root);
    JSONSchemaProps spec = version.getSchema().getOpenAPIV3Schema().getProperties().get("spec");
    assertThat(spec.getRequired()).containsExactlyInAnyOrder("backend", "credentials", "workload");
    assertThat(spec.getProperties().get("backend").getXKubernetesValidations())
        .extracting(r -> r.getRule())
        .containsExactly("self.reservedConnections < self.maxConnections");
    assertThat(spec.getProperties().get("workload").getProperties().get("holdTime").getPattern())
        .isEqualTo("^[0-9]{1,9}(ms|s|m|h)$");
    assertThat(spec.getProperties().get("replicas").getMinimum()).isEqualTo(1.0);
    assertThat(spec.getProperties().get("pool").getProperties().get("mode").getEnum())
        .extracting(n -> n.asText())
        .as("kubectl explain lists both pool modes; the API server accepts nothing else")
        .containsExactly("session", "transaction");
    JSONSchemaProps service = spec.getProperties().get("service");
    assertThat(service.getProperties().get("type").getEnum())
        .extracting(n -> n.asText())
        .containsExactly("ClusterIP", "LoadBalancer");
    assertThat(service.getProperties().get("scheme").getEnum())
        .extracting(n -> n.asText())
        .containsExactly("internal", "internet-facing");
    java.util.regex.Pattern cidr =
        java.util.regex.Pattern.compile(
            service.getProperties().get("sourceRanges").getItems().getSchema().getPattern());
    assertThat(List.of("203.0.113.0/24", "10.0.0.0/8", "2001:db8::/32", "0.0.0.0/0"))
        .allMatch(r -> cidr.matcher(r).find());
    assertThat(List.of("999.1.1.1/99", "10.0.0.0/33", "10.0.0/8", "2001:db8::/129", "x"))
        .noneMatch(r -> cidr.matcher(r).find());
  }

  /**
   * Every field kubectl explain can reach is described: ours, the conditions', and those of the
   * Kubernetes types embedded under spec.pod.
   */
  private static void assertEveryFieldDescribed(String path, JSONSchemaProps props) {
    if (props.getProperties() == null) {
      return;
    }
    props
        .getProperties()
        .forEach(
            (name, child) -> {
              assertThat(child.getDescription())
                  .withFailMessage("%s.%s has no description for kubectl explain", path, name)
                  .isNotBlank();
              assertEveryFieldDescribed(
                  path + "." + name,
                  child.getItems() != null && child.getItems().getSchema() != null
                      ? child.getItems().getSchema()
                      : child);
            });
  }
}
