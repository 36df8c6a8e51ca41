package dev.mysqlpool.operator.reconciler;

import dev.mysqlpool.operator.api.MySQLPool;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes core/v1 Events about a MySQLPool, as {@code kubectl describe mpool} shows them. Never
 * throws.
 */
final class EventRecorder {
  private static final Logger log = LoggerFactory.getLogger(EventRecorder.class);
  static final String COMPONENT = "mysqlpool-operator";

  private EventRecorder() {}

  /**
   * Records a Warning; failures are logged, since an Event is never worth failing a reconciliation
   * for.
   */
  static void warning(KubernetesClient client, MySQLPool pool, String reason, String message) {
    record(client, pool, "Warning", reason, message);
  }

  /** Records a Normal Event: news, not a problem (e.g. the writer changed). Never throws. */
  static void normal(KubernetesClient client, MySQLPool pool, String reason, String message) {
    record(client, pool, "Normal", reason, message);
  }

  private static void record(
      KubernetesClient client, MySQLPool pool, String type, String reason, String message) {
    String ns = pool.getMetadata().getNamespace();
    String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    Event event =
        new EventBuilder()
            .withNewMetadata()
            .withName(
                pool.getMetadata().getName()
                    + "."
                    + UUID.randomUUID().toString().replace("-", "").substring(0, 16))
            .withNamespace(ns)
            .endMetadata()
            .withNewInvolvedObject()
            .withApiVersion(pool.getApiVersion())
            .withKind(pool.getKind())
            .withName(pool.getMetadata().getName())
            .withNamespace(ns)
            .withUid(pool.getMetadata().getUid())
            .withResourceVersion(pool.getMetadata().getResourceVersion())
            .endInvolvedObject()
            .withType(type)
            .withReason(reason)
            .withMessage(message.length() > 1024 ? message.substring(0, 1021) + "..." : message)
            .withFirstTimestamp(now)
            .withLastTimestamp(now)
            .withCount(1)
            .withNewSource()
            .withComponent(COMPONENT)
            .endSource()
            .build();
    try {
      client.v1().events().inNamespace(ns).resource(event).create();
    } catch (KubernetesClientException e) {
      log.atWarn()
          .addKeyValue("pool", ns + "/" + pool.getMetadata().getName())
          .addKeyValue("reason", reason)
          .setCause(e)
          .log("could not record an Event");
    }
  }
}
