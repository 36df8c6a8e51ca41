package dev.mysqlpool.proxy.backend;

import java.util.concurrent.atomic.LongAdder;

/**
 * One backend pool's numbers at one moment, like ProxySQL's stats_mysql_connection_pool row.
 *
 * @param total connections open or being opened, and those the pool closed that the server has not
 *     closed yet: what {@code maxConnections} caps
 * @param used connections lent to clients, busy with the pool's own commands, or closing
 * @param free idle connections ready to lend
 * @param pending clients waiting for a connection
 * @param acquired connections lent so far
 * @param lentAcrossLoops of those, lent to a client on another event loop than the connection's:
 *     every packet of such a lend is handed between two threads (a task and a wakeup each way)
 * @param killConnectionsOpened side connections logged in to send a KILL (at most one open at a
 *     time, outside {@code maxConnections})
 * @param kills KILL statements answered by the server
 * @param killFailures KILL statements that could not be sent or were refused
 * @param killsQueued KILL statements waiting for the side connection now
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
    long lentAcrossLoops,
    boolean reachable,
    long serverWaitTimeoutSeconds,
    Counters traffic,
    long killConnectionsOpened,
    long kills,
    long killFailures,
    int killsQueued) {

  /** Per-backend traffic, added to by the sessions on the hot path (contention-free adders). */
  public static final class Counters {
    public final LongAdder queries = new LongAdder();
    public final LongAdder queryErrors = new LongAdder();
    public final LongAdder bytesSent = new LongAdder();
    public final LongAdder bytesReceived = new LongAdder();
  }
}
