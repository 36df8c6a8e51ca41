package dev.mysqlpool.operator.render;

import dev.mysqlpool.operator.common.Names;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudgetBuilder;

/** Voluntary disruptions (node drains) take at most one proxy pod at a time. */
public final class PodDisruptionBudgets {
  private PodDisruptionBudgets() {}

  /** The pool's PodDisruptionBudget. */
  public static PodDisruptionBudget podDisruptionBudget(Plan plan) {
    return new PodDisruptionBudgetBuilder()
        .withNewMetadata()
        .withName(Names.proxy(plan.name()))
        .withNamespace(plan.namespace())
        .withLabels(Names.labels(plan.name()))
        .endMetadata()
        .withNewSpec()
        .withMaxUnavailable(new IntOrString(1))
        .withNewSelector()
        .withMatchLabels(Names.selector(plan.name()))
        .endSelector()
        .endSpec()
        .build();
  }
}
