package dev.mysqlpool.proxy.frontend;

import dev.mysqlpool.proxy.auth.NativePassword;
import dev.mysqlpool.proxy.auth.Scrambles;
import dev.mysqlpool.proxy.backend.AcquireTimeoutException;
import dev.mysqlpool.proxy.backend.BackendConnection;
import dev.mysqlpool.proxy.backend.BackendListener;
import dev.mysqlpool.proxy.backend.BackendPool;
import dev.mysqlpool.proxy.backend.PoolKey;
import dev.mysqlpool.proxy.backend.SessionVariables;
import dev.mysqlpool.proxy.config.ProxyConfig.User;
import dev.mysqlpool.proxy.protocol.Capabilities;
import dev.mysqlpool.proxy.protocol.Commands;
import dev.mysqlpool.proxy.protocol.ErrorCodes;
import dev.mysqlpool.proxy.protocol.HandshakeResponse41;
import dev.mysqlpool.proxy.protocol.HandshakeV10;
import dev.mysqlpool.proxy.protocol.PacketCursor;
import dev.mysqlpool.proxy.protocol.Packets;
import dev.mysqlpool.proxy.protocol.ResponseTracker;
import dev.mysqlpool.proxy.protocol.ServerStatus;
import dev.mysqlpool.proxy.protocol.SessionStateInfo;
import io.micrometer.core.instrument.Timer;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection, in session mode: the proxy greets and authenticates the client itself,
 * then lends it one backend connection from its first command that needs the server until it
 * leaves, relaying packets both ways.
 *
 * <p>Threading: every method runs on the client channel's event loop; backend events arrive there
 * through {@link BackendListener}. Ownership: each packet read from either side is forwarded
 * (ownership passes to the other channel) or released here.
 *
 * <p>Backpressure: both channels read only on demand. A reply is read from the backend only while
 * the client can take it, and commands are read from the client only while the backend can take
 * them, so a slow reader slows only its own backend connection and the proxy's memory stays
 * bounded.
 */
public final class ClientSession extends ChannelInboundHandlerAdapter implements BackendListener {
  private static final Logger log = LoggerFactory.getLogger(ClientSession.class);
  private static final String NATIVE = "mysql_native_password";
  private static final Pattern KILL =
      Pattern.compile(
          "\\s*KILL\\s+(?:(QUERY|CONNECTION)\\s+)?(\\d+)\\s*;?\\s*", Pattern.CASE_INSENSITIVE);
  private static final Pattern LOAD_LOCAL =
      Pattern.compile(
          "\\s*LOAD\\s+(?:DATA|XML)\\s+(?:LOW_PRIORITY\\s+|CONCURRENT\\s+)?LOCAL\\s.*",
          Pattern.CASE_INSENSITIVE | Pattern.DOTALL);

  private static final int GREETING = 0;
  private static final int AUTH = 1;
  private static final int AUTH_SWITCH = 2;
  private static final int COMMAND = 3;
  private static final int CHANGE_USER_SWITCH = 4;
  private static final int CLOSED = 5;

  /** Owners of replies to the proxy's own commands; see {@link #replyOwners}. */
  private static final int INIT_DB = -1;

  private static final int RESTORE = -2;
  private static final int INJECTED = -3;
  private static final int SNAPSHOT = -4;
  private static final int WARNING_CHECK = -5;
  private static final String TRACK_STATE_CHANGES = "SET SESSION session_track_state_change = ON";

  final long id;
  private final Frontend frontend;
  private Channel client;
  private EventLoop loop;
  private int phase = GREETING;
  private byte[] seed;
  private HandshakeV10 greeting;
  private ScheduledFuture<?> handshakeTimer;

  private User user;
  private int capabilities;
  private int collation;
  private String schema;
  private String remoteHost = "unknown";
  private HandshakeResponse41 pendingChangeUser;

  private BackendPool pool;

  /**
   * The key of the connections this session borrows; kept, since transaction mode borrows once per
   * transaction.
   */
  private PoolKey poolKey;

  private Timer queryTimer;
  private BackendConnection backend;
  private ResponseTracker tracker;
  private boolean acquiring;
  private long acquireStartNanos;
  private long acquiredAtNanos;
  private ScheduledFuture<?> leakTimer;

  /**
   * Who each reply the backend still owes belongs to, oldest first, aligned with the tracker's
   * commands: a client command's {@link StatementScan} flags (0 or more), or one of the proxy's own
   * commands (negative).
   */
  private final IntQueue replyOwners = new IntQueue();

  /**
   * The proxy's own commands in flight that client commands must wait for (restoring state, taking
   * a snapshot).
   */
  private int blockingInternal;

  private String internalError;
  private boolean internalErrorAnswered;
  private List<String> snapshotRow;
  private String warningCount;
  private boolean warningsChecked;

  // Transaction mode (pool.mode: transaction)
  private boolean transactionMode;
  private StatementScan scan;

  /**
   * The client's carried variables, in {@link SessionVariables} order; null while they are a fresh
   * login's.
   */
  private String[] vars;

  /**
   * A carried variable or the schema may have changed on the current backend: snapshot before
   * giving it back.
   */
  private boolean varsDirty;

  /** Why this session may not leave its backend connection, or null. */
  private String pinReason;

  private long lastInsertId;

  /** What ROW_COUNT() and FOUND_ROWS() would return after the client's last statement. */
  private long rowCount = -1;

  private long foundRows;

  /**
   * The server holds warnings or errors of this client's statements on the current connection (SHOW
   * WARNINGS would list them): it stays until a check finds the list empty, so every connection
   * goes back with an empty one.
   */
  private boolean diagnosticsPending;

  /** LAST_INSERT_ID(expr) ran: the next snapshot brings the value back. */
  private boolean lastInsertIdFromSnapshot;

  /** Client commands sent on the current backend connection since it was lent. */
  private int commandsSinceAcquire;

  private boolean releaseWanted;

  /**
   * Client packets read but not yet handled: waiting for a backend, or for replies before a local
   * command.
   */
  private final ArrayDeque<ByteBuf> queued = new ArrayDeque<>(2);

  private boolean waitForIdle;
  private boolean clientContinuation;
  private boolean uploading;
  private int loadLocalQueries;
  private boolean optionChanged;
  private boolean flushBackend;
  private boolean flushClient;

