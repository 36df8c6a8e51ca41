package dev.mysqlpool.operator.dependent;

import dev.mysqlpool.operator.api.MySQLPool;
import dev.mysqlpool.operator.common.Names;
import dev.mysqlpool.operator.render.Deployments;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;

/**
 * The pool's Deployment; desired state comes from {@link Deployments}, owned by the MySQLPool so
 * Kubernetes deletes it with the pool. Its informer caches only objects labelled as the operator's.
 */
@KubernetesDependent(informer = @Informer(labelSelector = Names.MANAGED_SELECTOR))
public class DeploymentDependentResource
    extends CRUDKubernetesDependentResource<Deployment, MySQLPool> {
  /** Called by JOSDK. */
  public DeploymentDependentResource() {
    super(Deployment.class);
  }

  @Override
  protected Deployment desired(MySQLPool primary, Context<MySQLPool> context) {
    return Deployments.deployment(Plans.from(context));
  }
}
