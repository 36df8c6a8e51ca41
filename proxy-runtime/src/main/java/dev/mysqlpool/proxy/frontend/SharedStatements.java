package dev.mysqlpool.proxy.frontend;

import dev.mysqlpool.proxy.backend.BackendConnection;
import dev.mysqlpool.proxy.protocol.Capabilities;
import dev.mysqlpool.proxy.protocol.Commands;
import dev.mysqlpool.proxy.protocol.Packets;
import dev.mysqlpool.proxy.protocol.ResponseTracker;
import dev.mysqlpool.proxy.protocol.ServerStatus;
import dev.mysqlpool.proxy.stmt.ClientStatement;
import dev.mysqlpool.proxy.stmt.ExecutePacket;
import dev.mysqlpool.proxy.stmt.ServerStatements;
import dev.mysqlpool.proxy.stmt.SharedStatement;
import dev.mysqlpool.proxy.stmt.StatementCache;
import dev.mysqlpool.proxy.stmt.StatementKey;
import io.netty.buffer.ByteBuf;
import io.netty.util.collection.IntObjectHashMap;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * Transaction mode's server-side prepared statements, for one client: the client sees statement ids
 * the proxy gives, each naming a {@link SharedStatement}; a COM_STMT_PREPARE the proxy has seen
 * before is answered from the {@link StatementCache}, and a statement command goes to whichever
 * backend connection the client holds now, prepared there first when that connection has not seen
 * it (that reply is consumed). So a prepare does not pin: only an open cursor or long data keep the
 * connection, until the cursor ends or the statement executes.
 *
 * <p>Threading: the session's event loop. Ownership: each packet passed to {@link #onCommand} is
 * sent, answered and released, or held until its statement is prepared on the backend.
 */
final class SharedStatements {
  /** Tag bits (beside StatementScan's): the reply says whether a cursor stays open. */
  static final int CURSOR_EXECUTE = 1 << 30;

  static final int CURSOR_FETCH = 1 << 29;
  static final int CURSOR_CALLS = CURSOR_EXECUTE | CURSOR_FETCH;

  static final String CURSOR = "cursor";
  static final String LONG_DATA = "long_data";

  private static final int UNKNOWN_STMT_HANDLER = 1243;
  private static final int NO_OPEN_CURSOR = 1421;

  private final ClientSession session;
  private final BackendRelay relay;
  private final TransactionMode mode;
  private final StatementCache cache;
  private final int bound;

  private final IntObjectHashMap<ClientStatement> statements = new IntObjectHashMap<>();
  private int lastId;

  /** What MariaDB's id -1 names: the statement the client prepared last. */
  private ClientStatement lastPrepared;

  /** Statements whose execute or fetch reply will say whether their cursor stays open. */
  private final ArrayDeque<ClientStatement> cursorCalls = new ArrayDeque<>(2);

  private int openCursors;
  private int longData;

  private final StatementReprepare reprepare;
  private final ExecuteReplies executeReplies;

  SharedStatements(
      ClientSession session,
      BackendRelay relay,
      TransactionMode mode,
      StatementCache cache,
      int bound) {
    this.session = session;
    this.relay = relay;
    this.mode = mode;
    this.cache = cache;
    this.bound = bound;
    this.reprepare = new StatementReprepare(this, session, relay, cache);
    this.executeReplies = new ExecuteReplies(this, cache);
  }

  /** See {@link SessionMode#onStatementCommand}. */
  boolean onCommand(ByteBuf packet, int command) {
    switch (command) {
      case Commands.COM_STMT_PREPARE:
        return prepare(packet);
      case Commands.COM_STMT_CLOSE:
        close(packet);
        return true;
      case Commands.COM_STMT_EXECUTE:
      case Commands.COM_STMT_BULK_EXECUTE:
      case Commands.COM_STMT_SEND_LONG_DATA:
      case Commands.COM_STMT_RESET:
      case Commands.COM_STMT_FETCH:
        return route(packet, command);
      default:
        return false;
    }
  }

  /** Whether an open cursor or long data keep the backend connection. */
  boolean holding() {
    return openCursors > 0 || longData > 0;
  }

  // ------------------------------------------------------------------------------------ prepare