  /** Byte counts are added to the shared counters once per read batch, not per packet. */
  private long unreportedBytesSent;

  private long unreportedBytesReceived;
  private int nextClientSeq;
  private long commandStartNanos;
  private int lastStatus = ServerStatus.AUTOCOMMIT;
  private boolean closeWhenIdle;

  ClientSession(Frontend frontend, long id) {
    this.frontend = frontend;
    this.id = id;
  }

  // ----------------------------------------------------------------------------------------------
  // connection phase

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    client = ctx.channel();
    loop = client.eventLoop();
    if (client.remoteAddress() instanceof InetSocketAddress a) {
      remoteHost = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
    }
    if (!frontend.admit(this)) {
      frontend.metrics.error("client_limit");
      phase = CLOSED;
      client
          .writeAndFlush(
              Packets.err(
                  ctx.alloc(),
                  0,
                  ErrorCodes.TOO_MANY_CONNECTIONS,
                  "08004",
                  "Too many connections (frontend.maxClientConnections="
                      + frontend.config().frontend().maxClientConnections()
                      + " reached on this proxy)"))
          .addListener(ChannelFutureListener.CLOSE);
      return;
    }
    long handshakeMillis = frontend.config().frontend().handshakeTimeout().toMillis();
    handshakeTimer =
        loop.schedule(
            () -> {
              if (phase != COMMAND && phase != CLOSED) {
                log.info(
                    "client #{} from {} did not finish logging in within {}ms (frontend.handshakeTimeout); closing",
                    id,
                    remoteHost,
                    handshakeMillis);
                frontend.metrics.error("handshake_timeout");
                close();
              }
            },
            handshakeMillis,
            TimeUnit.MILLISECONDS);
    frontend
        .defaultPool
        .greeting(loop)
        .addListener(
            (Future<HandshakeV10> f) -> {
              if (phase == CLOSED) {
                return;
              }
              if (!f.isSuccess()) {
                frontend.metrics.error("backend_unavailable");
                sendErrorAndClose(
                    0,
                    ErrorCodes.POOL_TIMEOUT,
                    "HY000",
                    "mysqlpool: cannot greet the client: " + f.cause().getMessage());
                return;
              }
              HandshakeV10 server = f.getNow();
              seed = Scrambles.newSeed(frontend.random);
              greeting =
                  new HandshakeV10(
                      server.serverVersion(),
                      id,
                      seed,
                      server.capabilities() & Capabilities.PROXY_SUPPORTED,
                      server.collation(),
                      ServerStatus.AUTOCOMMIT,
                      NATIVE);
              phase = AUTH;
              client.writeAndFlush(greeting.write(client.alloc()), client.voidPromise());
            });
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf packet = (ByteBuf) msg;
    try {
      switch (phase) {
        case COMMAND:
          if (!queued.isEmpty() || acquiring || waitForIdle || blockingInternal > 0) {
            queued.add(packet);
          } else {
            handle(packet);
          }
          return;
        case AUTH:
          onHandshakeResponse(packet);
          break;
        case AUTH_SWITCH:
        case CHANGE_USER_SWITCH:
          onAuthSwitchReply(packet);
          break;
        default:
          break;
      }
      packet.release();
    } catch (RuntimeException e) {
      ReferenceCountUtil.safeRelease(packet);
      protocolError(e);
    }
  }

  private void onHandshakeResponse(ByteBuf packet) {
    HandshakeResponse41 hello;
    try {
      hello = HandshakeResponse41.parse(packet);
    } catch (RuntimeException e) {
      frontend.metrics.error("protocol_error");
      sendErrorAndClose(
          Packets.sequenceId(packet) + 1,
          ErrorCodes.HANDSHAKE_ERROR,
          "08S01",
          "Bad handshake: " + e.getMessage());
      return;
    }
    capabilities = hello.capabilities() & greeting.capabilities();
    collation = hello.collation();
    nextClientSeq = Packets.sequenceId(packet) + 1;
    if (hello.authPlugin() != null && !NATIVE.equals(hello.authPlugin())) {
      pendingChangeUser = hello;
      phase = AUTH_SWITCH;
      sendAuthSwitch();
      return;
    }
    finishLogin(hello, hello.authResponse());
  }

  private void sendAuthSwitch() {
    ByteBuf buf = Packets.start(client.alloc(), 32 + NATIVE.length(), nextClientSeq);
    buf.writeByte(Packets.EOF);
    Packets.writeStringNul(buf, NATIVE);
    buf.writeBytes(seed);
    buf.writeByte(0);
    client.writeAndFlush(Packets.finish(buf), client.voidPromise());
  }

  private void onAuthSwitchReply(ByteBuf packet) {
    byte[] reply = new byte[Packets.payloadLength(packet)];
    packet.getBytes(packet.readerIndex() + Packets.HEADER_SIZE, reply);
    nextClientSeq = Packets.sequenceId(packet) + 1;
    HandshakeResponse41 hello = pendingChangeUser;
    pendingChangeUser = null;
    if (phase == CHANGE_USER_SWITCH) {
      phase = COMMAND;
      finishChangeUser(hello, reply);
    } else {
      finishLogin(hello, reply);
    }
  }

  private boolean authenticate(HandshakeResponse41 hello, byte[] reply) {
    User u = frontend.config().user(hello.user());
    // Unknown users are checked against a throwaway password so the answer takes the same path and
    // time.
    byte[] password = (u == null ? "\u0000unknown" : u.password()).getBytes(StandardCharsets.UTF_8);
    boolean ok = NativePassword.verify(password, seed, reply) && u != null;
    if (!ok) {
      frontend.metrics.error("auth_failed");
      log.info("client #{} from {}: access denied for user '{}'", id, remoteHost, hello.user());
      sendErrorAndClose(
          nextClientSeq,
          ErrorCodes.ACCESS_DENIED,
          "28000",
          "Access denied for user '"
              + hello.user()
              + "'@'"
              + remoteHost
              + "' (using password: "
              + (reply.length > 0 ? "YES" : "NO")
              + ")");
    }
    return ok;
  }

  private void finishLogin(HandshakeResponse41 hello, byte[] reply) {
    if (!authenticate(hello, reply)) {
      return;
    }
    user = frontend.config().user(hello.user());
    schema = hello.database();
    pool = frontend.pools.get(user.backend());
    queryTimer = frontend.queryTimer(pool.name());
    transactionMode = pool.transactionMode();
    phase = COMMAND;
    handshakeTimer.cancel(false);
    log.debug("client #{} logged in as '{}' from {}", id, user.name(), remoteHost);
    client.writeAndFlush(
        Packets.ok(client.alloc(), nextClientSeq, lastStatus, capabilities), client.voidPromise());
  }

  // --------------------------------------------------------------------------------------------------- commands

  /** Handles one client packet in the command phase; takes ownership of it. */
  private void handle(ByteBuf packet) {
    if (clientContinuation || uploading) {
      relayContinuation(packet);
      return;
    }
    int command = Packets.firstByte(packet);
    int seq = Packets.sequenceId(packet);
    switch (command) {
      case Commands.COM_QUIT:
        packet.release();
        close();
        return;
      case Commands.COM_PING:
        if (backend == null) {
          packet.release();
          writeLocal(Packets.ok(client.alloc(), seq + 1, lastStatus, capabilities));
          return;
        }
        break;
      case Commands.COM_CHANGE_USER:
      case Commands.COM_PROCESS_KILL:
        local(packet, command);
        return;
      case Commands.COM_QUERY:
        if (isKill(packet)) {
          local(packet, command);
          return;
        }
        break;
      default:
        if (!Commands.relayed(command)) {
          packet.release();
          frontend.metrics.error("unsupported_command");
          writeLocal(
              Packets.err(
                  client.alloc(),
                  seq + 1,
                  ErrorCodes.UNKNOWN_COMMAND,
                  "08S01",
                  "mysqlpool proxy does not support " + Commands.name(command)));
          return;
        }
    }
    if (backend == null) {
      queued.addFirst(packet);
      acquire();
      return;
    }
    relay(packet, command);
  }

  private void relay(ByteBuf packet, int command) {
    int flags = 0;
    if (command == Commands.COM_QUERY) {
      inspectQuery(packet);
      if (transactionMode) {
        flags = scanQuery(packet);
        if (flags < 0) {
          return;
        }
        flags |= StatementScan.STATEMENT;
      }
    } else if (command == Commands.COM_INIT_DB) {
      backend.schema(null, false);
      flags = StatementScan.USE;
      varsDirty = true;
    } else if (command == Commands.COM_SET_OPTION) {
      // COM_RESET_CONNECTION does not undo it, so this backend cannot be pooled again.
      optionChanged = true;
      pin("set_option", null);
    } else if (command == Commands.COM_STMT_PREPARE) {
      pin(StatementScan.PREPARED_STATEMENT, null);
    } else if (command == Commands.COM_STMT_EXECUTE) {
      flags = StatementScan.STATEMENT;
    } else if (command == Commands.COM_RESET_CONNECTION) {
      flags = StatementScan.RESET_CONNECTION;
    }
    if (Commands.expectsResponse(command)) {
      expect(command, flags);
      commandsSinceAcquire++;
      if (tracker.pending() == 1) {
        commandStartNanos = System.nanoTime();
      }
    }
    relayContinuation(packet);
  }

  private void expect(int command, int owner) {
    tracker.expect(command);
    replyOwners.add(owner);
  }

  /**
   * Transaction mode: pins for state the server does not report, and prepares the backend for
   * statements that read what the client's previous statement left behind. Returns the statement's
   * flags, or -1 when it was answered here (and released).
   */
  private int scanQuery(ByteBuf packet) {
    if (scan == null) {
      scan = new StatementScan(backend.variables());
    }
    int start = packet.readerIndex() + Packets.HEADER_SIZE + 1;
    scan.scan(
        packet, start, packet.readerIndex() + Packets.HEADER_SIZE + Packets.payloadLength(packet));
    int flags = scan.flags;
    if (scan.pin != null) {
      pin(scan.pin, scan.pinDetail);
    }
    if ((flags & (StatementScan.CARRIED_SET | StatementScan.USE)) != 0) {
      varsDirty = true;
    }
    if (pinReason != null) {
      return flags;
    }
    boolean fresh = commandsSinceAcquire == 0;
    if ((flags & StatementScan.PREVIOUS_COUNTS) != 0 && fresh) {
      int seq = Packets.sequenceId(packet) + 1;
      String column =
          StatementScan.previousCountColumn(
              packet,
              start,
              packet.readerIndex() + Packets.HEADER_SIZE + Packets.payloadLength(packet));
      packet.release();
      if (column != null) {
        // The literal SELECT ROW_COUNT() / SELECT FOUND_ROWS(): answered from what the client's own
        // previous
        // statement reported, which is what the server that ran it would say.
        long value = column.regionMatches(true, 0, "ROW_COUNT", 0, 9) ? rowCount : foundRows;
        rowCount = -1;
        foundRows = 1;
        writeLocal(
            Packets.singleValueResult(
                client.alloc(),
                seq,
                column,
                value,
                (capabilities & Capabilities.CLIENT_DEPRECATE_EOF) != 0,
                lastStatus));
        maybeRelease();
        return -1;
      }
      frontend.metrics.error("unsupported_statement");
      writeLocal(
          Packets.err(
              client.alloc(),
              seq,
              ErrorCodes.PREVIOUS_STATEMENT_ELSEWHERE,
              "HY000",
              "mysqlpool: ROW_COUNT() and FOUND_ROWS() describe the previous statement, which ran on another backend"
                  + " connection (pool.mode transaction hands the connection back after every transaction); select them"
                  + " alone (SELECT ROW_COUNT()), read them in the same transaction as that statement, or use pool.mode"
                  + " session"));
      maybeRelease();
      return -1;
    }
    if ((flags & StatementScan.LAST_INSERT_ID) != 0 && backend.lastInsertIdOwner() != id) {
      inject("SET @@SESSION.last_insert_id = " + lastInsertId);
      backend.lastInsertIdOwner(id);
    }
    if ((flags & StatementScan.SETS_LAST_INSERT_ID) != 0) {
      lastInsertIdFromSnapshot = true;
      varsDirty = true;
    }
    return flags;
  }

  /**
   * Sends one of the proxy's own statements ahead of the client's next command; its reply is
   * consumed here.
   */
  private void inject(String sql) {
    expect(Commands.COM_QUERY, INJECTED);
    backend
        .channel()
        .write(
            Packets.command(client.alloc(), Commands.COM_QUERY, sql),
            backend.channel().voidPromise());
    flushBackend = true;
  }

  /**
   * Transaction mode: from now on this session keeps its backend connection until it leaves or
   * resets.
   */
  private void pin(String reason, String detail) {
    if (!transactionMode || pinReason != null) {
      return;
    }
    pinReason = reason;
    frontend.metrics.pinned(reason, 1);
    if (log.isDebugEnabled()) {
      log.debug(
          "client #{} ({}@{}) pinned to backend connection {}: {}{}",
          id,
          user.name(),
          remoteHost,
          backend,
          reason,
          detail == null ? "" : " (" + detail + ")");
    }
  }

  private void unpin() {
    if (pinReason != null) {
      frontend.metrics.pinned(pinReason, -1);
      pinReason = null;
    }
  }

  /**
   * Transaction mode: the client starts over as a fresh login would (COM_RESET_CONNECTION,
   * COM_CHANGE_USER).
   */
  private void forgetSessionState() {
    unpin();
    vars = null;
    varsDirty = false;
    lastInsertId = 0;
    rowCount = -1;
    foundRows = 0;
    diagnosticsPending = false;
    lastInsertIdFromSnapshot = false;
  }

  private void relayContinuation(ByteBuf packet) {
    int length = Packets.payloadLength(packet);
    nextClientSeq = Packets.sequenceId(packet) + 1;
    if (uploading && length == 0) {
      uploading = false;
      tracker.localInfileDone();
    } else if (!uploading) {
      clientContinuation = length == Packets.MAX_PAYLOAD;
    }
    unreportedBytesSent += packet.readableBytes();
    backend.channel().write(packet, backend.channel().voidPromise());
    flushBackend = true;
  }

  private void inspectQuery(ByteBuf packet) {
    int start = packet.readerIndex() + Packets.HEADER_SIZE + 1;
    int end = packet.readerIndex() + Packets.HEADER_SIZE + Packets.payloadLength(packet);
    int i = start;
    while (i < end && Character.isWhitespace(packet.getByte(i))) {
      i++;
    }
    if (i >= end) {
      return;
    }
    int c = packet.getByte(i) | 0x20;
    if (c == 'u'
        || c == '/'
        || c == '-'
        || c == '#'
        || ((capabilities & Capabilities.CLIENT_MULTI_STATEMENTS) != 0
            && packet.indexOf(i, end, (byte) ';') >= 0)) {
      // USE, or a statement the proxy cannot see through: the default database may change.
      backend.schema(null, false);
    }
    if (c == 'l'
        && LOAD_LOCAL
            .matcher(packet.toString(i, Math.min(end - i, 256), StandardCharsets.UTF_8))
            .matches()) {
      loadLocalQueries++;
    }
  }

  private boolean isKill(ByteBuf packet) {
    int start = packet.readerIndex() + Packets.HEADER_SIZE + 1;
    int len = Packets.payloadLength(packet) - 1;
    if (len < 6 || len > 64) {
      return false;
    }
    int i = start;
    while (i < start + len && Character.isWhitespace(packet.getByte(i))) {
      i++;
    }
    return i < start + len
        && (packet.getByte(i) | 0x20) == 'k'
        && KILL.matcher(packet.toString(start, len, StandardCharsets.UTF_8)).matches();
  }

  /** A command the proxy answers itself, after every reply before it has gone out. */
  private void local(ByteBuf packet, int command) {
    if (tracker != null && tracker.pending() > 0) {
      queued.addFirst(packet);
      waitForIdle = true;
      return;
    }
    int seq = Packets.sequenceId(packet);
    try {
      if (command == Commands.COM_CHANGE_USER) {
        changeUser(packet);
      } else if (command == Commands.COM_PROCESS_KILL) {
        kill(seq, packet.getUnsignedIntLE(packet.readerIndex() + Packets.HEADER_SIZE + 1), false);
      } else {
        Matcher m =
            KILL.matcher(
                packet.toString(
                    packet.readerIndex() + Packets.HEADER_SIZE + 1,
                    Packets.payloadLength(packet) - 1,
                    StandardCharsets.UTF_8));
        if (!m.matches()) {
          throw new IllegalStateException("not a KILL statement");
        }
        long target;
        try {
          target = Long.parseLong(m.group(2));
        } catch (NumberFormatException tooLong) {
          writeLocal(
              Packets.err(
                  client.alloc(),
                  seq + 1,
                  ErrorCodes.NO_SUCH_THREAD,
                  "HY000",
                  "Unknown thread id: " + m.group(2)));
          return;
        }
        kill(seq, target, "QUERY".equalsIgnoreCase(m.group(1)));
      }
    } catch (RuntimeException e) {
      // A malformed COM_CHANGE_USER or COM_PROCESS_KILL. Handled here, since this packet is
      // released below (the
      // caller's handler would release it again) and since a queued command runs from a drain task,
      // where an
      // exception would escape to the event loop and leave the session open.
      protocolError(e);
    } finally {
      packet.release();
    }
  }

  /**
   * KILL with the connection id the proxy advertised: KILL QUERY cancels the statement running on
   * whichever backend serves that client (over a side connection, as drivers' query timeouts
   * expect); KILL CONNECTION ends that client session, never a pooled backend.
   */
  private void kill(int seq, long targetId, boolean queryOnly) {
    ClientSession target = frontend.session(targetId);
    if (target == null) {
      writeLocal(
          Packets.err(
              client.alloc(),
              seq + 1,
              ErrorCodes.NO_SUCH_THREAD,
              "HY000",
              "Unknown thread id: " + targetId));
      return;
    }
    if (target.user == null || !target.user.name().equals(user.name())) {
      writeLocal(
          Packets.err(
              client.alloc(),
              seq + 1,
              ErrorCodes.KILL_DENIED,
              "HY000",
              "You are not owner of thread " + targetId));
      return;
    }
    if (target == this && !queryOnly) {
      close();
      return;
    }
    writeLocal(Packets.ok(client.alloc(), seq + 1, lastStatus, capabilities));
    target.loop.execute(queryOnly ? target::cancelRunningCommand : target::close);
  }

  /** Cancels the statement this session's backend is running, if any. */
  private void cancelRunningCommand() {
    if (backend != null && tracker.pending() > 0) {
      pool.kill(loop, backend.key(), backend.threadId(), true);
    }
  }

  private void changeUser(ByteBuf packet) {
    int seq = Packets.sequenceId(packet);
    ByteBuf p = packet.duplicate();
    p.skipBytes(Packets.HEADER_SIZE + 1);
    String name = Packets.readStringNul(p);
    byte[] auth;
    if ((capabilities & Capabilities.CLIENT_SECURE_CONNECTION) != 0) {
      auth = new byte[p.readUnsignedByte()];
      p.readBytes(auth);
    } else {
      auth = Packets.readBytesNul(p);
    }
    String db = p.isReadable() ? Packets.readStringNul(p) : "";
    int newCollation = collation;
    if (p.readableBytes() >= 2) {
      newCollation = p.readUnsignedShortLE() & 0xff;
    }
    String plugin = null;
    if ((capabilities & Capabilities.CLIENT_PLUGIN_AUTH) != 0 && p.isReadable()) {
      plugin = Packets.readStringNul(p);
    }
    HandshakeResponse41 hello =
        new HandshakeResponse41(
            capabilities, 0, newCollation, name, auth, db.isEmpty() ? null : db, plugin);
    nextClientSeq = seq + 1;
    if (plugin != null && !NATIVE.equals(plugin)) {
      pendingChangeUser = hello;
      phase = CHANGE_USER_SWITCH;
      sendAuthSwitch();
      return;
    }
    finishChangeUser(hello, auth);
  }

  private void finishChangeUser(HandshakeResponse41 hello, byte[] reply) {
    if (!authenticate(hello, reply)) {
      return;
    }
    // The new identity gets a clean backend of its own on its next command.
    releaseBackend(BackendPool.Release.RESET);
    forgetSessionState();
    user = frontend.config().user(hello.user());
    pool = frontend.pools.get(user.backend());
    queryTimer = frontend.queryTimer(pool.name());
    transactionMode = pool.transactionMode();
    scan = null;
    poolKey = null;
    schema = hello.database();
    collation = hello.collation();
    lastStatus = ServerStatus.AUTOCOMMIT;
    writeLocal(Packets.ok(client.alloc(), nextClientSeq, lastStatus, capabilities));
  }

  private void acquire() {
    acquiring = true;
    acquireStartNanos = System.nanoTime();
    if (poolKey == null || poolKey.user() != user || poolKey.collation() != collation) {
      // Transaction mode needs the server's session-state reports whether the client asked for them
      // or not.
      int flags =
          capabilities & Capabilities.BACKEND_PASSTHROUGH
              | (transactionMode ? Capabilities.CLIENT_SESSION_TRACK : 0);
      poolKey = new PoolKey(user, flags, collation);
    }
    PoolKey key = poolKey;
    BackendPool p = pool;
    p.acquire(loop, key, schema == null)
        .addListener((Future<BackendConnection> f) -> onAcquired(p, f));
  }

  private void onAcquired(BackendPool p, Future<BackendConnection> f) {
    acquiring = false;
    frontend
        .acquireTimer(p.name())
        .record(System.nanoTime() - acquireStartNanos, TimeUnit.NANOSECONDS);
    if (phase == CLOSED) {
      if (f.isSuccess()) {
        p.release(f.getNow(), BackendPool.Release.CLEAN);
      }
      return;
    }
    if (!f.isSuccess()) {
      Throwable cause = f.cause();
      frontend.metrics.error(
          cause instanceof AcquireTimeoutException ? "acquire_timeout" : "backend_unavailable");
      log.warn("client #{} ({}@{}): {}", id, user.name(), remoteHost, cause.getMessage());
      ByteBuf first = queued.poll();
      int seq = Packets.sequenceId(first) + 1;
      first.release();
      writeLocal(
          Packets.err(client.alloc(), seq, ErrorCodes.POOL_TIMEOUT, "HY000", cause.getMessage()));
      drainQueue();
      return;
    }
    backend = f.getNow();
    acquiredAtNanos = System.nanoTime();
    tracker = new ResponseTracker(backend.capabilities());
    commandsSinceAcquire = 0;
    internalError = null;
    internalErrorAnswered = false;
    backend.listener(this);
    long leakMillis = frontend.config().pool().leakDetectionThreshold().toMillis();
    if (leakMillis > 0) {
      leakTimer = loop.schedule(this::warnLeak, leakMillis, TimeUnit.MILLISECONDS);
    }
    if (schema != null && !(backend.schemaKnown() && schema.equals(backend.schema()))) {
      sendBlocking(INIT_DB, Packets.command(client.alloc(), Commands.COM_INIT_DB, schema));
      backend.schema(schema, true);
    }
    if (transactionMode) {
      restoreVariables();
    }
    // Read the backend only while the client can take what it sends: a slow reader slows only its
    // own backend.
    backend.channel().config().setAutoRead(client.isWritable());
    if (blockingInternal == 0) {
      drainQueue();
    } else {
      backend.channel().flush();
    }
  }

  /**
   * Transaction mode: gives the lent connection this client's carried variables, in one statement
   * if any differ.
   */
  private void restoreVariables() {
    String[] target = vars != null ? vars : backend.baselineVars();
    String sql = backend.variables().restoreStatement(target, backend.currentVars());
    if (sql != null) {
      sendBlocking(RESTORE, Packets.command(client.alloc(), Commands.COM_QUERY, sql));
      backend.currentVars(target.clone());
    }
  }

  /** Sends one of the proxy's own commands that the client's commands wait for. */
  private void sendBlocking(int owner, ByteBuf command) {
    blockingInternal++;
    expect(Packets.firstByte(command), owner);
    backend.channel().write(command, backend.channel().voidPromise());
  }

  private void warnLeak() {
    if (backend != null && phase == COMMAND) {
      long heldMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - acquiredAtNanos);
      frontend.metrics.error("leak_suspected");
      String why =
          !transactionMode
              ? "in session mode a client keeps its backend until it disconnects, so an application that never closes"
                  + " its connections holds the pool"
              : pinReason != null
                  ? "in transaction mode this client is pinned to it (" + pinReason + ")"
                  : "in transaction mode a client keeps its backend while a transaction is open: a transaction left open";
      log.warn(
          "client #{} ({}@{}) has held backend connection {} for {}ms, longer than pool.leakDetectionThreshold"
              + " ({}ms); {}",
          id,
          user.name(),
          remoteHost,
          backend,
          heldMs,
          frontend.config().pool().leakDetectionThreshold().toMillis(),
          why);
    }
  }

  private void drainQueue() {
    while (!queued.isEmpty()
        && !acquiring
        && !waitForIdle
        && blockingInternal == 0
        && phase == COMMAND) {
      handle(queued.poll());
    }
    flush();
    updateClientReading();
  }

  // -----------------------------------------------------------------------------------------------
  // backend side

  @Override
  public EventExecutor executor() {
    return loop;
  }

  /**
   * Follows each packet of the batch through the tracker and forwards the batch to the client as
   * one buffer, except the replies to the proxy's own commands, which are consumed here, and (in
   * transaction mode) OK packets a client without CLIENT_SESSION_TRACK must see without
   * session-state data.
   */
  @Override
  public void onPacket(BackendConnection c, ByteBuf packets) {
    if (c != backend || phase == CLOSED) {
      packets.release();
      return;
    }
    unreportedBytesReceived += packets.readableBytes();
    try {
      PacketCursor cursor = new PacketCursor(packets);
      int forwardFrom = packets.readerIndex();
      while (cursor.advance()) {
        ByteBuf packet = cursor.packet();
        int flags = replyOwners.isEmpty() ? 0 : replyOwners.peek();
        boolean rowPacket = tracker.readingRows();
        boolean done;
        try {
          done = tracker.onPacket(packet);
        } catch (RuntimeException e) {
          log.warn(
              "client #{}: backend {} sent a packet out of turn ({}); closing both",
              id,
              c,
              e.getMessage());
          frontend.metrics.error("protocol_error");
          lostBackend("the backend sent an unexpected packet");
          return;
        }
        if (flags < 0) {
          forward(packets, forwardFrom, cursor.start());
          forwardFrom = cursor.end();
          onInternalPacket(flags, packet, rowPacket);
          if (done) {
            replyOwners.poll();
            onInternalDone(flags);
            if (backend != c || phase == CLOSED) {
              return;
            }
          }
          continue;
        }
        if (tracker.localInfileRequested() && !uploading) {
          if (loadLocalQueries == 0) {
            log.warn(
                "client #{}: backend {} asked for a local file without a LOAD DATA LOCAL statement; closing",
                id,
                c);
            frontend.metrics.error("protocol_error");
            lostBackend("the backend asked for a local file the client did not offer");
            return;
          }
          loadLocalQueries--;
          uploading = true;
        }
        if (transactionMode && tracker.packetWasOk()) {
          if ((tracker.lastStatus() & ServerStatus.SESSION_STATE_CHANGED) != 0) {
            onSessionStateChange(flags, packet);
          }
          if ((tracker.lastStatus() & ServerStatus.SESSION_STATE_CHANGED) != 0) {
            // The state data describes the backend as the proxy set it up; the client sees what it
            // asked for.
            ByteBuf plain =
                (capabilities & Capabilities.CLIENT_SESSION_TRACK) == 0
                    ? SessionStateInfo.withoutSessionTrack(client.alloc(), packet)
                    : SessionStateInfo.withoutStateChangeEntries(client.alloc(), packet);
            if (plain != null) {
              forward(packets, forwardFrom, cursor.start());
              forwardFrom = cursor.end();
              client.write(plain, client.voidPromise());
              flushClient = true;
            }
          }
        }
        nextClientSeq = Packets.sequenceId(packet) + 1;
        if (done) {
          replyOwners.poll();
          forward(packets, forwardFrom, cursor.end());
          forwardFrom = cursor.end();
          replyDone(flags);
          if (phase == CLOSED) {
            return;
          }
        }
      }
      forward(packets, forwardFrom, packets.writerIndex());
    } finally {
      packets.release();
    }
    if (releaseWanted) {
      releaseWanted = false;
      maybeRelease();
    }
  }

  /**
   * Transaction mode: the server reports that a client statement changed session state. A SET of
   * carried variables, USE or COM_INIT_DB is followed (a snapshot is taken before the connection
   * goes back); anything else pins.
   */
  private void onSessionStateChange(int flags, ByteBuf packet) {
    if ((flags & (StatementScan.CARRIED_SET | StatementScan.USE)) != 0
        && (flags & StatementScan.MULTI) == 0) {
      varsDirty = true;
      return;
    }
    if (pinReason != null) {
      return;
    }
    StringBuilder detail = new StringBuilder();
    SessionStateInfo.read(
        packet,
        new SessionStateInfo.Visitor() {
          @Override
          public void variable(String name, String value) {
            detail.append(detail.length() == 0 ? "" : ", ").append(name);
          }

          @Override
          public void schema(String name) {
            detail.append(detail.length() == 0 ? "" : ", ").append("schema");
          }

          @Override
          public void stateChanged() {}

          @Override
          public void other(int type) {}
        });
    pin("session_state", detail.length() == 0 ? "reported by the server" : "reported: " + detail);
  }

  private void onInternalPacket(int owner, ByteBuf packet, boolean rowPacket) {
    if (Packets.firstByte(packet) == Packets.ERR && !rowPacket) {
      internalError = Packets.describeError(packet);
      if ((owner == INIT_DB || owner == RESTORE) && !internalErrorAnswered) {
        internalErrorAnswered = true;
        answerWaitingCommand(packet.retainedSlice(), owner);
      } else {
        log.warn(
            "client #{}: backend {} refused the proxy's own statement: {}",
            id,
            backend,
            internalError);
      }
    } else if (owner == SNAPSHOT && rowPacket && snapshotRow == null) {
      snapshotRow = Packets.textRow(packet);
    } else if (owner == WARNING_CHECK && rowPacket && warningCount == null) {
      warningCount = Packets.textRow(packet).get(0);
    }
  }

  private void onInternalDone(int owner) {
    String error = internalError;
    internalError = null;
    if (owner == INIT_DB || owner == RESTORE || owner == SNAPSHOT || owner == WARNING_CHECK) {
      blockingInternal--;
    }
    if (owner == SNAPSHOT) {
      finishSnapshot(error);
    } else if (owner == WARNING_CHECK) {
      diagnosticsPending = !"0".equals(warningCount);
      releaseWanted = true;
    } else if (owner == INJECTED) {
      releaseWanted = true;
    } else if (owner == RESTORE && error != null) {
      backend.currentVars(null); // unknown now: the connection is closed when it comes back
    }
    if (blockingInternal == 0 && phase == COMMAND) {
      drainQueue();
    }
  }

  /**
   * Restoring the client's database or variables failed on the lent backend: answer the command
   * that was waiting with the server's error (as a direct connection would have failed at USE or
   * SET).
   */
  private void answerWaitingCommand(ByteBuf err, int owner) {
    if (owner == INIT_DB) {
      backend.schema(null, false);
      schema = null;
    }
    ByteBuf first = queued.poll();
    if (first != null) {
      Packets.setSequenceId(err, Packets.sequenceId(first) + 1);
      first.release();
      client.write(err, client.voidPromise());
      flushClient = true;
    } else {
      err.release();
    }
  }

  // ----------------------------------------------------------------------------------------
  // transaction mode

  /**
   * Transaction mode: gives the backend connection back when nothing is in flight, no transaction
   * is open and the session is not pinned. While the server holds warnings or errors of the
   * client's statements (SHOW WARNINGS and @@warning_count read them, and only a statement that
   * uses a table clears them) the connection stays; after a reply without any, one {@code
   * SELECT @@warning_count} tells whether the list is empty. A snapshot of carried variables is
   * taken first when a statement may have changed them.
   */
  private void maybeRelease() {
    if (!transactionMode
        || backend == null
        || phase != COMMAND
        || pinReason != null
        || inTransaction()
        || tracker.pending() > 0
        || uploading
        || clientContinuation
        || blockingInternal > 0
        || acquiring) {
      return;
    }
    if (diagnosticsPending) {
      if (!warningsChecked && tracker.lastWarnings() == 0 && !tracker.lastWasError()) {
        // Once per client statement: a list only a statement that uses a table clears would be
        // checked forever.
        warningsChecked = true;
        warningCount = null;
        sendBlocking(
            WARNING_CHECK,
            Packets.command(client.alloc(), Commands.COM_QUERY, "SELECT @@warning_count"));
        backend.channel().flush();
        updateClientReading();
      }
      return;
    }
    if (varsDirty || !backend.schemaKnown()) {
      snapshotRow = null;
      sendBlocking(
          SNAPSHOT,
          Packets.command(client.alloc(), Commands.COM_QUERY, backend.variables().snapshotQuery()));
      backend.channel().flush();
      updateClientReading();
      return;
    }
    flush();
    releaseBackend(BackendPool.Release.CLEAN);
    updateClientReading();
  }

  private void finishSnapshot(String error) {
    List<String> row = snapshotRow;
    snapshotRow = null;
    int size = backend.variables().size();
    if (error != null || row == null || row.size() != size + 2) {
      pin("session_state", "could not read the session's variables: " + error);
      return;
    }
    schema = row.get(0);
    vars = row.subList(1, size + 1).toArray(new String[0]);
    if (lastInsertIdFromSnapshot) {
      lastInsertIdFromSnapshot = false;
      lastInsertId = Long.parseUnsignedLong(row.get(size + 1));
      backend.lastInsertIdOwner(id);
    }
    backend.currentVars(vars.clone());
    backend.schema(schema, true);
    varsDirty = false;
    flush();
    releaseBackend(BackendPool.Release.CLEAN);
  }

  /**
   * The client's COM_RESET_CONNECTION succeeded on its backend: the server dropped the session's
   * state and turned state tracking off. The proxy forgets what it carried, reads the variables
   * back before the connection goes, and turns tracking on again. COM_SET_OPTION is not undone by a
   * reset, so that pin stays.
   */
  private void afterClientReset() {
    String keep = "set_option".equals(pinReason) ? pinReason : null;
    forgetSessionState();
    if (keep != null) {
      pin(keep, null);
    }
    varsDirty = true;
    backend.lastInsertIdOwner(id);
    inject(TRACK_STATE_CHANGES);
  }

  private void forward(ByteBuf packets, int from, int to) {
    if (to > from) {
      client.write(packets.retainedSlice(from, to - from), client.voidPromise());
      flushClient = true;
    }
  }

  private void replyDone(int flags) {
    if (transactionMode && (flags & StatementScan.STATEMENT) != 0) {
      if (tracker.lastWasError()) {
        rowCount = -1;
      } else if (tracker.lastWasResultSet()) {
        rowCount = -1;
        foundRows = tracker.lastRows();
      } else {
        rowCount = tracker.lastAffectedRows();
      }
    }
    if (transactionMode) {
      warningsChecked = false;
      if (tracker.lastWarnings() > 0 || tracker.lastWasError()) {
        diagnosticsPending = true;
      }
      if ((flags & StatementScan.RESET_CONNECTION) != 0 && !tracker.lastWasError()) {
        afterClientReset();
      }
      if (tracker.lastInsertId() != 0) {
        lastInsertId = tracker.lastInsertId();
        backend.lastInsertIdOwner(id);
      }
    }
    pool.traffic().queries.increment();
    if (tracker.lastWasError()) {
      pool.traffic().queryErrors.increment();
    }
    long now = System.nanoTime();
    queryTimer.record(now - commandStartNanos, TimeUnit.NANOSECONDS);
    lastStatus = tracker.lastStatus();
    if (tracker.pending() > 0) {
      commandStartNanos = now;
      return;
    }
    if (waitForIdle) {
      waitForIdle = false;
      loop.execute(this::drainQueue);
    }
    if (closeWhenIdle && !inTransaction()) {
      flush();
      close();
      return;
    }
    releaseWanted = transactionMode;
  }

  private boolean inTransaction() {
    return (lastStatus & ServerStatus.IN_TRANS) != 0;
  }

  @Override
  public void onReadComplete(BackendConnection c) {
    if (c != backend || phase == CLOSED) {
      return;
    }
    flush();
  }

  @Override
  public void onWritabilityChanged(BackendConnection c) {
    if (c == backend) {
      updateClientReading();
    }
  }

  @Override
  public void onClosed(BackendConnection c) {
    if (c != backend || phase == CLOSED) {
      return;
    }
    backend = null;
    frontend.metrics.error("backend_lost");
    log.warn(
        "client #{} ({}@{}): backend connection {} closed{}",
        id,
        user.name(),
        remoteHost,
        c,
        tracker.pending() > 0 ? " during a command" : "");
    pool.release(c, BackendPool.Release.DISCARD);
    lostBackend(
        "Lost connection to backend '"
            + pool.name()
            + "' "
            + (tracker.pending() > 0 ? "during query" : "while the session was idle")
            + "; the session is closed");
  }

  /**
   * The session's server-side state is gone: tell the client, as a server that went away would, and
   * close.
   */
  private void lostBackend(String message) {
    if (tracker != null && tracker.pending() > 0) {
      ByteBuf err =
          Packets.err(client.alloc(), nextClientSeq, ErrorCodes.LOST_CONNECTION, "HY000", message);
      client.writeAndFlush(err).addListener(f -> close());
    } else {
      close();
    }
  }

  // ------------------------------------------------------------------------------------------------ client side

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    flush();
    updateClientReading();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (backend != null) {
      backend.channel().config().setAutoRead(client.isWritable());
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof IdleStateEvent
        && phase == COMMAND
        && (tracker == null || tracker.pending() == 0)
        && !acquiring) {
      log.info(
          "client #{} ({}@{}) idle for longer than frontend.clientIdleTimeout ({}); closing",
          id,
          user.name(),
          remoteHost,
          frontend.config().frontend().clientIdleTimeout());
      frontend.metrics.error("client_idle_timeout");
      client
          .writeAndFlush(
              Packets.err(
                  client.alloc(),
                  0,
                  ErrorCodes.CLIENT_IDLE_TIMEOUT,
                  "HY000",
                  "The client was disconnected by the server because of inactivity (frontend.clientIdleTimeout)"))
          .addListener(f -> close());
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    close();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    protocolError(cause);
  }

  private void protocolError(Throwable cause) {
    if (phase != CLOSED) {
      frontend.metrics.error("protocol_error");
      log.info(
          "client #{} from {}: closing after a protocol error: {}",
          id,
          remoteHost,
          cause.toString());
    }
    close();
  }

  private void writeLocal(ByteBuf reply) {
    client.write(reply, client.voidPromise());
    flushClient = true;
    flush();
  }

  private void flush() {
    if (unreportedBytesSent + unreportedBytesReceived > 0 && pool != null) {
      pool.traffic().bytesSent.add(unreportedBytesSent);
      pool.traffic().bytesReceived.add(unreportedBytesReceived);
      unreportedBytesSent = 0;
      unreportedBytesReceived = 0;
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

  /**
   * Both channels read continuously (toggling interest per read costs two epoll_ctl calls per
   * packet); reading from the client pauses only while its commands cannot go anywhere: no backend
   * yet, a local command waiting for earlier replies, or a backend that cannot take more.
   */
  private void updateClientReading() {
    boolean want =
        phase != CLOSED
            && queued.isEmpty()
            && !acquiring
            && !waitForIdle
            && blockingInternal == 0
            && (backend == null || backend.channel().isWritable());
    if (client.config().isAutoRead() != want) {
      client.config().setAutoRead(want);
    }
  }

  private void sendErrorAndClose(int seq, int code, String state, String message) {
    phase = CLOSED;
    client
        .writeAndFlush(Packets.err(client.alloc(), seq, code, state, message))
        .addListener(f -> close());
  }

  // -------------------------------------------------------------------------------------------------- shutdown

  /** From any thread: finish gracefully (draining). */
  void drain() {
    loop.execute(
        () -> {
          if (phase != COMMAND) {
            close();
          } else if (!acquiring
              && queued.isEmpty()
              && (tracker == null || tracker.pending() == 0)
              && !inTransaction()) {
            close();
          } else {
            closeWhenIdle = true;
          }
        });
  }

  /** From any thread: close now. */
  void forceClose() {
    loop.execute(this::close);
  }

  /** Ends the session: releases queued packets and returns or discards the backend by the rules. */
  void close() {
    phase = CLOSED;
    if (handshakeTimer != null) {
      handshakeTimer.cancel(false);
    }
    ByteBuf p;
    while ((p = queued.poll()) != null) {
      p.release();
    }
    if (backend != null) {
      boolean inFlight = tracker.pending() > 0 || uploading || clientContinuation;
      if (inFlight) {
        // The server may be busy with this client's statement and would not notice a closed socket
        // until it
        // writes: kill it over a side connection so its locks are freed now.
        log.info(
            "client #{} ({}@{}) left during a command; killing backend thread {}",
            id,
            user.name(),
            remoteHost,
            backend.threadId());
        pool.kill(loop, backend.key(), backend.threadId(), false);
        releaseBackend(BackendPool.Release.DISCARD);
      } else {
        releaseBackend(optionChanged ? BackendPool.Release.DISCARD : BackendPool.Release.RESET);
      }
    }
    unpin();
    frontend.leave(this);
    if (client.isActive()) {
      client.close();
    }
  }

  private void releaseBackend(BackendPool.Release how) {
    if (backend == null) {
      return;
    }
    if (leakTimer != null) {
      leakTimer.cancel(false);
      leakTimer = null;
    }
    BackendConnection c = backend;
    backend = null;
    c.listener(null);
    c.channel().config().setAutoRead(true);
    flushBackend = false;
    if (transactionMode
        && how == BackendPool.Release.CLEAN
        && (optionChanged || c.currentVars() == null)) {
      how = BackendPool.Release.DISCARD;
    }
    pool.release(c, how);
    tracker = null;
    replyOwners.clear();
    blockingInternal = 0;
    optionChanged = false;
    clientContinuation = false;
    uploading = false;
  }
}
