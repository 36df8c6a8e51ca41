package dev.mysqlpool.proxy.backend;

import dev.mysqlpool.proxy.backend.ConnectionCreator.Create;
import dev.mysqlpool.proxy.backend.Waiters.Waiter;
import dev.mysqlpool.proxy.config.ProxyConfig.Pool;
import dev.mysqlpool.proxy.config.ProxyConfig.User;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;

/**
 * The borrow/return state machine of one backend's pool: which connections exist, which are idle,
 * who waits, and the hard cap. A connection is {@code IDLE}, {@code IN_USE} (lent), {@code
 * MAINTENANCE} (busy with the pool's own command: login check, reset, ping) or {@code DEAD}; every
 * transition happens under this object's lock, which is held only for a few field updates, never
 * across I/O.
 *
 * <p>The cap: connections open, being opened, and closed by the pool but not yet by the server (see
 * {@link Hangup}) never exceed {@code pool.maxConnections}, so the server never lists more. After
 * the cap is lowered by a reload, idle connections are closed at once and lent ones when they come
 * back, and nothing is opened until the count is below the new cap.
 *
 * <p>Threading: callable from any thread; callbacks (promises) complete on the borrower's loop.
 */
final class PoolCore {
  private final BackendPool pool;
  private final Logger log;
  private final ConnectionCreator creator;
  private final LifetimePolicy lifetime;
  private final GreetingCache greetings;
  private final PoolCounters counters;
  private final KillQueue kills;
  private final IdleListener idleListener = new IdleListener(this);

  // Guarded by this.
  private volatile Pool settings;
  private final Demand demand = new Demand();
  private final Slots slots;
  private final Refill refill;
  private final IdleConnections idle = new IdleConnections();
  private final Waiters waiters = new Waiters(demand);
  private int maxUsed;
  private PoolKey warmKey;
  private boolean closed;

  PoolCore(
      BackendPool pool,
      Pool settings,
      PoolKey warmKey,
      ConnectionCreator creator,
      LifetimePolicy lifetime,
      GreetingCache greetings,
      PoolCounters counters,
      KillQueue kills) {
    this.pool = pool;
    this.log = pool.log();
    this.settings = settings;
    this.warmKey = warmKey;
    this.creator = creator;
    this.lifetime = lifetime;
    this.greetings = greetings;
    this.counters = counters;
    this.kills = kills;
    this.slots = new Slots(demand, counters);
    this.refill =
        new Refill(
            slots,
            waiters,
            demand,
            idle,
            creator,
            c -> {
              markDeadLocked(c);
              hangUp(c);
            },
            this::refill,
            log,
            pool.name());
  }

  Pool settings() {
    return settings;
  }

  boolean reachable() {
    return creator.reachable();
  }

  synchronized PoolKey warmKey() {
    return warmKey;
  }

  /**
   * Users were reloaded: the logins the pool starts on its own (minIdle, probes) use the account's
   * current backend credentials, not those of the last borrower's key. An account no longer
   * configured keeps its key until the next borrow replaces it.
   */
  synchronized void usersChanged(Function<String, User> currentUser) {
    if (warmKey != null) {
      User now = currentUser.apply(warmKey.user().name());
      if (now != null && !now.equals(warmKey.user())) {
        warmKey = new PoolKey(now, warmKey.capabilities(), warmKey.collation());
      }
    }
  }

  /** See {@link BackendPool#acquireIdle}. */
  BackendConnection acquireIdle(EventLoop loop, PoolKey key, boolean needNoSchema) {
    BackendConnection lent;
    List<Create> creates;
    synchronized (this) {
      if (closed) {
        return null;
      }
      warmKey = key;
      lent = idle.take(key, needNoSchema, loop);
      if (lent == null) {
        return null;
      }
      lendLocked(lent);
      creates = fillDemandLocked();
    }
    start(creates);
    counted(lent, loop);
    return lent;
  }

