package dev.mysqlpool.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mysqlpool.operator.api.MySQLPool;
import dev.mysqlpool.operator.common.Names;
import dev.mysqlpool.operator.render.RenderSettings;
import dev.mysqlpool.operator.testing.Fixtures;
import dev.mysqlpool.operator.testing.MockOperators;
import dev.mysqlpool.proxy.ProxyServer;
import dev.mysqlpool.proxy.config.ConfigLoader;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import dev.mysqlpool.proxy.testsupport.TcpRelay;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.javaoperatorsdk.operator.Operator;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 12's "status shows the writer each pool last saw", with real proxies: two proxies run in
 * this JVM against the real embedded MariaDB, one directly (127.0.0.1:port), one through a relay on
 * 127.0.0.2, so they reach the writer at two addresses as proxies on either side of a failover do.
 * Their admin endpoints listen on the same port of 127.0.0.1 and 127.0.0.2; the mock API server's
 * pods carry those as their pod IPs. The operator asks the ready pods for /stats, and the pool's
 * status, condition and Events follow what the proxies say.
 */
@EnableKubernetesMockClient(crud = true)
class WriterStatus12Test {
  KubernetesClient client;
  Operator operator;
  EmbeddedMariaDb db;
  TcpRelay relay;
  ProxyServer direct;
  ProxyServer relayed;
  int adminPort;

  @BeforeEach
  void start() throws Exception {
    db = EmbeddedMariaDb.shared();
    relay = TcpRelay.start("127.0.0.2", 0, db.host(), db.port());
    adminPort = portFreeOnBoth();
    direct = ProxyServer.start(ConfigLoader.check(proxyYaml("127.0.0.1", "127.0.0.1", db.port())));
    relayed =
        ProxyServer.start(ConfigLoader.check(proxyYaml("127.0.0.2", "127.0.0.2", relay.port())));
    client.resource(Fixtures.secret()).create();
    operator =
        MockOperators.start(
            client, new MySQLPoolReconciler(RenderSettings.defaults(), Duration.ofSeconds(1)));
  }

  @AfterEach
  void stop() {
    operator.stop();
    direct.shutdown();
    relayed.shutdown();
    relay.close();
  }

  @Test
  void theStatusShowsTheWriterTheReadyProxiesReach() {
    client.resource(Fixtures.pool()).create();
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                client
                        .resources(Deployment.class)
                        .inNamespace(Fixtures.NAMESPACE)
                        .withName("orders")
                        .get()
                    != null);
    assertThat(pool().getStatus().writer).as("no ready proxy yet, no writer").isNull();
    assertThat(condition(WriterView.CONDITION)).isNull();

