package dev.mysqlpool.proxy.admin;

import dev.mysqlpool.proxy.backend.BackendPool;
import dev.mysqlpool.proxy.backend.SwitchStats;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.function.ToDoubleFunction;

/**
 * The writer-switch meters of one backend declared {@code role: writer}, read from {@link
 * BackendPool#switchStats()} at scrape time: whether the server is the writer now, whether a switch
 * runs, how many there were, how long the last took, and the clients it held or failed.
 */
public final class SwitchMeters {
  private SwitchMeters() {}

  /** Registers the meters of {@code pool}. */
  public static void bind(MeterRegistry registry, BackendPool pool) {
    gauge(
        registry,
        pool,
        "mysqlpool.backend.writer",
        "1 when the backend's server was writable at the last check, 0 when read-only, -1 before"
            + " the first check",
        s -> s.role().equals("writer") ? 1 : s.role().equals("read-only") ? 0 : -1);
    gauge(
        registry,
        pool,
        "mysqlpool.backend.switching",
        "1 while the backend's writer is switching: borrowers wait up to pool.switchoverTimeout",
        s -> s.switching() ? 1 : 0);
    gauge(
        registry,
        pool,
        "mysqlpool.backend.last.switch.seconds",
        "How long the last finished writer switch took, from the first read-only answer to the"
            + " first writable login; -1 before any",
        s -> s.lastSwitchMillis() < 0 ? -1 : s.lastSwitchMillis() / 1000.0);
    counter(registry, pool, "mysqlpool.backend.switches", "Writer switches", SwitchStats::switches);
    counter(
        registry,
        pool,
        "mysqlpool.backend.switch.clients.held",
        "Clients that waited for the new writer instead of failing",
        SwitchStats::clientsHeld);
    counter(
        registry,
        pool,
        "mysqlpool.backend.switch.clients.errored",
        "Client statements told that the writer changed under their transaction",
        SwitchStats::clientsErrored);
    counter(
        registry,
        pool,
        "mysqlpool.pool.switchover.timeouts",
        "Clients that waited the whole pool.switchoverTimeout for a writer",
        SwitchStats::switchoverTimeouts);
  }

  private static void gauge(
      MeterRegistry registry,
      BackendPool pool,
      String name,
      String help,
      ToDoubleFunction<SwitchStats> f) {
    Gauge.builder(name, pool, p -> f.applyAsDouble(p.switchStats()))
        .description(help)
        .tag("backend", pool.name())
        .register(registry);
  }

  private static void counter(
      MeterRegistry registry,
      BackendPool pool,
      String name,
      String help,
      ToDoubleFunction<SwitchStats> f) {
    FunctionCounter.builder(name, pool, p -> f.applyAsDouble(p.switchStats()))
        .description(help)
        .tag("backend", pool.name())
        .register(registry);
  }
}