  /** See {@link BackendPool#acquire}. */
  Future<BackendConnection> acquire(EventLoop loop, PoolKey key, boolean needNoSchema) {
    Promise<BackendConnection> promise = loop.newPromise();
    BackendConnection lent;
    List<Create> creates;
    Waiter waiter = null;
    long timeoutMillis;
    synchronized (this) {
      if (closed) {
        return loop.newFailedFuture(
            new BackendException("pool '" + pool.name() + "' is shut down"));
      }
      warmKey = key;
      lent = idle.take(key, needNoSchema, loop);
      if (lent != null) {
        lendLocked(lent);
      } else {
        waiter = new Waiter(promise, loop, key, needNoSchema, System.nanoTime());
        waiters.add(waiter);
      }
      creates = fillDemandLocked();
      timeoutMillis = pool.watch().waitMillis(settings, waiter);
    }
    start(creates);
    if (lent != null) {
      counted(lent, loop);
      promise.trySuccess(lent);
    } else {
      Waiter w = waiter;
      w.timeout = loop.schedule(() -> timeOut(w), timeoutMillis, TimeUnit.MILLISECONDS);
    }
    return promise;
  }

  /** Moves a lent connection to MAINTENANCE for the pool's own command; false if it is not lent. */
  synchronized boolean beginMaintenance(BackendConnection c) {
    if (c.state != BackendConnection.IN_USE) {
      return false;
    }
    c.state = BackendConnection.MAINTENANCE;
    return true;
  }

  /**
   * A connection comes back in a clean state: to a waiter, the idle list, or closed.
   *
   * @param keepalive it comes back from a validation ping, which is not use: it keeps its idle
   *     clock and its place in the idle list, and still decays after idleTimeout
   */
  void giveBack(BackendConnection c, boolean keepalive) {
    Waiter next;
    List<Create> creates;
    synchronized (this) {
      if (c.state == BackendConnection.DEAD) {
        return;
      }
      next = giveBackLocked(c, keepalive);
      creates = fillDemandLocked();
    }
    settle(c, next);
    start(creates);
  }

  /**
   * Decides where a returned or new connection goes: to the first waiter it fits, to the idle list,
   * or closed (retired, above the cap, pool full of idle ones, or its slot needed by a differently
   * keyed waiter). Marks it accordingly; the caller finishes with {@link #settle} after leaving the
   * lock.
   */
  private Waiter giveBackLocked(BackendConnection c, boolean keepalive) {
    idle.pinged(c);
    long now = System.nanoTime();
    Pool s = settings;
    String why;
    if (closed) {
      why = "pool closed";
    } else if (lifetime.retired(c, now)) {
      why = "reached maxLifetime";
    } else if (slots.open() + slots.opening() > s.maxConnections()) {
      // Connections already closing do not count here: they are on their way out, and closing one
      // more for them would shrink the pool below the new cap.
      why = "pool.maxConnections is now " + s.maxConnections();
    } else {
      long patience = s.acquireTimeout().toNanos() / 4;
      Waiter next = waiters.takeFor(c, patience, now);
      if (next != null) {
        lendLocked(c);
        return next;
      }
      if (waiters.starving(patience, now) != null) {
        why = "making room for a waiting client with other connection settings";
      } else if (idle.size() >= s.maxIdle()) {
        why = "idle connections at pool.maxIdle (" + s.maxIdle() + ")";
      } else {
        c.state = BackendConnection.IDLE;
        c.listener(idleListener);
        if (keepalive) {
          idle.addByIdleSince(c);
        } else {
          c.idleSinceNanos = now;
          idle.addMostRecent(c);
        }
        return null;
      }
    }
    log.debug("pool '{}': closing {}: {}", pool.name(), c, why);
    markDeadLocked(c);
    return null;
  }

  private void settle(BackendConnection c, Waiter next) {
    if (next != null) {
      handTo(next, c);
    } else if (c.state == BackendConnection.DEAD) {
      hangUp(c);
    }
  }

  private void handTo(Waiter w, BackendConnection c) {
    if (w.timeout != null) {
      w.timeout.cancel(false);
    }
    counted(c, w.loop);
    if (!w.promise.trySuccess(c)) {
      // The borrower gave up (its client left) after we picked it: the connection is untouched.
      synchronized (this) {
        if (c.state == BackendConnection.DEAD) {
          return;
        }
        c.state = BackendConnection.MAINTENANCE;
      }
      giveBack(c, false);
    }
  }

