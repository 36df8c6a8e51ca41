package dev.mysqlpool.operator.reconciler;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mysqlpool.operator.api.MySQLPool;
import dev.mysqlpool.operator.common.Names;
import dev.mysqlpool.operator.render.ProxyConfigs;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Asks a pool's ready proxy pods for {@code /stats} on their admin port, the way CloudNativePG's
 * operator polls each instance's status endpoint: all pods at once, each request bounded by {@link
 * #REQUEST_TIMEOUT}, the whole poll by {@link #TOTAL_TIMEOUT}, so a reconciliation never waits
 * longer for proxies that hang. A pod that does not answer is reported with the reason, never
 * thrown.
 *
 * <p>Pods are listed by the pool's selector (RBAC: {@code list} on pods, no watch: nothing is
 * cached). The admin port is the one the pod declares under the name {@value
 * Names#ADMIN_PORT_NAME}.
 *
 * <p>Threading: any reconciler thread; the HTTP client is shared and thread-safe.
 */
final class WriterPoll {
  /** How often a pool with running proxies is polled, beside the reconciliations events start. */
  static final Duration INTERVAL = Duration.ofSeconds(30);

  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(2);

  /** The longest one poll of all pods takes, however many hang. */
  static final Duration TOTAL_TIMEOUT = Duration.ofSeconds(3);

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Duration interval;
  private final HttpClient http;

  WriterPoll(Duration interval) {
    this.interval = interval;
    this.http =
        HttpClient.newBuilder()
            .connectTimeout(REQUEST_TIMEOUT)
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
  }

  /** How soon a pool with running proxies is polled again. */
  Duration interval() {
    return interval;
  }

  /** The pool's proxy pods that are Ready and have an IP, by name. */
  static List<Pod> readyPods(KubernetesClient client, MySQLPool pool) {
    return client
        .pods()
        .inNamespace(pool.getMetadata().getNamespace())
        .withLabels(Names.selector(pool.getMetadata().getName()))
        .list()
        .getItems()
        .stream()
        .filter(WriterPoll::ready)
        .sorted(Comparator.comparing(p -> p.getMetadata().getName()))
        .toList();
  }

  /** One report per pod, in the pods' order. */
  List<ProxyReport> read(List<Pod> pods) {
    List<CompletableFuture<ProxyReport>> pending = new ArrayList<>();
    for (Pod pod : pods) {
      pending.add(ask(pod));
    }
    try {
      CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new))
          .get(TOTAL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException | ExecutionException e) {
      // Each future says for itself below.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    List<ProxyReport> out = new ArrayList<>();
    for (int i = 0; i < pods.size(); i++) {
      String name = pods.get(i).getMetadata().getName();
      CompletableFuture<ProxyReport> f = pending.get(i);
      if (f.isDone() && !f.isCompletedExceptionally()) {
        out.add(f.join());
      } else {
        f.cancel(true);
        out.add(
            ProxyReport.failed(
                name, "no answer within " + TOTAL_TIMEOUT.toSeconds() + "s (the poll's limit)"));
      }
    }
    return out;
  }

  private CompletableFuture<ProxyReport> ask(Pod pod) {
    String name = pod.getMetadata().getName();
    String ip = pod.getStatus().getPodIP();
    String host = ip.indexOf(':') >= 0 ? "[" + ip + "]" : ip;
    URI uri = URI.create("http://" + host + ":" + adminPort(pod) + "/stats");
    HttpRequest request = HttpRequest.newBuilder(uri).timeout(REQUEST_TIMEOUT).GET().build();
    try {
      return http.sendAsync(request, HttpResponse.BodyHandlers.ofString())
          .handle(
              (response, failure) -> {
                if (failure != null) {
                  return ProxyReport.failed(name, uri.getAuthority() + ": " + why(failure));
                }
                if (response.statusCode() != 200) {
                  return ProxyReport.failed(
                      name, uri.getAuthority() + " answered HTTP " + response.statusCode());
                }
                return parse(name, response.body());
              });
    } catch (IllegalArgumentException e) {
      return CompletableFuture.completedFuture(ProxyReport.failed(name, e.getMessage()));
    }
  }

  /** The writer backend's row of a /stats document. */
  static ProxyReport parse(String pod, String body) {
    JsonNode root;
    try {
      root = JSON.readTree(body);
    } catch (JsonProcessingException e) {
      return ProxyReport.failed(pod, "/stats is not JSON: " + e.getOriginalMessage());
    }
    for (JsonNode row : root.path("backends")) {
      if (!ProxyConfigs.BACKEND_NAME.equals(row.path("backend").asText())) {
        continue;
      }
      JsonNode sw = row.path("switchover");
      if (!sw.has("writerAddress")) {
        return ProxyReport.failed(
            pod, "/stats has no switchover.writerAddress (a proxy image older than the operator?)");
      }
      return ProxyReport.answered(
          pod,
          new ProxyReport.Seen(
              row.path("host").asText() + ":" + row.path("port").asInt(),
              row.path("up").asBoolean(),
              text(sw.get("writerAddress")),
              sw.path("switching").asBoolean(),
              sw.path("switches").asLong(),
              sw.path("lastSwitchMillis").asLong(-1),
              text(sw.get("lastSwitchAt"))));
    }
    return ProxyReport.failed(
        pod, "/stats has no backend named '" + ProxyConfigs.BACKEND_NAME + "'");
  }

  private static String text(JsonNode n) {
    return n == null || n.isNull() ? null : n.asText();
  }

  private static String why(Throwable t) {
    Throwable c = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    if (c instanceof HttpTimeoutException) {
      return "no answer within " + REQUEST_TIMEOUT.toSeconds() + "s";
    }
    String m = c.getMessage();
    return c.getClass().getSimpleName() + (m == null ? "" : ": " + m);
  }

  private static boolean ready(Pod p) {
    if (p.getMetadata().getDeletionTimestamp() != null
        || p.getStatus() == null
        || p.getStatus().getPodIP() == null
        || p.getStatus().getConditions() == null) {
      return false;
    }
    for (PodCondition c : p.getStatus().getConditions()) {
      if ("Ready".equals(c.getType())) {
        return "True".equals(c.getStatus());
      }
    }
    return false;
  }

  /** The port the proxy container declares as its admin port; the rendered one otherwise. */
  private static int adminPort(Pod p) {
    if (p.getSpec() == null || p.getSpec().getContainers() == null) {
      return Names.ADMIN_PORT;
    }
    for (Container c : p.getSpec().getContainers()) {
      if (c.getPorts() == null) {
        continue;
      }
      for (ContainerPort port : c.getPorts()) {
        if (Names.ADMIN_PORT_NAME.equals(port.getName()) && port.getContainerPort() != null) {
          return port.getContainerPort();
        }
      }
    }
    return Names.ADMIN_PORT;
  }
}
