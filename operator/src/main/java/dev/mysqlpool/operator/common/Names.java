package dev.mysqlpool.operator.common;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Names, labels, ports and paths shared by the renderers, the dependents and the reconciler. A
 * leaf: it imports nothing of the operator, so no package needs another just for a constant.
 */
public final class Names {
  /** The value of {@code app.kubernetes.io/managed-by} on everything the operator creates. */
  public static final String MANAGED_BY = "mysqlpool-operator";

  /** The value of {@code app.kubernetes.io/name} on the proxy's objects. */
  public static final String APP_NAME = "mysqlpool-proxy";

  /**
   * The label selector the dependents' informers use, so they cache only the operator's own
   * objects.
   */
  public static final String MANAGED_SELECTOR = "app.kubernetes.io/managed-by=" + MANAGED_BY;

  public static final String LABEL_NAME = "app.kubernetes.io/name";
  public static final String LABEL_INSTANCE = "app.kubernetes.io/instance";
  public static final String LABEL_COMPONENT = "app.kubernetes.io/component";
  public static final String LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";

  /**
   * Pod template annotation: a hash of the rendered proxy config's settings that the proxy reads
   * only at startup, so a change of one of them rolls the pods (and nothing else does).
   */
  public static final String CONFIG_HASH_ANNOTATION = "mysqlpool.dev/config-hash";

  public static final String MYSQL_PORT_NAME = "mysql";
  public static final int MYSQL_PORT = 6033;
  public static final String ADMIN_PORT_NAME = "admin";
  public static final int ADMIN_PORT = 9090;

  /** The proxy's readiness endpoint: the readiness probe and the NLB health check both hit it. */
  public static final String READY_PATH = "/readyz";

  /** The NLB health check's interval in seconds (AWS Load Balancer Controller annotation). */
  public static final int NLB_HEALTHCHECK_INTERVAL_SECONDS = 10;

  /**
   * Checks in a row that turn an NLB target healthy, and the same number that turn it unhealthy.
   */
  public static final int NLB_HEALTHCHECK_THRESHOLD = 2;

  /** The writer's backend name in the proxy config (spec.backend). */
  public static final String WRITER_BACKEND = "writer";

  /** The proxy container's name. */
  public static final String CONTAINER = "proxy";

  /** The folder the projected config volume (ConfigMap plus Secret) is mounted at. */
  public static final String CONFIG_DIR = "/etc/mysqlpool";

  /** The config file's key in the ConfigMap, and its name under {@link #CONFIG_DIR}. */
  public static final String CONFIG_FILE = "proxy.yaml";

  /**
   * Password files live here, relative to {@link #CONFIG_DIR}; the proxy resolves them against the
   * config's folder.
   */
  public static final String PASSWORD_DIR = "users";

  private Names() {}

  /**
   * The Deployment, Service, ServiceAccount and PodDisruptionBudget of a pool share the pool's
   * name.
   */
  public static String proxy(String pool) {
    return pool;
  }

  /** The Secret applications mount to connect: host, port and a URI per user. */
  public static String connection(String pool) {
    return pool + "-connection";
  }

  /** The ConfigMap that holds the proxy config. */
  public static String config(String pool) {
    return pool + "-config";
  }

  /**
   * The labels that select a pool's proxy pods; never change them, a Deployment's selector is
   * immutable.
   */
  public static Map<String, String> selector(String pool) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put(LABEL_NAME, APP_NAME);
    m.put(LABEL_INSTANCE, pool);
    return m;
  }

  /** {@link #selector} as a label selector string, e.g. for the scale subresource. */
  public static String selectorString(String pool) {
    StringBuilder sb = new StringBuilder();
    selector(pool)
        .forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ",").append(k).append('=').append(v));
    return sb.toString();
  }

  /** The labels every object of a pool carries. */
  public static Map<String, String> labels(String pool) {
    Map<String, String> m = selector(pool);
    m.put(LABEL_COMPONENT, "proxy");
    m.put(LABEL_MANAGED_BY, MANAGED_BY);
    return m;
  }
}
