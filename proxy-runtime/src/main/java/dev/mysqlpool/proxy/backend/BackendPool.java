package dev.mysqlpool.proxy.backend;

import dev.mysqlpool.proxy.config.ProxyConfig.Backend;
import dev.mysqlpool.proxy.config.ProxyConfig.Pool;
import dev.mysqlpool.proxy.protocol.Commands;
import dev.mysqlpool.proxy.protocol.HandshakeV10;
import dev.mysqlpool.proxy.protocol.Packets;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connections to one backend server, shared by every event loop of the proxy.
 *
 * <p>Rules it enforces: never more than {@code maxConnections} connections, counting those being
 * opened; at most {@code maxConcurrentConnects} logins at once; idle connections capped at {@code
 * maxIdle} and closed down to {@code minIdle} after {@code idleTimeout}; every connection retired
 * before {@code maxLifetime} (with jitter) and before the server's own {@code wait_timeout}; idle
 * connections pinged every {@code validationInterval}; a borrower that waits longer than {@code
 * acquireTimeout} fails with the counts.
 *
 * <p>Threading: callable from any thread. The bookkeeping is guarded by one lock held only for a
 * few field updates, never across I/O; acquire returns a {@link Future} and never blocks. A
 * connection handed out is used on the borrower's thread via its listener.
 */
public final class BackendPool {
  private static final Logger log = LoggerFactory.getLogger(BackendPool.class);
  private static final long DEFAULT_MAX_LIFETIME_NANOS = TimeUnit.MINUTES.toNanos(30);
  private static final long HOUSEKEEPING_MILLIS = 250;
  private static final long PROBE_WHILE_UP_NANOS = TimeUnit.SECONDS.toNanos(30);
  private static final long PROBE_WHILE_DOWN_NANOS = TimeUnit.SECONDS.toNanos(2);

  private final Backend backend;
  private final Pool config;
  private final BackendConnector connector;
  private final EventLoopGroup group;
  private final IdleListener idleListener = new IdleListener();

  // Guarded by this.
  private final Set<BackendConnection> all = new HashSet<>();
  private final ArrayDeque<BackendConnection> idle =
      new ArrayDeque<>(); // head = most recently used
  private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
  private final Map<PoolKey, int[]> connectingByKey = new HashMap<>();
  private final Map<PoolKey, int[]> waitingByKey = new HashMap<>();
  private final Map<PoolKey, int[]> openByKey = new HashMap<>();
  private int connecting;
  private int maxUsed;
  private PoolKey warmKey;
  private Throwable lastConnectError;
  private int consecutiveFailures;
  private long nextConnectNanos;
  private boolean retryScheduled;
  private long nextProbeNanos;
  private boolean closed;
  private volatile HandshakeV10 greeting;
  private volatile boolean reachable;
  private volatile long serverWaitTimeoutSeconds = -1;

  private final LongAdder created = new LongAdder();
  private final LongAdder destroyed = new LongAdder();
  private final LongAdder connectErrors = new LongAdder();
  private final LongAdder acquireTimeouts = new LongAdder();
  private final LongAdder acquired = new LongAdder();
  private final PoolStats.Counters traffic = new PoolStats.Counters();
  private ScheduledFuture<?> housekeeping;

  /**
   * @param group an event loop group made by {@link dev.mysqlpool.proxy.net.Transport#newGroup}
   */
  public BackendPool(Backend backend, Pool config, EventLoopGroup group, PoolKey warmKey) {
    this.backend = backend;
    this.config = config;
    this.group = group;
    this.warmKey = warmKey;
    this.connector = new BackendConnector(backend, config.connectTimeout().toMillis());
  }

  /** Opens {@code minIdle} connections and starts the housekeeping timer. */
  public void start() {
    housekeeping =
        group
            .next()
            .scheduleWithFixedDelay(
                this::housekeep, HOUSEKEEPING_MILLIS, HOUSEKEEPING_MILLIS, TimeUnit.MILLISECONDS);
    List<Create> creates;
    synchronized (this) {
      creates = fillDemandLocked();
    }
    startAll(creates);
  }

  public String name() {
    return backend.name();
  }

  public Backend backend() {
    return backend;
  }

  Logger log() {
    return log;
  }

