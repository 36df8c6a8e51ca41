package dev.mysqlpool.operator.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.mysqlpool.operator.testing.Fixtures;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The CRD users apply (crds/) is what crd-generator-maven-plugin generates from the api package in
 * this build. The generated copy lives in the build directory, whatever it is called (the POM
 * passes its path).
 */
class CrdDriftTest {
  static final String FILE = "mysqlpools.mysqlpool.dev-v1.yml";

  @Test
  void checkedInCrdMatchesTheGeneratedOne() throws IOException {
    String generatedDir = System.getProperty("crds.generated.dir");
    assumeThat(generatedDir)
        .as("run through Maven, which generates the CRD and passes crds.generated.dir")
        .isNotNull();
    Path generated = Path.of(generatedDir, FILE);
    Path checkedIn = Fixtures.repo().resolve("crds").resolve(FILE);
    assertThat(generated).exists();
    if (Boolean.getBoolean("crds.update")) {
      Files.copy(generated, checkedIn, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    assertThat(Files.readString(checkedIn))
        .withFailMessage(
            "crds/%s drifted from the Java API types; run `./mvnw -pl operator -am verify"
                + " -Dcrds.update=true` (or copy %s) and commit it",
            FILE, generated)
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
    assertThat(version.getAdditionalPrinterColumns())
        .extracting(c -> c.getName())
        .containsExactlyInAnyOrder("Ready", "Replicas", "Max Conns/Replica", "Endpoint", "Age");
    JSONSchemaProps spec = version.getSchema().getOpenAPIV3Schema().getProperties().get("spec");
    assertThat(spec.getRequired()).containsExactlyInAnyOrder("backend", "credentials", "workload");
    assertEveryFieldDescribed("spec", spec);
    assertThat(spec.getProperties().get("backend").getXKubernetesValidations())
        .extracting(r -> r.getRule())
        .containsExactly("self.reservedConnections < self.maxConnections");
    assertThat(spec.getProperties().get("workload").getProperties().get("holdTime").getPattern())
        .isEqualTo("^[0-9]{1,9}(ms|s|m|h)$");
    assertThat(spec.getProperties().get("replicas").getMinimum()).isEqualTo(1.0);
    assertThat(spec.getProperties().get("pool").getProperties().get("mode").getPattern())
        .as("the API server accepts both pool modes and nothing else")
        .isEqualTo("^(session|transaction)$");
  }

  /**
   * Our own fields are described; embedded Kubernetes types (affinity, resources, ...) bring their
   * own docs.
   */
  private static void assertEveryFieldDescribed(String path, JSONSchemaProps props) {
    if (props.getProperties() == null || path.startsWith("spec.pod.")) {
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
