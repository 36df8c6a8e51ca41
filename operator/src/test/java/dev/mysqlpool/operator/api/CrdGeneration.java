package dev.mysqlpool.operator.api;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.crdv2.generator.CRDGenerator;
import io.fabric8.crdv2.generator.CRDPostProcessor;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Generates the MySQLPool CRD from the Java API types with fabric8's CRD generator, plus what the
 * generator leaves out: printer columns in the order {@link MySQLPool} declares them (the generator
 * sorts them by JSON path), and descriptions on the root, {@code spec}, {@code status}, list items,
 * condition fields and the Kubernetes types embedded under {@code spec.pod}, so {@code kubectl
 * explain} has something to say everywhere.
 */
final class CrdGeneration {
  static final String FILE = "mysqlpools.mysqlpool.dev-v1.yml";

  private static final Map<String, String> CONDITION_FIELDS =
      Map.of(
          "type", "The condition's kind, e.g. Ready, Stalled, SizingValid.",
          "status", "True, False or Unknown.",
          "reason", "Why, in CamelCase, e.g. ExceedsBackend.",
          "message", "What was found, with the numbers and the fix.",
          "lastTransitionTime", "When the status last changed.",
          "observedGeneration", "The metadata.generation this condition describes.");

  private CrdGeneration() {}

  /** Generates the CRD into {@code dir} and returns the file. */
  static Path generate(Path dir) throws IOException {
    Files.createDirectories(dir);
    new CRDGenerator()
        .customResourceClasses(MySQLPool.class)
        .forCRDVersions("v1")
        .withPostProcessor(new Completion())
        .inOutputDir(dir.toFile())
        .generate();
    return dir.resolve(FILE);
  }

  /** The generator's output, completed. */
  private static final class Completion implements CRDPostProcessor {
    @Override
    public HasMetadata process(HasMetadata crd, String crdSpecVersion) {
      CustomResourceDefinitionVersion version =
          ((CustomResourceDefinition) crd).getSpec().getVersions().get(0);
      order(version.getAdditionalPrinterColumns());
      JSONSchemaProps root = version.getSchema().getOpenAPIV3Schema();
      root.setDescription(describe(MySQLPool.class));
      root.getProperties().get("spec").setDescription(describe(MySQLPoolSpec.class));
      JSONSchemaProps status = root.getProperties().get("status");
      status.setDescription(describe(MySQLPoolStatus.class));
      status
          .getProperties()
          .get("conditions")
          .getItems()
          .getSchema()
          .getProperties()
          .forEach((name, p) -> p.setDescription(CONDITION_FIELDS.get(name)));
      complete("spec", root.getProperties().get("spec"), null);
      complete("status", status, null);
      return crd;
    }

    private static void order(List<CustomResourceColumnDefinition> columns) {
      List<String> declared = new ArrayList<>();
      for (AdditionalPrinterColumn c :
          MySQLPool.class.getAnnotationsByType(AdditionalPrinterColumn.class)) {
        declared.add(c.name());
      }
      columns.sort(Comparator.comparingInt(c -> declared.indexOf(c.getName())));
    }

    /**
     * Fills missing descriptions: a list's items take the list's, and a field of a Kubernetes type
     * embedded under spec.pod points at the Pod's own documentation.
     */
    private static void complete(String path, JSONSchemaProps props, String inherited) {
      if (props.getDescription() == null || props.getDescription().isBlank()) {
        props.setDescription(
            path.startsWith("spec.pod.")
                ? "As in a Pod; see kubectl explain " + podPath(path) + "."
                : inherited);
      }
      if (props.getProperties() != null) {
        props.getProperties().forEach((name, child) -> complete(path + "." + name, child, null));
      }
      if (props.getItems() != null && props.getItems().getSchema() != null) {
        complete(
            path,
            props.getItems().getSchema(),
            "One item of " + path + ": " + props.getDescription());
      }
      if (props.getAdditionalProperties() != null
          && props.getAdditionalProperties().getSchema() != null) {
        complete(path, props.getAdditionalProperties().getSchema(), "A value of " + path + ".");
      }
    }

    /** spec.pod.resources.limits: pod.spec.containers.resources.limits. */
    private static String podPath(String path) {
      String rest = path.substring("spec.pod.".length());
      return "pod.spec." + (rest.startsWith("resources") ? "containers." + rest : rest);
    }

    private static String describe(Class<?> type) {
      return type.getAnnotation(JsonClassDescription.class).value();
    }
  }
}
