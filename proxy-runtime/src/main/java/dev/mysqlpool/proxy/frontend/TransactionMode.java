package dev.mysqlpool.proxy.frontend;

import dev.mysqlpool.proxy.backend.BackendConnection;
import dev.mysqlpool.proxy.backend.BackendPool;
import dev.mysqlpool.proxy.backend.ServerSession;
import dev.mysqlpool.proxy.protocol.Capabilities;
import dev.mysqlpool.proxy.protocol.Commands;
import dev.mysqlpool.proxy.protocol.Packets;
import dev.mysqlpool.proxy.protocol.ResponseTracker;
import dev.mysqlpool.proxy.protocol.ServerStatus;
import dev.mysqlpool.proxy.protocol.SessionStateInfo;
import dev.mysqlpool.proxy.stmt.SharedStatement;
import io.netty.buffer.ByteBuf;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code pool.mode: transaction} for one client: the backend connection goes back to the pool
 * between transactions, and what the client's session carries (its default database, the variables
 * in {@link dev.mysqlpool.proxy.backend.SessionVariables}, LAST_INSERT_ID(), ROW_COUNT() and
 * FOUND_ROWS(), pending warnings) follows it to the next connection. State that cannot move pins
 * the client to its connection until it leaves or resets.
 *
 * <p>This object is the one owner of that carried state. Threading: the session's event loop only.
 */
final class TransactionMode implements SessionMode {
  private static final Logger log = LoggerFactory.getLogger(TransactionMode.class);
  private static final String TRACK_STATE_CHANGES = "SET SESSION session_track_state_change = ON";
  private static final String SET_OPTION = "set_option";

  private final ClientSession session;
  private final BackendRelay relay;

  /**
   * Session mode on a writer backend: the client keeps its connection as in session mode, and
   * everything else works as here, so that when its writer switches the idle session moves to the
   * new writer with its carried state, unless something pins it.
   */
  private final boolean sticky;

  /** Prepared statements shared between backends; null when pinning is configured instead. */
  private final SharedStatements statements;

  /** Made with the first backend's server family (which variables it carries), then reused. */
  private StatementScan scan;

  /** Restores the client's variables on a lent connection. */
  private final ProxyCommand restore =
      new ProxyCommand(true, true) {
        @Override
        void done(String error, List<String> firstRow) {
          if (error != null) {
            relay.backend().session().variablesUnknown(); // closed when it comes back
          }
        }
      };

  /** Reads the carried variables back before the connection goes. */
  private final ProxyCommand snapshot =
      new ProxyCommand(true, false) {
        @Override
        void done(String error, List<String> firstRow) {
          finishSnapshot(error, firstRow);
        }
      };

  /** {@code SELECT @@warning_count}: may the connection go with the server's diagnostics list? */
  private final ProxyCommand warningCheck =
      new ProxyCommand(true, false) {
        @Override
        void done(String error, List<String> firstRow) {
          diagnosticsPending = firstRow == null || !"0".equals(firstRow.get(0));
          relay.wantRelease();
        }
      };

  /** A statement sent ahead of the client's next command; only its completion matters. */
  private final ProxyCommand injected =
      new ProxyCommand(false, false) {
        @Override
        void done(String error, List<String> firstRow) {
          relay.wantRelease();
        }
      };

  /** The client's carried variables, in SessionVariables order; null while a fresh login's. */
  private String[] vars;

  /** A carried variable or the schema may have changed: snapshot before giving the backend back. */
  private boolean varsDirty;

  /** Why this session may not leave its backend connection, or null. */
  private String pinReason;

  private long lastInsertId;

  /**
   * Who this session is to a server session's LAST_INSERT_ID() owner mark: a token of its own, new
   * whenever the value changes and after each COM_RESET_CONNECTION (and COM_CHANGE_USER, which
   * makes a new mode), so that a backend the client left holding an older value no longer counts as
   * holding its value.
   */
  private long lastInsertIdOwner;

  private static final AtomicLong OWNER_TOKENS = new AtomicLong();

  /** What ROW_COUNT() and FOUND_ROWS() would return after the client's last statement. */
  private final PreviousCounts previousCounts = new PreviousCounts();

