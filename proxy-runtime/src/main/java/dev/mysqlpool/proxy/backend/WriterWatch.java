package dev.mysqlpool.proxy.backend;

import dev.mysqlpool.proxy.backend.ConnectionCreator.Create;
import dev.mysqlpool.proxy.config.ProxyConfig.Pool;
import io.netty.util.concurrent.Future;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;

/**
 * Follows the writer of a backend declared {@code role: writer} through a switchover or failover.
 *
 * <p>A writer that turns read-only (seen after a login, at validation, or confirmed after a
 * client's statement failed with 1290, 1836 or 1792) starts a <i>switch</i>: every open connection
 * retires (idle ones close at once, lent ones when they come back), nothing is lent to a read-only
 * server again, and borrowers wait up to {@code pool.switchoverTimeout} instead of {@code
 * acquireTimeout} while the pool logs in again and again, resolving the host name afresh, until it
 * reaches a writable server. The switch ends with the first connection to one. Independently, a
 * host name that now resolves elsewhere retires the connections to the address it left.
 *
 * <p>Threading: any thread; the pool's lock guards the connections, the rest is atomic.
 */
final class WriterWatch {
  private final BackendPool pool;
  private final PoolCore core;
  private final Logins logins;
  private final HostResolver resolver;
  private final Logger log;
  private final boolean writer;
  private final AtomicBoolean confirming = new AtomicBoolean();

  private volatile boolean switching;
  private volatile long switchStartedNanos;
  private volatile long lastSwitchMillis = -1;
  private volatile String lastSwitchAt;
  private volatile String writerAddress;
  private volatile String role = "unknown";
  private volatile String lastReadOnly;
  private final LongAdder switches = new LongAdder();
  private final LongAdder clientsHeld = new LongAdder();
  private final LongAdder clientsErrored = new LongAdder();
  private final LongAdder switchoverTimeouts = new LongAdder();

  /**
   * @param resolver null when the pool does not open its own connections (tests)
   */
  WriterWatch(
      BackendPool pool,
      PoolCore core,
      Logins logins,
      HostResolver resolver,
      Logger log,
      boolean writer) {
    this.pool = pool;
    this.core = core;
    this.logins = logins;
    this.resolver = resolver;
    this.log = log;
    this.writer = writer;
    if (!writer) {
      role = "any";
    }
  }

  boolean writer() {
    return writer;
  }

  boolean switching() {
    return switching;
  }

  /** A new or validated connection's server is writable: a switch in progress is over. */
  void writable(BackendConnection c) {
    role = "writer";
    writerAddress = address(c);
    if (switching && endSwitch()) {
      long millis = lastSwitchMillis;
      log.warn(
          "pool '{}': writer switch done in {}ms: {} is writable", pool.name(), millis, address(c));
    }
  }

  /**
   * {@code c}'s server is read-only: a writer that was, starts a switch. A connection already
   * retiring is known to be on the old writer; its errors start nothing.
   */
  void readOnly(BackendConnection c, String why) {
    if (c.retiring) {
      return;
    }
    role = "read-only";
    lastReadOnly = "backend '" + pool.name() + "' at " + address(c) + " is read-only (" + why + ")";
    if (switching || !startSwitch()) {
      return;
    }
    log.warn(
        "pool '{}': {}: the writer is switching; retiring every connection, borrowers wait up to"
            + " pool.switchoverTimeout ({}ms)",
        pool.name(),
        lastReadOnly,
        pool.settings().switchoverTimeout().toMillis());
    retire(null);
  }

  /** Starts a switch; false when one runs already (several threads may see read-only at once). */
  private synchronized boolean startSwitch() {
    if (switching) {
      return false;
    }
    switchStartedNanos = System.nanoTime();
    switches.increment();
    switching = true;
    return true;
  }

