package dev.mysqlpool.operator.render;

import dev.mysqlpool.operator.api.MySQLPool;
import dev.mysqlpool.operator.api.MySQLPoolSpec;
import dev.mysqlpool.operator.validation.Sizing;
import dev.mysqlpool.operator.validation.TimeoutChain;
import dev.mysqlpool.proxy.config.Durations;

/**
 * A pool with everything derived from it: the sizing, the timeout chain and the operator's
 * settings. The renderers read only this, so they are pure functions of it.
 *
 * @param pool the MySQLPool, already validated by {@code MySQLPoolValidator}
 * @param sizing the Little's Law figures
 * @param timeouts the effective timeout chain
 * @param settings the operator's settings
 */
public record Plan(MySQLPool pool, Sizing sizing, TimeoutChain timeouts, RenderSettings settings) {

  /** Derives the plan of a pool that passed {@code MySQLPoolValidator.validate} without errors. */
  public static Plan of(MySQLPool pool, RenderSettings settings) {
    MySQLPoolSpec spec = pool.getSpec().fillOptionalSections();
    Sizing sizing =
        Sizing.compute(
            spec.workload.peakTps,
            Durations.parse(spec.workload.holdTime),
            spec.workload.safetyFactor,
            spec.replicas,
            spec.pool.maxConnections,
            spec.pool.minIdle,
            spec.pool.maxIdle,
            spec.backend.maxConnections,
            spec.backend.reservedConnections);
    return new Plan(pool, sizing, TimeoutChain.derive(spec), settings);
  }

  /** The pool's name. */
  public String name() {
    return pool.getMetadata().getName();
  }

  /** The pool's namespace; {@code default} for a file without one. */
  public String namespace() {
    String ns = pool.getMetadata().getNamespace();
    return ns == null || ns.isBlank() ? "default" : ns;
  }

  /** The pool's spec. */
  public MySQLPoolSpec spec() {
    return pool.getSpec();
  }

  /** True when the Service is an AWS NLB. */
  public boolean nlb() {
    return "LoadBalancer".equals(spec().service.type);
  }
}
