package dev.mysqlpool.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import dev.mysqlpool.proxy.testsupport.TcpRelay;
import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Two real servers, A and B, behind one host name that this harness moves: each server sits behind
 * a {@link TcpRelay} on its own loopback address (127.0.0.2 and 127.0.0.3) and the same port, as a
 * cluster endpoint's servers do on 3306; the proxy runs as its own process with {@code
 * -Djdk.net.hosts.file} pointing at a hosts file written here. Only 127.0.0.0/8 is used.
 */
final class WriterSwitchHarness implements AutoCloseable {
  static final String HOST_NAME = "writer.db.test";
  static final String BACKEND_USER = "sw";
  static final String BACKEND_PASSWORD = "sw-secret";

  final EmbeddedMariaDb a;
  final EmbeddedMariaDb b;
  final TcpRelay relayA;
  final TcpRelay relayB;
  final int port;
  private final Path dir;
  private final Path hosts;
  private final HttpClient http = HttpClient.newHttpClient();
  private Process proxy;
  private Path log;
  int listenPort;
  int adminPort;

  WriterSwitchHarness(Path dir) throws IOException {
    this.dir = dir;
    this.hosts = dir.resolve("hosts");
    a = EmbeddedMariaDb.startNew();
    b = EmbeddedMariaDb.startNew();
    for (EmbeddedMariaDb db : List.of(a, b)) {
      // Its own account: one without READ ONLY ADMIN, which read_only really stops.
      db.execute(
          "CREATE USER IF NOT EXISTS '"
              + BACKEND_USER
              + "'@'%' IDENTIFIED BY '"
              + BACKEND_PASSWORD
              + "'",
          "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE ON app.* TO '" + BACKEND_USER + "'@'%'",
          "CREATE TABLE IF NOT EXISTS app.sw (client INT, n INT, PRIMARY KEY (client, n))");
    }
    TcpRelay first = null;
    TcpRelay second = null;
    for (int attempt = 0; second == null && attempt < 20; attempt++) {
      first = TcpRelay.start("127.0.0.2", 0, a.host(), a.port());
      try {
        second = TcpRelay.start("127.0.0.3", first.port(), b.host(), b.port());
      } catch (RuntimeException taken) {
        first.close();
      }
    }
    assertThat(second).withFailMessage("no port free on both 127.0.0.2 and 127.0.0.3").isNotNull();
    relayA = first;
    relayB = second;
    port = first.port();
  }

  /** Points the host name at {@code address}, atomically, as a DNS update would. */
  void pointNameAt(String address) throws IOException {
    Path tmp = dir.resolve("hosts.tmp");
    Files.writeString(tmp, address + " " + HOST_NAME + "\n");
    Files.move(tmp, hosts, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  /** Starts the proxy process with the name on A and {@code pool} as its pool section. */
  void startProxy(String pool) throws IOException {
    pointNameAt("127.0.0.2");
    listenPort = EmbeddedMariaDb.freePort();
    adminPort = EmbeddedMariaDb.freePort();
    Path config = dir.resolve("proxy.yaml");
    Files.writeString(
        config,
        "listen: {host: 127.0.0.1, port: "
            + listenPort
            + "}\nadmin: {host: 127.0.0.1, port: "
            + adminPort
            + "}\nbackends:\n  - {name: primary, host: "
            + HOST_NAME
            + ", port: "
            + port
            + ", role: writer}\nusers:\n  - {name: app, password: "
            + EmbeddedMariaDb.APP_PASSWORD
            + ", backendUser: "
            + BACKEND_USER
            + ", backendPassword: "
            + BACKEND_PASSWORD
            + "}\n"
            + pool);
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Djdk.net.hosts.file=" + hosts);
    cmd.add("-Dio.netty.leakDetection.level=paranoid");
    cmd.add("-Xmx256m");
    cmd.addAll(List.of("-jar", System.getProperty("proxy.jar"), "--config", config.toString()));
    log = dir.resolve("proxy.log");
    proxy = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(
            () -> {
              assertThat(proxy.isAlive()).as("proxy alive; output:\n%s", output()).isTrue();
              try (Socket s = new Socket("127.0.0.1", listenPort)) {
                return status("/backendz") == 200;
              }
            });
  }

  String jdbcUrl() {
    return "jdbc:mariadb://127.0.0.1:"
        + listenPort
        + "/app?connectTimeout=5000&socketTimeout=60000";
  }

  int status(String path) throws Exception {
    return get(path).statusCode();
  }

  HttpResponse<String> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + path))
            .timeout(Duration.ofSeconds(5))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** The backend's {@code switchover} object of /stats. */
  JsonNode switchover() throws Exception {
    return new ObjectMapper()
        .readTree(get("/stats").body())
        .get("backends")
        .get(0)
        .get("switchover");
  }

  String output() throws IOException {
    return log == null ? "" : Files.readString(log, StandardCharsets.UTF_8);
  }

  @Override
  public void close() throws Exception {
    if (proxy != null && proxy.isAlive()) {
      proxy.destroy();
      if (!proxy.waitFor(20, TimeUnit.SECONDS)) {
        proxy.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
    relayA.close();
    relayB.close();
    a.close();
    b.close();
  }
}