  /**
   * Whether clients hold connections per transaction (state tracking on, variables carried) or per
   * session.
   */
  public boolean transactionMode() {
    return config.mode() == dev.mysqlpool.proxy.config.ProxyConfig.PoolMode.TRANSACTION;
  }

  /** Traffic counters the sessions add to. */
  public PoolStats.Counters traffic() {
    return traffic;
  }

  /**
   * True after the last login attempt succeeded (or a connection is open), false after it failed.
   */
  public boolean reachable() {
    return reachable;
  }

  /**
   * The server's greeting, learned from the first connection. Clients are greeted with its version
   * string, since drivers choose their SQL by it. Opens a connection if none was ever made.
   */
  public Future<HandshakeV10> greeting(EventLoop loop) {
    HandshakeV10 g = greeting;
    if (g != null) {
      return loop.newSucceededFuture(g);
    }
    Promise<HandshakeV10> p = loop.newPromise();
    acquire(loop, warmKey, false)
        .addListener(
            (Future<BackendConnection> f) -> {
              if (f.isSuccess()) {
                release(f.getNow(), Release.CLEAN);
                p.trySuccess(greeting);
              } else {
                p.tryFailure(f.cause());
              }
            });
    return p;
  }

  /** How a borrower gives a connection back. */
  public enum Release {
    /** Nothing was done with it, or only what leaves no state behind. */
    CLEAN,
    /** Session state may remain: COM_RESET_CONNECTION first, and discard it if that fails. */
    RESET,
    /** Close it: a command may be running, or its state is unknown. */
    DISCARD
  }