  /**
   * The server holds warnings or errors of this client's statements on the current connection (SHOW
   * WARNINGS would list them): it stays until a check finds the list empty, so every connection
   * goes back with an empty one.
   */
  private boolean diagnosticsPending;

  private boolean warningsChecked;

  /** LAST_INSERT_ID(expr) ran: the next snapshot brings the value back. */
  private boolean lastInsertIdFromSnapshot;

  TransactionMode(ClientSession session, BackendRelay relay, boolean sticky) {
    this.session = session;
    this.relay = relay;
    this.sticky = sticky;
    this.lastInsertIdOwner = OWNER_TOKENS.decrementAndGet();
    int bound = session.frontend.config().pool().maxPreparedStatementsPerConnection();
    this.statements =
        bound > 0
            ? new SharedStatements(session, relay, this, session.frontend.statementCache, bound)
            : null;
  }

  /** Whether the connection stays with the client now: session mode, and it is not retiring. */
  private boolean staying() {
    return sticky && !relay.backend().retiring();
  }

  /**
   * Pins for state the server does not report, and prepares the backend for statements that read
   * what the client's previous statement left behind.
   */
  @Override
  public int onQuery(ByteBuf packet) {
    int start = packet.readerIndex() + Packets.HEADER_SIZE + 1;
    int end = packet.readerIndex() + Packets.HEADER_SIZE + Packets.payloadLength(packet);
    if (scan == null) {
      scan = new StatementScan(relay.backend().session().variables());
    }
    int flags = scanStatement(packet, start, end) | StatementScan.STATEMENT;
    if (!applyScan(flags, scan.pin, scan.pinDetail)) {
      return flags;
    }
    if ((flags & StatementScan.PREVIOUS_COUNTS) != 0 && relay.commandsSinceLend() == 0) {
      previousCounts.answer(session, packet, start, end);
      return -1;
    }
    beforeStatement(flags);
    return flags;
  }

  /**
   * Scans SQL text (a COM_QUERY's, or a COM_STMT_PREPARE's for every later execute); the pin reason
   * the scan found is in {@link #scan}. Needs a lent backend the first time.
   */
  int scanStatement(ByteBuf packet, int start, int end) {
    if (scan == null) {
      scan = new StatementScan(relay.backend().session().variables());
    }
    return scan.scan(packet, start, end, noBackslashEscapes());
  }

  StatementScan scan() {
    return scan;
  }

  boolean noBackslashEscapes() {
    return (session.lastStatus() & ServerStatus.NO_BACKSLASH_ESCAPES) != 0;
  }

  /**
   * A shared prepared statement is about to execute: what its text's scan found applies as for a
   * COM_QUERY. Returns the flags to send it with.
   */
  int onPreparedExecute(SharedStatement s) {
    int flags = s.scanFlags() | StatementScan.STATEMENT;
    if (applyScan(flags, s.pin(), s.pinDetail())) {
      beforeStatement(flags);
    }
    return flags;
  }

  /** Pins or marks what a statement changes; false when the session is pinned. */
  private boolean applyScan(int flags, String pin, String pinDetail) {
    if (pin != null) {
      pin(pin, pinDetail);
    }
    if ((flags & (StatementScan.CARRIED_SET | StatementScan.USE)) != 0) {
      varsDirty = true;
    }
    return pinReason == null;
  }

  /** Gives the lent backend what a statement reads of the client's previous ones. */
  private void beforeStatement(int flags) {
    ServerSession server = relay.backend().session();
    if ((flags & StatementScan.LAST_INSERT_ID) != 0
        && server.lastInsertIdOwner() != lastInsertIdOwner) {
      inject("SET @@SESSION.last_insert_id = " + lastInsertId);
      server.lastInsertIdOwner(lastInsertIdOwner);
    }
    if ((flags & StatementScan.SETS_LAST_INSERT_ID) != 0) {
      lastInsertIdFromSnapshot = true;
      varsDirty = true;
    }
  }

  @Override
  public boolean onStatementCommand(ByteBuf packet, int command) {
    return statements != null && statements.onCommand(packet, command);
  }

