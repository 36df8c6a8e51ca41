package dev.mysqlpool.proxy.backend;

import dev.mysqlpool.proxy.protocol.Commands;
import dev.mysqlpool.proxy.protocol.Packets;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;
import org.slf4j.Logger;

/**
 * Sends {@code KILL QUERY id} and {@code KILL id} the way MySQL clients cancel a statement: over a
 * side connection that is not part of the pool. Bounded so that a mass client disconnect mid-query
 * cannot turn into a burst of logins: at most <b>one</b> side connection per pool is open or
 * logging in at a time, and it sends every queued KILL of its account one after another before it
 * closes. So the server sees at most {@code pool.maxConnections + 1} connections from one pool.
 *
 * <p>Requests wait in a FIFO bounded by pool.maxConnections (each names a backend thread of the
 * pool, and a second request for a queued thread joins the first). A side connection logs in as the
 * account of the request it serves (a user may kill its own threads); a request of another account
 * waits until the current one's run ends. A KILL the server refuses (e.g. 1094, the thread is gone
 * already) still completes normally: the thread is not running the statement any more.
 *
 * <p>Threading: any thread; the side connection's work runs on its event loop.
 */
final class KillQueue {
  private static final long GONE_POLL_MILLIS = 2;
  private final BackendPool pool;
  private final Logins logins;
  private final LongSupplier timeoutMillis;
  private final IntSupplier capacity;
  private final Logger log;
  private final LongAdder opened = new LongAdder();
  private final LongAdder sent = new LongAdder();
  private final LongAdder failed = new LongAdder();

  // Guarded by this.
  private final ArrayDeque<Request> queue = new ArrayDeque<>();
  private BackendConnection side;
  private boolean running;
  private boolean closed;

  /**
   * @param timeoutMillis deadline of each KILL (pool.connectTimeout)
   * @param capacity how many requests may wait (pool.maxConnections, read at each request)
   */
  KillQueue(
      BackendPool pool,
      Logins logins,
      LongSupplier timeoutMillis,
      IntSupplier capacity,
      Logger log) {
    this.pool = pool;
    this.logins = logins;
    this.timeoutMillis = timeoutMillis;
    this.capacity = capacity;
    this.log = log;
  }

  /** Side connections logged in so far. */
  long sideConnectionsOpened() {
    return opened.sum();
  }

  /** KILL statements the server answered. */
  long sent() {
    return sent.sum();
  }

  /** KILL statements that could not be sent (queue full, login failed, connection lost). */
  long failed() {
    return failed.sum();
  }

  /** Requests waiting now. */
  synchronized int queued() {
    return queue.size();
  }

  /**
   * Queues a KILL of backend thread {@code threadId}, sent as {@code key}'s account. Completes on
   * {@code loop} once the server answered it, or fails when it could not be sent.
   */
  Future<Void> kill(EventLoop loop, PoolKey key, long threadId, boolean queryOnly) {
    Promise<Void> done = loop.newPromise();
    String refused = null;
    boolean startRun = false;
    synchronized (this) {
      Request same = queued(threadId);
      if (closed) {
        refused = "pool '" + pool.name() + "' is shut down";
      } else if (same != null) {
        same.queryOnly &= queryOnly;
        same.promises.add(done);
        return done;
      } else if (queue.size() >= capacity.getAsInt()) {
        refused = queue.size() + " KILLs are queued already (the bound is pool.maxConnections)";
      } else {
        queue.addLast(new Request(key, threadId, queryOnly, loop, done));
        startRun = !running;
        running = true;
      }
    }
    if (refused != null) {
      failed.increment();
      log.warn("pool '{}': KILL of backend thread {} not sent: {}", pool.name(), threadId, refused);
      done.tryFailure(new BackendException("KILL of backend thread " + threadId + ": " + refused));
      return done;
    }
    if (startRun) {
      next();
    }
    return done;
  }

  /** Fails what waits; a run in progress closes its side connection when it looks next. */
  void close() {
    List<Request> dropped;
    synchronized (this) {
      closed = true;
      dropped = new ArrayList<>(queue);
      queue.clear();
    }
    for (Request r : dropped) {
      r.fail(new BackendException("pool '" + pool.name() + "' is shut down"));
    }
  }

  private Request queued(long threadId) {
    for (Request r : queue) {
      if (r.threadId == threadId) {
        return r;
      }
    }
    return null;
  }