  private void counted(BackendConnection c, EventLoop borrower) {
    counters.acquired.increment();
    if (c.channel.eventLoop() != borrower) {
      counters.lentAcrossLoops.increment();
    }
  }

  /** Closes a connection and frees its place (unless a KILL for it is pending). */
  void destroy(BackendConnection c, String why) {
    List<Create> creates;
    synchronized (this) {
      if (c.state == BackendConnection.DEAD) {
        return;
      }
      markDeadLocked(c);
      creates = fillDemandLocked();
    }
    log.debug("pool '{}': closing {}: {}", pool.name(), c, why);
    hangUp(c);
    start(creates);
  }

  /**
   * The channel of a pool connection closed, whoever closed it: the server (an open connection is
   * replaced), or the server's end of one the pool closed (its place is free now).
   */
  void onChannelClosed(BackendConnection c) {
    List<Create> creates;
    synchronized (this) {
      if (slots.contains(c)) {
        if (c.state == BackendConnection.IDLE && !closed) {
          log.info(
              "pool '{}': idle connection {} was closed by the server; replacing it",
              pool.name(),
              c);
        }
        markDeadLocked(c);
      }
      if (!slots.closed(c)) {
        return;
      }
      creates = fillDemandLocked();
    }
    start(creates);
  }

  /**
   * Marks the connection serving backend thread {@code threadId} as awaiting a KILL: once
   * discarded, it keeps its place until both the KILL is done and its channel closed, and is not
   * cut off meanwhile. Null if no connection of this pool has that thread.
   */
  synchronized BackendConnection holdUntilKilled(long threadId) {
    return slots.holdUntilKilled(threadId);
  }

  /**
   * The KILL for {@code c}'s thread is done (or failed): if its channel has closed too, its place
   * is free now; if not, the usual deadline for the server to close it applies from now.
   */
  void killAnswered(BackendConnection c) {
    List<Create> creates = List.of();
    boolean cut = false;
    synchronized (this) {
      c.killPending = false;
      if (slots.isClosing(c)) {
        if (c.channel.isActive()) {
          cut = true;
        } else if (slots.closed(c)) {
          creates = fillDemandLocked();
        }
      }
    }
    if (cut) {
      Hangup.cutAfter(c, settings.connectTimeout().toMillis());
    }
    start(creates);
  }

  /**
   * Starts closing a connection marked dead; it keeps its place until the server has closed it (see
   * {@link Hangup}).
   */
  void hangUp(BackendConnection c) {
    Hangup.start(c, c.killPending ? 0 : settings.connectTimeout().toMillis());
  }

  /**
   * Marks a connection dead; it counts as closing until its channel closes. The caller then {@link
   * #hangUp}s it.
   */
  void markDeadLocked(BackendConnection c) {
    if (c.state == BackendConnection.IDLE) {
      idle.remove(c);
    }
    idle.pinged(c);
    c.state = BackendConnection.DEAD;
    slots.closing(c);
  }

  private void lendLocked(BackendConnection c) {
    c.state = BackendConnection.IN_USE;
    c.everLent = true;
    c.listener(null);
    maxUsed = Math.max(maxUsed, slots.open() - idle.size());
  }

  private void timeOut(Waiter w) {
    PoolStats now;
    long waited = System.nanoTime() - w.startNanos;
    synchronized (this) {
      long extra = pool.watch().extraWaitNanos(waited, w.held);
      if (extra > 0 && waiters.contains(w)) {
        // The writer is switching: wait on, up to pool.switchoverTimeout.
        w.held = true;
        w.timeout = w.loop.schedule(() -> timeOut(w), extra, TimeUnit.NANOSECONDS);
        return;
      }
      if (!waiters.remove(w)) {
        return;
      }
      now = stats();
    }
    long waitedMillis = TimeUnit.NANOSECONDS.toMillis(waited);
    if (pool.watch().switching()) {
      w.promise.tryFailure(pool.watch().switchoverTimedOut(waitedMillis));
      return;
    }
    counters.acquireTimeouts.increment();
    w.promise.tryFailure(
        AcquireTimeoutException.of(
            now, waitedMillis, settings.maxConnections(), creator.lastErrorIfDown()));
  }