  @Override
  public int onCommand(int command) {
    switch (command) {
      case Commands.COM_INIT_DB:
        varsDirty = true;
        return StatementScan.USE;
      case Commands.COM_SET_OPTION:
        // COM_RESET_CONNECTION does not undo it, so this backend cannot be pooled again.
        pin(SET_OPTION, null);
        return 0;
      case Commands.COM_STMT_PREPARE:
        pin(StatementScan.PREPARED_STATEMENT, null);
        return 0;
      case Commands.COM_STMT_EXECUTE:
        return StatementScan.STATEMENT;
      case Commands.COM_RESET_CONNECTION:
        return StatementScan.RESET_CONNECTION;
      default:
        return 0;
    }
  }

  /** Gives the lent connection this client's carried variables, in one statement if any differ. */
  @Override
  public void onLent(BackendConnection backend) {
    ServerSession server = backend.session();
    String sql = server.restore(vars != null ? vars : server.baseline());
    if (sql != null) {
      relay.sendOwn(restore, Packets.command(session.alloc(), Commands.COM_QUERY, sql));
    }
  }

  /**
   * A SET of carried variables, USE or COM_INIT_DB is followed (a snapshot is taken before the
   * connection goes back); any other change the server reports pins. The client sees the OK without
   * the state data the proxy turned on: none at all when it did not ask for CLIENT_SESSION_TRACK.
   */
  @Override
  public ByteBuf onStateChange(int flags, ByteBuf ok) {
    if ((flags & (StatementScan.CARRIED_SET | StatementScan.USE)) != 0
        && (flags & StatementScan.MULTI) == 0) {
      varsDirty = true;
    } else if (pinReason == null) {
      pin("session_state", SessionStateInfo.describe(ok));
    }
    return (session.capabilities & Capabilities.CLIENT_SESSION_TRACK) == 0
        ? SessionStateInfo.withoutSessionTrack(session.alloc(), ok)
        : SessionStateInfo.withoutStateChangeEntries(session.alloc(), ok);
  }

  @Override
  public void onReplyDone(int flags, ResponseTracker tracker) {
    if ((flags & SharedStatements.CURSOR_CALLS) != 0) {
      statements.cursorReplyDone(flags, tracker);
    }
    if ((flags & StatementScan.STATEMENT) != 0) {
      previousCounts.statementDone(tracker);
    }
    warningsChecked = false;
    if (tracker.lastWarnings() > 0 || tracker.lastWasError()) {
      diagnosticsPending = true;
    }
    if ((flags & StatementScan.RESET_CONNECTION) != 0 && !tracker.lastWasError()) {
      afterClientReset();
    }
    if (tracker.lastInsertId() != 0) {
      lastInsertIdIs(tracker.lastInsertId(), relay.backend().session());
    }
    relay.wantRelease();
  }

  /**
   * Gives the backend connection back unless the session is pinned. While the server holds warnings
   * or errors of the client's statements (SHOW WARNINGS and @@warning_count read them, and only a
   * statement that uses a table clears them) the connection stays; after a reply without any, one
   * {@code SELECT @@warning_count} tells whether the list is empty. A snapshot of carried variables
   * is taken first when a statement may have changed them.
   */
  @Override
  public boolean movable() {
    return pinReason == null;
  }

  @Override
  public void onIdle() {
    if (pinReason != null || (statements != null && statements.holding())) {
      return;
    }
    ServerSession server = relay.backend().session();
    if (staying()) {
      // Kept current, so that a move after a writer switch takes the client's state along.
      if (varsDirty || !server.schemaKnown()) {
        relay.sendOwnNow(
            snapshot,
            Packets.command(
                session.alloc(), Commands.COM_QUERY, server.variables().snapshotQuery()));
      }
      return;
    }
    if (diagnosticsPending) {
      ResponseTracker tracker = relay.tracker();
      if (!warningsChecked && tracker.lastWarnings() == 0 && !tracker.lastWasError()) {
        // Once per client statement: a list only a statement that uses a table clears would be
        // checked forever.
        warningsChecked = true;
        relay.sendOwnNow(
            warningCheck,
            Packets.command(session.alloc(), Commands.COM_QUERY, "SELECT @@warning_count"));
      }
      return;
    }
    if (varsDirty || !server.schemaKnown()) {
      relay.sendOwnNow(
          snapshot,
          Packets.command(session.alloc(), Commands.COM_QUERY, server.variables().snapshotQuery()));
      return;
    }
    leave(server);
  }

