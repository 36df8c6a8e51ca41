package dev.mysqlpool.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin endpoint cannot be starved: with {@code admin.maxConnections} idle connections open, a
 * probe on a new connection is still answered (the least recently active connection makes room),
 * and idle connections are closed after {@code admin.idleTimeout}.
 */
@ExtendWith(LeakGuard.class)
class AdminConnectionsIT {
  private static final Logger log = LoggerFactory.getLogger(AdminConnectionsIT.class);
  private static final int IDLE = 1000;
  private static ProxyHarness proxy;
  private final List<Socket> idle = new ArrayList<>();

  @BeforeAll
  static void start() {
    EmbeddedMariaDb db = EmbeddedMariaDb.shared();
    proxy =
        ProxyHarness.start(
            db.host(),
            db.port(),
            "127.0.0.1",
            ", maxConnections: " + IDLE + ", idleTimeout: 15s",
            "",
            "");
  }

  @AfterAll
  static void stop() {
    if (proxy != null) {
      proxy.close();
    }
  }

  @AfterEach
  void closeSockets() throws IOException {
    for (Socket s : idle) {
      s.close();
    }
  }

  private static double openAdminConnections() {
    return Metrics.value(proxy, "mysqlpool_admin_connections");
  }

  @Test
  void probesAreAnsweredWithAThousandIdleConnectionsOpenAndIdleOnesAreClosed() throws Exception {
    for (int i = 0; i < IDLE; i++) {
      Socket s = new Socket();
      s.connect(new InetSocketAddress("127.0.0.1", proxy.server.adminPort()), 10_000);
      idle.add(s);
    }
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat(openAdminConnections())
                    .as(
                        "admin connections the proxy holds open; scrape: %s",
                        proxy
                            .server
                            .metrics()
                            .scrape()
                            .lines()
                            .filter(l -> l.contains("admin"))
                            .toList())
                    .isEqualTo(IDLE));

    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    long start = System.nanoTime();
    for (String path : List.of("/healthz", "/readyz", "/metrics")) {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create(proxy.adminUrl(path)))
                  .timeout(Duration.ofSeconds(10))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode())
          .as("%s with %d idle admin connections open", path, IDLE)
          .isEqualTo(200);
      if (path.equals("/metrics")) {
        assertThat(r.body()).contains("mysqlpool_admin_connections " + IDLE + ".0");
      }
    }
    log.info(
        "/healthz, /readyz and /metrics answered in {} ms with {} idle admin connections open",
        (System.nanoTime() - start) / 1_000_000,
        IDLE);
    assertThat(closedByProxy(idle.get(0)))
        .as("the least recently active idle connection made room for the probe")
        .isTrue();

    // admin.idleTimeout: every idle connection is closed by the proxy.
    for (Socket s : idle) {
      assertThat(closedByProxy(s)).as("an idle admin connection is closed after 15s").isTrue();
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> openAdminConnections() <= 1);
  }

  /** Waits for the proxy to close the connection; false if it stays open for 60 s. */
  private static boolean closedByProxy(Socket s) throws IOException {
    s.setSoTimeout(60_000);
    try {
      return s.getInputStream().read() == -1;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException reset) {
      return true;
    }
  }
}