  private boolean prepare(ByteBuf packet) {
    int length = Packets.payloadLength(packet);
    if (length == Packets.MAX_PAYLOAD) {
      // SQL text of 16 MiB and more arrives in pieces; such a statement is prepared unshared.
      return false;
    }
    int start = packet.readerIndex() + Packets.HEADER_SIZE + 1;
    StatementKey key =
        new StatementKey(
            session.pool().name(),
            session.user,
            session.capabilities & Capabilities.BACKEND_PASSTHROUGH,
            session.collation,
            session.schema,
            mode.noBackslashEscapes(),
            packet.toString(start, length - 1, StandardCharsets.ISO_8859_1));
    SharedStatement cached = cache.get(key);
    if (cached != null && relay.pending() == 0 && !relay.blocked()) {
      cache.hit();
      ClientStatement s = add(cached);
      packet.release();
      session.writeLocal(cached.replyFor(session.alloc(), s.id));
      // A connection borrowed for this prepare goes back at once.
      session.maybeRelease();
      return true;
    }
    if (relay.backend() == null) {
      return false;
    }
    cache.miss();
    int flags = mode.scanStatement(packet, start, start + length - 1);
    StatementScan scan = mode.scan();
    relay.send(
        packet,
        Commands.COM_STMT_PREPARE,
        0,
        new PrepareReply(this, add(null), key, flags, scan.pin, scan.pinDetail));
    return true;
  }

  private ClientStatement add(SharedStatement shared) {
    do {
      lastId++;
    } while (lastId == 0
        || lastId == ExecutePacket.LAST_PREPARED
        || statements.containsKey(lastId));
    ClientStatement s = new ClientStatement(lastId, shared);
    statements.put(lastId, s);
    lastPrepared = s;
    return s;
  }

  /** A client's prepare was answered by the lent backend. */
  void prepared(PrepareReply r) {
    ClientStatement s = r.statement;
    if (r.failed) {
      forget(s);
      return;
    }
    SharedStatement shared =
        cache.add(
            r.key, r.reply.toByteArray(), r.params, r.columns, r.scanFlags, r.pin, r.pinDetail);
    s.shared = shared;
    ServerStatements here = relay.backend().session().statements();
    if (here.get(shared) != null) {
      // Prepared here before (the client had replies in flight, so it could not be answered
      // locally): keep one copy on the server.
      closeOnServer(r.serverId);
    } else {
      remember(here, shared, r.serverId);
    }
  }

  private void remember(ServerStatements here, SharedStatement shared, int serverId) {
    int evicted = here.put(shared, serverId, bound, cache);
    if (evicted >= 0) {
      closeOnServer(evicted);
    }
  }

  void closeOnServer(int serverId) {
    ByteBuf close = Packets.start(session.alloc(), 5, 0);
    close.writeByte(Commands.COM_STMT_CLOSE);
    close.writeIntLE(serverId);
    relay.sendQuiet(Packets.finish(close));
  }

  // -------------------------------------------------------------------- execute, fetch, ...

  private boolean route(ByteBuf packet, int command) {
    int id = ExecutePacket.statementId(packet);
    ClientStatement s = id == ExecutePacket.LAST_PREPARED ? lastPrepared : statements.get(id);
    if (s == null) {
      return unknown(packet, command, id);
    }
    if (s.shared == null) {
      // MariaDB's id -1 right behind its prepare, still in flight on this connection: the server
      // resolves it itself.
      send(packet, command, s, null, false);
      return true;
    }
    if (relay.backend() == null) {
      if (command == Commands.COM_STMT_RESET) {
        // Nothing of it is on a server: no cursor, no long data (either would hold a backend).
        int seq = Packets.sequenceId(packet) + 1;
        packet.release();
        session.writeLocal(
            Packets.ok(session.alloc(), seq, session.lastStatus(), session.capabilities));
        return true;
      }
      if (command == Commands.COM_STMT_FETCH) {
        answerError(packet, NO_OPEN_CURSOR, "The statement (" + id + ") has no open cursor.");
        return true;
      }
      return false;
    }
    ServerStatements.Entry entry = relay.backend().session().statements().get(s.shared);
    if (entry == null) {
      reprepare.park(packet, command, s, false);
      return true;
    }
    ExecutePacket.statementId(packet, entry.serverId);
    send(packet, command, s, entry, false);
    return true;
  }

