package dev.mysqlpool.proxy.frontend;

import dev.mysqlpool.proxy.backend.BackendConnection;
import dev.mysqlpool.proxy.backend.BackendPool;
import dev.mysqlpool.proxy.backend.GtidPosition;
import dev.mysqlpool.proxy.backend.ReaderSet;
import dev.mysqlpool.proxy.config.ProxyConfig.BackendRole;
import dev.mysqlpool.proxy.config.Routing;
import dev.mysqlpool.proxy.config.Routing.ReadYourWrites;
import dev.mysqlpool.proxy.config.Routing.RouteTarget;
import dev.mysqlpool.proxy.protocol.Commands;
import dev.mysqlpool.proxy.protocol.Packets;
import dev.mysqlpool.proxy.protocol.ServerStatus;
import dev.mysqlpool.proxy.sql.Keyword;
import dev.mysqlpool.proxy.sql.ReadScan;
import dev.mysqlpool.proxy.sql.SqlLexer;
import io.netty.buffer.ByteBuf;
import java.util.List;
import java.util.Locale;

/**
 * {@code routing.readWriteSplit} for one client (transaction mode, which already moves a client's
 * carried session between connections): decides, each time the client needs a backend connection,
 * whether its next statement may go to a reader, and keeps the client's reads behind its own
 * writes.
 *
 * <p>A statement goes to a reader only when it is a COM_QUERY that {@link ReadScan} calls a read
 * (or a routing rule sends there), the client is in autocommit outside a transaction, and nothing
 * pins it; {@code START TRANSACTION READ ONLY} takes its whole transaction to the reader.
 * Everything else, prepared statements included, goes to the writer. Among the readers {@link
 * ReaderSet} picks one that serves (up, within {@code maxReplicationLag}) and, with {@code
 * readYourWrites: session}, has applied the client's last write: after a statement that may write
 * (or a COMMIT) the proxy reads the writer's position ({@code @@global.gtid_binlog_pos} on MariaDB,
 * {@code @@global.gtid_executed} on MySQL) before the connection goes back, and a reader whose last
 * reported position ({@code Gtid_Slave_Pos}, {@code Executed_Gtid_Set}) does not cover it is passed
 * over. The writer's whole position, not only the session's last GTID: what the client saw
 * committed on the writer before it wrote (another client's commit it waited for) stays visible
 * too. When the writer reports no GTID (binary log or GTIDs off), the client's reads stay on the
 * writer for {@code maxReplicationLag} after its write, the longest a serving reader can be behind.
 * No reader left: the writer serves the read, and the fallback is counted, never an error.
 *
 * <p>Threading: the session's event loop. Classifies each statement once (the result is kept for
 * the same packet) and allocates nothing per statement except when routing rules are configured.
 */
final class ReadRouting {
  private final ClientSession session;
  private final Routing config;
  private final ReaderSet readers;
  private final RoutingDecisions decisions;
  private final ReadScan scan = new ReadScan();
  private final RoutingRules rules;

  /** The packet last classified, and its result: routing and sending read one statement once. */
  private ByteBuf classified;

  private ReadScan.Reason reason;
  private RouteTarget ruleTarget;

  /** What the client wrote last, as the writer named it; EMPTY: nothing, or nothing known. */
  private GtidPosition ownWrites = GtidPosition.EMPTY;

  /** {@link #ownWrites} as the writer wrote it, for the reader's wait statement. */
  private String ownWritesText;

  /** The position the next lent reader must reach before the read goes (null: no wait). */
  private String waitFor;

  /** The reader did not reach the client's write in time: the read goes to the writer. */
  private boolean waitFailed;

  /** Waits on the lent reader for the client's last write ({@code MASTER_GTID_WAIT}). */
  private final ProxyCommand gtidWait =
      new ProxyCommand(true, false) {
        @Override
        void done(String error, List<String> firstRow) {
          waitFailed = error != null || firstRow == null || !"0".equals(firstRow.get(0));
        }
      };

  /** Until then (System.nanoTime) reads stay on the writer: a write the proxy could not name. */
  private long writerOnlyUntilNanos;

  private boolean writerOnly;

  /** Statements that may write ran on the writer connection since its position was read. */
  private boolean maybeWrote;

  private boolean writerIsMariaDb;

