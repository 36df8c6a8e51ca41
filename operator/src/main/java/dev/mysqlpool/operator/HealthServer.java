package dev.mysqlpool.operator;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.javaoperatorsdk.operator.Operator;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;

/**
 * The operator's own HTTP endpoints: {@code /healthz} (every informer is healthy), {@code /readyz}
 * (the operator started; a standby replica waiting for the Lease is ready too) and {@code /metrics}
 * (Prometheus text, JOSDK's reconciliation metrics and the JVM's).
 */
final class HealthServer {
  private final HttpServer server;

  private HealthServer(HttpServer server) {
    this.server = server;
  }

  static HealthServer start(int port, Operator operator, PrometheusMeterRegistry registry) {
    HttpServer server;
    try {
      server = HttpServer.create(new InetSocketAddress(port), 16);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot listen on --http-port " + port, e);
    }
    server.createContext(
        "/healthz",
        ex -> {
          boolean ok =
              !operator.getRuntimeInfo().isStarted()
                  || operator.getRuntimeInfo().allEventSourcesAreHealthy();
          reply(
              ex,
              ok ? 200 : 503,
              ok
                  ? "ok\n"
                  : "unhealthy event sources: "
                      + operator.getRuntimeInfo().unhealthyEventSources().keySet()
                      + "\n",
              "text/plain");
        });
    server.createContext(
        "/readyz",
        ex -> {
          boolean ok = operator.getRuntimeInfo().isStarted();
          reply(ex, ok ? 200 : 503, ok ? "ok\n" : "starting\n", "text/plain");
        });
    server.createContext(
        "/metrics", ex -> reply(ex, 200, registry.scrape(), "text/plain; version=0.0.4"));
    server.setExecutor(
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "health-http");
              t.setDaemon(true);
              return t;
            }));
    server.start();
    return new HealthServer(server);
  }

  /** The port it listens on (useful with --http-port 0). */
  int port() {
    return server.getAddress().getPort();
  }

  void stop() {
    server.stop(0);
  }

  private static void reply(HttpExchange ex, int status, String body, String type)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", type);
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }
}
