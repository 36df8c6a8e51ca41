package dev.mysqlpool.operator.dependent;

import dev.mysqlpool.operator.api.MySQLPool;
import dev.mysqlpool.operator.common.Names;
import dev.mysqlpool.operator.render.Services;
import io.fabric8.kubernetes.api.model.Service;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;

/**
 * The pool's Service; desired state comes from {@link Services}, owned by the MySQLPool so
 * Kubernetes deletes it with the pool. Its informer caches only objects labelled as the operator's.
 */
@KubernetesDependent(informer = @Informer(labelSelector = Names.MANAGED_SELECTOR))
public class ServiceDependentResource extends CRUDKubernetesDependentResource<Service, MySQLPool> {
  /** Called by JOSDK. */
  public ServiceDependentResource() {
    super(Service.class);
  }

  @Override
  protected Service desired(MySQLPool primary, Context<MySQLPool> context) {
    return Services.service(Plans.from(context));
  }
}
