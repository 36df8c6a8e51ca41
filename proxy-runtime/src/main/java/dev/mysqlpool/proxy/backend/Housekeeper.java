package dev.mysqlpool.proxy.backend;

import dev.mysqlpool.proxy.backend.ConnectionCreator.Create;
import dev.mysqlpool.proxy.config.ProxyConfig.Pool;
import dev.mysqlpool.proxy.protocol.Commands;
import dev.mysqlpool.proxy.protocol.Packets;
import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.Future;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.slf4j.Logger;

/**
 * The pool's periodic pass (every 250ms): retires idle connections past their lifetime, lets idle
 * ones above {@code minIdle} decay after {@code idleTimeout}, pings the others every {@code
 * validationInterval}, opens what is missing and probes a backend with nothing open. A ping is a
 * keepalive, not use: the connection keeps its idle clock, so pings at 30s do not stop a 10m
 * idleTimeout. Lent connections that wait longer than the keepalive window for a reply go to {@link
 * StallProbe}.
 */
final class Housekeeper implements Runnable {
  static final long PERIOD_MILLIS = 250;

  private final PoolCore core;
  private final LifetimePolicy lifetime;
  private final Logger log;
  private final String poolName;
  private final StallProbe stalls;
  private final WriterWatch watch;

  Housekeeper(
      PoolCore core,
      LifetimePolicy lifetime,
      StallProbe stalls,
      WriterWatch watch,
      Logger log,
      String poolName) {
    this.core = core;
    this.watch = watch;
    this.lifetime = lifetime;
    this.stalls = stalls;
    this.log = log;
    this.poolName = poolName;
  }

  /**
   * One pass over the idle connections, least recently used first, deciding under the pool's lock;
   * closes, logins and pings start after leaving it.
   */
  @Override
  public void run() {
    Pool s = core.settings();
    long idleTimeout = s.idleTimeout().toNanos();
    long validation = s.validationInterval().toNanos();
    List<BackendConnection> toClose = new ArrayList<>();
    List<BackendConnection> toPing = new ArrayList<>();
    List<Create> creates;
    List<BackendConnection> stalled;
    long window = s.keepAliveWindow().toNanos();
    synchronized (core) {
      if (core.closedLocked()) {
        return;
      }
      long now = System.nanoTime();
      IdleConnections idle = core.idleLocked();
      for (Iterator<BackendConnection> it = idle.oldestFirst(); it.hasNext(); ) {
        BackendConnection c = it.next();
        boolean decayed =
            idleTimeout > 0
                && now - c.idleSinceNanos > idleTimeout
                && idle.sizeWithPinging() - toClose.size() > s.minIdle();
        if (lifetime.retired(c, now) || decayed) {
          toClose.add(c);
        } else if (validation > 0
            && now - Math.max(c.validatedNanos, c.idleSinceNanos) > validation) {
          toPing.add(c);
        }
      }
      for (BackendConnection c : toClose) {
        core.markDeadLocked(c);
      }
      for (BackendConnection c : toPing) {
        core.pingingLocked(c);
      }
      stalled = stalls.stalledLocked(core.openLocked(), now, window);
      creates = core.fillDemandLocked();
      Create probe = core.probeLocked(now);
      if (probe != null) {
        creates = new ArrayList<>(creates);
        creates.add(probe);
      }
    }
    for (BackendConnection c : toClose) {
      log.debug("pool '{}': closing idle {} (idleTimeout or maxLifetime)", poolName, c);
      core.hangUp(c);
    }
    core.start(creates);
    stalls.probe(stalled, window);
    watch.checkAddresses();
    for (BackendConnection c : toPing) {
      ping(c, s.connectTimeout().toMillis());
    }
  }

  /** After the ping of a writer's connection: a server that turned read-only starts a switch. */
  private void checkRole(BackendConnection c, long timeoutMillis) {
    RoleCheck.readOnlyReason(c, timeoutMillis)
        .addListener(
            (Future<String> r) -> {
              if (r.isSuccess() && r.getNow() == null) {
                watch.writable(c);
                core.giveBack(c, true);
              } else if (r.isSuccess()) {
                core.destroy(c, "its server is read-only now");
                watch.readOnly(c, r.getNow());
              } else {
                core.destroy(c, "failed the role check");
              }
            });
  }

  private void ping(BackendConnection c, long timeoutMillis) {
    ByteBuf ping = Packets.command(c.channel.alloc(), Commands.COM_PING);
    InternalCommand.run(c, ping, timeoutMillis)
        .addListener(
            (Future<InternalCommand.Result> f) -> {
              if (f.isSuccess() && f.getNow().ok()) {
                c.validatedNanos = System.nanoTime();
                if (watch.writer()) {
                  checkRole(c, timeoutMillis);
                } else {
                  core.giveBack(c, true);
                }
              } else {
                log.info(
                    "pool '{}': idle connection {} failed validation; replacing it", poolName, c);
                core.destroy(c, "failed validation");
              }
            });
  }
}