  /**
   * Lends a connection for {@code key}. Completes on {@code loop}; fails after {@code
   * acquireTimeout} with the pool's counts. The connection comes with no listener; install one
   * before asking it to read.
   *
   * @param needNoSchema the borrower has no default database, so a connection with one does not fit
   */
  public Future<BackendConnection> acquire(EventLoop loop, PoolKey key, boolean needNoSchema) {
    Promise<BackendConnection> promise = loop.newPromise();
    BackendConnection lent;
    List<Create> creates;
    Waiter waiter = null;
    synchronized (this) {
      if (closed) {
        return loop.newFailedFuture(new BackendException("pool '" + name() + "' is shut down"));
      }
      warmKey = key;
      lent = takeIdleLocked(key, needNoSchema, loop);
      if (lent == null) {
        waiter = new Waiter(promise, loop, key, needNoSchema, System.nanoTime());
        waiters.addLast(waiter);
        count(waitingByKey, key, 1);
      }
      creates = fillDemandLocked();
    }
    startAll(creates);
    if (lent != null) {
      acquired.increment();
      promise.trySuccess(lent);
    } else {
      Waiter w = waiter;
      w.timeout =
          loop.schedule(
              () -> timeOut(w), config.acquireTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }
    return promise;
  }

  /** Gives a connection back. Callable from any thread, once per acquire. */
  public void release(BackendConnection c, Release how) {
    if (how == Release.DISCARD || !c.channel.isActive()) {
      destroy(c, "discarded by its borrower");
      return;
    }
    if (how == Release.RESET) {
      synchronized (this) {
        if (c.state != BackendConnection.IN_USE) {
          return;
        }
        c.state = BackendConnection.MAINTENANCE;
      }
      ByteBuf reset = Packets.command(c.channel.alloc(), Commands.COM_RESET_CONNECTION);
      InternalCommand.run(c, reset, config.connectTimeout().toMillis())
          .addListener(
              (Future<InternalCommand.Result> f) -> {
                if (f.isSuccess() && f.getNow().ok()) {
                  // MariaDB keeps the default database across a reset; MySQL documents the same.
                  if (c.variables != null) {
                    afterResetInTransactionMode(c);
                  } else {
                    giveBack(c);
                  }
                } else {
                  destroy(
                      c,
                      "COM_RESET_CONNECTION failed: "
                          + (f.isSuccess() ? f.getNow().error() : f.cause().getMessage()));
                }
              });
      return;
    }
    giveBack(c);
  }

  /**
   * A reset turns state tracking back to the server's defaults, so it is turned on again; and it
   * leaves variables as the server's defaults are, which need not be what a login left
   * (CLIENT_IGNORE_SPACE adds to sql_mode at login only), so they are read back.
   */
  private void afterResetInTransactionMode(BackendConnection c) {
    long timeout = config.connectTimeout().toMillis();
    ByteBuf track =
        Packets.command(
            c.channel.alloc(), Commands.COM_QUERY, BackendConnector.TRACK_STATE_CHANGES);
    InternalCommand.run(c, track, timeout)
        .addListener(
            (Future<InternalCommand.Result> f) -> {
              if (!f.isSuccess() || !f.getNow().ok()) {
                destroy(c, "could not turn session state tracking back on after a reset");
                return;
              }
              ByteBuf snapshot =
                  Packets.command(
                      c.channel.alloc(), Commands.COM_QUERY, c.variables.snapshotQuery());
              InternalCommand.run(c, snapshot, timeout)
                  .addListener(
                      (Future<InternalCommand.Result> g) -> {
                        List<String> row =
                            g.isSuccess() && g.getNow().ok() ? g.getNow().firstRow() : null;
                        if (row == null || row.size() != c.variables.size() + 2) {
                          destroy(c, "could not read the session variables after a reset");
                          return;
                        }
                        c.currentVars =
                            row.subList(1, c.variables.size() + 1).toArray(new String[0]);
                        c.schema(row.get(0), true);
                        c.lastInsertIdOwner = 0;
                        giveBack(c);
                      });
            });
  }

  /**
   * Sends {@code KILL QUERY id} (or {@code KILL id}) over a fresh side connection that is not part
   * of the pool, the way MySQL clients cancel a running statement. The side connection is closed
   * afterwards.
   */
  public Future<Void> kill(EventLoop loop, PoolKey key, long threadId, boolean queryOnly) {
    Promise<Void> done = loop.newPromise();
    connector
        .connect(loop, this, key, w -> Long.MAX_VALUE)
        .addListener(
            (Future<BackendConnection> f) -> {
              if (!f.isSuccess()) {
                done.tryFailure(f.cause());
                return;
              }
              BackendConnection side = f.getNow();
              ByteBuf kill =
                  Packets.command(
                      side.channel.alloc(),
                      Commands.COM_QUERY,
                      (queryOnly ? "KILL QUERY " : "KILL ") + threadId);
              InternalCommand.run(side, kill, config.connectTimeout().toMillis())
                  .addListener(
                      (Future<InternalCommand.Result> r) -> {
                        side.channel.close();
                        if (r.isSuccess()) {
                          done.trySuccess(null);
                        } else {
                          done.tryFailure(r.cause());
                        }
                      });
            });
    return done;
  }

  /** Closes every connection and fails every waiter. */
  public void close() {
    List<BackendConnection> toClose;
    List<Waiter> toFail;
    synchronized (this) {
      closed = true;
      toClose = new ArrayList<>(all);
      toFail = new ArrayList<>(waiters);
      waiters.clear();
      waitingByKey.clear();
    }
    if (housekeeping != null) {
      housekeeping.cancel(false);
    }
    for (Waiter w : toFail) {
      w.promise.tryFailure(new BackendException("pool '" + name() + "' is shutting down"));
    }
    for (BackendConnection c : toClose) {
      c.channel.close();
    }
  }

  /** A consistent snapshot of the counts, for metrics, /stats and error messages. */
  public synchronized PoolStats stats() {
    int total = all.size() + connecting;
    int used = all.size() - idle.size();
    return new PoolStats(
        name(),
        backend.host(),
        backend.port(),
        total,
        used,
        idle.size(),
        waiters.size(),
        connecting,
        maxUsed,
        created.sum(),
        destroyed.sum(),
        connectErrors.sum(),
        acquireTimeouts.sum(),
        acquired.sum(),
        reachable,
        serverWaitTimeoutSeconds,
        traffic);
  }

  // ---------------------------------------------------------------------------------------------------------------

  private void giveBack(BackendConnection c) {
    Waiter next;
    List<Create> creates;
    synchronized (this) {
      if (c.state == BackendConnection.DEAD) {
        return;
      }
      next = giveBackLocked(c);
      creates = fillDemandLocked();
    }
    settle(c, next);
    startAll(creates);
  }

  /**
   * Decides where a returned or new connection goes: to the first waiter it fits, to the idle list,
   * or closed (retired, pool full of idle ones, or its slot needed by a differently keyed waiter).
   * Marks it accordingly; the caller finishes with {@link #settle} after leaving the lock.
   */
  private Waiter giveBackLocked(BackendConnection c) {
    long now = System.nanoTime();
    String why = null;
    Waiter next = null;
    if (closed) {
      why = "pool closed";
    } else if (now - c.retireAtNanos >= 0) {
      why = "reached maxLifetime";
    } else {
      next = takeWaiterLocked(c);
      if (next != null) {
        c.state = BackendConnection.IN_USE;
        return next;
      }
      if (starvingWaiterLocked() != null) {
        why = "making room for a waiting client with other connection settings";
      } else if (idle.size() >= config.maxIdle()) {
        why = "idle connections at pool.maxIdle (" + config.maxIdle() + ")";
      } else {
        c.state = BackendConnection.IDLE;
        c.idleSinceNanos = now;
        c.listener(idleListener);
        idle.addFirst(c);
        return null;
      }
    }
    log.debug("pool '{}': closing {}: {}", name(), c, why);
    markDeadLocked(c);
    return null;
  }

  private void settle(BackendConnection c, Waiter next) {
    if (next != null) {
      handTo(next, c);
    } else if (c.state == BackendConnection.DEAD) {
      c.channel.close();
    }
  }

  private void destroy(BackendConnection c, String why) {
    List<Create> creates;
    synchronized (this) {
      if (c.state == BackendConnection.DEAD) {
        return;
      }
      markDeadLocked(c);
      creates = fillDemandLocked();
    }
    log.debug("pool '{}': closing {}: {}", name(), c, why);
    c.channel.close();
    startAll(creates);
  }

  void onChannelClosed(BackendConnection c) {
    List<Create> creates;
    synchronized (this) {
      if (c.state == BackendConnection.DEAD || !all.contains(c)) {
        return;
      }
      if (c.state == BackendConnection.IDLE && !closed) {
        log.info("pool '{}': idle connection {} was closed by the server; replacing it", name(), c);
      }
      markDeadLocked(c);
      creates = fillDemandLocked();
    }
    startAll(creates);
  }

  private void markDeadLocked(BackendConnection c) {
    if (c.state == BackendConnection.IDLE) {
      idle.remove(c);
    }
    c.state = BackendConnection.DEAD;
    if (all.remove(c)) {
      count(openByKey, c.key, -1);
      destroyed.increment();
    }
  }

  /** Prefers a connection on the borrower's own event loop, so its packets need no thread hop. */
  private BackendConnection takeIdleLocked(PoolKey key, boolean needNoSchema, EventLoop loop) {
    BackendConnection fallback = null;
    for (Iterator<BackendConnection> it = idle.iterator(); it.hasNext(); ) {
      BackendConnection c = it.next();
      if (!fits(c, key, needNoSchema)) {
        continue;
      }
      if (c.channel.eventLoop() == loop) {
        it.remove();
        return lendLocked(c);
      }
      if (fallback == null) {
        fallback = c;
      }
    }
    if (fallback != null) {
      idle.remove(fallback);
      return lendLocked(fallback);
    }
    return null;
  }

  private BackendConnection lendLocked(BackendConnection c) {
    c.state = BackendConnection.IN_USE;
    c.listener(null);
    int used = all.size() - idle.size();
    maxUsed = Math.max(maxUsed, used);
    return c;
  }

  private static boolean fits(BackendConnection c, PoolKey key, boolean needNoSchema) {
    return c.key.equals(key) && (!needNoSchema || (c.schemaKnown && c.schema == null));
  }

  /**
   * The waiter a free connection goes to: one on the connection's own event loop if any fits, so
   * the session's packets need no thread hop for its whole life; but the oldest fitting waiter once
   * it has waited a quarter of acquireTimeout, so no loop's clients starve.
   */
  private Waiter takeWaiterLocked(BackendConnection c) {
    Waiter oldest = null;
    Waiter sameLoop = null;
    for (Waiter w : waiters) {
      if (!fits(c, w.key, w.needNoSchema)) {
        continue;
      }
      if (oldest == null) {
        oldest = w;
      }
      if (w.loop == c.channel.eventLoop()) {
        sameLoop = w;
        break;
      }
    }
    if (oldest == null) {
      return null;
    }
    long patience = config.acquireTimeout().toNanos() / 4;
    Waiter w =
        sameLoop == null || System.nanoTime() - oldest.startNanos > patience ? oldest : sameLoop;
    waiters.remove(w);
    count(waitingByKey, w.key, -1);
    c.listener(null);
    int used = all.size() - idle.size();
    maxUsed = Math.max(maxUsed, used);
    return w;
  }

  private void handTo(Waiter w, BackendConnection c) {
    if (w.timeout != null) {
      w.timeout.cancel(false);
    }
    acquired.increment();
    if (!w.promise.trySuccess(c)) {
      // The borrower gave up (its client left) after we picked it: the connection is untouched.
      synchronized (this) {
        if (c.state == BackendConnection.DEAD) {
          return;
        }
        c.state = BackendConnection.MAINTENANCE;
      }
      giveBack(c);
    }
  }

  private void timeOut(Waiter w) {
    String message;
    synchronized (this) {
      if (!waiters.remove(w)) {
        return;
      }
      count(waitingByKey, w.key, -1);
      int total = all.size() + connecting;
      int used = all.size() - idle.size();
      long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - w.startNanos);
      message =
          "pool '"
              + name()
              + "' ("
              + backend.host()
              + ":"
              + backend.port()
              + "): backend connection not available, request timed out after "
              + waited
              + "ms (total="
              + total
              + ", active="
              + used
              + ", idle="
              + idle.size()
              + ", waiting="
              + waiters.size()
              + ", connecting="
              + connecting
              + ", maxConnections="
              + config.maxConnections()
              + ")"
              + (lastConnectError != null && !reachable
                  ? "; last backend error: " + lastConnectError.getMessage()
                  : "");
    }
    acquireTimeouts.increment();
    w.promise.tryFailure(new AcquireTimeoutException(message, reachable ? null : lastConnectError));
  }

