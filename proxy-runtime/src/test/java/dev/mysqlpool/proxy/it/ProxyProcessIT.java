package dev.mysqlpool.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mysqlpool.proxy.it.RawProtocolIT.RawClient;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import java.io.IOException;
import java.net.ConnectException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The proxy as users run it: {@code java -jar proxy-runtime.jar --config FILE}, in its own process
 * with a small heap.
 */
class ProxyProcessIT {
  private static EmbeddedMariaDb db;
  @TempDir Path dir;
  private Process proxy;
  private Path log;

  @BeforeAll
  static void server() {
    db = EmbeddedMariaDb.shared();
  }

  @AfterEach
  void stop() throws InterruptedException {
    if (proxy != null && proxy.isAlive()) {
      proxy.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  private Path config(int port, int adminPort, String extra) throws IOException {
    Path password = dir.resolve("app-password");
    Files.writeString(password, EmbeddedMariaDb.APP_PASSWORD + "\n");
    Path file = dir.resolve("proxy.yaml");
    Files.writeString(
        file,
        "listen: {host: 127.0.0.1, port: "
            + port
            + "}\n"
            + "admin: {host: 127.0.0.1, port: "
            + adminPort
            + "}\n"
            + "backends:\n  - {name: primary, host: "
            + db.host()
            + ", port: "
            + db.port()
            + "}\n"
            + "users:\n  - {name: app, passwordFile: app-password}\n"
            + extra);
    return file;
  }

  private Process launch(Path config, String... jvmArgs) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(List.of(jvmArgs));
    cmd.addAll(List.of("-jar", System.getProperty("proxy.jar"), "--config", config.toString()));
    log = dir.resolve("proxy.log");
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  private String output() throws IOException {
    return Files.readString(log, StandardCharsets.UTF_8);
  }

  private void awaitListening(int port) {
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(
            () -> {
              assertThat(proxy.isAlive())
                  .as("proxy process alive; output so far:\n%s", output())
                  .isTrue();
              try (Socket s = new Socket("127.0.0.1", port)) {
                return true;
              }
            });
  }

  private String url(int port) {
    return "jdbc:mariadb://127.0.0.1:" + port + "/app";
  }

  @Test
  void badConfigFailsFastNamingTheFieldAndTheFix() throws Exception {
    Path file =
        config(
            EmbeddedMariaDb.freePort(),
            EmbeddedMariaDb.freePort(),
            "pool: {maxConnections: 0, idleTimeout: soon, maxIdel: 3}\n");
    proxy = launch(file);
    assertThat(proxy.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(proxy.exitValue()).isEqualTo(2);
    assertThat(output())
        .contains("pool.maxConnections: 0 is out of range; use a value from 1 to 100000")
        .contains("pool.idleTimeout: 'soon' is not a duration; write it like 500ms, 30s, 5m or 1h")
        .contains("pool.maxIdel: unknown field; did you mean maxIdle?");
  }

  @Test
  void resultFarLargerThanTheProxyHeapStreamsThroughAndASlowReaderDoesNotStallOthers()
      throws Exception {
    int port = EmbeddedMariaDb.freePort();
    proxy =
        launch(
            config(port, EmbeddedMariaDb.freePort(), "pool: {maxConnections: 4}\n"),
            "-Xmx48m",
            "-XX:MaxDirectMemorySize=32m");
    awaitListening(port);
    int rows = 300_000;
    int width = 1000;
    try (Connection slow =
            DriverManager.getConnection(url(port), "app", EmbeddedMariaDb.APP_PASSWORD);
        Statement s = slow.createStatement()) {
      s.setFetchSize(100);
      try (ResultSet rs =
          s.executeQuery("SELECT seq, REPEAT('x', " + width + ") FROM seq_1_to_" + rows)) {
        long bytes = 0;
        int n = 0;
        // Read a little, then stop reading while another client works: the proxy must neither
        // buffer the rest
        // of this ~300 MB result nor make the other client wait for it.
        while (n < 1000 && rs.next()) {
          bytes += rs.getString(2).length();
          n++;
        }
        try (Connection other =
                DriverManager.getConnection(url(port), "app", EmbeddedMariaDb.APP_PASSWORD);
            Statement o = other.createStatement()) {
          for (int i = 0; i < 50; i++) {
            try (ResultSet r = o.executeQuery("SELECT " + i)) {
              r.next();
              assertThat(r.getInt(1)).isEqualTo(i);
            }
          }
        }
        while (rs.next()) {
          bytes += rs.getString(2).length();
          n++;
        }
        assertThat(n).isEqualTo(rows);
        assertThat(bytes)
            .as("bytes streamed through a proxy with a 48 MiB heap")
            .isEqualTo((long) rows * width);
      }
    }
    assertThat(proxy.isAlive()).isTrue();
    assertThat(output()).doesNotContain("OutOfMemoryError").doesNotContain("LEAK");
  }

  @Test
  void outOfDirectMemoryClosesOnlyTheGreedyClientIsCountedAndTurnsHealthzFalseForAWhile()
      throws Exception {
    int port = EmbeddedMariaDb.freePort();
    int adminPort = EmbeddedMariaDb.freePort();
    proxy =
        launch(
            config(port, adminPort, "frontend: {tls: {mode: disabled}}\n"),
            "-Xmx64m",
            "-XX:MaxDirectMemorySize=16m");
    awaitListening(port);
    // The admin port opens just after the MySQL port.
    awaitListening(adminPort);
    HttpClient http = HttpClient.newHttpClient();
    assertThat(get(http, adminPort, "/healthz").statusCode()).isEqualTo(200);
    try (Connection bystander =
            DriverManager.getConnection(url(port), "app", EmbeddedMariaDb.APP_PASSWORD);
        Statement s = bystander.createStatement()) {
      assertThat(scalar(s, "SELECT 1")).isEqualTo(1);
      // A logged-in client announces a 16 MiB statement and sends it: the proxy buffers a packet
      // whole before relaying it, which 16 MiB of direct memory cannot hold.
      try (RawClient greedy = RawClient.login(port, "app", EmbeddedMariaDb.APP_PASSWORD)) {
        assertThat(sendUntilClosed(greedy, 0xFFFFFF))
            .as("the proxy closed the connection whose buffer could not be allocated")
            .isTrue();
      }
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () -> {
                HttpResponse<String> h = get(http, adminPort, "/healthz");
                assertThat(h.statusCode()).as("/healthz after the failure").isEqualTo(503);
                assertThat(h.body()).contains("buffer allocation failed");
              });
      assertThat(get(http, adminPort, "/metrics").body())
          .containsPattern("mysqlpool_memory_allocation_failures_total [1-9]")
          .contains("mysqlpool_memory_direct_max_bytes 1.6777216E7");
      assertThat(scalar(s, "SELECT 2")).as("the other client's session goes on").isEqualTo(2);
      // No more failures: alive again, 10 s after the last one.
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> get(http, adminPort, "/healthz").statusCode() == 200);
      assertThat(scalar(s, "SELECT 3")).isEqualTo(3);
    }
    assertThat(proxy.isAlive()).isTrue();
    assertThat(output()).contains("a buffer allocation failed");
  }

  private static HttpResponse<String> get(HttpClient http, int adminPort, String path)
      throws IOException, InterruptedException {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static int scalar(Statement s, String sql) throws Exception {
    try (ResultSet rs = s.executeQuery(sql)) {
      assertThat(rs.next()).isTrue();
      return rs.getInt(1);
    }
  }

  /**
   * Writes the header of a COM_QUERY of {@code length} bytes, then its bytes; true when the proxy
   * closed the connection before the packet was complete.
   */
  private static boolean sendUntilClosed(RawClient c, int length) {
    byte[] chunk = new byte[64 * 1024];
    Arrays.fill(chunk, (byte) 'x');
    try {
      c.writeRaw(new byte[] {(byte) length, (byte) (length >>> 8), (byte) (length >>> 16), 0, 3});
      for (int sent = 1; sent < length; sent += chunk.length) {
        c.writeRaw(chunk);
      }
      c.socket.setSoTimeout(30_000);
      return c.socket.getInputStream().read() == -1;
    } catch (IOException closed) {
      return true;
    }
  }

  /**
   * Issue 16: the native transports the bench measures against NIO ({@code -Dmysqlpool.transport})
   * serve clients, including the backend's keepalive options, which each transport sets its own
   * way; where the kernel refuses one, the proxy says so and runs on NIO.
   */
  @ParameterizedTest
  @ValueSource(strings = {"epoll", "io_uring", "nio"})
  void nativeTransportServesClientsOrFallsBackToNioSayingWhy(String transport) throws Exception {
    int port = EmbeddedMariaDb.freePort();
    int adminPort = EmbeddedMariaDb.freePort();
    proxy =
        launch(
            config(port, adminPort, "pool: {tcpKeepAliveIdle: 30s}\n"),
            "-Dmysqlpool.transport=" + transport);
    awaitListening(port);
    try (Connection c =
            DriverManager.getConnection(url(port), "app", EmbeddedMariaDb.APP_PASSWORD);
        Statement s = c.createStatement()) {
      for (int i = 1; i <= 50; i++) {
        assertThat(scalar(s, "SELECT " + i)).isEqualTo(i);
      }
    }
    String out = output();
    if (out.contains("event loops on " + transport)) {
      assertThat(out).doesNotContain("using nio");
    } else {
      assertThat(out)
          .as("a transport the kernel refuses is named with the reason, and NIO serves")
          .contains("transport " + transport + " is unavailable here")
          .contains("event loops on nio");
    }
  }

  @Test
  void sigtermStopsTakingClientsLetsRunningWorkFinishAndExits() throws Exception {
    int port = EmbeddedMariaDb.freePort();
    int adminPort = EmbeddedMariaDb.freePort();
    proxy = launch(config(port, adminPort, "shutdown: {drainTimeout: 20s}\n"));
    awaitListening(port);
    // The admin port opens just after the MySQL port.
    awaitListening(adminPort);
    HttpClient http = HttpClient.newHttpClient();
    HttpRequest readyz =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/readyz")).build();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> http.send(readyz, HttpResponse.BodyHandlers.ofString()).statusCode() == 200);
    Connection busy = DriverManager.getConnection(url(port), "app", EmbeddedMariaDb.APP_PASSWORD);
    CompletableFuture<Integer> work =
        CompletableFuture.supplyAsync(
            () -> {
              try (Statement s = busy.createStatement();
                  ResultSet rs = s.executeQuery("SELECT SLEEP(2) + 40")) {
                rs.next();
                return rs.getInt(1);
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    await().atMost(Duration.ofSeconds(5)).until(() -> db.threadIds("app").size() >= 1);
    proxy.destroy(); // SIGTERM
    await()
        .atMost(Duration.ofSeconds(5))
        .ignoreExceptions()
        .until(() -> http.send(readyz, HttpResponse.BodyHandlers.ofString()).statusCode() == 503);
    await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () -> {
              try (Socket s = new Socket("127.0.0.1", port)) {
                return false;
              } catch (ConnectException refused) {
                return true;
              }
            });
    assertThat(work.get(20, TimeUnit.SECONDS))
        .as("the statement running at SIGTERM completes")
        .isEqualTo(40);
    busy.close();
    assertThat(proxy.waitFor(20, TimeUnit.SECONDS)).as("the proxy exits after draining").isTrue();
    assertThat(output()).contains("draining");
  }

  /**
   * Issue 12: the order a load balancer needs. /readyz goes red first while the proxy still serves
   * (new clients too, as the balancer sends until its health checks notice); then the listener
   * closes and the transaction in flight still commits; the process exits within loadBalancerWait +
   * drainTimeout.
   */
  @Test
  void sigtermFailsHealthFirstServesWhileTheBalancerNoticesThenDrains() throws Exception {
    db.execute(
        "CREATE TABLE IF NOT EXISTS app.lb_drain (id INT PRIMARY KEY)", "DELETE FROM app.lb_drain");
    int port = EmbeddedMariaDb.freePort();
    int adminPort = EmbeddedMariaDb.freePort();
    proxy =
        launch(config(port, adminPort, "shutdown: {loadBalancerWait: 3s, drainTimeout: 10s}\n"));
    awaitListening(port);
    // The admin port opens just after the MySQL port.
    awaitListening(adminPort);
    HttpClient http = HttpClient.newHttpClient();
    HttpRequest readyz =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/readyz")).build();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> http.send(readyz, HttpResponse.BodyHandlers.ofString()).statusCode() == 200);
    Connection inTx = DriverManager.getConnection(url(port), "app", EmbeddedMariaDb.APP_PASSWORD);
    inTx.setAutoCommit(false);
    try (Statement s = inTx.createStatement()) {
      s.executeUpdate("INSERT INTO lb_drain VALUES (1)");
    }

    long sigterm = System.nanoTime();
    proxy.destroy(); // SIGTERM
    await()
        .atMost(Duration.ofSeconds(2))
        .ignoreExceptions()
        .until(() -> http.send(readyz, HttpResponse.BodyHandlers.ofString()).statusCode() == 503);
    try (Connection late =
            DriverManager.getConnection(url(port), "app", EmbeddedMariaDb.APP_PASSWORD);
        Statement s = late.createStatement();
        ResultSet rs = s.executeQuery("SELECT 7")) {
      rs.next();
      assertThat(rs.getInt(1))
          .as("a client the balancer still sends after /readyz went red is served")
          .isEqualTo(7);
    }
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sigterm))
        .as("that client came within shutdown.loadBalancerWait")
        .isLessThan(3000);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> {
              try (Socket s = new Socket("127.0.0.1", port)) {
                return false;
              } catch (ConnectException refused) {
                return true;
              }
            });
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sigterm))
        .as("the listener closes only after shutdown.loadBalancerWait")
        .isGreaterThanOrEqualTo(2900);
    try (Statement s = inTx.createStatement()) {
      s.executeUpdate("INSERT INTO lb_drain VALUES (2)");
    }
    inTx.commit();
    inTx.close();
    assertThat(proxy.waitFor(15, TimeUnit.SECONDS)).as("the proxy exits after draining").isTrue();
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sigterm))
        .as("exit within loadBalancerWait (3s) + drainTimeout (10s)")
        .isLessThan(13_000);
    try (Connection c = db.appConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM app.lb_drain")) {
      rs.next();
      assertThat(rs.getInt(1)).as("the transaction in flight at SIGTERM committed").isEqualTo(2);
    }
  }
}