  /**
   * Serves the head of the queue over the side connection, logging one in first if needed; when the
   * queue is empty (or the pool closed) the run ends and the side connection closes. Only one run
   * exists at a time ({@code running}), so there is never more than one side connection.
   */
  private void next() {
    Request r;
    BackendConnection use = null;
    BackendConnection retire = null;
    synchronized (this) {
      r = closed ? null : queue.peekFirst();
      if (r == null) {
        running = false;
        retire = side;
        side = null;
      } else {
        if (side != null && (!side.channel.isActive() || !side.key.user().equals(r.key.user()))) {
          retire = side;
          side = null;
        }
        use = side;
        if (use != null) {
          queue.pollFirst();
        }
      }
    }
    if (retire != null) {
      Hangup.start(retire, timeout());
    }
    if (r == null) {
      return;
    }
    if (use == null) {
      open(r);
    } else {
      send(use, r);
    }
  }

  private void open(Request r) {
    logins
        .login(r.loop, pool, r.key, true)
        .addListener(
            (Future<BackendConnection> f) -> {
              if (f.isSuccess()) {
                opened.increment();
                synchronized (this) {
                  side = f.getNow();
                }
              } else {
                failAccount(r, f.cause());
              }
              next();
            });
  }

  /** A failed login fails every queued request of that account, since each would fail alike. */
  private void failAccount(Request r, Throwable cause) {
    List<Request> dropped = new ArrayList<>();
    synchronized (this) {
      for (Iterator<Request> it = queue.iterator(); it.hasNext(); ) {
        Request q = it.next();
        if (q.key.user().equals(r.key.user())) {
          it.remove();
          dropped.add(q);
        }
      }
    }
    log.warn(
        "pool '{}': could not log in to send KILL for {} backend thread(s): {}",
        pool.name(),
        dropped.size(),
        cause.getMessage());
    for (Request q : dropped) {
      failed.increment();
      q.fail(cause);
    }
  }

  private void send(BackendConnection s, Request r) {
    String sql = (r.queryOnly ? "KILL QUERY " : "KILL ") + r.threadId;
    InternalCommand.run(s, Packets.command(s.channel.alloc(), Commands.COM_QUERY, sql), timeout())
        .addListener(
            (Future<InternalCommand.Result> f) -> {
              if (!f.isSuccess()) {
                failed.increment();
                log.warn("pool '{}': {} failed: {}", pool.name(), sql, f.cause().getMessage());
                r.fail(f.cause());
                next();
                return;
              }
              sent.increment();
              if (!f.getNow().ok()) {
                log.debug("pool '{}': {} answered {}", pool.name(), sql, f.getNow().error());
              }
              if (r.queryOnly) {
                r.succeed();
                next();
              } else {
                awaitGone(s, r, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeout()));
              }
            });
  }

  /**
   * KILL returns once the thread is told to die, and it closes its socket before the server stops
   * counting it: the request completes only when the thread is gone from the process list (a user
   * sees its own threads there), so that a login taking the killed connection's place never meets
   * it on the server. Gives up at the deadline.
   */
  private void awaitGone(BackendConnection s, Request r, long deadlineNanos) {
    String sql = "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = " + r.threadId;
    InternalCommand.run(s, Packets.command(s.channel.alloc(), Commands.COM_QUERY, sql), timeout())
        .addListener(
            (Future<InternalCommand.Result> f) -> {
              List<String> row = f.isSuccess() && f.getNow().ok() ? f.getNow().firstRow() : null;
              boolean listed = row != null && !row.isEmpty() && !"0".equals(row.get(0));
              if (listed && f.isSuccess() && System.nanoTime() - deadlineNanos < 0) {
                s.channel
                    .eventLoop()
                    .schedule(
                        () -> awaitGone(s, r, deadlineNanos),
                        GONE_POLL_MILLIS,
                        TimeUnit.MILLISECONDS);
                return;
              }
              if (listed) {
                log.debug(
                    "pool '{}': backend thread {} still listed after KILL",
                    pool.name(),
                    r.threadId);
              }
              r.succeed();
              next();
            });
  }

  private long timeout() {
    return timeoutMillis.getAsLong();
  }

  /** One backend thread to kill, and whoever waits for it. */
  private static final class Request {
    final PoolKey key;
    final long threadId;
    final EventLoop loop;
    final List<Promise<Void>> promises = new ArrayList<>(1);

    /** Guarded by the queue's lock until sent; a KILL CONNECTION request wins over KILL QUERY. */
    boolean queryOnly;

    Request(PoolKey key, long threadId, boolean queryOnly, EventLoop loop, Promise<Void> done) {
      this.key = key;
      this.threadId = threadId;
      this.queryOnly = queryOnly;
      this.loop = loop;
      promises.add(done);
    }

    void succeed() {
      for (Promise<Void> p : promises) {
        p.trySuccess(null);
      }
    }

    void fail(Throwable cause) {
      for (Promise<Void> p : promises) {
        p.tryFailure(cause);
      }
    }
  }
}
