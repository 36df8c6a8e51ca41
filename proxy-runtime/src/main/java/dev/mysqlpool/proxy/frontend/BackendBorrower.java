package dev.mysqlpool.proxy.frontend;

import dev.mysqlpool.proxy.backend.AcquireTimeoutException;
import dev.mysqlpool.proxy.backend.BackendConnection;
import dev.mysqlpool.proxy.backend.BackendPool;
import dev.mysqlpool.proxy.backend.PoolKey;
import dev.mysqlpool.proxy.protocol.Capabilities;
import dev.mysqlpool.proxy.protocol.Commands;
import dev.mysqlpool.proxy.protocol.ErrorCodes;
import dev.mysqlpool.proxy.protocol.Packets;
import io.micrometer.core.instrument.Timer;
import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.FutureListener;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Borrows a backend connection for one {@link ClientSession} when its next command needs the
 * server, from the pool that command goes to, and gives the lent connection what the client
 * carries: its default database here, the rest through the {@link SessionMode}. A borrow that fails
 * answers the waiting command with the pool's error (1040-like {@link ErrorCodes#POOL_TIMEOUT}).
 *
 * <p>Threading: the session's event loop.
 */
final class BackendBorrower {
  /** Logs as the session: what a client's session logs, operators find under one logger name. */
  private static final Logger log = LoggerFactory.getLogger(ClientSession.class);

  private final ClientSession session;
  private final BackendRelay relay;
  private final CommandBacklog queued;

  /** The key of the connections this session borrows; kept: it borrows once per transaction. */
  private PoolKey poolKey;

  private boolean acquiring;
  private long acquireStartNanos;

  /** The pool a borrow waits on, while it waits. */
  private BackendPool waitingOn;

  /** Made once: a borrow that waits costs the pool's promise, not a listener of its own too. */
  private final FutureListener<BackendConnection> acquired = this::onAcquired;

  /** The acquire timer of {@link #acquireTimerPool}, the pool of the last borrow. */
  private Timer acquireTimer;

  private BackendPool acquireTimerPool;

  /** Restores the client's default database on a lent connection. */
  private final ProxyCommand initDb =
      new ProxyCommand(true, true) {
        @Override
        void done(String error, List<String> firstRow) {
          if (error != null) {
            relay.backend().session().schemaUnknown();
            session.schema(null);
          }
        }
      };

  BackendBorrower(ClientSession session, BackendRelay relay, CommandBacklog queued) {
    this.session = session;
    this.relay = relay;
    this.queued = queued;
  }

  /** Whether a borrow is under way (the session's commands wait for it). */
  boolean acquiring() {
    return acquiring;
  }

  /** The session changed identity: the next borrow builds its key again. */
  void forgetKey() {
    poolKey = null;
  }

  /** Borrows a connection for the command first in the session's queue. */
  void acquire() {
    acquiring = true;
    acquireStartNanos = System.nanoTime();
    if (poolKey == null
        || poolKey.user() != session.user
        || poolKey.collation() != session.collation) {
      // Transaction mode needs the server's session-state reports whether the client asked for
      // them or not.
      int flags =
          session.capabilities & Capabilities.BACKEND_PASSTHROUGH
              | (session.mode() != SessionMode.SESSION ? Capabilities.CLIENT_SESSION_TRACK : 0);
      poolKey = new PoolKey(session.user, flags, session.collation);
    }
    ReadRouting routing = session.routing();
    BackendPool p =
        routing != null ? routing.poolFor(queued.first(), session.pool()) : session.pool();
    borrow(p);
  }

  /** Takes an idle connection at once when one fits; otherwise waits for the pool's future. */
  private void borrow(BackendPool p) {
    BackendConnection idle = p.acquireIdle(session.loop, poolKey, session.schema == null);
    if (idle != null) {
      onAcquired(p, idle, null);
      return;
    }
    waitingOn = p;
    p.acquire(session.loop, poolKey, session.schema == null).addListener(acquired);
  }

  private void onAcquired(Future<BackendConnection> f) {
    BackendPool p = waitingOn;
    waitingOn = null;
    onAcquired(p, f.isSuccess() ? f.getNow() : null, f.cause());
  }

  /** The borrow from {@code p} ended: with {@code backend}, or null and why not. */
  private void onAcquired(BackendPool p, BackendConnection backend, Throwable cause) {
    acquiring = false;
    if (p != acquireTimerPool) {
      // As RelayMeter's query timer: looked up only when the pool changes.
      acquireTimer = session.frontend.acquireTimer(p.name());
      acquireTimerPool = p;
    }
    acquireTimer.record(System.nanoTime() - acquireStartNanos, TimeUnit.NANOSECONDS);
    if (session.closed()) {
      if (backend != null) {
        p.release(backend, BackendPool.Release.CLEAN);
      }
      return;
    }
    if (backend == null) {
      ReadRouting routing = session.routing();
      if (routing != null && routing.isReader(p)) {
        // A reader that is down or full costs the client no error: the writer serves the read.
        log.info(
            "client #{}: reader '{}' unavailable ({}); the writer serves the read",
            session.id,
            p.name(),
            cause.getMessage());
        acquiring = true;
        acquireStartNanos = System.nanoTime();
        borrow(routing.readerUnavailable(session.pool()));
        return;
      }
      failed(cause);
      return;
    }
    relay.lend(backend);
    String schema = session.schema;
    if (schema != null && !schema.equals(backend.session().schema())) {
      relay.sendOwn(initDb, Packets.command(session.alloc(), Commands.COM_INIT_DB, schema));
      backend.session().schemaIs(schema);
    }
    session.mode().onLent(backend);
    if (session.routing() != null) {
      session.routing().onLent(backend);
    }
    // Read the backend only while the client can take what it sends: a slow reader slows only
    // its own backend.
    AutoRead.set(backend.channel(), session.client.isWritable());
    if (!relay.blocked()) {
      session.drainQueue();
    } else {
      relay.flush();
    }
  }

  private void failed(Throwable cause) {
    session
        .metrics()
        .error(
            cause instanceof AcquireTimeoutException ? "acquire_timeout" : "backend_unavailable");
    log.warn("client #{} ({}): {}", session.id, session.describe(), cause.getMessage());
    ByteBuf first = queued.next();
    if (session.routing() != null) {
      session.routing().forget();
    }
    int seq = Packets.sequenceId(first) + 1;
    first.release();
    session.writeLocal(
        Packets.err(session.alloc(), seq, ErrorCodes.POOL_TIMEOUT, "HY000", cause.getMessage()));
    session.drainQueue();
  }
}