    String first = "127.0.0.1:" + db.port();
    String second = "127.0.0.2:" + relay.port();
    pod("orders-a", "127.0.0.1", true);
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              var w = pool().getStatus().writer;
              assertThat(w).as("status.writer").isNotNull();
              assertThat(w.address).isEqualTo(first);
              assertThat(w.backend).as("what the proxy follows").isEqualTo(first);
              assertThat(w.proxiesAgreeing + "/" + w.proxiesAsked).isEqualTo("1/1");
              assertThat(w.switches).isZero();
              assertThat(line(WriterView.CONDITION)).isEqualTo("True ProxiesAgree");
            });
    Instant seen = Instant.parse(pool().getStatus().writer.lastSeen);
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(Instant.parse(pool().getStatus().writer.lastSeen))
                    .as("the periodic poll refreshes lastSeen without any event")
                    .isAfter(seen));

    pod("orders-b", "127.0.0.2", true);
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              assertThat(line(WriterView.CONDITION)).isEqualTo("False ProxiesDisagree");
              assertThat(condition(WriterView.CONDITION).getMessage())
                  .startsWith(
                      "the ready proxies reach different writers: "
                          + first
                          + " (orders-a), "
                          + second
                          + " (orders-b); status.writer shows "
                          + first);
              assertThat(pool().getStatus().writer.address)
                  .as("a tie keeps the writer shown before")
                  .isEqualTo(first);
              assertThat(events("ProxiesDisagree"))
                  .as("the condition turning False is a Warning Event")
                  .isNotEmpty()
                  .allMatch(e -> "Warning".equals(e.getType()));
            });

    pod("orders-a", "127.0.0.1", false);
    pod("orders-c", "127.0.0.3", true);
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              var w = pool().getStatus().writer;
              assertThat(w.address).isEqualTo(second);
              assertThat(w.proxiesAgreeing + "/" + w.proxiesAsked).isEqualTo("1/2");
              assertThat(line(WriterView.CONDITION)).isEqualTo("True ProxiesAgree");
              assertThat(condition(WriterView.CONDITION).getMessage())
                  .startsWith("1 of 2 ready proxies reach the writer at " + second)
                  .contains("1 did not answer /stats on the admin port (orders-c: 127.0.0.3:");
              List<Event> changed = events("WriterChanged");
              assertThat(changed).hasSize(1);
              assertThat(changed.get(0).getType()).isEqualTo("Normal");
              assertThat(changed.get(0).getMessage())
                  .isEqualTo(
                      "from "
                          + first
                          + " to "
                          + second
                          + " ("
                          + second
                          + ", reported by 1 of 2 proxies)");
            });
  }

  private String proxyYaml(String adminHost, String backendHost, int backendPort) {
    return "listen: {host: 127.0.0.1, port: "
        + EmbeddedMariaDb.freePort()
        + "}\nadmin: {host: "
        + adminHost
        + ", port: "
        + adminPort
        + "}\nbackends:\n  - {name: writer, host: '"
        + backendHost
        + "', port: "
        + backendPort
        + ", role: writer}\nusers:\n  - {name: app, password: "
        + EmbeddedMariaDb.APP_PASSWORD
        + "}\npool: {minIdle: 1, maxConnections: 2}\n";
  }

  /** A port free on 127.0.0.1 and 127.0.0.2 alike, so both pods' admin ports are the same. */
  private static int portFreeOnBoth() throws IOException {
    for (int attempt = 0; attempt < 20; attempt++) {
      int port = EmbeddedMariaDb.freePort();
      try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getByName("127.0.0.2"))) {
        return port;
      } catch (IOException taken) {
        // try another
      }
    }
    throw new IOException("no port free on both 127.0.0.1 and 127.0.0.2");
  }

  /** A proxy pod of the pool as the kubelet reports it, with the proxies' admin port. */
  private void pod(String name, String ip, boolean ready) {
    Pod pod =
        new PodBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace(Fixtures.NAMESPACE)
            .withLabels(Names.selector("orders"))
            .endMetadata()
            .withNewSpec()
            .addNewContainer()
            .withName(Names.CONTAINER)
            .withImage(RenderSettings.DEFAULT_PROXY_IMAGE)
            .addNewPort()
            .withName(Names.ADMIN_PORT_NAME)
            .withContainerPort(adminPort)
            .endPort()
            .endContainer()
            .endSpec()
            .build();
    Pod existing = client.pods().inNamespace(Fixtures.NAMESPACE).withName(name).get();
    Pod stored = existing != null ? existing : client.resource(pod).create();
    stored.setStatus(
        new PodStatusBuilder()
            .withPhase("Running")
            .withPodIP(ip)
            .addNewCondition()
            .withType("Ready")
            .withStatus(ready ? "True" : "False")
            .endCondition()
            .build());
    client.resource(stored).updateStatus();
  }

  private MySQLPool pool() {
    return client
        .resources(MySQLPool.class)
        .inNamespace(Fixtures.NAMESPACE)
        .withName("orders")
        .get();
  }

  private Condition condition(String type) {
    MySQLPool p = pool();
    return p == null || p.getStatus() == null
        ? null
        : Conditions.find(p.getStatus().conditions, type);
  }

  private String line(String type) {
    Condition c = condition(type);
    return c == null ? null : c.getStatus() + " " + c.getReason();
  }

  private List<Event> events(String reason) {
    return client.v1().events().inNamespace(Fixtures.NAMESPACE).list().getItems().stream()
        .filter(e -> reason.equals(e.getReason()))
        .toList();
  }
}
