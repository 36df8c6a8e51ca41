package dev.mysqlpool.proxy.backend;

import dev.mysqlpool.proxy.config.ProxyConfig.Backend;
import java.util.concurrent.atomic.LongAdder;

/**
 * The pool's event counters (contention-free adders, bumped on the acquire path) and the assembly
 * of a {@link PoolStats} snapshot from them and the pool's current counts.
 */
final class PoolCounters {
  final LongAdder created = new LongAdder();
  final LongAdder destroyed = new LongAdder();
  final LongAdder connectErrors = new LongAdder();
  final LongAdder acquireTimeouts = new LongAdder();
  final LongAdder acquired = new LongAdder();

  /** Lends to a borrower on another event loop than the connection's (see {@link PoolStats}). */
  final LongAdder lentAcrossLoops = new LongAdder();

  final PoolStats.Counters traffic = new PoolStats.Counters();

  PoolStats snapshot(
      Backend backend,
      int total,
      int used,
      int free,
      int pending,
      int connecting,
      int maxUsed,
      boolean reachable,
      long serverWaitTimeoutSeconds,
      KillQueue kills) {
    return new PoolStats(
        backend.name(),
        backend.host(),
        backend.port(),
        total,
        used,
        free,
        pending,
        connecting,
        maxUsed,
        created.sum(),
        destroyed.sum(),
        connectErrors.sum(),
        acquireTimeouts.sum(),
        acquired.sum(),
        lentAcrossLoops.sum(),
        reachable,
        serverWaitTimeoutSeconds,
        traffic,
        kills.sideConnectionsOpened(),
        kills.sent(),
        kills.failed(),
        kills.queued());
  }
}
