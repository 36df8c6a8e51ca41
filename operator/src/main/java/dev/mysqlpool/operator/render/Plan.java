package dev.mysqlpool.operator.render;

import dev.mysqlpool.operator.api.MySQLPool;
import dev.mysqlpool.operator.api.MySQLPoolSpec;
import dev.mysqlpool.operator.api.ReaderSpec;
import dev.mysqlpool.operator.validation.ReaderSizing;
import dev.mysqlpool.operator.validation.Sizing;
import dev.mysqlpool.operator.validation.TimeoutChain;
import dev.mysqlpool.proxy.config.Durations;
import java.util.ArrayList;
import java.util.List;

/**
 * A pool with everything derived from it: the sizing, the timeout chain and the operator's
 * settings. The renderers read only this, so they are pure functions of it.
 *
 * @param pool the MySQLPool, already validated by {@code MySQLPoolValidator}
 * @param sizing the Little's Law figures, the readers' check applied
 * @param timeouts the effective timeout chain
 * @param settings the operator's settings
 * @param readers the readers' figures with a read/write split, else null
 */
public record Plan(
    MySQLPool pool,
    Sizing sizing,
    TimeoutChain timeouts,
    RenderSettings settings,
    ReaderSizing readers) {

  /** A plan without readers. */
  public Plan(MySQLPool pool, Sizing sizing, TimeoutChain timeouts, RenderSettings settings) {
    this(pool, sizing, timeouts, settings, null);
  }

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
    ReaderSizing readers = null;
    if (spec.readWriteSplit() && !spec.backend.readers.isEmpty()) {
      readers =
          ReaderSizing.compute(
              sizing,
              spec.replicas,
              spec.workload.readShare != null
                  ? spec.workload.readShare
                  : MySQLPoolSpec.Workload.DEFAULT_READ_SHARE,
              readerInputs(spec),
              spec.backend.reservedConnections);
      sizing = readers.sizing();
    }
    return new Plan(pool, sizing, TimeoutChain.derive(spec), settings, readers);
  }

  /** Each reader's name, endpoint, weight and max_connections, defaults filled in. */
  static List<ReaderSizing.Input> readerInputs(MySQLPoolSpec spec) {
    List<ReaderSizing.Input> out = new ArrayList<>();
    for (int i = 0; i < spec.backend.readers.size(); i++) {
      ReaderSpec r = spec.backend.readers.get(i);
      out.add(
          new ReaderSizing.Input(
              r.backendName(i),
              r.host + ":" + readerPort(spec, r),
              r.weight,
              r.maxConnections != null ? r.maxConnections : spec.backend.maxConnections,
              r.maxConnections != null
                  ? "spec.backend.readers[" + i + "].maxConnections"
                  : "spec.backend.maxConnections"));
    }
    return out;
  }

  /** A reader's port: its own, or the writer's. */
  static int readerPort(MySQLPoolSpec spec, ReaderSpec r) {
    return r.port != null ? r.port : spec.backend.port;
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
