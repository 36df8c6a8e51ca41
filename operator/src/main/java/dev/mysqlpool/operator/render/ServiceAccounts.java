package dev.mysqlpool.operator.render;

import dev.mysqlpool.operator.common.Names;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;

/**
 * The proxy pods' own ServiceAccount: the proxy never talks to the API server, so no token is
 * mounted.
 */
public final class ServiceAccounts {
  private ServiceAccounts() {}

  /** The pool's ServiceAccount. */
  public static ServiceAccount serviceAccount(Plan plan) {
    return new ServiceAccountBuilder()
        .withNewMetadata()
        .withName(Names.proxy(plan.name()))
        .withNamespace(plan.namespace())
        .withLabels(Names.labels(plan.name()))
        .endMetadata()
        .withAutomountServiceAccountToken(false)
        .build();
  }
}
