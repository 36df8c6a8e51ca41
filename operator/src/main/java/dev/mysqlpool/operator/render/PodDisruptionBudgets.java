package dev.mysqlpool.operator.render;

import dev.mysqlpool.operator.api.MySQLPoolSpec;
import dev.mysqlpool.operator.common.Names;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudgetBuilder;

/**
 * How many proxy pods voluntary disruptions (node drains, cluster upgrades) may take at once: the
 * spec's choice, else one at a time, or none while a single replica runs (a drain of its node then
 * waits rather than taking every proxy down). An unhealthy proxy can always be evicted, so a broken
 * pod never blocks a drain.
 */
public final class PodDisruptionBudgets {
  private PodDisruptionBudgets() {}

  /** The pool's PodDisruptionBudget. */
  public static PodDisruptionBudget podDisruptionBudget(Plan plan) {
    MySQLPoolSpec.Disruption d = plan.spec().podDisruptionBudget;
    return new PodDisruptionBudgetBuilder()
        .withNewMetadata()
        .withName(Names.proxy(plan.name()))
        .withNamespace(plan.namespace())
        .withLabels(Names.labels(plan.name()))
        .endMetadata()
        .withNewSpec()
        .withMinAvailable(d.minAvailable)
        .withMaxUnavailable(
            d.minAvailable != null
                ? null
                : d.maxUnavailable != null
                    ? d.maxUnavailable
                    : new IntOrString(plan.spec().replicas > 1 ? 1 : 0))
        .withUnhealthyPodEvictionPolicy("AlwaysAllow")
        .withNewSelector()
        .withMatchLabels(Names.selector(plan.name()))
        .endSelector()
        .endSpec()
        .build();
  }
}
