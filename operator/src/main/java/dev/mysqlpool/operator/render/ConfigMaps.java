package dev.mysqlpool.operator.render;

import dev.mysqlpool.operator.common.Names;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;

/** The ConfigMap that holds the proxy config file. */
public final class ConfigMaps {
  private ConfigMaps() {}

  /** The pool's ConfigMap, with the config file under {@link Names#CONFIG_FILE}. */
  public static ConfigMap configMap(Plan plan) {
    return new ConfigMapBuilder()
        .withNewMetadata()
        .withName(Names.config(plan.name()))
        .withNamespace(plan.namespace())
        .withLabels(Names.labels(plan.name()))
        .endMetadata()
        .addToData(Names.CONFIG_FILE, ProxyConfigs.yaml(plan))
        .build();
  }
}