  /** Decides which connections to open now; the caller starts them after leaving the lock. */
  private List<Create> fillDemandLocked() {
    if (closed) {
      return List.of();
    }
    List<Create> out = null;
    long now = System.nanoTime();
    if (now - nextConnectNanos < 0) {
      scheduleRetryLocked(nextConnectNanos - now);
      return List.of();
    }
    for (Waiter w : waiters) {
      if (connecting >= config.maxConcurrentConnects()) {
        break;
      }
      if (get(connectingByKey, w.key) >= get(waitingByKey, w.key)) {
        continue;
      }
      if (all.size() + connecting >= config.maxConnections()) {
        // Younger waiters have waited less; a kind with nothing open is looked for below.
        Waiter starving = starving(w) ? w : firstWithNothingOpenLocked();
        BackendConnection victim = starving == null ? null : idleVictimLocked(starving);
        if (victim == null) {
          break;
        }
        log.debug(
            "pool '{}': closing idle {}: making room for a waiting client with other connection settings",
            name(),
            victim);
        markDeadLocked(victim);
        victim.channel.close();
        w = starving;
      }
      out = add(out, newCreateLocked(w.key, w.loop));
    }
    while (waiters.isEmpty()
        && warmKey != null
        && idle.size() + connecting < config.minIdle()
        && all.size() + connecting < config.maxConnections()
        && connecting < config.maxConcurrentConnects()) {
      out = add(out, newCreateLocked(warmKey, group.next()));
    }
    return out == null ? List.of() : out;
  }

