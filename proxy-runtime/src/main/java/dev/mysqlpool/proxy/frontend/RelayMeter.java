package dev.mysqlpool.proxy.frontend;

import dev.mysqlpool.proxy.backend.BackendPool;
import dev.mysqlpool.proxy.digest.DigestRecorder;
import dev.mysqlpool.proxy.protocol.ResponseTracker;
import io.micrometer.core.instrument.Timer;
import io.netty.buffer.ByteBuf;
import java.util.concurrent.TimeUnit;

/**
 * What a session's relaying adds to the proxy's metrics: the bytes each way, added to the lent
 * pool's shared counters once per read batch rather than per packet, and per client command the
 * pool's query timer and counters and the statement's digest entry.
 *
 * <p>Threading: the session's event loop.
 */
final class RelayMeter {
  private final ClientSession session;
  private final DigestRecorder digests;

  private BackendPool pool;
  private Timer queryTimer;

  /** When the command now answered started: sent, or the reply before it done. */
  private long commandStartNanos;

  private long unreportedBytesSent;
  private long unreportedBytesReceived;

  RelayMeter(ClientSession session) {
    this.session = session;
    this.digests = session.frontend.digests.recorder(session.loop);
  }

  /** A connection of {@code lentFrom} is lent: what follows counts for that pool. */
  void lent(BackendPool lentFrom) {
    if (lentFrom != pool || queryTimer == null) {
      // Transaction mode lends on every statement, mostly from the same pool: look its timer up
      // only when the pool changes (the timers are made once, with the pools).
      queryTimer = session.frontend.queryTimer(lentFrom.name());
    }
    pool = lentFrom;
    digests.reset();
  }

  /**
   * A client command that the server answers went out; {@code onlyOnePending}: no earlier reply is
   * owed, so its time starts now.
   */
  void commandSent(ByteBuf packet, int command, boolean onlyOnePending) {
    digests.sent(packet, command, pool.name(), session.user.name(), session.lastStatus());
    if (onlyOnePending) {
      commandStartNanos = System.nanoTime();
    }
  }

  void bytesSent(int bytes) {
    unreportedBytesSent += bytes;
  }

  void bytesReceived(int bytes) {
    unreportedBytesReceived += bytes;
  }

  /** The reply the tracker just finished reached the client: counted, timed, digested. */
  void replyDone(ResponseTracker tracker) {
    pool.traffic().queries.increment();
    if (tracker.lastWasError()) {
      pool.traffic().queryErrors.increment();
    }
    long now = System.nanoTime();
    queryTimer.record(now - commandStartNanos, TimeUnit.NANOSECONDS);
    digests.done(tracker, now - commandStartNanos, now);
    commandStartNanos = now;
  }

  /** The reply was held back (its command goes again): its digest entry is not recorded. */
  void replySkipped() {
    digests.skip();
  }

  /** Adds the bytes relayed since the last report to the lent pool's counters. */
  void report() {
    if (unreportedBytesSent + unreportedBytesReceived > 0) {
      pool.traffic().bytesSent.add(unreportedBytesSent);
      pool.traffic().bytesReceived.add(unreportedBytesReceived);
      unreportedBytesSent = 0;
      unreportedBytesReceived = 0;
    }
  }
}
