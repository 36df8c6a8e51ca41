package dev.mysqlpool.proxy.frontend;

import dev.mysqlpool.proxy.backend.BackendConnection;
import dev.mysqlpool.proxy.backend.BackendListener;
import dev.mysqlpool.proxy.backend.BackendPool;
import dev.mysqlpool.proxy.protocol.Capabilities;
import dev.mysqlpool.proxy.protocol.Commands;
import dev.mysqlpool.proxy.protocol.ErrorCodes;
import dev.mysqlpool.proxy.protocol.PacketCursor;
import dev.mysqlpool.proxy.protocol.Packets;
import dev.mysqlpool.proxy.protocol.ResponseTracker;
import dev.mysqlpool.proxy.protocol.ServerStatus;
import dev.mysqlpool.proxy.sql.Keyword;
import dev.mysqlpool.proxy.sql.LoadLocal;
import dev.mysqlpool.proxy.sql.SqlLexer;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.util.concurrent.EventExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The backend connection lent to one {@link ClientSession}, while it is lent: client packets go out
 * through it, and the server's replies come back through it, followed packet by packet by a {@link
 * ResponseTracker} whose queue also says whose each reply is (a client command's, or one of the
 * proxy's own {@link ProxyCommand}s, which are consumed here).
 *
 * <p>Threading: the client's event loop (the backend channel's events are handed there by {@link
 * BackendListener}). Ownership: a client packet passed to {@link #send} and a backend batch passed
 * to {@link #onPacket} are forwarded or released here.
 */
final class BackendRelay implements BackendListener {
  /** Logs as the session: what a client's session logs, operators find under one logger name. */
  private static final Logger log = LoggerFactory.getLogger(ClientSession.class);

  private final ClientSession session;
  private final Channel client;
  private BackendConnection backend;

  /** Reset at each lend, so one tracker serves the whole session. */
  private final ResponseTracker tracker = new ResponseTracker(0);

  /** Walks each batch of replies in place; reset per batch. */
  private final PacketCursor cursor = new PacketCursor();

  private final LeakWatch leakWatch;
  private final OwnReplies own;
  private final RelayMeter meter;

  /** Client commands sent on this connection since it was lent. */
  private int commandsSinceLend;

  private boolean releaseWanted;
  private boolean optionChanged;
  private boolean flushBackend;
  private boolean flushClient;
  private boolean retryWanted;

  /** A watcher that sends its command again once the current batch is handled (error 1615). */
  private ReplyWatcher resend;

  private final HeldStatement held = new HeldStatement();
  private final ClientContinuation continuation = new ClientContinuation();

  BackendRelay(ClientSession session) {
    this.session = session;
    this.client = session.client;
    this.leakWatch = new LeakWatch(session);
    this.own = new OwnReplies(session);
    this.meter = new RelayMeter(session);
  }

  /** The connection lent now, or null. */
  BackendConnection backend() {
    return backend;
  }

  ResponseTracker tracker() {
    return tracker;
  }

  /** Replies still owed by the server (client commands and the proxy's own). */
  int pending() {
    return tracker.pending();
  }

  int commandsSinceLend() {
    return commandsSinceLend;
  }

  /** Whether client commands must wait (the proxy's own commands are in flight). */
  boolean blocked() {
    return own.blocking();
  }

  /** Whether a command, an upload or a continuation of a large packet is in flight. */
  boolean busy() {
    return tracker.pending() > 0 || continuation.expected();
  }

  /** The connection cannot take more client packets now. */
  boolean backendFull() {
    return backend != null && !backend.channel().isWritable();
  }

  /** Starts a lend: from now on this connection's events come here. */
  void lend(BackendConnection c) {
    backend = c;
    tracker.reset(c.capabilities());
    meter.lent(c.pool());
    commandsSinceLend = 0;
    own.reset();
    c.listener(this);
    leakWatch.start(c);
  }

  /** Sends a client command (its first packet); takes ownership. */
  void send(ByteBuf packet, int command, int flags) {
    send(packet, command, flags, null);
  }

  /**
   * Sends a client command (its first packet) whose reply {@code watcher} sees on its way to the
   * client (or null); takes ownership.
   */
  void send(ByteBuf packet, int command, int flags, ReplyWatcher watcher) {
    held.sent(session, backend, packet, command);
    if (command == Commands.COM_QUERY) {
      inspectQuery(packet);
    } else if (command == Commands.COM_INIT_DB) {
      backend.session().schemaUnknown();
    } else if (command == Commands.COM_SET_OPTION) {
      // COM_RESET_CONNECTION does not undo it: this backend cannot be pooled again.
      optionChanged = true;
    }
    if (Commands.expectsResponse(command)) {
      tracker.expect(command, flags, watcher);
      meter.commandSent(packet, command, tracker.pending() == 1);
      commandsSinceLend++;
    }
    sendMore(packet);
  }

  /** Whether the next client packet continues the last one (a large payload, a file upload). */
  boolean expectsContinuation() {
    return continuation.expected();
  }

  /** Sends a packet that continues a command (large payload, LOAD DATA LOCAL); takes ownership. */
  void sendMore(ByteBuf packet) {
    session.nextClientSeq = Packets.sequenceId(packet) + 1;
    if (continuation.sent(Packets.payloadLength(packet))) {
      tracker.localInfileDone();
    }
    meter.bytesSent(packet.readableBytes());
    backend.channel().write(packet, backend.channel().voidPromise());
    flushBackend = true;
  }

  /** Follows what the proxy must know of every statement in both modes: USE and LOAD DATA LOCAL. */
  private void inspectQuery(ByteBuf packet) {
    int start = packet.readerIndex() + Packets.HEADER_SIZE + 1;
    int end = packet.readerIndex() + Packets.HEADER_SIZE + Packets.payloadLength(packet);
    Keyword first = SqlLexer.firstKeyword(packet, start, end);
    if (first == Keyword.USE
        || ((session.capabilities & Capabilities.CLIENT_MULTI_STATEMENTS) != 0
            && packet.indexOf(start, end, (byte) ';') >= 0)) {
      // USE, or statements the proxy does not follow one by one: the default database may change.
      backend.session().schemaUnknown();
    }
    if (first == Keyword.LOAD && LoadLocal.matches(packet, start, end)) {
      continuation.loadLocalSent();
    }
  }

  /**
   * Sends one of the proxy's own commands ahead of the client's next; its reply is consumed here
   * and handed to the command.
   */
  void sendOwn(ProxyCommand command, ByteBuf packet) {
    own.sent(command);
    tracker.expect(Packets.firstByte(packet), 0, command);
    backend.channel().write(packet, backend.channel().voidPromise());
    flushBackend = true;
  }

  /** Sends a command of the proxy's own that the server does not answer (COM_STMT_CLOSE). */
  void sendQuiet(ByteBuf command) {
    backend.channel().write(command, backend.channel().voidPromise());
    flushBackend = true;
  }

  /** {@link #sendOwn}, sent at once, with client reads paused behind it. */
  void sendOwnNow(ProxyCommand own, ByteBuf command) {
    sendOwn(own, command);
    flushBackend = false;
    backend.channel().flush();
    session.updateClientReading();
  }

  /** Ends the lend: the connection goes back to the pool as {@code how} says. */
  void release(BackendPool.Release how) {
    if (backend == null) {
      return;
    }
    leakWatch.stop();
    BackendConnection c = backend;
    meter.report();
    backend = null;
    held.reset();
    c.listener(null);
    AutoRead.set(c.channel(), true);
    flushBackend = false;
    c.pool().release(c, how);
    tracker.reset(0);
    own.reset();
    optionChanged = false;
    continuation.reset();
  }

  /** The session ends: the connection is killed mid-command, discarded or reset as it must be. */
  void releaseAtClose() {
    if (backend == null) {
      return;
    }
    if (busy()) {
      // The server may be busy with this client's statement and would not notice a closed socket
      // until it writes: kill it over a side connection so its locks are freed now.
      log.info(
          "client #{} ({}) left during a command; killing backend thread {}",
          session.id,
          session.describe(),
          backend.threadId());
      backend.pool().kill(session.loop, backend.key(), backend.threadId(), false);
      release(BackendPool.Release.DISCARD);
    } else {
      release(optionChanged ? BackendPool.Release.DISCARD : BackendPool.Release.RESET);
    }
  }

  /** Cancels the statement running on the lent connection, if any (KILL QUERY). */
  void cancelRunningCommand() {
    if (backend != null && tracker.pending() > 0) {
      backend.pool().kill(session.loop, backend.key(), backend.threadId(), true);
    }
  }

  // ------------------------------------------------------------------------------ the replies

  @Override
  public EventExecutor executor() {
    return session.loop;
  }

  /**
   * Follows each packet of the batch through the tracker and forwards the batch to the client as
   * one buffer, except the replies to the proxy's own commands, which are consumed here, and OK
   * packets whose session-state data the mode rewrites. A batch forwarded whole (the common case)
   * is written as it came; otherwise each forwarded range goes as a retained slice, and the batch
   * is released here.
   */
  @Override
  public void onPacket(BackendConnection c, ByteBuf packets) {
    if (c != backend || session.closed()) {
      packets.release();
      return;
    }
    meter.bytesReceived(packets.readableBytes());
    boolean handedOn = false;
    try {
      cursor.reset(packets);
      int forwardFrom = cursor.batchStart();
      while (cursor.advance()) {
        ByteBuf packet = cursor.packet();
        int flags = tracker.currentTag();
        Object owner = tracker.currentOwner();
        boolean rowPacket = tracker.readingRows();
        boolean done;
        try {
          done = tracker.onPacket(packet);
        } catch (RuntimeException e) {
          log.warn(
              "client #{}: backend {} sent a packet out of turn ({}); closing both",
              session.id,
              c,
              e.getMessage());
          session.metrics().error("protocol_error");
          lost("the backend sent an unexpected packet");
          return;
        }
        if (owner instanceof ProxyCommand) {
          forward(packets, forwardFrom, cursor.start());
          forwardFrom = cursor.end();
          if (own.onPacket((ProxyCommand) owner, packet, rowPacket, c)) {
            flushClient = true;
          }
          if (done) {
            own.done((ProxyCommand) owner);
            if (!own.blocking() && !session.closed()) {
              session.drainQueue();
            }
            if (backend != c || session.closed()) {
              return;
            }
          }
          continue;
        }
        if (!done) {
          // Part of the reply is on its way to the client: the statement can no longer go again.
          held.drop();
        }
        if (owner != null) {
          ReplyWatcher watcher = (ReplyWatcher) owner;
          watcher.onPacket(packet, done);
          if (done && watcher.retrying()) {
            // Nothing of this reply reached the client: it gets the reply to the command sent
            // again.
            forward(packets, forwardFrom, cursor.start());
            forwardFrom = cursor.end();
            held.answered();
            meter.replySkipped();
            resend = watcher;
            continue;
          }
        }
        if (tracker.localInfileRequested()
            && !continuation.uploading()
            && !continuation.uploadStarts()) {
          log.warn(
              "client #{}: backend {} asked for a local file without a LOAD DATA LOCAL statement;"
                  + " closing",
              session.id,
              c);
          session.metrics().error("protocol_error");
          lost("the backend asked for a local file the client did not offer");
          return;
        }
        if (tracker.packetWasOk()
            && (tracker.lastStatus() & ServerStatus.SESSION_STATE_CHANGED) != 0) {
          ByteBuf replacement = session.mode().onStateChange(flags, packet);
          if (replacement != null) {
            forward(packets, forwardFrom, cursor.start());
            forwardFrom = cursor.end();
            client.write(replacement, client.voidPromise());
            flushClient = true;
          }
        }
        session.nextClientSeq = Packets.sequenceId(packet) + 1;
        if (done && tracker.lastWasError() && WriterChange.isReadOnlyError(packet)) {
          if (held.retryLater(session, c, packet)) {
            // Refused by a server that is no longer the writer, before the client's transaction
            // changed anything there: the client waits for the new writer instead.
            forward(packets, forwardFrom, cursor.start());
            forwardFrom = cursor.end();
            retryWanted = true;
            break;
          }
          ByteBuf replacement = WriterChange.error(session, c, packet);
          if (replacement != null) {
            forward(packets, forwardFrom, cursor.start());
            forwardFrom = cursor.end();
            client.write(replacement, client.voidPromise());
            flushClient = true;
          }
        }
        if (done) {
          handedOn = forward(packets, forwardFrom, cursor.end());
          forwardFrom = cursor.end();
          replyDone(flags);
          if (session.closed()) {
            return;
          }
          if (handedOn) {
            break; // the batch was this reply, and belongs to the client channel now
          }
        }
      }
      if (forward(packets, forwardFrom, cursor.batchEnd())) {
        handedOn = true;
      }
    } finally {
      if (!handedOn) {
        packets.release();
      }
    }
    if (resend != null) {
      ReplyWatcher watcher = resend;
      resend = null;
      if (!session.closed()) {
        watcher.retry();
      }
    }
    if (retryWanted) {
      retryWanted = false;
      releaseWanted = false;
      ByteBuf again = held.take();
      flush();
      release(BackendPool.Release.DISCARD);
      session.retryOnNewBackend(again);
      return;
    }
    if (releaseWanted) {
      releaseWanted = false;
      session.maybeRelease();
    }
  }

  /**
   * Writes bytes {@code from} to {@code to} of the batch being walked to the client: the batch
   * itself when that is all of it (true: the client channel owns it now, and the caller must not
   * touch it again), otherwise a retained slice (the caller still owns the batch).
   */
  private boolean forward(ByteBuf packets, int from, int to) {
    if (to <= from) {
      return false;
    }
    flushClient = true;
    if (from == cursor.batchStart() && to == cursor.batchEnd()) {
      packets.setIndex(from, to);
      client.write(packets, client.voidPromise());
      return true;
    }
    client.write(packets.retainedSlice(from, to - from), client.voidPromise());
    return false;
  }

  private void replyDone(int flags) {
    held.answered();
    session.mode().onReplyDone(flags, tracker);
    meter.replyDone(tracker);
    session.onReplyDone(tracker.lastStatus(), tracker.pending() == 0);
  }

  /** The mode wants the connection back once the current batch is handled. */
  void wantRelease() {
    releaseWanted = true;
  }

  @Override
  public void onReadComplete(BackendConnection c) {
    if (c == backend && !session.closed()) {
      // Flushes, and hands on client commands that waited for replies to go out.
      session.resume();
    }
  }

  @Override
  public void onWritabilityChanged(BackendConnection c) {
    if (c == backend) {
      session.updateClientReading();
    }
  }

  @Override
  public void onClosed(BackendConnection c) {
    if (c != backend || session.closed()) {
      return;
    }
    boolean during = tracker.pending() > 0;
    backend = null;
    leakWatch.stop();
    meter.report();
    ReadRouting routing = session.routing();
    if (during && held.holding() && routing != null && routing.isReader(c.pool())) {
      // A read on a reader that went away before answering: it changed nothing, so it goes again,
      // to another reader or the writer, and the client sees only the delay.
      ByteBuf again = held.take();
      tracker.reset(0);
      own.reset();
      continuation.reset();
      c.pool().release(c, BackendPool.Release.DISCARD);
      session.metrics().error("reader_lost_read_retried");
      log.info(
          "client #{}: reader {} closed during a read ({}); sending it again",
          session.id,
          c,
          c.closeReason());
      session.retryOnNewBackend(again);
      return;
    }
    held.reset();
    session.metrics().error("backend_lost");
    log.warn(
        "client #{} ({}): backend connection {} closed{}",
        session.id,
        session.describe(),
        c,
        during ? " during a command" : "");
    c.pool().release(c, BackendPool.Release.DISCARD);
    String why = c.closeReason();
    lost(
        "Lost connection to backend '"
            + c.pool().name()
            + "' "
            + (during ? "during query" : "while the session was idle")
            + (why == null ? "" : ": " + why)
            + "; the session is closed");
  }

  /**
   * The session's server-side state is gone: tell the client, as a server that went away would, and
   * close.
   */
  private void lost(String message) {
    if (tracker.pending() > 0) {
      ByteBuf err =
          Packets.err(
              client.alloc(), session.nextClientSeq, ErrorCodes.LOST_CONNECTION, "HY000", message);
      client.writeAndFlush(err).addListener(f -> session.close());
    } else {
      session.close();
    }
  }

  /** Writes out what was queued on both channels, and adds up the bytes relayed. */
  void flush() {
    if (backend != null) {
      meter.report();
    }
    if (flushClient) {
      flushClient = false;
      client.flush();
    }
    if (flushBackend && backend != null) {
      flushBackend = false;
      backend.channel().flush();
    }
  }

  /** A local reply was written to the client: flush it with the rest. */
  void clientWritten() {
    flushClient = true;
  }
}