  /** The connection may go: in a read/write split pool, after the writer's GTID is read. */
  private void leave(ServerSession server) {
    ReadRouting routing = session.routing();
    if (routing != null && routing.readWritePosition(relay)) {
      return;
    }
    giveBack(server);
  }

  private void giveBack(ServerSession server) {
    relay.flush();
    relay.release(
        server.variablesKnown() ? BackendPool.Release.CLEAN : BackendPool.Release.DISCARD);
    session.backendReleased();
  }

  /**
   * The client's LAST_INSERT_ID() is now {@code value}, held by {@code server}. A changed value
   * takes a new owner token, so that a connection the client left with the old value is no longer
   * taken for one that holds it.
   */
  private void lastInsertIdIs(long value, ServerSession server) {
    if (value != lastInsertId) {
      lastInsertId = value;
      lastInsertIdOwner = OWNER_TOKENS.decrementAndGet();
    }
    server.lastInsertIdOwner(lastInsertIdOwner);
  }

  private void finishSnapshot(String error, List<String> row) {
    ServerSession server = relay.backend().session();
    int size = server.variables().size();
    if (error != null || row == null || row.size() != size + 2) {
      pin("session_state", "could not read the session's variables: " + error);
      return;
    }
    session.schema(row.get(0));
    vars = server.variables().canonical(row.subList(1, size + 1).toArray(new String[0]));
    if (lastInsertIdFromSnapshot) {
      lastInsertIdFromSnapshot = false;
      lastInsertIdIs(Long.parseUnsignedLong(row.get(size + 1)), server);
    }
    server.record(row.get(0), vars);
    varsDirty = false;
    if (!staying()) {
      leave(server);
    }
  }

  /**
   * The client's COM_RESET_CONNECTION succeeded on its backend: the server dropped the session's
   * state and turned state tracking off. The proxy forgets what it carried, reads the variables
   * back before the connection goes, and turns tracking on again. COM_SET_OPTION is not undone by a
   * reset, so that pin stays.
   */
  private void afterClientReset() {
    boolean optionSet = SET_OPTION.equals(pinReason);
    forget();
    lastInsertIdOwner = OWNER_TOKENS.decrementAndGet();
    if (statements != null) {
      statements.afterReset(relay.backend());
    }
    if (optionSet) {
      pin(SET_OPTION, null);
    }
    varsDirty = true;
    relay.backend().session().lastInsertIdOwner(lastInsertIdOwner);
    inject(TRACK_STATE_CHANGES);
  }

  /** Sends one of the proxy's own statements ahead of the client's next command. */
  private void inject(String sql) {
    relay.sendOwn(injected, Packets.command(session.alloc(), Commands.COM_QUERY, sql));
  }

  /** From now on this session keeps its backend connection until it leaves or resets. */
  void pin(String reason, String detail) {
    if (pinReason != null) {
      return;
    }
    pinReason = reason;
    session.metrics().pinned(reason, 1);
    if (log.isDebugEnabled()) {
      log.debug(
          "client #{} ({}) pinned to backend connection {}: {}{}",
          session.id,
          session.describe(),
          relay.backend(),
          reason,
          detail == null ? "" : " (" + detail + ")");
    }
  }

  @Override
  public String holdReason() {
    if (sticky) {
      return SessionMode.SESSION.holdReason();
    }
    return pinReason != null
        ? "in transaction mode this client is pinned to it (" + pinReason + ")"
        : "in transaction mode a client keeps its backend while a transaction is open: a"
            + " transaction left open";
  }

  @Override
  public void forget() {
    close();
    vars = null;
    varsDirty = false;
    lastInsertId = 0;
    previousCounts.forget();
    diagnosticsPending = false;
    lastInsertIdFromSnapshot = false;
  }

  @Override
  public void close() {
    if (statements != null) {
      statements.close();
    }
    if (pinReason != null) {
      session.metrics().pinned(pinReason, -1);
      pinReason = null;
    }
  }
}
