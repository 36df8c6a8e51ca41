package dev.mysqlpool.proxy.admin;

import dev.mysqlpool.proxy.backend.BackendPool;
import dev.mysqlpool.proxy.backend.PoolStats;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;
import java.util.function.ToDoubleFunction;

/**
 * The proxy's Prometheus metrics, named {@code mysqlpool_<subsystem>_<name>}. Pool gauges read a
 * fresh snapshot at scrape time; the hot path only touches timers and adders.
 */
public final class ProxyMetrics {
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final ConcurrentHashMap<String, Counter> errors = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Counter> pins = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, AtomicInteger> pinnedNow = new ConcurrentHashMap<>();

  /**
   * Held here because Micrometer keeps only a weak reference to a gauge's object; a lambda would be
   * collected.
   */
  private final IntSupplier clientConnections;

  public ProxyMetrics(IntSupplier clientConnections) {
    this.clientConnections = clientConnections;
    Gauge.builder(
            "mysqlpool.frontend.client.connections", this, m -> m.clientConnections.getAsInt())
        .description("Client connections open to the proxy")
        .register(registry);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    JvmGcMetrics gc = new JvmGcMetrics();
    gc.bindTo(registry);
  }

  /** Registers one backend's pool gauges and counters. */
  public void bind(BackendPool pool) {
    String b = pool.name();
    gauge(pool, b, "used", PoolStats::used);
    gauge(pool, b, "free", PoolStats::free);
    gauge(pool, b, "pending", PoolStats::pending);
    gauge(pool, b, "connecting", PoolStats::connecting);
    gauge(pool, b, "total", PoolStats::total);
    Gauge.builder("mysqlpool.pool.max.used", pool, p -> p.stats().maxUsed())
        .description("Highest number of backend connections in use at once")
        .tag("backend", b)
        .register(registry);
    Gauge.builder("mysqlpool.backend.up", pool, p -> p.reachable() ? 1 : 0)
        .description("1 when the last login to the backend succeeded")
        .tag("backend", b)
        .register(registry);
    counter(
        pool,
        b,
        "mysqlpool.pool.connections.opened",
        "Backend connections opened",
        PoolStats::created);
    counter(
        pool,
        b,
        "mysqlpool.pool.connections.closed",
        "Backend connections closed",
        PoolStats::destroyed);
    counter(
        pool,
        b,
        "mysqlpool.pool.connect.errors",
        "Failed backend logins",
        PoolStats::connectErrors);
    counter(
        pool,
        b,
        "mysqlpool.pool.acquire.timeouts",
        "Clients that waited longer than pool.acquireTimeout",
        PoolStats::acquireTimeouts);
    counter(
        pool,
        b,
        "mysqlpool.pool.kill.connections.opened",
        "Side connections logged in to send KILL (at most one open per backend, outside"
            + " pool.maxConnections)",
        PoolStats::killConnectionsOpened);
    counter(
        pool, b, "mysqlpool.pool.kills", "KILL statements the backend answered", PoolStats::kills);
    counter(
        pool,
        b,
        "mysqlpool.pool.kill.failures",
        "KILL statements that could not be sent (queue full, login failed, connection lost)",
        PoolStats::killFailures);
    Gauge.builder("mysqlpool.pool.kills.queued", pool, p -> p.stats().killsQueued())
        .description("KILL statements waiting for the side connection")
        .tag("backend", b)
        .register(registry);
    PoolStats.Counters t = pool.traffic();
    FunctionCounter.builder("mysqlpool.backend.queries", t, c -> c.queries.sum())
        .description("Commands answered by the backend")
        .tag("backend", b)
        .register(registry);
    FunctionCounter.builder("mysqlpool.backend.query.errors", t, c -> c.queryErrors.sum())
        .description("Commands the backend answered with an error")
        .tag("backend", b)
        .register(registry);
    FunctionCounter.builder("mysqlpool.backend.sent.bytes", t, c -> c.bytesSent.sum())
        .description("Bytes sent to the backend")
        .tag("backend", b)
        .register(registry);
    FunctionCounter.builder("mysqlpool.backend.received.bytes", t, c -> c.bytesReceived.sum())
        .description("Bytes received from the backend")
        .tag("backend", b)
        .register(registry);
  }

  /** Time clients waited for a backend connection. */
  public Timer acquireTimer(String backend) {
    return histogram(
        "mysqlpool.pool.acquire", "Time a client waited for a backend connection", backend, 30);
  }

  /** Time from a command's first packet to the last packet of its reply. */
  public Timer queryTimer(String backend) {
    return histogram("mysqlpool.query", "Time from a command to the end of its reply", backend, 60);
  }

  private Timer histogram(String name, String help, String backend, int maxSeconds) {
    return Timer.builder(name)
        .description(help)
        .tag("backend", backend)
        .publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofMillis(1))
        .maximumExpectedValue(Duration.ofSeconds(maxSeconds))
        .register(registry);
  }

  /**
   * Counts an error by kind (auth_failed, acquire_timeout, backend_lost, protocol_error,
   * client_limit, ...).
   */
  public void error(String kind) {
    errors
        .computeIfAbsent(
            kind,
            k ->
                Counter.builder("mysqlpool.errors")
                    .description("Errors by kind")
                    .tag("kind", k)
                    .register(registry))
        .increment();
  }

  /**
   * A transaction-mode session was pinned to its backend connection for {@code reason} (+1), or a
   * pinned session ended (-1).
   */
  public void pinned(String reason, int delta) {
    AtomicInteger current =
        pinnedNow.computeIfAbsent(
            reason,
            r -> {
              AtomicInteger n = new AtomicInteger();
              Gauge.builder("mysqlpool.sessions.pinned", n, AtomicInteger::get)
                  .description(
                      "Transaction-mode client sessions pinned to one backend connection, by reason")
                  .tag("reason", r)
                  .strongReference(true)
                  .register(registry);
              return n;
            });
    current.addAndGet(delta);
    if (delta > 0) {
      pins.computeIfAbsent(
              reason,
              r ->
                  Counter.builder("mysqlpool.session.pins")
                      .description("Transaction-mode client sessions that were pinned, by reason")
                      .tag("reason", r)
                      .register(registry))
          .increment();
    }
  }

  /** Sessions pinned right now, by reason. */
  public Map<String, Integer> pinnedSessions() {
    Map<String, Integer> out = new TreeMap<>();
    pinnedNow.forEach((r, n) -> out.put(r, n.get()));
    return out;
  }

  /** Prometheus text exposition. */
  public String scrape() {
    return registry.scrape();
  }

  private void gauge(
      BackendPool pool, String backend, String state, ToDoubleFunction<PoolStats> f) {
    Gauge.builder("mysqlpool.pool.connections", pool, p -> f.applyAsDouble(p.stats()))
        .description("Backend connections by state (used, free, pending, connecting, total)")
        .tag("backend", backend)
        .tag("state", state)
        .register(registry);
  }

  private void counter(
      BackendPool pool, String backend, String name, String help, ToDoubleFunction<PoolStats> f) {
    FunctionCounter.builder(name, pool, p -> f.applyAsDouble(p.stats()))
        .description(help)
        .tag("backend", backend)
        .register(registry);
  }
}
