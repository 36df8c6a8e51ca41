package dev.mysqlpool.operator;

import dev.mysqlpool.operator.api.MySQLPool;
import dev.mysqlpool.operator.reconciler.MySQLPoolReconciler;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.javaoperatorsdk.operator.api.reconciler.Workflow;
import io.javaoperatorsdk.operator.api.reconciler.dependent.Dependent;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The API calls the operator makes, as RBAC (group, resource, verb) triples, derived from the code:
 * the dependents listed on {@link MySQLPoolReconciler}'s workflow, the primary resource, Secrets by
 * name, Events, the list of a pool's proxy pods and the leader election Lease. The Helm chart's
 * ClusterRole and Role are tested against this, so adding a dependent without its RBAC fails the
 * build.
 *
 * <p>Dependents are written with server-side apply: creating through apply is authorized as {@code
 * create}, changing as {@code patch}. Nothing is deleted: owner references let Kubernetes collect a
 * pool's objects.
 */
public final class Permissions {
  /** Verbs of the informer behind every watched type. */
  public static final List<String> WATCH = List.of("get", "list", "watch");

  private Permissions() {}

  /** Cluster-wide rules (the ClusterRole), as "group/resource:verb", sorted. */
  public static Set<String> clusterWide() {
    Set<String> rules = new TreeSet<>();
    Workflow workflow = MySQLPoolReconciler.class.getAnnotation(Workflow.class);
    for (Dependent d : workflow.dependents()) {
      Class<? extends HasMetadata> type = resourceType(d.type());
      add(rules, type, "", WATCH);
      add(rules, type, "", List.of("create", "patch"));
    }
    add(rules, MySQLPool.class, "", WATCH);
    add(rules, MySQLPool.class, "/status", List.of("patch"));
    // Secrets by name only, never listed or watched: the pool's own Secret is read, its connection
    // Secret created or patched (ConnectionSecretWriter), so no informer caches the cluster's
    // Secrets.
    add(rules, Secret.class, "", List.of("get", "create", "patch"));
    add(rules, Event.class, "", List.of("create"));
    // The proxy pods are listed (never watched) to ask the ready ones for their writer at /stats.
    add(rules, Pod.class, "", List.of("list"));
    return rules;
  }

  /**
   * Rules in the operator's own namespace (the Role): the leader election Lease, which fabric8's
   * LeaseLock reads, creates and renews with a JSON merge patch.
   */
  public static Set<String> ownNamespace() {
    Set<String> rules = new TreeSet<>();
    add(rules, Lease.class, "", List.of("get", "create", "patch"));
    return rules;
  }

  private static void add(
      Set<String> rules, Class<? extends HasMetadata> type, String sub, List<String> verbs) {
    for (String verb : verbs) {
      rules.add(HasMetadata.getGroup(type) + "/" + HasMetadata.getPlural(type) + sub + ":" + verb);
    }
  }

  @SuppressWarnings("unchecked")
  private static Class<? extends HasMetadata> resourceType(Class<?> dependent) {
    for (Class<?> c = dependent; c != null; c = c.getSuperclass()) {
      Type t = c.getGenericSuperclass();
      if (t instanceof ParameterizedType p
          && p.getActualTypeArguments()[0] instanceof Class<?> r
          && HasMetadata.class.isAssignableFrom(r)) {
        return (Class<? extends HasMetadata>) r;
      }
    }
    throw new IllegalStateException(dependent + " does not name its resource type");
  }
}
