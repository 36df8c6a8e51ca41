package dev.mysqlpool.operator.render;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.util.List;

/**
 * Kubernetes objects as {@code kubectl get -o yaml} and {@code helm template} print them: plain
 * scalars quoted only where YAML would read them as something else ({@code "3306"}, {@code
 * "true"}), multi-line strings as literal blocks, list items at their key's indentation, one {@code
 * ---} before each object.
 */
public final class KubectlYaml {
  private static final KubernetesSerialization K8S = new KubernetesSerialization();
  private static final YAMLMapper YAML =
      new YAMLMapper(
          YAMLFactory.builder()
              .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
              .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
              .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
              .enable(YAMLGenerator.Feature.LITERAL_BLOCK_STYLE)
              .build());

  private KubectlYaml() {}

  /** Every object, each after a {@code ---} line. */
  public static String print(List<? extends HasMetadata> objects) {
    StringBuilder sb = new StringBuilder();
    for (HasMetadata o : objects) {
      sb.append("---\n").append(print(o));
    }
    return sb.toString();
  }

  /** One object, through fabric8's own serialization (IntOrString, Quantity, ...). */
  public static String print(HasMetadata object) {
    try {
      JsonNode tree = K8S.convertValue(object, JsonNode.class);
      return YAML.writeValueAsString(tree);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(
          "while printing " + object.getKind() + "/" + object.getMetadata().getName(), e);
    }
  }
}