  /**
   * A waiter whose connection settings have no connection open or opening, or that has waited a
   * quarter of acquireTimeout: only for such a waiter is a connection of other settings closed to
   * make room. Otherwise a connection of other settings stays (it serves its own kind's next
   * borrower), since closing and logging in again on every hand-back churns when clients of two
   * drivers share a pool in transaction mode.
   */
  private Waiter starvingWaiterLocked() {
    Waiter oldest = waiters.peekFirst();
    return oldest != null && starving(oldest) ? oldest : firstWithNothingOpenLocked();
  }

  /**
   * The first waiter of a kind with no connection open or opening; looks through the kinds, not
   * every waiter.
   */
  private Waiter firstWithNothingOpenLocked() {
    for (PoolKey key : waitingByKey.keySet()) {
      if (get(openByKey, key) + get(connectingByKey, key) == 0) {
        for (Waiter w : waiters) {
          if (w.key.equals(key)) {
            return w;
          }
        }
      }
    }
    return null;
  }

  private boolean starving(Waiter w) {
    return get(openByKey, w.key) + get(connectingByKey, w.key) == 0
        || System.nanoTime() - w.startNanos > config.acquireTimeout().toNanos() / 4;
  }

  /** An idle connection no waiter can use, to close so that one that fits can be opened. */
  private BackendConnection idleVictimLocked(Waiter w) {
    for (Iterator<BackendConnection> it = idle.descendingIterator(); it.hasNext(); ) {
      BackendConnection c = it.next();
      if (!fits(c, w.key, w.needNoSchema)) {
        return c;
      }
    }
    return null;
  }