  private boolean unknown(ByteBuf packet, int command, int id) {
    if (command == Commands.COM_STMT_SEND_LONG_DATA) {
      packet.release(); // no reply; a server ignores it too
      return true;
    }
    if (relay.pending() > 0 || relay.blocked()) {
      // Replies are still on their way: the server's own error keeps the order.
      ExecutePacket.statementId(packet, 0);
      relay.send(packet, command, 0);
      return true;
    }
    String name =
        command == Commands.COM_STMT_EXECUTE
            ? "mysqld_stmt_execute"
            : command == Commands.COM_STMT_BULK_EXECUTE
                ? "mysqld_stmt_bulk_execute"
                : command == Commands.COM_STMT_FETCH ? "mysqld_stmt_fetch" : "mysqld_stmt_reset";
    answerError(
        packet,
        UNKNOWN_STMT_HANDLER,
        "Unknown prepared statement handler ("
            + Integer.toUnsignedString(id)
            + ") given to "
            + name);
    return true;
  }

  private void answerError(ByteBuf packet, int code, String message) {
    int seq = Packets.sequenceId(packet) + 1;
    packet.release();
    session.writeLocal(Packets.err(session.alloc(), seq, code, "HY000", message));
    session.maybeRelease();
  }

  /**
   * The statement of a command {@link StatementReprepare} held was prepared on the lent connection
   * as {@code serverId}: the command goes now ({@code again}: an execute sent again after 1615).
   */
  void reprepared(ByteBuf packet, int command, ClientStatement s, int serverId, boolean again) {
    ServerStatements here = relay.backend().session().statements();
    remember(here, s.shared, serverId);
    ServerStatements.Entry entry = here.get(s.shared);
    ExecutePacket.statementId(packet, entry.serverId);
    send(packet, command, s, entry, again);
  }

  /** The server lost {@code s} on the lent connection (1615): it is prepared anew next time. */
  void dropHere(SharedStatement s) {
    ServerStatements here = relay.backend().session().statements();
    ServerStatements.Entry entry = here.get(s);
    if (entry != null) {
      here.remove(s);
      closeOnServer(entry.serverId);
    }
  }

  /** Whether the lent connection owes no reply but the one being read. */
  boolean nothingElseInFlight() {
    return relay.pending() == 0 && !relay.blocked();
  }

  /**
   * The execute {@code packet} (owned here now, the old server id in it) got error 1615 as its
   * whole reply, which the client did not see: it goes again once the statement is prepared anew on
   * this connection; its reply, whatever it is, goes to the client.
   */
  void retry(ClientStatement s, ByteBuf packet) {
    if (ExecutePacket.opensCursor(packet)) {
      cursorCalls.pollLast(); // its reply did not say; the execute sent again asks anew
    }
    reprepare.park(packet, Commands.COM_STMT_EXECUTE, s, true);
  }

  /**
   * Sends a statement command whose id is the server's now; entry is null for id -1, {@code again}
   * true for an execute sent again after error 1615.
   */
  private void send(
      ByteBuf packet, int command, ClientStatement s, ServerStatements.Entry entry, boolean again) {
    int flags = 0;
    switch (command) {
      case Commands.COM_STMT_EXECUTE:
        // Sent again after error 1615 at most once, and never when the server has used up the
        // long data it read its parameters from, or when it is too large to hold as one packet.
        boolean resendable =
            !again && !s.longData && Packets.payloadLength(packet) < Packets.MAX_PAYLOAD;
        if (s.longData) {
          s.longData = false;
          longData(-1);
        }
        if (s.cursorOpen) {
          cursor(s, false); // a new execute closes the statement's cursor on the server
        }
        if (entry != null) {
          packet = withTypes(packet, s, entry);
        }
        flags = s.shared != null ? mode.onPreparedExecute(s.shared) : mode.onCommand(command);
        if (ExecutePacket.opensCursor(packet)) {
          flags |= CURSOR_EXECUTE;
          cursorCalls.add(s);
        }
        if (s.shared != null) {
          executeReplies.expect(s, resendable ? packet.retainedDuplicate() : null);
          relay.send(packet, command, flags, executeReplies);
          return;
        }
        break;
      case Commands.COM_STMT_BULK_EXECUTE:
        // Carries its parameter types with every batch (MariaDB Connector/J and the Node.js
        // connector send them), and opens no cursor.
        if (s.longData) {
          s.longData = false;
          longData(-1);
        }
        flags =
            s.shared != null
                ? mode.onPreparedExecute(s.shared)
                : mode.onCommand(Commands.COM_STMT_EXECUTE);
        break;
      case Commands.COM_STMT_FETCH:
        flags = CURSOR_FETCH;
        cursorCalls.add(s);
        break;
      case Commands.COM_STMT_SEND_LONG_DATA:
        if (!s.longData) {
          s.longData = true;
          longData(1);
        }
        break;
      case Commands.COM_STMT_RESET:
        if (s.longData) {
          s.longData = false;
          longData(-1);
        }
        if (s.cursorOpen) {
          cursor(s, false);
        }
        break;
      default:
        break;
    }
    relay.send(packet, command, flags);
  }

