package dev.mysqlpool.operator;

import static dev.mysqlpool.operator.ChartTest.SOURCE;
import static dev.mysqlpool.operator.ChartTest.objects;
import static dev.mysqlpool.operator.ChartTest.one;
import static dev.mysqlpool.operator.ChartTest.template;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/**
 * The chart's guard rails as a cluster admin meets them: the Kubernetes version it needs, a values
 * schema that refuses typos and wrong types, and the optional NetworkPolicy.
 */
class ChartValuesTest {
  private static final YAMLMapper YAML = new YAMLMapper();

  @Test
  void theChartRequiresKubernetes130() throws IOException {
    JsonNode chart = YAML.readTree(SOURCE.resolve("Chart.yaml").toFile());
    assertThat(chart.path("kubeVersion").asText())
        .as("the proxies' preStop sleep action needs Kubernetes 1.30")
        .isEqualTo(">=1.30.0-0");
  }

  @Test
  void theValuesSchemaRefusesWrongValues() {
    assertThat(SOURCE.resolve("values.schema.json")).exists();
    assertThatThrownBy(() -> template(t -> t.set("replicas", "two")))
        .hasMessageContaining("replicas");
    assertThatThrownBy(() -> template(t -> t.set("logLevel", "LOUD")))
        .hasMessageContaining("logLevel");
    assertThatThrownBy(() -> template(t -> t.set("replica", 2)))
        .as("a misspelt key is refused, not silently ignored")
        .hasMessageContaining("replica");
  }

  @Test
  void theNetworkPolicyIsOptionalAndAdmitsOnlyTheMetricsPort() {
    assertThat(objects(template(t -> t)).stream().map(HasMetadata::getKind))
        .doesNotContain("NetworkPolicy");
    var policy =
        one(
            objects(
                template(
                    t ->
                        t.set("networkPolicy.enabled", true)
                            .set(
                                "networkPolicy.metricsFrom[0].namespaceSelector.matchLabels.name",
                                "monitoring"))),
            io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy.class);
    assertThat(policy.getSpec().getPodSelector().getMatchLabels())
        .containsEntry("app.kubernetes.io/name", "mysqlpool-operator");
    assertThat(policy.getSpec().getPolicyTypes()).containsExactly("Ingress");
    assertThat(policy.getSpec().getIngress()).hasSize(1);
    assertThat(policy.getSpec().getIngress().get(0).getPorts().get(0).getPort().getIntVal())
        .isEqualTo(8080);
    assertThat(
            policy
                .getSpec()
                .getIngress()
                .get(0)
                .getFrom()
                .get(0)
                .getNamespaceSelector()
                .getMatchLabels())
        .containsEntry("name", "monitoring");
  }
}
