package dev.mysqlpool.operator.dependent;

import dev.mysqlpool.operator.api.MySQLPool;
import dev.mysqlpool.operator.common.Names;
import dev.mysqlpool.operator.render.PodDisruptionBudgets;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;

/**
 * The pool's PodDisruptionBudget; desired state comes from {@link PodDisruptionBudgets}, owned by
 * the MySQLPool so Kubernetes deletes it with the pool. Its informer caches only objects labelled
 * as the operator's.
 */
@KubernetesDependent(informer = @Informer(labelSelector = Names.MANAGED_SELECTOR))
public class PodDisruptionBudgetDependentResource
    extends CRUDKubernetesDependentResource<PodDisruptionBudget, MySQLPool> {
  /** Called by JOSDK. */
  public PodDisruptionBudgetDependentResource() {
    super(PodDisruptionBudget.class);
  }

  @Override
  protected PodDisruptionBudget desired(MySQLPool primary, Context<MySQLPool> context) {
    return PodDisruptionBudgets.podDisruptionBudget(Plans.from(context));
  }
}