  /** Reads the writer's position after the client's writes, before the connection goes back. */
  private final ProxyCommand writePosition =
      new ProxyCommand(true, false) {
        @Override
        void done(String error, List<String> firstRow) {
          wrote(error == null && firstRow != null ? firstRow.get(0) : null);
          session.relay().wantRelease();
        }
      };

  ReadRouting(
      ClientSession session, Routing config, ReaderSet readers, RoutingDecisions decisions) {
    this.session = session;
    this.config = config;
    this.readers = readers;
    this.decisions = decisions;
    this.rules = RoutingRules.of(config.rules());
  }

  /** The pool the command in {@code packet} borrows from: a reader's, or {@code writer}. */
  BackendPool poolFor(ByteBuf packet, BackendPool writer) {
    if (Packets.firstByte(packet) != Commands.COM_QUERY) {
      return toWriter(writer, "command");
    }
    if ((session.lastStatus() & (ServerStatus.IN_TRANS | ServerStatus.AUTOCOMMIT))
        != ServerStatus.AUTOCOMMIT) {
      return toWriter(writer, "in_transaction");
    }
    if (!session.mode().movable()) {
      return toWriter(writer, "pinned");
    }
    classify(packet);
    if (ruleTarget != null) {
      return ruleTarget == RouteTarget.WRITER ? toWriter(writer, "rule") : toReader(writer, "rule");
    }
    if (reason.route() == ReadScan.Route.WRITE) {
      return toWriter(writer, reason.label());
    }
    return toReader(writer, reason.label());
  }

  private BackendPool toWriter(BackendPool writer, String why) {
    decisions.count(why, false);
    return writer;
  }

  private BackendPool toReader(BackendPool writer, String why) {
    if (waitFailed) {
      waitFailed = false;
      return toWriter(writer, "read_your_writes");
    }
    if (writerOnly) {
      if (System.nanoTime() - writerOnlyUntilNanos < 0) {
        return toWriter(writer, "read_your_writes");
      }
      writerOnly = false;
    }
    BackendPool reader =
        readers.pick(config.readYourWrites() == ReadYourWrites.SESSION ? ownWrites : null);
    if (reader == null
        && config.readYourWrites() == ReadYourWrites.SESSION
        && !ownWrites.isEmpty()
        && !config.readYourWritesWait().isZero()) {
      // No reader is known to have the client's write yet: one may wait for it, briefly.
      reader = readers.pick(null);
      if (reader != null) {
        waitFor = ownWritesText;
        decisions.count("read_your_writes_wait", true);
        return reader;
      }
    }
    if (reader == null) {
      boolean behindOwnWrites = !ownWrites.isEmpty() && readers.anyServing();
      return toWriter(writer, behindOwnWrites ? "read_your_writes" : "lag_fallback");
    }
    decisions.count(why, true);
    return reader;
  }

  /** A borrow from a reader failed: the statement goes to the writer instead, counted. */
  BackendPool readerUnavailable(BackendPool writer) {
    waitFor = null;
    return toWriter(writer, "reader_unavailable");
  }

  /**
   * A connection was just lent: on a reader chosen to wait for the client's write, the wait goes
   * first, and the read waits behind it ({@code SELECT MASTER_GTID_WAIT(pos, seconds)} on MariaDB,
   * {@code WAIT_FOR_EXECUTED_GTID_SET} on MySQL: 0 once applied, else a timeout).
   */
  void onLent(BackendConnection c) {
    String position = waitFor;
    waitFor = null;
    if (position == null || !isReader(c.pool())) {
      return;
    }
    String seconds =
        String.format(Locale.ROOT, "%.3f", config.readYourWritesWait().toMillis() / 1000.0);
    String sql =
        (c.mariaDb() ? "SELECT MASTER_GTID_WAIT('" : "SELECT WAIT_FOR_EXECUTED_GTID_SET('")
            + position
            + "', "
            + seconds
            + ")";
    session.relay().sendOwn(gtidWait, Packets.command(session.alloc(), Commands.COM_QUERY, sql));
  }

  /** Whether {@code pool} is one of the readers'. */
  static boolean isReader(BackendPool pool) {
    return pool.backend().role() == BackendRole.READER;
  }

