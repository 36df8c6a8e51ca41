package dev.mysqlpool.proxy.admin;

import dev.mysqlpool.proxy.backend.BackendPool;
import dev.mysqlpool.proxy.backend.PoolStats;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * The gauges and counters of one backend pool, read from a fresh {@link PoolStats} snapshot at
 * scrape time: the pool itself only counts.
 */
public final class PoolMeters {
  private PoolMeters() {}

  /** Registers one backend's pool gauges and counters. */
  public static void bind(MeterRegistry registry, BackendPool pool) {
    String b = pool.name();
    gauge(registry, pool, b, "used", PoolStats::used);
    gauge(registry, pool, b, "free", PoolStats::free);
    gauge(registry, pool, b, "pending", PoolStats::pending);
    gauge(registry, pool, b, "connecting", PoolStats::connecting);
    gauge(registry, pool, b, "total", PoolStats::total);
    Gauge.builder("mysqlpool.pool.max.used", pool, p -> p.stats().maxUsed())
        .description("Highest number of backend connections in use at once")
        .tag("backend", b)
        .register(registry);
    // Prometheus' info pattern: join on backend for per-role sums, e.g.
    // sum by (role) (rate(mysqlpool_backend_queries_total[1m]) * on (backend) group_left (role)
    // mysqlpool_backend_info).
    Gauge.builder("mysqlpool.backend.info", pool, p -> 1)
        .description("1 per backend, labelled with its role (writer, reader, any)")
        .tag("backend", b)
        .tag("role", pool.backend().role().name().toLowerCase(Locale.ROOT))
        .register(registry);
    Gauge.builder("mysqlpool.backend.up", pool, p -> p.reachable() ? 1 : 0)
        .description("1 when the last login to the backend succeeded")
        .tag("backend", b)
        .register(registry);
    counter(
        registry,
        pool,
        b,
        "mysqlpool.pool.connections.opened",
        "Backend connections opened",
        PoolStats::created);
    counter(
        registry,
        pool,
        b,
        "mysqlpool.pool.connections.closed",
        "Backend connections closed",
        PoolStats::destroyed);
    counter(
        registry,
        pool,
        b,
        "mysqlpool.pool.connect.errors",
        "Failed backend logins",
        PoolStats::connectErrors);
    counter(
        registry,
        pool,
        b,
        "mysqlpool.pool.acquire.timeouts",
        "Clients that waited longer than pool.acquireTimeout",
        PoolStats::acquireTimeouts);
    counter(
        registry,
        pool,
        b,
        "mysqlpool.pool.kill.connections.opened",
        "Side connections logged in to send KILL (at most one open per backend, outside"
            + " pool.maxConnections)",
        PoolStats::killConnectionsOpened);
    counter(
        registry,
        pool,
        b,
        "mysqlpool.pool.kills",
        "KILL statements the backend answered",
        PoolStats::kills);
    counter(
        registry,
        pool,
        b,
        "mysqlpool.pool.kill.failures",
        "KILL statements that could not be sent (queue full, login failed, connection lost)",
        PoolStats::killFailures);
    counter(
        registry,
        pool,
        b,
        "mysqlpool.pool.lends.across.loops",
        "Backend connections lent to a client on another event loop than the connection's (each"
            + " packet then crosses threads)",
        PoolStats::lentAcrossLoops);
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

  private static void gauge(
      MeterRegistry registry,
      BackendPool pool,
      String backend,
      String state,
      ToDoubleFunction<PoolStats> f) {
    Gauge.builder("mysqlpool.pool.connections", pool, p -> f.applyAsDouble(p.stats()))
        .description("Backend connections by state (used, free, pending, connecting, total)")
        .tag("backend", backend)
        .tag("state", state)
        .register(registry);
  }

  private static void counter(
      MeterRegistry registry,
      BackendPool pool,
      String backend,
      String name,
      String help,
      ToDoubleFunction<PoolStats> f) {
    FunctionCounter.builder(name, pool, p -> f.applyAsDouble(p.stats()))
        .description(help)
        .tag("backend", backend)
        .register(registry);
  }
}
