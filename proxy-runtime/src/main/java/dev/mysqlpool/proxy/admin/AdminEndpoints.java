package dev.mysqlpool.proxy.admin;

import dev.mysqlpool.proxy.digest.DigestSort;

/**
 * What the admin HTTP endpoint reports; the proxy implements it, {@link AdminServer} serves it.
 *
 * <p><b>Threading.</b> Every method is called on a Netty event loop, possibly on several loops at
 * once for different connections, so implementations must be thread-safe, cheap and non-blocking:
 * read cached snapshots (atomics, volatile fields, a registry's scrape) rather than taking pool
 * locks or touching the network. A slow method stalls every other channel on the same loop. An
 * exception becomes a 500 for that request only.
 */
public interface AdminEndpoints {
  /** Liveness for {@code /healthz}: false only when the process should be restarted. */
  boolean alive();

  /**
   * Why the process is not alive, returned as the {@code /healthz} 503 body. Called only when
   * {@link #alive()} returned false.
   */
  default String livenessDetail() {
    return "not alive\n";
  }

  /**
   * Readiness for {@code /readyz}: true while this proxy can accept and hold clients. It does not
   * depend on the backends: a database outage or failover must not take every proxy out of its load
   * balancer at once (clients are held or get MySQL errors instead, and the proxy is back the
   * moment the database is).
   */
  boolean ready();

  /**
   * Why the proxy is not ready, returned as the {@code /readyz} 503 body, for example {@code
   * "draining: shutting down"}. Called only when {@link #ready()} returned false.
   */
  String readinessDetail();

  /** For {@code /backendz}: true when every backend is reachable. */
  boolean backendsUp();

  /**
   * The {@code /backendz} body: one line per backend, {@code name up} or {@code name down: why}; a
   * reader's line adds its role and lag: {@code name up reader lag 0s}, {@code name lagging 12s >
   * maxReplicationLag 5s}, {@code name up reader lag unknown, not serving: why}.
   */
  String backendDetail();

  /**
   * The Prometheus text exposition (format 0.0.4) served at {@code /metrics}, e.g. a registry's
   * scrape.
   */
  String prometheusText();

  /**
   * A snapshot for humans at {@code /stats}, serialized with Jackson: records, beans, maps, lists,
   * strings and numbers work; java.time types need a module the server does not register, so pass
   * them as strings.
   */
  Object stats();

  /**
   * The query digest view at {@code GET /stats/digests}, serialized like {@link #stats()}: the
   * {@code limit} largest rows by {@code sort}. Null (a 404) when this endpoint keeps none.
   */
  default Object queryDigests(DigestSort sort, int limit) {
    return null;
  }

  /**
   * {@code POST /stats/digests/reset}: starts the digest view over and returns it as it was, like
   * {@link #queryDigests}. Null (a 404) when this endpoint keeps none.
   */
  default Object resetQueryDigests(DigestSort sort, int limit) {
    return null;
  }
}