  /** Ends the switch; false when another thread ended it first. */
  private synchronized boolean endSwitch() {
    if (!switching) {
      return false;
    }
    switching = false;
    lastSwitchMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - switchStartedNanos);
    // Wall-clock, for people and the operator comparing it with other clocks; durations above use
    // nanoTime.
    lastSwitchAt = Instant.now().truncatedTo(ChronoUnit.MILLIS).toString();
    return true;
  }

  /**
   * A client's statement on {@code c} failed with an error that may mean read-only (1792, or 1290
   * for another option than --read-only): confirm at once over a side connection, as {@code c} is
   * lent. A server that answers writable at another address means the name moved; the connections
   * to the old one retire.
   */
  void readOnlyError(BackendConnection c) {
    if (!writer || switching || !confirming.compareAndSet(false, true)) {
      return;
    }
    long timeout = pool.settings().connectTimeout().toMillis();
    logins
        .login(c.channel.eventLoop(), pool, c.key, true)
        .addListener(
            (Future<BackendConnection> f) -> {
              if (!f.isSuccess()) {
                confirming.set(false);
                return;
              }
              BackendConnection side = f.getNow();
              RoleCheck.readOnlyReason(side, timeout)
                  .addListener(
                      (Future<String> r) -> {
                        confirming.set(false);
                        Hangup.start(side, timeout);
                        if (!r.isSuccess()) {
                          return;
                        }
                        if (r.getNow() != null) {
                          readOnly(side, r.getNow());
                        } else if (remote(side) != null) {
                          retire(List.of(remote(side)));
                        }
                      });
            });
  }

  /**
   * From the housekeeping pass, for a writer: resolves the host name again when its answer is older
   * than {@code pool.dnsTtl} (at most once a second); connections to an address it no longer gives
   * retire. Other backends only resolve again for new connections: a name that answers with a
   * changing subset of its servers would otherwise churn connections.
   */
  void checkAddresses() {
    if (writer && resolver != null) {
      resolver.refreshIfStale(() -> retire(resolver.current()));
    }
  }

  /** Retires every open connection, or those not at one of {@code keep}; idle ones close now. */
  private void retire(List<InetAddress> keep) {
    List<BackendConnection> toClose = new ArrayList<>();
    List<Create> creates;
    synchronized (core) {
      for (BackendConnection c : core.openLocked()) {
        if (keep != null && (keep.isEmpty() || keep.contains(remote(c)))) {
          continue;
        }
        c.retiring = true;
        if (c.state == BackendConnection.IDLE) {
          core.markDeadLocked(c);
          toClose.add(c);
        }
      }
      creates = core.fillDemandLocked();
    }
    if (keep != null && !toClose.isEmpty()) {
      log.info(
          "pool '{}': host name now resolves to {}; retiring connections to other addresses",
          pool.name(),
          keep);
    }
    for (BackendConnection c : toClose) {
      core.hangUp(c);
    }
    core.start(creates);
  }

  /**
   * How much longer a borrower that waited {@code waitedNanos} may wait because the writer is
   * switching; 0 when it must fail now. The first extension counts it as held.
   */
  long extraWaitNanos(long waitedNanos, boolean alreadyHeld) {
    if (!switching) {
      return 0;
    }
    long left = pool.settings().switchoverTimeout().toNanos() - waitedNanos;
    if (left > 0 && !alreadyHeld) {
      clientsHeld.increment();
    }
    return Math.max(0, left);
  }

  /**
   * How long a new borrower may wait: {@code acquireTimeout}, or {@code switchoverTimeout} while
   * the writer switches (the borrower then counts as held). Under the pool's lock.
   *
   * @param w the borrower, or null when it was served at once
   */
  long waitMillis(Pool s, Waiters.Waiter w) {
    long millis = s.acquireTimeout().toMillis();
    if (w != null && switching) {
      w.held = true;
      clientsHeld.increment();
      millis = Math.max(millis, s.switchoverTimeout().toMillis());
    }
    return millis;
  }

  /** The error of a borrower that waited the whole switchoverTimeout. */
  AcquireTimeoutException switchoverTimedOut(long waitedMillis) {
    switchoverTimeouts.increment();
    return new AcquireTimeoutException(
        "pool '"
            + pool.name()
            + "' ("
            + pool.backend().host()
            + ":"
            + pool.backend().port()
            + "): the writer is switching and no writable server answered within"
            + " pool.switchoverTimeout ("
            + pool.settings().switchoverTimeout().toMillis()
            + "ms; waited "
            + waitedMillis
            + "ms)"
            + (lastReadOnly == null ? "" : "; last seen: " + lastReadOnly),
        null);
  }

  /** A client's transaction was told the writer changed under it. */
  void clientErrored() {
    clientsErrored.increment();
  }

  /** The numbers /stats and /metrics show. */
  SwitchStats stats() {
    return new SwitchStats(
        role,
        switching,
        switches.sum(),
        lastSwitchMillis,
        lastSwitchAt,
        writerAddress,
        clientsHeld.sum(),
        clientsErrored.sum(),
        switchoverTimeouts.sum());
  }

  private static InetAddress remote(BackendConnection c) {
    SocketAddress a = c.channel.remoteAddress();
    return a instanceof InetSocketAddress i ? i.getAddress() : null;
  }

  private static String address(BackendConnection c) {
    SocketAddress a = c.channel.remoteAddress();
    return a instanceof InetSocketAddress i
        ? i.getAddress().getHostAddress() + ":" + i.getPort()
        : String.valueOf(a);
  }
}
