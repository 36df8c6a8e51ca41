package dev.mysqlpool.operator.reconciler;

import dev.mysqlpool.operator.api.MySQLPool;
import dev.mysqlpool.operator.common.Names;
import dev.mysqlpool.operator.render.ConnectionSecrets;
import dev.mysqlpool.operator.render.Plan;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Writes the pool's connection Secret with plain calls by name (get, then create or patch only when
 * it differs), not through a dependent resource: a dependent would need an informer on Secrets, and
 * that means listing and watching every Secret in the cluster. Owned by the pool, so Kubernetes
 * deletes it with the pool.
 */
final class ConnectionSecretWriter {
  private ConnectionSecretWriter() {}

  /** The users' passwords from the pool's credentials Secret (data or stringData). */
  static Map<String, String> passwords(Secret credentials) {
    Map<String, String> out = new HashMap<>();
    if (credentials.getData() != null) {
      credentials
          .getData()
          .forEach(
              (k, v) ->
                  out.put(k, new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)));
    }
    if (credentials.getStringData() != null) {
      out.putAll(credentials.getStringData());
    }
    return out;
  }

  /** Creates or updates the Secret; a no-op when it is already as rendered. */
  static void apply(KubernetesClient client, MySQLPool pool, Plan plan, Secret credentials) {
    Secret desired = ConnectionSecrets.secret(plan, passwords(credentials));
    desired
        .getMetadata()
        .setOwnerReferences(
            List.of(
                new OwnerReferenceBuilder()
                    .withApiVersion(pool.getApiVersion())
                    .withKind(pool.getKind())
                    .withName(pool.getMetadata().getName())
                    .withUid(pool.getMetadata().getUid())
                    .withController(true)
                    .withBlockOwnerDeletion(false)
                    .build()));
    var resource =
        client.secrets().inNamespace(plan.namespace()).withName(Names.connection(plan.name()));
    Secret current = resource.get();
    if (current == null) {
      client.resource(desired).create();
    } else if (!Objects.equals(current.getData(), desired.getData())
        || !Objects.equals(current.getMetadata().getLabels(), desired.getMetadata().getLabels())
        || !Objects.equals(
            current.getMetadata().getOwnerReferences(),
            desired.getMetadata().getOwnerReferences())) {
      resource.patch(desired);
    }
  }
}
