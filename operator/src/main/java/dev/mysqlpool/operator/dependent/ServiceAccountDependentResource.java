package dev.mysqlpool.operator.dependent;

import dev.mysqlpool.operator.api.MySQLPool;
import dev.mysqlpool.operator.common.Names;
import dev.mysqlpool.operator.render.ServiceAccounts;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;

/**
 * The pool's ServiceAccount; desired state comes from {@link ServiceAccounts}, owned by the
 * MySQLPool so Kubernetes deletes it with the pool. Its informer caches only objects labelled as
 * the operator's.
 */
@KubernetesDependent(informer = @Informer(labelSelector = Names.MANAGED_SELECTOR))
public class ServiceAccountDependentResource
    extends CRUDKubernetesDependentResource<ServiceAccount, MySQLPool> {
  /** Called by JOSDK. */
  public ServiceAccountDependentResource() {
    super(ServiceAccount.class);
  }

  @Override
  protected ServiceAccount desired(MySQLPool primary, Context<MySQLPool> context) {
    return ServiceAccounts.serviceAccount(Plans.from(context));
  }
}