  private Create newCreateLocked(PoolKey key, EventLoop loop) {
    connecting++;
    count(connectingByKey, key, 1);
    return new Create(key, loop);
  }

  private void scheduleRetryLocked(long delayNanos) {
    if (retryScheduled) {
      return;
    }
    retryScheduled = true;
    group
        .next()
        .schedule(
            () -> {
              List<Create> creates;
              synchronized (this) {
                retryScheduled = false;
                creates = fillDemandLocked();
              }
              startAll(creates);
            },
            delayNanos,
            TimeUnit.NANOSECONDS);
  }

  private void startAll(List<Create> creates) {
    for (Create c : creates) {
      connector
          .connect(c.loop, this, c.key, this::retireAt)
          .addListener((Future<BackendConnection> f) -> connected(c.key, f));
    }
  }

  /**
   * Retirement time for a new connection: maxLifetime minus up to 2.5% jitter, safely before
   * wait_timeout.
   */
  private long retireAt(long waitTimeoutSeconds) {
    serverWaitTimeoutSeconds = waitTimeoutSeconds;
    long lifetime = effectiveMaxLifetimeNanos(waitTimeoutSeconds);
    long jitter = (long) (lifetime * 0.025 * ThreadLocalRandom.current().nextDouble());
    return System.nanoTime() + lifetime - jitter;
  }

  /**
   * The configured maxLifetime, or the derived default, never at or above 80% of the server's
   * wait_timeout.
   */
  long effectiveMaxLifetimeNanos(long waitTimeoutSeconds) {
    long ceiling =
        waitTimeoutSeconds > 0
            ? TimeUnit.SECONDS.toNanos(waitTimeoutSeconds) * 8 / 10
            : Long.MAX_VALUE;
    if (config.maxLifetime() == null) {
      return Math.min(DEFAULT_MAX_LIFETIME_NANOS, ceiling);
    }
    long configured = config.maxLifetime().toNanos();
    if (configured > ceiling) {
      log.warn(
          "pool '{}': pool.maxLifetime {}s is not safely below the server's wait_timeout {}s; retiring "
              + "connections after {}s instead",
          name(),
          configured / 1_000_000_000L,
          waitTimeoutSeconds,
          ceiling / 1_000_000_000L);
      return ceiling;
    }
    return configured;
  }

