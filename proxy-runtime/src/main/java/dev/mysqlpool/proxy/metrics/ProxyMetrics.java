package dev.mysqlpool.proxy.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
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
import java.util.function.LongSupplier;

/**
 * The proxy's Prometheus registry and the meters the data path bumps (errors by kind, pins, query
 * and acquire timers), named {@code mysqlpool_<subsystem>_<name>}. A leaf: the frontend and the
 * pools record here, the admin server reads; gauges of other objects are registered by their owners
 * through {@link #registry()}.
 */
public final class ProxyMetrics {
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final ConcurrentHashMap<String, Counter> errors = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Counter> pins = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, AtomicInteger> pinnedNow = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Counter> failedLogins = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Counter> logins = new ConcurrentHashMap<>();
  private LongSupplier[] memorySources;

  /**
   * Failed logins are counted per client address up to this many addresses, then under {@code
   * source="other"}: a spray from many addresses cannot blow up the metric's cardinality.
   */
  static final int MAX_FAILED_LOGIN_SOURCES = 1000;

  public ProxyMetrics() {
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
  }

  /**
   * Registers the meters of the process's buffer memory: {@code mysqlpool_memory_direct_used_bytes}
   * and {@code mysqlpool_memory_direct_max_bytes} (what the proxy's allocator holds, and the
   * limit), and {@code mysqlpool_memory_allocation_failures_total}. The suppliers are read at each
   * scrape, from any thread.
   */
  public void bindMemory(
      LongSupplier directUsed, LongSupplier directMax, LongSupplier allocationFailures) {
    // Held here: meters keep only weak references to what they read.
    memorySources = new LongSupplier[] {directUsed, directMax, allocationFailures};
    Gauge.builder("mysqlpool.memory.direct.used.bytes", directUsed, s -> s.getAsLong())
        .description("Direct memory held by the proxy's buffer allocator")
        .register(registry);
    Gauge.builder("mysqlpool.memory.direct.max.bytes", directMax, s -> s.getAsLong())
        .description("The direct-memory limit (-XX:MaxDirectMemorySize)")
        .register(registry);
    FunctionCounter.builder(
            "mysqlpool.memory.allocation.failures", allocationFailures, s -> s.getAsLong())
        .description(
            "Buffer allocations that failed for lack of memory; each closed its connection")
        .register(registry);
  }

  /** Where owners of other state (the pools, the frontend) register their gauges. */
  public MeterRegistry registry() {
    return registry;
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

  /** A login (or COM_CHANGE_USER) failed from this client address. */
  public void failedLogin(String source) {
    Counter c = failedLogins.get(source);
    if (c == null) {
      String label = failedLogins.size() < MAX_FAILED_LOGIN_SOURCES ? source : "other";
      c =
          failedLogins.computeIfAbsent(
              label,
              l ->
                  Counter.builder("mysqlpool.frontend.failed.logins")
                      .description("Failed client logins by source address")
                      .tag("source", l)
                      .register(registry));
    }
    c.increment();
  }

  /**
   * A client logged in with this plugin, its password proven this way ({@code challenge}, {@code
   * fast}, {@code full_tls}, {@code full_rsa}), over TLS or not.
   */
  public void login(String plugin, String path, boolean tls) {
    String key = plugin + '/' + path + '/' + tls;
    logins
        .computeIfAbsent(
            key,
            k ->
                Counter.builder("mysqlpool.frontend.logins")
                    .description("Successful client logins by plugin, proof and transport")
                    .tag("plugin", plugin)
                    .tag("path", path)
                    .tag("tls", Boolean.toString(tls))
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
}
