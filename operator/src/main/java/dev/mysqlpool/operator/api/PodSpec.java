package dev.mysqlpool.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.TopologySpreadConstraint;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code spec.pod}: scheduling, resources and metadata of the proxy pods. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class PodSpec {
  @JsonPropertyDescription(
      "The proxy image; defaults to the image the operator was started with (--proxy-image).")
  public String image;

  @JsonPropertyDescription(
      "CPU and memory of the proxy container. Default: requests 250m CPU and 256Mi, limit 512Mi memory.")
  public ResourceRequirements resources;

  @JsonPropertyDescription("Node labels the proxy pods must run on.")
  public Map<String, String> nodeSelector = new LinkedHashMap<>();

  @JsonPropertyDescription("Tolerations of the proxy pods.")
  public List<Toleration> tolerations = new ArrayList<>();

  @JsonPropertyDescription("Affinity of the proxy pods. Default: prefer spreading pods over nodes.")
  public Affinity affinity;

  @JsonPropertyDescription(
      "Topology spread of the proxy pods. Default: spread across zones (topology.kubernetes.io/zone), skew 1, best effort.")
  public List<TopologySpreadConstraint> topologySpreadConstraints = new ArrayList<>();

  @JsonPropertyDescription("PriorityClass of the proxy pods.")
  public String priorityClassName;

  @JsonPropertyDescription("Extra annotations on the proxy pods.")
  public Map<String, String> annotations = new LinkedHashMap<>();

  @JsonPropertyDescription(
      "Extra labels on the proxy pods. The operator's app.kubernetes.io/ labels (the Deployment's selector) cannot be overridden.")
  public Map<String, String> labels = new LinkedHashMap<>();

  @JsonPropertyDescription(
      "Secrets in the pool's namespace to pull the proxy image with. The proxy pods run under the pool's own ServiceAccount (named like the pool), so pull secrets on the namespace's default ServiceAccount do not apply.")
  public List<LocalObjectReference> imagePullSecrets = new ArrayList<>();
}
