package dev.mysqlpool.proxy.backend;

import java.util.concurrent.atomic.LongAdder;

/**
 * One backend pool's numbers at one moment, like ProxySQL's stats_mysql_connection_pool row.
 *
 * @param total connections open or being opened
 * @param used connections lent to clients or busy with the pool's own commands
 * @param free idle connections ready to lend
 * @param pending clients waiting for a connection
 */
public record PoolStats(
    String backend,
    String host,
    int port,
    int total,
    int used,
    int free,
    int pending,
    int connecting,
    int maxUsed,
    long created,
    long destroyed,
    long connectErrors,
    long acquireTimeouts,
    long acquired,
    boolean reachable,
    long serverWaitTimeoutSeconds,
    Counters traffic) {

  /** Per-backend traffic, added to by the sessions on the hot path (contention-free adders). */
  public static final class Counters {
    public final LongAdder queries = new LongAdder();
    public final LongAdder queryErrors = new LongAdder();
    public final LongAdder bytesSent = new LongAdder();
    public final LongAdder bytesReceived = new LongAdder();
  }
}
