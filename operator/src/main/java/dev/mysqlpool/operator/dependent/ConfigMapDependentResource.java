package dev.mysqlpool.operator.dependent;

import dev.mysqlpool.operator.api.MySQLPool;
import dev.mysqlpool.operator.common.Names;
import dev.mysqlpool.operator.render.ConfigMaps;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDKubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;

/**
 * The pool's ConfigMap; desired state comes from {@link ConfigMaps}, owned by the MySQLPool so
 * Kubernetes deletes it with the pool. Its informer caches only objects labelled as the operator's.
 */
@KubernetesDependent(informer = @Informer(labelSelector = Names.MANAGED_SELECTOR))
public class ConfigMapDependentResource
    extends CRUDKubernetesDependentResource<ConfigMap, MySQLPool> {
  /** Called by JOSDK. */
  public ConfigMapDependentResource() {
    super(ConfigMap.class);
  }

  @Override
  protected ConfigMap desired(MySQLPool primary, Context<MySQLPool> context) {
    return ConfigMaps.configMap(Plans.from(context));
  }
}