  /** Opens what waiters and minIdle need now, within the cap; e.g. after a retry's backoff. */
  void refill() {
    List<Create> creates;
    synchronized (this) {
      creator.retryRan();
      creates = fillDemandLocked();
    }
    start(creates);
  }

  /** Decides which connections to open now; the caller starts them after leaving the lock. */
  List<Create> fillDemandLocked() {
    return closed ? List.of() : refill.planLocked(settings, warmKey);
  }

  /** A login to probe a backend with nothing open, or null; see {@link Refill#probeLocked}. */
  Create probeLocked(long now) {
    return closed ? null : refill.probeLocked(settings, warmKey, now);
  }

  boolean closedLocked() {
    return closed;
  }

  IdleConnections idleLocked() {
    return idle;
  }

  /** The open connections, in any state. */
  List<BackendConnection> openLocked() {
    return slots.openConnections();
  }

  /** Takes an idle connection out of the idle list for a validation ping. */
  void pingingLocked(BackendConnection c) {
    idle.takeForPing(c);
    c.state = BackendConnection.MAINTENANCE;
  }

  /** Starts logins decided under the lock; call after leaving it. */
  void start(List<Create> creates) {
    if (!creates.isEmpty()) {
      creator.start(creates, this::connected);
    }
  }

  private void connected(PoolKey key, Future<BackendConnection> f) {
    Waiter next = null;
    BackendConnection c = f.isSuccess() ? f.getNow() : null;
    List<Create> creates;
    synchronized (this) {
      slots.loginEnded(key);
      if (c != null) {
        counters.created.increment();
        creator.succeeded();
        greetings.learn(c.greeting);
        lifetime.assign(c);
        slots.add(c);
        c.state = BackendConnection.MAINTENANCE;
        next = giveBackLocked(c, false);
      } else {
        counters.connectErrors.increment();
        creator.failed(f.cause());
      }
      creates = fillDemandLocked();
    }
    if (c == null) {
      log.warn("pool '{}': {}", pool.name(), f.cause().getMessage());
    } else {
      settle(c, next);
    }
    start(creates);
  }

  /**
   * Applies reloaded settings: a new maxLifetime retimes every connection; idle connections above a
   * lowered cap or maxIdle are closed at once, least recently used first (lent ones close when they
   * come back); a raised cap opens connections for waiters at once.
   */
  void reconfigure(Pool next) {
    List<BackendConnection> toClose = new ArrayList<>();
    List<Create> creates;
    synchronized (this) {
      settings = next;
      lifetime.maxLifetime(next.maxLifetime());
      for (BackendConnection c : slots.openConnections()) {
        lifetime.retime(c);
      }
      while (!idle.isEmpty()
          && (slots.open() + slots.opening() > next.maxConnections()
              || idle.size() > next.maxIdle())) {
        BackendConnection c = idle.oldest();
        markDeadLocked(c);
        toClose.add(c);
      }
      creates = fillDemandLocked();
    }
    for (BackendConnection c : toClose) {
      log.debug("pool '{}': closing idle {}: the pool was resized", pool.name(), c);
      hangUp(c);
    }
    start(creates);
  }

  /** Closes every connection and fails every waiter. */
  void close() {
    List<BackendConnection> toClose;
    List<Waiter> toFail;
    synchronized (this) {
      closed = true;
      toClose = slots.all();
      toFail = waiters.drain();
    }
    for (Waiter w : toFail) {
      w.promise.tryFailure(new BackendException("pool '" + pool.name() + "' is shutting down"));
    }
    for (BackendConnection c : toClose) {
      c.channel.close();
    }
  }

  /** A consistent snapshot of the counts. */
  synchronized PoolStats stats() {
    return counters.snapshot(
        pool.backend(),
        slots.total(),
        slots.open() - idle.size() + slots.closing(),
        idle.size(),
        waiters.size(),
        slots.opening(),
        maxUsed,
        creator.reachable(),
        lifetime.serverWaitTimeoutSeconds(),
        kills);
  }
}