  private void connected(PoolKey key, Future<BackendConnection> f) {
    Waiter next = null;
    BackendConnection c = f.isSuccess() ? f.getNow() : null;
    List<Create> creates;
    synchronized (this) {
      connecting--;
      count(connectingByKey, key, -1);
      if (c != null) {
        created.increment();
        reachable = true;
        consecutiveFailures = 0;
        nextConnectNanos = 0;
        greeting = c.greeting;
        all.add(c);
        count(openByKey, c.key, 1);
        c.state = BackendConnection.MAINTENANCE;
        next = giveBackLocked(c);
      } else {
        connectErrors.increment();
        reachable = false;
        lastConnectError = f.cause();
        consecutiveFailures++;
        long backoffMillis = Math.min(1000, 50L << Math.min(5, consecutiveFailures));
        nextConnectNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoffMillis);
      }
      creates = fillDemandLocked();
    }
    if (c == null) {
      log.warn("pool '{}': {}", name(), f.cause().getMessage());
    } else {
      settle(c, next);
    }
    startAll(creates);
  }

  private void housekeep() {
    List<BackendConnection> toClose = new ArrayList<>();
    List<BackendConnection> toPing = new ArrayList<>();
    List<Create> creates;
    synchronized (this) {
      if (closed) {
        return;
      }
      long now = System.nanoTime();
      long idleTimeout = config.idleTimeout().toNanos();
      long validation = config.validationInterval().toNanos();
      // Oldest idle first: the pool hands out the most recently used, so the tail is what decays.
      for (Iterator<BackendConnection> it = idle.descendingIterator(); it.hasNext(); ) {
        BackendConnection c = it.next();
        boolean retire = now - c.retireAtNanos >= 0;
        boolean decay =
            idleTimeout > 0
                && now - c.idleSinceNanos > idleTimeout
                && idle.size() - toClose.size() > config.minIdle();
        if (retire || decay) {
          toClose.add(c);
        } else if (validation > 0
            && now - Math.max(c.validatedNanos, c.idleSinceNanos) > validation) {
          toPing.add(c);
        }
      }
      for (BackendConnection c : toClose) {
        markDeadLocked(c);
      }
      for (BackendConnection c : toPing) {
        idle.remove(c);
        c.state = BackendConnection.MAINTENANCE;
      }
      creates = fillDemandLocked();
      if (all.isEmpty()
          && connecting == 0
          && warmKey != null
          && now - nextProbeNanos >= 0
          && now - nextConnectNanos >= 0) {
        // With no connection open nothing else tells whether the backend is up, and /readyz depends
        // on it: an
        // unready pod gets no clients, so it must find out by itself.
        nextProbeNanos = now + (reachable ? PROBE_WHILE_UP_NANOS : PROBE_WHILE_DOWN_NANOS);
        creates = add(new ArrayList<>(creates), newCreateLocked(warmKey, group.next()));
      }
    }
    for (BackendConnection c : toClose) {
      log.debug("pool '{}': closing idle {} (idleTimeout or maxLifetime)", name(), c);
      c.channel.close();
    }
    for (BackendConnection c : toPing) {
      ByteBuf ping = Packets.command(c.channel.alloc(), Commands.COM_PING);
      InternalCommand.run(c, ping, config.connectTimeout().toMillis())
          .addListener(
              (Future<InternalCommand.Result> f) -> {
                if (f.isSuccess() && f.getNow().ok()) {
                  c.validatedNanos = System.nanoTime();
                  giveBack(c);
                } else {
                  log.info(
                      "pool '{}': idle connection {} failed validation; replacing it", name(), c);
                  destroy(c, "failed validation");
                }
              });
    }
    startAll(creates);
  }

  private static int get(Map<PoolKey, int[]> m, PoolKey k) {
    int[] v = m.get(k);
    return v == null ? 0 : v[0];
  }

  private static void count(Map<PoolKey, int[]> m, PoolKey k, int delta) {
    int[] v = m.computeIfAbsent(k, x -> new int[1]);
    v[0] += delta;
    if (v[0] <= 0) {
      m.remove(k);
    }
  }

  private static <T> List<T> add(List<T> list, T item) {
    List<T> l = list == null ? new ArrayList<>(2) : list;
    l.add(item);
    return l;
  }

  /** A login to start, on the event loop of the client that needs it. */
  private record Create(PoolKey key, EventLoop loop) {}

  private static final class Waiter {
    final Promise<BackendConnection> promise;
    final EventLoop loop;
    final PoolKey key;
    final boolean needNoSchema;
    final long startNanos;
    ScheduledFuture<?> timeout;

    Waiter(
        Promise<BackendConnection> promise,
        EventLoop loop,
        PoolKey key,
        boolean needNoSchema,
        long startNanos) {
      this.promise = promise;
      this.loop = loop;
      this.key = key;
      this.needNoSchema = needNoSchema;
      this.startNanos = startNanos;
    }
  }

  /** Idle connections keep reading (auto-read), so a server-side close is noticed at once. */
  private final class IdleListener implements BackendListener {
    @Override
    public EventExecutor executor() {
      return io.netty.util.concurrent.ImmediateEventExecutor.INSTANCE;
    }

    @Override
    public void onPacket(BackendConnection c, ByteBuf packets) {
      try {
        // A server says why before it closes an idle connection (e.g. MariaDB's 4031 on
        // wait_timeout).
        if (Packets.firstByte(packets) == Packets.ERR) {
          log.info(
              "pool '{}': idle connection {} got {}", name(), c, Packets.describeError(packets));
        }
      } finally {
        packets.release();
      }
      destroy(c, "unsolicited packet while idle");
    }

    @Override
    public void onReadComplete(BackendConnection c) {}

    @Override
    public void onWritabilityChanged(BackendConnection c) {}

    @Override
    public void onClosed(BackendConnection c) {}
  }
}
