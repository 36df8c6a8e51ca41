package dev.mysqlpool.proxy.backend;

import dev.mysqlpool.proxy.protocol.Commands;
import dev.mysqlpool.proxy.protocol.Packets;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Reads one reader's replication lag every second over a side connection of its own (one per
 * reader, outside {@code pool.maxConnections}, logged in as the pool's own logins are), and tells
 * the {@link ReaderSet} when the reader starts or stops serving reads. See {@link ReplicaStatus}
 * for the statements and how their answers read.
 *
 * <p>Why every second: {@code Seconds_Behind_Master} counts whole seconds, so a faster check sees
 * nothing new, and at one second a reader that falls behind stops getting reads within about a
 * second of crossing {@code routing.maxReplicationLag} (at least 1s), not a multiple of it as with
 * ProxySQL's 10s default. The cost is one small statement per second per reader on a connection
 * that stays open.
 *
 * <p>The side connection's logins count for the pool's reachability like its own ({@link
 * BackendPool#sideLoginEnded}): a reader with no clients yet still shows down within a second or
 * two of its server going away, and up again when it is back.
 *
 * <p>Threading: everything runs on one event loop, {@link #loop}; the state the rest of the proxy
 * reads is in {@link ReaderSet.Reader}'s volatile fields.
 */
final class ReplicaCheck implements Runnable {
  static final long PERIOD_MILLIS = 1000;

  /** A check unanswered this long makes the lag unknown until it answers or times out. */
  private static final long STALE_NANOS = TimeUnit.MILLISECONDS.toNanos(2 * PERIOD_MILLIS);

  /** Which statement reads the lag of this server; found on each new side connection. */
  private enum Source {
    UNDETECTED(ReplicaStatus.AURORA_PROBE),
    AURORA(ReplicaStatus.AURORA_LAG),
    REPLICA_STATUS(ReplicaStatus.SHOW_REPLICA),
    /** MariaDB: only this form has Gtid_Slave_Pos, the applied position read-your-writes needs. */
    ALL_SLAVES_STATUS(ReplicaStatus.SHOW_ALL_SLAVES),
    SLAVE_STATUS(ReplicaStatus.SHOW_SLAVE);

    final String sql;

    Source(String sql) {
      this.sql = sql;
    }
  }

  private final ReaderSet set;
  private final ReaderSet.Reader reader;
  private final BackendPool pool;
  private final EventLoop loop;
  private final long maxLagMillis;

  // Confined to loop.
  private BackendConnection conn;
  private Source source = Source.UNDETECTED;
  private boolean busy;
  private long busySinceNanos;
  private boolean closed;
  private ScheduledFuture<?> timer;

  ReplicaCheck(ReaderSet set, ReaderSet.Reader reader, EventLoop loop, long maxLagMillis) {
    this.set = set;
    this.reader = reader;
    this.pool = reader.pool;
    this.loop = loop;
    this.maxLagMillis = maxLagMillis;
  }

  /** Runs the first check now and then every {@link #PERIOD_MILLIS}. */
  void start() {
    timer = loop.scheduleWithFixedDelay(this, 0, PERIOD_MILLIS, TimeUnit.MILLISECONDS);
  }

  /** Stops checking and closes the side connection; any thread. */
  void close() {
    try {
      loop.execute(
          () -> {
            closed = true;
            if (timer != null) {
              timer.cancel(false);
            }
            if (conn != null) {
              Hangup.start(conn, timeoutMillis());
              conn = null;
            }
          });
    } catch (RejectedExecutionException e) {
      // The loop is gone, and its channels with it.
    }
  }

  @Override
  public void run() {
    if (closed) {
      return;
    }
    if (busy) {
      long waited = System.nanoTime() - busySinceNanos;
      if (waited > STALE_NANOS) {
        report(
            ReplicaLag.unknown(
                "the lag check has had no answer for "
                    + TimeUnit.NANOSECONDS.toMillis(waited)
                    + "ms"));
      }
      return;
    }
    busy = true;
    busySinceNanos = System.nanoTime();
    if (conn != null && conn.channel.isActive()) {
      ask(conn);
    } else {
      conn = null;
      login();
    }
  }

  private void login() {
    PoolKey key = pool.sideLoginKey();
    if (key == null) {
      finish(ReplicaLag.unknown("no user to log in with: no user is configured"));
      return;
    }
    pool.logins()
        .login(loop, pool, key, true)
        .addListener(
            (Future<BackendConnection> f) -> {
              pool.sideLoginEnded(f.isSuccess() ? null : f.cause());
              if (!f.isSuccess()) {
                finish(
                    ReplicaLag.unknown(
                        "the lag check cannot log in: " + BackendConnector.rootMessage(f.cause())));
                return;
              }
              if (closed) {
                Hangup.start(f.getNow(), timeoutMillis());
                return;
              }
              conn = f.getNow();
              source = Source.UNDETECTED;
              ask(conn);
            });
  }

  private void ask(BackendConnection c) {
    String sql = source.sql;
    InternalCommand.run(
            c, Packets.command(c.channel.alloc(), Commands.COM_QUERY, sql), timeoutMillis())
        .addListener((Future<InternalCommand.Result> f) -> answered(c, sql, f));
  }

  private void answered(BackendConnection c, String sql, Future<InternalCommand.Result> f) {
    if (!f.isSuccess()) {
      c.channel.close();
      if (conn == c) {
        conn = null;
      }
      finish(
          ReplicaLag.unknown(
              "no answer to " + sql + ": " + BackendConnector.rootMessage(f.cause())));
      return;
    }
    InternalCommand.Result r = f.getNow();
    if (closed) {
      return;
    }
    if (source == Source.UNDETECTED) {
      if (r.ok() || r.error().startsWith(ReplicaStatus.UNKNOWN_VARIABLE)) {
        source =
            r.ok() ? Source.AURORA : c.mariaDb() ? Source.ALL_SLAVES_STATUS : Source.REPLICA_STATUS;
        ask(c);
      } else {
        finish(ReplicaStatus.refused(sql, r.error()));
      }
      return;
    }
    if (source == Source.REPLICA_STATUS
        && !r.ok()
        && r.error().startsWith(ReplicaStatus.SYNTAX_ERROR)) {
      source = Source.SLAVE_STATUS;
      ask(c);
      return;
    }
    if (!r.ok()) {
      finish(ReplicaStatus.refused(sql, r.error()));
    } else if (source == Source.AURORA) {
      finish(ReplicaStatus.fromAurora(r.firstRow()));
    } else {
      finish(ReplicaStatus.fromShowStatus(r.columns(), r.firstRow()));
    }
  }

  private void finish(ReplicaLag lag) {
    busy = false;
    report(lag);
  }

  /** Records the lag and whether the reader serves now; tells the set when that changed. */
  private void report(ReplicaLag lag) {
    reader.lag = lag;
    boolean up = pool.reachable();
    boolean serving = up && lag.known() && lag.millis() <= maxLagMillis;
    if (serving == reader.serving) {
      return;
    }
    if (serving) {
      pool.log().info("reader '{}' serves reads: lag {}", pool.name(), lag.text());
    } else {
      pool.log()
          .warn(
              "reader '{}' stops serving reads: {}",
              pool.name(),
              !up
                  ? "down: " + pool.unreachableBecause()
                  : lag.known()
                      ? "lag "
                          + lag.text()
                          + " > routing.maxReplicationLag "
                          + ReplicaLag.ofMillis(maxLagMillis).text()
                      : "lag unknown: " + lag.unknownBecause());
    }
    set.serving(reader, serving);
  }

  private long timeoutMillis() {
    return pool.settings().connectTimeout().toMillis();
  }
}
