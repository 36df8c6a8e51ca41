package dev.mysqlpool.operator.reconciler;

import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * The operator's per-pool gauges, for alerts that need no access to the Kubernetes API: {@code
 * mysqlpool_operator_sizing_valid{namespace,name}} is 1 while a pool's {@code SizingValid}
 * condition is True and 0 while it is False (the pool was clamped to fit the backend, or not even
 * one connection per pod fits). A pool with an invalid spec has no sizing and no series.
 *
 * <p>The reconciler has no delete hook (it adds no finalizer), so a deleted pool's series is
 * dropped by {@link #retain} at the next reconciliation of any pool. Called from the reconciler's
 * threads; thread-safe.
 */
final class PoolMetrics {
  /**
   * The gauge's Micrometer name; Prometheus exposes it as {@code mysqlpool_operator_sizing_valid}.
   */
  static final String SIZING_VALID = "mysqlpool.operator.sizing.valid";

  private final MeterRegistry registry;

  /**
   * The gauges' values; the map holds them strongly, as Micrometer references a gauge's object
   * weakly.
   */
  private final Map<ResourceID, AtomicInteger> sizingValid = new ConcurrentHashMap<>();

  PoolMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  /** Records whether the pool's sizing fits its backend. */
  void sizing(ResourceID pool, boolean valid) {
    sizingValid
        .computeIfAbsent(
            pool,
            id -> {
              AtomicInteger value = new AtomicInteger();
              Gauge.builder(SIZING_VALID, value, AtomicInteger::get)
                  .description(
                      "1 when the MySQLPool's sizing fits the backend (condition SizingValid=True), else 0")
                  .tag("namespace", id.getNamespace().orElse(""))
                  .tag("name", id.getName())
                  .register(registry);
              return value;
            })
        .set(valid ? 1 : 0);
  }

  /** Drops the pool's series, e.g. while its spec is invalid and nothing is sized. */
  void forget(ResourceID pool) {
    if (sizingValid.remove(pool) != null) {
      registry
          .find(SIZING_VALID)
          .tag("namespace", pool.getNamespace().orElse(""))
          .tag("name", pool.getName())
          .meters()
          .forEach(registry::remove);
    }
  }

  /** Drops the series of every pool for which {@code exists} is false (deleted pools). */
  void retain(Predicate<ResourceID> exists) {
    for (ResourceID id : sizingValid.keySet()) {
      if (!exists.test(id)) {
        forget(id);
      }
    }
  }
}
