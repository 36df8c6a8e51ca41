package dev.mysqlpool.proxy.backend;

import dev.mysqlpool.proxy.config.ProxyConfig;
import dev.mysqlpool.proxy.config.ProxyConfig.Backend;
import dev.mysqlpool.proxy.config.ProxyConfig.Pool;
import dev.mysqlpool.proxy.config.ProxyConfig.User;
import dev.mysqlpool.proxy.protocol.HandshakeV10;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connections to one backend server, shared by every event loop of the proxy.
 *
 * <p>Rules it enforces: never more than {@code maxConnections} connections, counting those being
 * opened and those closed by the pool but not yet by the server; at most {@code
 * maxConcurrentConnects} logins at once; idle connections capped at {@code maxIdle} and closed down
 * to {@code minIdle} after {@code idleTimeout}; every connection retired before {@code maxLifetime}
 * (with jitter) and before the server's own {@code wait_timeout}; idle connections pinged every
 * {@code validationInterval}; a borrower that waits longer than {@code acquireTimeout} fails with
 * the counts; KILLs over at most one side connection at a time. The settings can be reloaded
 * ({@link #reconfigure}).
 *
 * <p>The work is split as HikariCP splits it: {@link PoolCore} is the borrow/return state machine
 * (with {@link Slots} for the cap, {@link Waiters}, {@link IdleConnections}, {@link Demand});
 * {@link Refill} and {@link ConnectionCreator} decide and start logins; {@link LifetimePolicy},
 * {@link ConnectionReset}, {@link Housekeeper}, {@link Hangup}, {@link KillQueue}, {@link
 * GreetingCache} and {@link PoolCounters} each own one policy. This class wires them and is the API
 * the sessions use.
 *
 * <p>Threading: callable from any thread. acquire returns a {@link Future} and never blocks. A
 * connection handed out is used on the borrower's thread via its listener.
 */
public final class BackendPool {
  private static final Logger log = LoggerFactory.getLogger(BackendPool.class);

  private final Backend backend;
  private final ProxyConfig.PoolMode mode;
  private final EventLoopGroup group;
  private final PoolCore core;
  private final ConnectionCreator creator;
  private final HostResolver resolver;
  private final Logins logins;
  private final WriterWatch watch;
  private final PoolCounters counters = new PoolCounters();
  private final GreetingCache greetings = new GreetingCache();
  private final ConnectionReset reset;
  private final KillQueue kills;
  private final Housekeeper housekeeper;
  private ScheduledFuture<?> housekeeping;

  /**
   * @param group an event loop group made by {@link dev.mysqlpool.proxy.net.Transport#newGroup}
   */
  public BackendPool(Backend backend, Pool config, EventLoopGroup group, PoolKey warmKey) {
    this(backend, config, group, warmKey, null);
  }

  /**
   * @param logins how connections are opened; null for a {@link BackendConnector} to {@code
   *     backend}
   */
  BackendPool(Backend backend, Pool config, EventLoopGroup group, PoolKey warmKey, Logins logins) {
    this.backend = backend;
    this.mode = config.mode();
    this.group = group;
    LifetimePolicy lifetime = new LifetimePolicy(backend.name(), log, config.maxLifetime());
    // Read at each use, so a reloaded pool.connectTimeout applies to the next login and command.
    BackendConnector connector =
        logins != null ? null : new BackendConnector(backend, this::settings);
    Logins l = logins != null ? logins : connector;
    this.logins = l;
    this.resolver = connector == null ? null : connector.resolver();
    this.kills =
        new KillQueue(
            this,
            l,
            () -> settings().connectTimeout().toMillis(),
            () -> settings().maxConnections(),
            log);
    this.creator = new ConnectionCreator(this, l, group);
    this.core = new PoolCore(this, config, warmKey, creator, lifetime, greetings, counters, kills);
    this.watch =
        new WriterWatch(
            this, core, l, resolver, log, backend.role() == ProxyConfig.BackendRole.WRITER);
    this.reset = new ConnectionReset(() -> settings().connectTimeout().toMillis());
    this.housekeeper =
        new Housekeeper(core, lifetime, new StallProbe(this, l, log), watch, log, backend.name());
  }

  /** Opens {@code minIdle} connections and starts the housekeeping timer. */
  public void start() {
    housekeeping =
        group
            .next()
            .scheduleWithFixedDelay(
                housekeeper,
                Housekeeper.PERIOD_MILLIS,
                Housekeeper.PERIOD_MILLIS,
                TimeUnit.MILLISECONDS);
    core.refill();
  }

  /** The backend's name, as metrics, logs and errors show it. */
  public String name() {
    return backend.name();
  }

  /** The server this pool connects to. */
  public Backend backend() {
    return backend;
  }

  Logger log() {
    return log;
  }

  /** The pool settings in force (they change on reload). */
  Pool settings() {
    return core.settings();
  }

  /**
   * Whether clients hold connections per transaction (state tracking on, variables carried) or per
   * session.
   */
  public boolean transactionMode() {
    return mode == ProxyConfig.PoolMode.TRANSACTION;
  }

  /**
   * Whether connections run with the server's session-state tracking, so a client's session can
   * move to another connection: in transaction mode, and for a writer backend in session mode
   * (whose idle sessions move to the new writer after a switch).
   */
  public boolean tracksSessionState() {
    return transactionMode() || backend.role() == ProxyConfig.BackendRole.WRITER;
  }

  /** Traffic counters the sessions add to. */
  public PoolStats.Counters traffic() {
    return counters.traffic;
  }

  /**
   * True after the last login attempt succeeded (or a connection is open), false after it failed.
   */
  public boolean reachable() {
    return core.reachable();
  }

  /**
   * Why the backend is unreachable (the last login failure), or null while it is reachable. Any
   * thread; never blocks.
   */
  public String unreachableBecause() {
    Throwable t = creator.lastErrorIfDown();
    return t == null ? null : String.valueOf(t.getMessage());
  }

  /**
   * The server's greeting, learned from the first connection. Clients are greeted with its version
   * string, since drivers choose their SQL by it. Opens a connection if none was ever made.
   */
  public Future<HandshakeV10> greeting(EventLoop loop) {
    return greetings.greeting(loop, this, core.warmKey());
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
    return core.acquire(loop, key, needNoSchema);
  }

  /**
   * Lends an idle connection for {@code key} at once, as {@link #acquire} would (one on {@code
   * loop} preferred), or returns null when none fits and the borrower must {@link #acquire}. No
   * future is made: a borrow the idle list serves, the common case in transaction mode, costs no
   * promise and no listener. The connection comes with no listener.
   */
  public BackendConnection acquireIdle(EventLoop loop, PoolKey key, boolean needNoSchema) {
    return core.acquireIdle(loop, key, needNoSchema);
  }

  /** Gives a connection back. Callable from any thread, once per acquire. */
  public void release(BackendConnection c, Release how) {
    if (how == Release.DISCARD || !c.channel.isActive()) {
      core.destroy(c, "discarded by its borrower");
      return;
    }
    if (how == Release.RESET) {
      if (!core.beginMaintenance(c)) {
        return;
      }
      reset
          .run(c)
          .addListener(
              (Future<String> f) -> {
                String failure = f.getNow();
                if (failure == null) {
                  core.giveBack(c, false);
                } else {
                  core.destroy(c, failure);
                }
              });
      return;
    }
    core.giveBack(c, false);
  }

  /**
   * Sends {@code KILL QUERY id} (or {@code KILL id}) over a side connection that is not part of the
   * pool, the way MySQL clients cancel a running statement (see {@link KillQueue}: one side
   * connection at a time, requests queued). For {@code KILL id} of a pool connection, that
   * connection keeps its place under maxConnections until the KILL is answered, so discarding it
   * meanwhile frees no room for a new login while the server still runs its thread.
   */
  public Future<Void> kill(EventLoop loop, PoolKey key, long threadId, boolean queryOnly) {
    BackendConnection victim = queryOnly ? null : core.holdUntilKilled(threadId);
    Future<Void> done = kills.kill(loop, key, threadId, queryOnly);
    if (victim != null) {
      done.addListener(f -> core.killAnswered(victim));
    }
    return done;
  }

  /** Users were reloaded: logins the pool starts by itself use the accounts as configured now. */
  public void usersChanged(Function<String, User> currentUser) {
    core.usersChanged(currentUser);
  }

  /**
   * Applies reloaded pool settings without a restart (pool.mode is fixed at start and must not
   * differ): a raised maxConnections serves waiters at once; a lowered one closes idle connections
   * at once and lent ones when they come back, and opens nothing until the pool is below it, so the
   * backend never sees more than the larger of the two caps. Timers read the new values from their
   * next run; a waiter keeps the acquireTimeout it started with.
   *
   * @throws IllegalArgumentException if {@code next} has another pool.mode
   */
  public void reconfigure(Pool next) {
    if (next.mode() != mode) {
      throw new IllegalArgumentException(
          "pool.mode cannot change without a restart (" + mode + " -> " + next.mode() + ")");
    }
    Pool before = core.settings();
    core.reconfigure(next);
    log.info(
        "pool '{}': settings reloaded (maxConnections {} -> {}, minIdle {} -> {}, maxIdle {} -> {})",
        name(),
        before.maxConnections(),
        next.maxConnections(),
        before.minIdle(),
        next.minIdle(),
        before.maxIdle(),
        next.maxIdle());
  }

  /**
   * A client's statement on {@code c} failed with a read-only error (1290, 1836, 1792): on a writer
   * backend the pool checks the server's role at once. Any thread; never blocks.
   *
   * @param serverReadOnly the error's text says the server runs read-only (1290 for --read-only,
   *     1836): that is the answer, and a switch starts at once; otherwise (1792, 1290 for another
   *     option) the pool asks the server
   * @param toldClient the client is told that the writer changed (counted in the switch stats)
   * @return true when the backend is declared a writer, so the error may mean the writer changed
   */
  public boolean readOnlyError(BackendConnection c, boolean serverReadOnly, boolean toldClient) {
    if (!watch.writer()) {
      return false;
    }
    if (toldClient) {
      watch.clientErrored();
    }
    if (serverReadOnly) {
      watch.readOnly(c, "a client's statement was refused as read-only");
    } else {
      watch.readOnlyError(c);
    }
    return true;
  }

  /** Whether this backend is declared {@code role: writer}, so the pool follows its writer. */
  public boolean followsWriter() {
    return watch.writer();
  }

  /** The writer switches of this backend so far. */
  public SwitchStats switchStats() {
    return watch.stats();
  }

  WriterWatch watch() {
    return watch;
  }

  /** How this pool logs in, for side connections (lag checks) that are not part of it. */
  Logins logins() {
    return logins;
  }

  /** The account and settings the pool's own logins use now; null before any user is known. */
  PoolKey sideLoginKey() {
    return core.warmKey();
  }

  /**
   * A side connection's login ended ({@code failure} null when it succeeded): it tells whether the
   * server is reachable just as the pool's own logins do, for {@link #reachable()} and the backoff.
   */
  void sideLoginEnded(Throwable failure) {
    synchronized (core) {
      if (failure == null) {
        creator.succeeded();
      } else {
        creator.failed(failure);
      }
    }
  }

  /**
   * Bounds the JVM's DNS cache to {@code ttl} (unless configured already), so re-resolving a
   * backend name after {@code pool.dnsTtl} gets a fresh answer. Call before any name is resolved.
   */
  public static void boundJvmDnsCache(java.time.Duration ttl) {
    HostResolver.boundJvmCache(ttl.toSeconds());
  }

  /** Closes every connection and fails every waiter. */
  public void close() {
    if (housekeeping != null) {
      housekeeping.cancel(false);
    }
    if (resolver != null) {
      resolver.close();
    }
    kills.close();
    core.close();
  }

  /** A consistent snapshot of the counts, for metrics, /stats and error messages. */
  public PoolStats stats() {
    return core.stats();
  }

  void onChannelClosed(BackendConnection c) {
    core.onChannelClosed(c);
  }
}