  /**
   * The types the client bound last, for a backend whose statement last got others (or none): an
   * execute that does not repeat its types (new_params_bound_flag 0) gets them added.
   */
  private ByteBuf withTypes(ByteBuf packet, ClientStatement s, ServerStatements.Entry entry) {
    int params = s.shared.params();
    int flag = ExecutePacket.boundFlagIndex(packet, params);
    if (flag < 0) {
      return packet;
    }
    if (packet.getByte(flag) == 1) {
      byte[] types = ExecutePacket.types(packet, flag, params, s.types);
      if (types != null) {
        s.types = types;
        entry.types = types;
      }
      return packet;
    }
    if (s.types == null
        || entry.types == s.types
        || Arrays.equals(entry.types, s.types)
        || !ExecutePacket.canAddTypes(packet, params)) {
      return packet;
    }
    entry.types = s.types;
    return ExecutePacket.withTypes(session.alloc(), packet, flag, s.types);
  }

  // ------------------------------------------------------------------------- close, cursors

  private void close(ByteBuf packet) {
    int id = ExecutePacket.statementId(packet);
    packet.release();
    ClientStatement s = id == ExecutePacket.LAST_PREPARED ? lastPrepared : statements.get(id);
    if (s == null) {
      return;
    }
    forget(s);
    boolean held = s.cursorOpen || s.longData;
    if (s.longData) {
      s.longData = false;
      longData(-1);
    }
    if (s.cursorOpen) {
      cursor(s, false);
    }
    if (held && relay.backend() != null && s.shared != null) {
      // The server statement stays for other clients, without this client's cursor or data.
      ServerStatements.Entry entry = relay.backend().session().statements().get(s.shared);
      if (entry != null) {
        ByteBuf reset = Packets.start(session.alloc(), 5, 0);
        reset.writeByte(Commands.COM_STMT_RESET);
        reset.writeIntLE(entry.serverId);
        relay.sendOwn(reprepare.quiet, Packets.finish(reset));
      }
    }
    // The statement stays prepared on the server and in the cache for whoever prepares it next.
  }

  private void forget(ClientStatement s) {
    statements.remove(s.id);
    if (lastPrepared == s) {
      lastPrepared = null;
    }
  }

  /** An execute that asked for a cursor, or a fetch, is answered: is the cursor open now? */
  void cursorReplyDone(int flags, ResponseTracker tracker) {
    ClientStatement s = cursorCalls.poll();
    if (s == null) {
      return;
    }
    int status = tracker.lastStatus();
    boolean open =
        !tracker.lastWasError()
            && ((flags & CURSOR_EXECUTE) != 0
                ? (status & ServerStatus.CURSOR_EXISTS) != 0
                : (status & ServerStatus.LAST_ROW_SENT) == 0);
    if (open != s.cursorOpen && statements.get(s.id) == s) {
      cursor(s, open);
    }
  }

  private void cursor(ClientStatement s, boolean open) {
    s.cursorOpen = open;
    openCursors += open ? 1 : -1;
    if (openCursors == (open ? 1 : 0)) {
      session.metrics().pinned(CURSOR, open ? 1 : -1);
    }
  }

  private void longData(int delta) {
    longData += delta;
    if (longData == (delta > 0 ? 1 : 0)) {
      session.metrics().pinned(LONG_DATA, delta);
    }
  }

  // ------------------------------------------------------------------------------- the end

  /**
   * The client's COM_RESET_CONNECTION succeeded: the server dropped every prepared statement of the
   * connection, other clients' shared ones too.
   */
  void afterReset(BackendConnection backend) {
    backend.session().statements().clear();
  }

  /** The session ends or starts over: its statements are gone, and nothing holds its backend. */
  void close() {
    reprepare.close();
    if (openCursors > 0) {
      session.metrics().pinned(CURSOR, -1);
    }
    if (longData > 0) {
      session.metrics().pinned(LONG_DATA, -1);
    }
    openCursors = 0;
    longData = 0;
    cursorCalls.clear();
    executeReplies.clear();
    statements.clear();
    lastPrepared = null;
  }
}
