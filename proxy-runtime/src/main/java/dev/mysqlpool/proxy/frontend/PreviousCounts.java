package dev.mysqlpool.proxy.frontend;

import dev.mysqlpool.proxy.protocol.Capabilities;
import dev.mysqlpool.proxy.protocol.ErrorCodes;
import dev.mysqlpool.proxy.protocol.Packets;
import dev.mysqlpool.proxy.protocol.ResponseTracker;
import io.netty.buffer.ByteBuf;

/**
 * What ROW_COUNT() and FOUND_ROWS() would return after a transaction-mode client's last statement,
 * which may have run on another backend connection: followed from each statement's reply, and
 * answered by the proxy when the client asks on a connection that did not run that statement.
 * Threading: the session's event loop.
 */
final class PreviousCounts {
  private long rowCount = -1;
  private long foundRows;

  /** A statement's reply is complete: what it leaves for ROW_COUNT() and FOUND_ROWS(). */
  void statementDone(ResponseTracker tracker) {
    if (tracker.lastWasError()) {
      rowCount = -1;
    } else if (tracker.lastWasResultSet()) {
      rowCount = -1;
      foundRows = tracker.lastRows();
    } else {
      rowCount = tracker.lastAffectedRows();
    }
  }

  /** The client reset its session: what a fresh session reports. */
  void forget() {
    rowCount = -1;
    foundRows = 0;
  }

  /**
   * The literal {@code SELECT ROW_COUNT()} / {@code SELECT FOUND_ROWS()} on a connection that did
   * not run the previous statement: answered from what the client's own previous statement
   * reported, which is what the server that ran it would say. Other forms get an error that says
   * why. Takes ownership of {@code packet}.
   */
  void answer(ClientSession session, ByteBuf packet, int start, int end) {
    int seq = Packets.sequenceId(packet) + 1;
    String column = StatementScan.previousCountColumn(packet, start, end);
    packet.release();
    if (column != null) {
      long value = column.regionMatches(true, 0, "ROW_COUNT", 0, 9) ? rowCount : foundRows;
      rowCount = -1;
      foundRows = 1;
      session.writeLocal(
          Packets.singleValueResult(
              session.alloc(),
              seq,
              column,
              value,
              (session.capabilities & Capabilities.CLIENT_DEPRECATE_EOF) != 0,
              session.lastStatus()));
    } else {
      session.metrics().error("unsupported_statement");
      session.writeLocal(
          Packets.err(
              session.alloc(),
              seq,
              ErrorCodes.PREVIOUS_STATEMENT_ELSEWHERE,
              "HY000",
              "mysqlpool: ROW_COUNT() and FOUND_ROWS() describe the previous statement, which ran"
                  + " on another backend connection (pool.mode transaction hands the connection"
                  + " back after every transaction); select them alone (SELECT ROW_COUNT()), read"
                  + " them in the same transaction as that statement, or use pool.mode session"));
    }
    session.maybeRelease();
  }
}
