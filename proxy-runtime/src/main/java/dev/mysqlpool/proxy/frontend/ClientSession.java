package dev.mysqlpool.proxy.frontend;

import dev.mysqlpool.proxy.auth.ClientAuthenticator;
import dev.mysqlpool.proxy.backend.BackendConnection;
import dev.mysqlpool.proxy.backend.BackendPool;
import dev.mysqlpool.proxy.config.ProxyConfig.User;
import dev.mysqlpool.proxy.metrics.ProxyMetrics;
import dev.mysqlpool.proxy.net.Buffers;
import dev.mysqlpool.proxy.protocol.Commands;
import dev.mysqlpool.proxy.protocol.Packets;
import dev.mysqlpool.proxy.protocol.ServerStatus;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One logged-in client, in the command phase ({@link ClientLogin} handles the login before it):
 * routes each command to the proxy's own answer (PING without a backend, KILL, COM_CHANGE_USER,
 * COM_QUIT, unsupported commands) or to a backend connection it borrows for the client from its
 * first command that needs the server, through its {@link BackendRelay}. When the connection goes
 * back is the {@link SessionMode}'s decision: at disconnect in session mode, between transactions
 * in transaction mode.
 *
 * <p>Threading: every method runs on the client channel's event loop, except {@link #drain} and
 * {@link #forceClose}. Ownership: each client packet is handed on (queued, relayed) or released.
 *
 * <p>Backpressure: both channels read only on demand. A reply is read from the backend only while
 * the client can take it, and commands are read from the client only while the backend can take
 * them and while the client keeps up (see {@link CommandBacklog}), so a slow reader slows only its
 * own backend connection, a client that pipelines commands without reading gets no more replies
 * buffered than a channel's high-water mark, and the proxy's memory stays bounded. Every reply, the
 * proxy's own included, goes out in command order.
 */
public final class ClientSession extends ChannelInboundHandlerAdapter implements ClientConnection {
  private static final Logger log = LoggerFactory.getLogger(ClientSession.class);

  final long id;
  final Frontend frontend;
  final Channel client;
  final EventLoop loop;
  final String remoteHost;
  final ClientAuthenticator authenticator;
  final int capabilities;
  User user;
  int collation;
  String schema;

  private BackendPool pool;
  private SessionMode mode;

  private final BackendRelay relay;
  private final LocalCommands local;
  private final CommandBacklog queued;
  private final BackendBorrower borrower;

  /** Where statements go in a read/write split pool; null without the split. */
  private ReadRouting routing;

  private boolean waitForIdle;
  private boolean closed;

  /** An error that ends the session is on its way to the client: read nothing more. */
  private boolean ending;

  private boolean closeWhenIdle;
  private int lastStatus = ServerStatus.AUTOCOMMIT;

  /** The sequence id the next packet to the client takes. */
  int nextClientSeq;

  ClientSession(
      Frontend frontend,
      long id,
      Channel client,
      String remoteHost,
      ClientAuthenticator authenticator,
      User user,
      int capabilities,
      int collation,
      String schema) {
    this.frontend = frontend;
    this.id = id;
    this.client = client;
    this.loop = client.eventLoop();
    this.remoteHost = remoteHost;
    this.authenticator = authenticator;
    this.capabilities = capabilities;
    this.relay = new BackendRelay(this);
    this.queued = new CommandBacklog(client, relay);
    this.local = new LocalCommands(this);
    this.borrower = new BackendBorrower(this, relay, queued);
    become(user, collation, schema);
  }

  /** Takes on an identity: at login, and after COM_CHANGE_USER. */
  private void become(User user, int collation, String schema) {
    this.user = user;
    this.collation = collation;
    this.schema = schema;
    this.pool = frontend.pools.get(user.backend());
    this.mode =
        pool.transactionMode()
            ? new TransactionMode(this, relay, false)
            : pool.followsWriter() ? new TransactionMode(this, relay, true) : SessionMode.SESSION;
    borrower.forgetKey();
    this.routing =
        frontend.readers() != null && mode != SessionMode.SESSION
            ? new ReadRouting(
                this, frontend.config().routing(), frontend.readers(), frontend.routing)
            : null;
    this.lastStatus = ServerStatus.AUTOCOMMIT;
  }

  @Override
  public long id() {
    return id;
  }

  // ------------------------------------------------------------------------------------ commands

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf packet = (ByteBuf) msg;
    try {
      if (local.awaitingAuthSwitch()) {
        try {
          local.onAuthSwitchReply(packet);
        } finally {
          packet.release();
        }
      } else if (closed || ending) {
        packet.release();
      } else if (!queued.isEmpty()
          || borrower.acquiring()
          || waitForIdle
          || relay.blocked()
          || queued.clientBehind()) {
        queued.add(packet);
      } else {
        handle(packet);
      }
    } catch (RuntimeException e) {
      ReferenceCountUtil.safeRelease(packet);
      protocolError(e);
    }
  }

  /** Handles one client packet in the command phase; takes ownership of it. */
  private void handle(ByteBuf packet) {
    if (relay.expectsContinuation()) {
      relay.sendMore(packet);
      return;
    }
    int command = Packets.firstByte(packet);
    if (routing != null && relay.backend() != null && !routed(packet, command)) {
      return;
    }
    if (mode.onStatementCommand(packet, command)) {
      return;
    }
    switch (command) {
      case Commands.COM_QUIT:
        packet.release();
        close();
        return;
      case Commands.COM_PING:
        if (relay.backend() == null) {
          runLocal(packet, command);
          return;
        }
        break;
      case Commands.COM_CHANGE_USER:
      case Commands.COM_PROCESS_KILL:
        runLocal(packet, command);
        return;
      case Commands.COM_QUERY:
        if (LocalCommands.isKill(packet)) {
          runLocal(packet, command);
          return;
        }
        break;
      default:
        if (!Commands.relayed(command)) {
          runLocal(packet, command);
          return;
        }
    }
    if (relay.backend() == null) {
      queued.putBack(packet);
      borrower.acquire();
      return;
    }
    int flags = command == Commands.COM_QUERY ? mode.onQuery(packet) : mode.onCommand(command);
    if (flags >= 0) {
      relay.send(packet, command, flags);
    }
  }

  /**
   * In a read/write split pool, with a connection lent: whether the command may go on it. A command
   * that must not run on the reader the client holds waits until the reader can go back, then
   * borrows again (false: the packet was taken).
   */
  private boolean routed(ByteBuf packet, int command) {
    if (!routing.mustLeave(relay.backend(), packet, command)) {
      routing.sending(relay.backend(), packet, command);
      return true;
    }
    queued.putBack(packet);
    if (relay.pending() > 0 || relay.blocked()) {
      waitForIdle = true;
    } else {
      relay.flush();
      relay.release(
          relay.backend().session().variablesKnown()
              ? BackendPool.Release.CLEAN
              : BackendPool.Release.DISCARD);
      borrower.acquire();
    }
    return false;
  }

  /** A command the proxy answers itself, after every reply before it has gone out. */
  private void runLocal(ByteBuf packet, int command) {
    if (relay.pending() > 0) {
      queued.putBack(packet);
      waitForIdle = true;
      return;
    }
    try {
      local.run(packet, command);
    } catch (RuntimeException e) {
      // A malformed COM_CHANGE_USER or COM_PROCESS_KILL. Handled here, since this packet is
      // released below (the caller's handler would release it again) and since a queued command
      // runs from a drain task, where an exception would escape to the event loop and leave the
      // session open.
      protocolError(e);
    } finally {
      packet.release();
    }
  }

  /** From any thread: KILL QUERY of this session's running statement. */
  void cancelRunningCommand() {
    loop.execute(relay::cancelRunningCommand);
  }

  /** COM_CHANGE_USER succeeded: the new identity gets a clean backend on its next command. */
  void changedUser(User newUser, int newCollation, String newSchema) {
    relay.release(BackendPool.Release.RESET);
    mode.close();
    become(newUser, newCollation, newSchema);
  }

  /** Handles queued client packets for as long as nothing holds them back. */
  void drainQueue() {
    while (!queued.isEmpty()
        && !borrower.acquiring()
        && !waitForIdle
        && !relay.blocked()
        && !closed
        && !queued.clientBehind()) {
      handle(queued.next());
    }
    relay.flush();
    updateClientReading();
  }

  /** Replies went out or the client read some: carry on with what waits, or read again. */
  void resume() {
    if (queued.isEmpty()) {
      relay.flush();
      updateClientReading();
    } else {
      drainQueue();
    }
  }

  /**
   * The mode gave the backend back between statements. Commands that queued behind its replies (a
   * pipelining client's, held while the client read its replies slowly) borrow again, from a task:
   * the backend's read that ended the lend is still on the stack; with none queued, the client is
   * read again.
   */
  void backendReleased() {
    if (queued.isEmpty()) {
      updateClientReading();
    } else {
      loop.execute(this::resume);
    }
  }

  /**
   * Restoring the client's database or variables failed on the lent backend: the command that was
   * waiting gets the server's error (as a direct connection would have failed at USE or SET). Takes
   * ownership of {@code err}; true when it was written.
   */
  boolean answerWaitingCommand(ByteBuf err) {
    return queued.answerFirst(err);
  }

  /** The reply to a client command is complete; {@code idle}: no other reply is owed. */
  void onReplyDone(int status, boolean idle) {
    lastStatus = status;
    if (!idle) {
      return;
    }
    if (waitForIdle) {
      waitForIdle = false;
      loop.execute(this::drainQueue);
    }
    if (closeWhenIdle && !inTransaction()) {
      relay.flush();
      close();
    }
  }

  /** Lets the mode hand the backend back when nothing of the client's is in flight. */
  void maybeRelease() {
    if (relay.backend() == null
        || closed
        || inTransaction()
        || relay.busy()
        || relay.blocked()
        || borrower.acquiring()) {
      return;
    }
    mode.onIdle();
  }

  /**
   * A statement the old writer refused goes again, first, on the connection the pool lends next
   * (which waits for the new writer); takes ownership of {@code packet}.
   */
  void retryOnNewBackend(ByteBuf packet) {
    if (closed) {
      packet.release();
      return;
    }
    queued.putBack(packet);
    borrower.acquire();
  }

  boolean inTransaction() {
    return (lastStatus & ServerStatus.IN_TRANS) != 0;
  }

  // --------------------------------------------------------------------------------- client side

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    relay.flush();
    updateClientReading();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    boolean writable = client.isWritable();
    BackendConnection backend = relay.backend();
    if (backend != null) {
      AutoRead.set(backend.channel(), writable);
    }
    if (!writable || queued.isEmpty()) {
      updateClientReading();
    } else {
      // Fired from inside a flush: handle the waiting commands once it has returned.
      loop.execute(this::resume);
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof IdleStateEvent && !closed && relay.pending() == 0 && !borrower.acquiring()) {
      local.disconnectIdle();
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    close();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    Buffers.FAILURES.recordIfOutOfMemory(cause);
    protocolError(cause);
  }

  void protocolError(Throwable cause) {
    if (!closed) {
      frontend.metrics.error("protocol_error");
      log.info(
          "client #{} from {}: closing after a protocol error: {}",
          id,
          remoteHost,
          cause.toString());
    }
    close();
  }

  /** Sends the client an error, then closes (after a failed COM_CHANGE_USER). */
  void closeWithError(int seq, int code, String state, String message) {
    ending = true;
    client
        .writeAndFlush(Packets.err(client.alloc(), seq, code, state, message))
        .addListener(f -> close());
  }

  /**
   * Writes a reply the proxy made itself, in order behind what was forwarded; flushed with the rest
   * when the read or the queue is done.
   */
  void writeLocal(ByteBuf reply) {
    client.write(reply, client.voidPromise());
    relay.clientWritten();
  }

  /**
   * Both channels read continuously (toggling interest per read costs two epoll_ctl calls per
   * packet); reading from the client pauses only while its commands cannot go anywhere: a borrow
   * waiting with the read-ahead full, a local command waiting for earlier replies, or a backend
   * that cannot take more.
   */
  void updateClientReading() {
    boolean want =
        !closed
            && (queued.isEmpty() || borrower.acquiring() && !queued.readAheadFull())
            && !waitForIdle
            && !relay.blocked()
            && !relay.backendFull()
            && !queued.clientBehind();
    AutoRead.set(client, want);
  }

  // ------------------------------------------------------- what the mode and the relay read

  boolean closed() {
    return closed;
  }

  SessionMode mode() {
    return mode;
  }

  BackendPool pool() {
    return pool;
  }

  /** The read/write split's decisions for this client, or null without the split. */
  ReadRouting routing() {
    return routing;
  }

  BackendRelay relay() {
    return relay;
  }

  ByteBufAllocator alloc() {
    return client.alloc();
  }

  int lastStatus() {
    return lastStatus;
  }

  ProxyMetrics metrics() {
    return frontend.metrics;
  }

  void schema(String schema) {
    this.schema = schema;
  }

  /** "user@host", for log lines. */
  String describe() {
    return user.name() + "@" + remoteHost;
  }

  // ----------------------------------------------------------------------------------- shutdown

  @Override
  public void drain() {
    loop.execute(
        () -> {
          if (!borrower.acquiring()
              && queued.isEmpty()
              && relay.pending() == 0
              && !inTransaction()) {
            close();
          } else {
            closeWhenIdle = true;
          }
        });
  }

  @Override
  public void forceClose() {
    loop.execute(this::close);
  }

  /** Ends the session: releases queued packets and returns or discards the backend by the rules. */
  void close() {
    if (closed) {
      return;
    }
    closed = true;
    queued.releaseAll();
    relay.releaseAtClose();
    mode.close();
    frontend.leave(this);
    if (client.isActive()) {
      client.close();
    }
  }
}
