package dev.mysqlpool.proxy.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.local.LocalIoHandler;
import io.netty.channel.nio.NioIoHandler;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.ConnectException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AdminServerTest {
  private static final String METRICS =
      "# HELP mysqlpool_frontend_connections_total Client connections accepted.\n"
          + "# TYPE mysqlpool_frontend_connections_total counter\n"
          + "mysqlpool_frontend_connections_total 42.0\n";

  private static EventLoopGroup group;

  private final FakeEndpoints endpoints = new FakeEndpoints();
  private final HttpClient client =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();
  private AdminServer server;

  @BeforeAll
  static void startGroup() {
    group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  }

  @AfterAll
  static void stopGroup() {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  @BeforeEach
  void startServer() throws InterruptedException {
    server = AdminServer.start("127.0.0.1", 0, group, endpoints);
  }

  @AfterEach
  void stopServer() {
    server.close();
  }

  @Test
  void boundToAFreePortWhenAskedForZero() {
    assertThat(server.port()).isBetween(1, 65535);
  }

  @Test
  void healthzIsOkWhenAlive() throws Exception {
    HttpResponse<String> response = get("/healthz");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("ok\n");
    assertThat(response.headers().firstValue("content-type")).hasValue("text/plain; charset=utf-8");
  }

  @Test
  void healthzIs503WhenNotAlive() throws Exception {
    endpoints.alive = false;
    HttpResponse<String> response = get("/healthz");
    assertThat(response.statusCode()).isEqualTo(503);
    assertThat(response.body()).isEqualTo("not alive\n");
  }

  @Test
  void readyzIsOkWhenReady() throws Exception {
    HttpResponse<String> response = get("/readyz");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("ready\n");
  }

  @Test
  void readyzIs503WithDetailWhenNotReady() throws Exception {
    endpoints.ready = false;
    endpoints.readinessDetail = "draining: shutting down, not taking new clients";
    HttpResponse<String> response = get("/readyz");
    assertThat(response.statusCode()).isEqualTo(503);
    assertThat(response.body())
        .withFailMessage("the 503 body must say why, for kubectl describe")
        .isEqualTo("draining: shutting down, not taking new clients\n");
  }

  @Test
  void backendzReportsTheBackendsApartFromReadiness() throws Exception {
    endpoints.backendsUp = false;
    endpoints.backendDetail = "orders-rw down: cannot connect to backend 'orders-rw'\n";
    HttpResponse<String> response = get("/backendz");
    assertThat(response.statusCode()).isEqualTo(503);
    assertThat(response.body())
        .isEqualTo("orders-rw down: cannot connect to backend 'orders-rw'\n");
    assertThat(get("/readyz").statusCode())
        .withFailMessage("/readyz must not follow the backends: an NLB would drop every proxy")
        .isEqualTo(200);
    endpoints.backendsUp = true;
    endpoints.backendDetail = "orders-rw up\n";
    assertThat(get("/backendz").statusCode()).isEqualTo(200);
  }

  @Test
  void metricsServesPrometheusText() throws Exception {
    HttpResponse<String> response = get("/metrics");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("content-type"))
        .hasValue("text/plain; version=0.0.4; charset=utf-8");
    assertThat(response.body()).isEqualTo(METRICS);
  }

  @Test
  void metricsIgnoresQueryString() throws Exception {
    assertThat(get("/metrics?name[]=up").body()).isEqualTo(METRICS);
  }

  @Test
  void statsServesIndentedJson() throws Exception {
    HttpResponse<String> response = get("/stats");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("content-type")).hasValue("application/json");
    assertThat(response.body())
        .withFailMessage("JSON should be indented for humans")
        .contains("\n  \"");

    JsonNode json = new ObjectMapper().readTree(response.body());
    assertThat(json.at("/pools/0/name").asText()).isEqualTo("orders-rw");
    assertThat(json.at("/pools/0/active").asInt()).isEqualTo(3);
    assertThat(json.at("/pools/0/idle").asInt()).isEqualTo(5);
    assertThat(json.at("/uptime").asText()).isEqualTo("PT1H");
  }

  @Test
  void headSendsHeadersOfGetWithoutBody() throws Exception {
    HttpResponse<String> get = get("/metrics");
    HttpResponse<String> head =
        send(request("/metrics").method("HEAD", HttpRequest.BodyPublishers.noBody()));

    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.body()).isEmpty();
    assertThat(head.headers().firstValue("content-length"))
        .hasValue(String.valueOf(get.body().getBytes(StandardCharsets.UTF_8).length));
    assertThat(head.headers().firstValue("content-type"))
        .isEqualTo(get.headers().firstValue("content-type"));
  }

  @Test
  void unknownPathIs404() throws Exception {
    HttpResponse<String> response = get("/nope");
    assertThat(response.statusCode()).isEqualTo(404);
    assertThat(get("/healthz/").statusCode()).isEqualTo(404);
    assertThat(get("/").statusCode()).isEqualTo(404);
  }

  @Test
  void otherMethodsAre405WithAllow() throws Exception {
    for (String method : List.of("POST", "PUT", "DELETE")) {
      HttpResponse<String> response =
          send(request("/healthz").method(method, HttpRequest.BodyPublishers.ofString("x")));
      assertThat(response.statusCode())
          .withFailMessage("%s /healthz must be 405", method)
          .isEqualTo(405);
      assertThat(response.headers().firstValue("allow")).hasValue("GET, HEAD");
    }
  }

  @Test
  void digestViewsAre404WhereTheEndpointsKeepNoneAndTheResetIsPostOnly() throws Exception {
    assertThat(get("/stats/digests?sort=count&limit=5").statusCode()).isEqualTo(404);
    assertThat(send(request("/stats/digests/reset").POST(HttpRequest.BodyPublishers.noBody())))
        .extracting(HttpResponse::statusCode)
        .isEqualTo(404);
    HttpResponse<String> head =
        send(request("/stats/digests/reset").method("HEAD", HttpRequest.BodyPublishers.noBody()));
    assertThat(head.statusCode()).as("HEAD must not reset").isEqualTo(405);
    assertThat(head.headers().firstValue("allow")).hasValue("POST");
  }

  @Test
  void throwingEndpointGives500AndServerKeepsServing() throws Exception {
    endpoints.failStats = true;
    HttpResponse<String> failed = get("/stats");
    assertThat(failed.statusCode()).isEqualTo(500);
    assertThat(failed.body()).isEqualTo("internal error serving /stats, see the proxy log\n");

    assertThat(get("/healthz").statusCode())
        .withFailMessage("a failing endpoint must not take the server or its event loop down")
        .isEqualTo(200);
    endpoints.failStats = false;
    assertThat(get("/stats").statusCode()).isEqualTo(200);
  }

  @Test
  void unserializableStatsGive500() throws Exception {
    endpoints.stats = new Object(); // Jackson refuses empty beans
    assertThat(get("/stats").statusCode()).isEqualTo(500);
    assertThat(get("/metrics").statusCode()).isEqualTo(200);
  }

  @Test
  void keepAliveServesSeveralRequestsOnOneConnection() throws IOException {
    try (Socket socket = connect()) {
      OutputStream out = socket.getOutputStream();
      InputStream in = socket.getInputStream();
      for (String path : List.of("/healthz", "/readyz", "/metrics", "/nope", "/healthz")) {
        out.write(
            ("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        RawResponse response = RawResponse.read(in);
        assertThat(response.headers).doesNotContainKey("connection");
        assertThat(response.status).isIn(200, 404);
      }
      // Two requests written back to back (pipelined) are answered in order.
      out.write(
          "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\nGET /readyz HTTP/1.1\r\nHost: a\r\n\r\n"
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      assertThat(RawResponse.read(in).body).isEqualTo("ok\n");
      assertThat(RawResponse.read(in).body).isEqualTo("ready\n");
    }
  }

  @Test
  void connectionCloseIsHonoured() throws IOException {
    try (Socket socket = connect()) {
      write(socket, "GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
      InputStream in = socket.getInputStream();
      RawResponse response = RawResponse.read(in);
      assertThat(response.headers).containsEntry("connection", "close");
      assertThat(in.read())
          .withFailMessage("server must close after Connection: close")
          .isEqualTo(-1);
    }
  }

  @Test
  void http10ClosesUnlessKeepAliveAsked() throws IOException {
    try (Socket socket = connect()) {
      OutputStream out = socket.getOutputStream();
      InputStream in = socket.getInputStream();
      out.write(
          "GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
              .getBytes(StandardCharsets.US_ASCII));
      RawResponse kept = RawResponse.read(in);
      assertThat(kept.statusLine).startsWith("HTTP/1.0 200");
      assertThat(kept.headers).containsEntry("connection", "keep-alive");

      out.write("GET /healthz HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      assertThat(RawResponse.read(in).body).isEqualTo("ok\n");
      assertThat(in.read()).isEqualTo(-1);
    }
  }

  @Test
  void malformedRequestGets400AndClose() throws IOException {
    try (Socket socket = connect()) {
      write(socket, "GET /healthz HTTP/1.1\r\nHost a\r\nbroken\r\n\r\n");
      InputStream in = socket.getInputStream();
      RawResponse response = RawResponse.read(in);
      assertThat(response.status).isEqualTo(400);
      assertThat(in.read()).isEqualTo(-1);
    }
  }

  @Test
  void requestBodyOverTheLimitIsRefused() throws Exception {
    String big = "x".repeat(AdminServer.MAX_REQUEST_BODY_BYTES + 1);
    HttpResponse<String> response =
        send(request("/healthz").method("GET", HttpRequest.BodyPublishers.ofString(big)));
    assertThat(response.statusCode()).isEqualTo(413);
    assertThat(get("/healthz").statusCode()).isEqualTo(200);
  }

  @Test
  void closeStopsListeningAndEndsOpenConnections() throws Exception {
    try (Socket idle = connect()) {
      write(idle, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
      InputStream in = idle.getInputStream();
      assertThat(RawResponse.read(in).status).isEqualTo(200);

      server.close();
      server.close(); // idempotent

      assertThat(in.read())
          .withFailMessage("close() must end keep-alive connections too")
          .isEqualTo(-1);
      assertThatThrownBy(() -> get("/healthz")).isInstanceOf(ConnectException.class);
      assertThat(group.isShuttingDown())
          .withFailMessage("the caller's group must stay up")
          .isFalse();
    }
  }

  @Test
  void bindFailureNamesTheAddress() {
    assertThatThrownBy(() -> AdminServer.start("127.0.0.1", server.port(), group, endpoints))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("admin endpoint could not bind 127.0.0.1:" + server.port() + ": ")
        .hasCauseInstanceOf(BindException.class);
  }

  @Test
  void rejectsGroupOfAnotherTransport() {
    EventLoopGroup local = new MultiThreadIoEventLoopGroup(1, LocalIoHandler.newFactory());
    try {
      assertThatThrownBy(() -> AdminServer.start("127.0.0.1", 0, local, endpoints))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(
              "an NIO, epoll or io_uring event loop group is needed, got "
                  + MultiThreadIoEventLoopGroup.class.getName()
                  + " of another I/O type");
    } finally {
      local.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  private HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return send(request(path).GET());
  }

  private HttpResponse<String> send(HttpRequest.Builder request)
      throws IOException, InterruptedException {
    return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
        .timeout(Duration.ofSeconds(10));
  }

  private static void write(Socket socket, String request) throws IOException {
    socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
  }

  private Socket connect() throws IOException {
    Socket socket = new Socket("127.0.0.1", server.port());
    // A hung server fails the test instead of hanging the build.
    socket.setSoTimeout(10_000);
    return socket;
  }

  record PoolStats(String name, int active, int idle) {}

  record Stats(List<PoolStats> pools, String uptime) {}

  /** Mutable from the test thread, read on the event loop. */
  static final class FakeEndpoints implements AdminEndpoints {
    volatile boolean alive = true;
    volatile boolean ready = true;
    volatile String readinessDetail = "";
    volatile boolean backendsUp = true;
    volatile String backendDetail = "orders-rw up\n";
    volatile boolean failStats;
    volatile Object stats = new Stats(List.of(new PoolStats("orders-rw", 3, 5)), "PT1H");

    @Override
    public boolean alive() {
      return alive;
    }

    @Override
    public boolean ready() {
      return ready;
    }

    @Override
    public String readinessDetail() {
      return readinessDetail;
    }

    @Override
    public boolean backendsUp() {
      return backendsUp;
    }

    @Override
    public String backendDetail() {
      return backendDetail;
    }

    @Override
    public String prometheusText() {
      return METRICS;
    }

    @Override
    public Object stats() {
      if (failStats) {
        throw new IllegalStateException("pool snapshot unavailable");
      }
      return stats;
    }
  }

  /** A minimal HTTP/1.x response reader for Content-Length bodies, to see what HttpClient hides. */
  static final class RawResponse {
    final String statusLine;
    final int status;
    final Map<String, String> headers;
    final String body;

    private RawResponse(String statusLine, Map<String, String> headers, String body) {
      this.statusLine = statusLine;
      this.status = Integer.parseInt(statusLine.split(" ")[1]);
      this.headers = headers;
      this.body = body;
    }

    static RawResponse read(InputStream in) throws IOException {
      String statusLine = line(in);
      Map<String, String> headers = new LinkedHashMap<>();
      for (String header = line(in); !header.isEmpty(); header = line(in)) {
        int colon = header.indexOf(':');
        headers.put(
            header.substring(0, colon).trim().toLowerCase(Locale.ROOT),
            header.substring(colon + 1).trim());
      }
      int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
      byte[] body = in.readNBytes(length);
      assertThat(body)
          .withFailMessage("response body shorter than its Content-Length")
          .hasSize(length);
      return new RawResponse(statusLine, headers, new String(body, StandardCharsets.UTF_8));
    }

    private static String line(InputStream in) throws IOException {
      ByteArrayOutputStream line = new ByteArrayOutputStream();
      int b;
      while ((b = in.read()) != '\n') {
        if (b < 0) {
          throw new IOException("connection closed mid-response after: " + line);
        }
        if (b != '\r') {
          line.write(b);
        }
      }
      return line.toString(StandardCharsets.US_ASCII);
    }
  }
}
