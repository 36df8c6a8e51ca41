package dev.mysqlpool.operator.render;

import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.List;

/** Every object of a pool, in the order {@code kubectl apply} wants them. */
public final class Manifests {
  private Manifests() {}

  /** ServiceAccount, ConfigMap, Service, Deployment, PodDisruptionBudget. */
  public static List<HasMetadata> all(Plan plan) {
    return List.of(
        ServiceAccounts.serviceAccount(plan),
        ConfigMaps.configMap(plan),
        Services.service(plan),
        Deployments.deployment(plan),
        PodDisruptionBudgets.podDisruptionBudget(plan));
  }
}