  /**
   * Whether the command in {@code packet} must not run on {@code lent}, a reader connection the
   * client still holds: anything but a read, outside a transaction (a read-only transaction stays
   * where it started, and a write in it fails there as it would on any server). What reads the
   * previous statement's results (SHOW WARNINGS, SHOW ERRORS) stays where that statement ran.
   */
  boolean mustLeave(BackendConnection lent, ByteBuf packet, int command) {
    if (!isReader(lent.pool()) || session.inTransaction()) {
      return false;
    }
    if (waitFailed) {
      return true;
    }
    if (command == Commands.COM_PING || command == Commands.COM_STATISTICS) {
      return false;
    }
    if (command != Commands.COM_QUERY) {
      return true;
    }
    classify(packet);
    if (reason == ReadScan.Reason.SESSION_RESULT) {
      return false;
    }
    return ruleTarget == RouteTarget.WRITER
        || (ruleTarget == null && reason.route() == ReadScan.Route.WRITE);
  }

  /** A client command goes out on {@code c}: on the writer, note that it may have written. */
  void sending(BackendConnection c, ByteBuf packet, int command) {
    if (maybeWrote || isReader(c.pool())) {
      forget();
      return;
    }
    if (command == Commands.COM_QUERY) {
      classify(packet);
      maybeWrote = reason.route() == ReadScan.Route.WRITE && changesData(packet);
    } else {
      maybeWrote = Commands.expectsResponse(command) && command != Commands.COM_PING;
    }
    forget();
  }

  /**
   * The lent writer connection is about to go back: after the client's writes, reads the writer's
   * GTID first (the reply hands the connection back). True when that command was sent.
   */
  boolean readWritePosition(BackendRelay relay) {
    BackendConnection c = relay.backend();
    if (!maybeWrote || c == null || isReader(c.pool())) {
      return false;
    }
    maybeWrote = false;
    if (config.readYourWrites() == ReadYourWrites.NONE) {
      return false;
    }
    writerIsMariaDb = c.mariaDb();
    String sql =
        writerIsMariaDb ? "SELECT @@global.gtid_binlog_pos" : "SELECT @@global.gtid_executed";
    relay.sendOwnNow(writePosition, Packets.command(session.alloc(), Commands.COM_QUERY, sql));
    return true;
  }

  private void wrote(String position) {
    GtidPosition p;
    try {
      // Only GTID text is used: it also goes into the reader's wait statement.
      p =
          position == null || position.indexOf('\'') >= 0 || position.indexOf('\\') >= 0
              ? GtidPosition.EMPTY
              : GtidPosition.parse(position);
    } catch (IllegalArgumentException e) {
      p = GtidPosition.EMPTY;
    }
    if (p.isEmpty() && writerIsMariaDb && position != null && position.isBlank()) {
      // MariaDB names every binlogged transaction: the writer has none, so no reader can be behind.
      return;
    }
    if (p.isEmpty()) {
      // No GTID to compare: the longest a serving reader may be behind is maxReplicationLag.
      ownWrites = GtidPosition.EMPTY;
      writerOnly = true;
      writerOnlyUntilNanos = System.nanoTime() + config.maxReplicationLag().toNanos();
    } else {
      ownWrites = p;
      ownWritesText = position.strip();
    }
  }

  /**
   * Whether a statement the classifier sends to the writer may change data a later read could miss:
   * not a lone SET, USE, START TRANSACTION or SHOW, which drivers send at every connect and which
   * would otherwise cost a GTID read each. Several statements in one packet count as a change.
   */
  private static boolean changesData(ByteBuf packet) {
    int start = packet.readerIndex() + Packets.HEADER_SIZE + 1;
    int end = packet.readerIndex() + Packets.HEADER_SIZE + Packets.payloadLength(packet);
    if (packet.indexOf(start, end, (byte) ';') >= 0) {
      return true;
    }
    Keyword first = SqlLexer.firstKeyword(packet, start, end);
    return first != Keyword.SET
        && first != Keyword.USE
        && first != Keyword.START
        && first != Keyword.SHOW;
  }

  private void classify(ByteBuf packet) {
    if (packet == classified) {
      return;
    }
    int start = packet.readerIndex() + Packets.HEADER_SIZE + 1;
    int end = packet.readerIndex() + Packets.HEADER_SIZE + Packets.payloadLength(packet);
    boolean noBackslashEscapes = (session.lastStatus() & ServerStatus.NO_BACKSLASH_ESCAPES) != 0;
    reason = scan.scan(packet, start, end, noBackslashEscapes);
    ruleTarget = rules.match(packet, start, end);
    classified = packet;
  }

  /** The packet is gone (sent or released): forget it, so a new buffer at its address is read. */
  void forget() {
    classified = null;
  }
}
