package dev.mysqlpool.proxy.frontend;

import dev.mysqlpool.proxy.backend.BackendConnection;
import dev.mysqlpool.proxy.protocol.Commands;
import dev.mysqlpool.proxy.protocol.Packets;
import io.netty.buffer.ByteBuf;

/**
 * The one client statement that may go again elsewhere: a read routed to a reader whose connection
 * dies before any of the reply arrived goes to another reader or the writer (see {@link
 * ReadRouting}); and on a backend declared {@code role: writer}, a COM_QUERY sent while no
 * transaction is open and no other client command is in flight, by a client whose session could
 * move. If the old writer refuses it as read-only, it changed nothing (a refused statement does not
 * run, and no transaction holds earlier changes), so it is sent to the new writer once the pool has
 * one, and the client only sees a delay. Anything else a read-only server refuses gets the
 * writer-changed error: the proxy never replays what may have applied.
 *
 * <p>Holds a retained duplicate of the packet (no copy) until the reply is done; the relay's event
 * loop only.
 */
final class HeldStatement {
  private ByteBuf packet;
  private int clientReplies;

  /** A client command goes out on {@code relay}'s connection; keeps it if it qualifies. */
  void sent(ClientSession session, BackendConnection c, ByteBuf p, int command) {
    boolean alone = clientReplies == 0;
    if (Commands.expectsResponse(command)) {
      clientReplies++;
    }
    drop();
    if (alone
        && command == Commands.COM_QUERY
        && Packets.payloadLength(p) < Packets.MAX_PAYLOAD
        && !session.inTransaction()
        && session.mode().movable()
        && (c.pool().followsWriter() || routedRead(session, c))) {
      packet = p.retainedDuplicate();
    }
  }

  private static boolean routedRead(ClientSession session, BackendConnection c) {
    ReadRouting routing = session.routing();
    return routing != null && routing.isReader(c.pool());
  }

  /** Whether a statement is kept that may go again elsewhere. */
  boolean holding() {
    return packet != null;
  }

  /** The reply to a client command is complete: nothing to retry any more. */
  void answered() {
    if (clientReplies > 0) {
      clientReplies--;
    }
    drop();
  }

  /**
   * The kept statement was refused with {@code err} (a read-only error): whether to send it again
   * to the new writer. Reports the error to the pool either way.
   */
  boolean retryLater(ClientSession session, BackendConnection c, ByteBuf err) {
    if (packet == null
        || clientReplies != 1
        || !session.mode().movable()
        || !WriterChange.saysReadOnly(err)) {
      return false;
    }
    c.pool().readOnlyError(c, true, false);
    session.metrics().error("writer_change_held");
    return true;
  }

  /** Hands the kept statement over (ownership passes). */
  ByteBuf take() {
    ByteBuf p = packet;
    packet = null;
    clientReplies = 0;
    return p;
  }

  /** The lend ends or the statement is answered. */
  void drop() {
    if (packet != null) {
      packet.release();
      packet = null;
    }
  }

  /** The lend ends. */
  void reset() {
    drop();
    clientReplies = 0;
  }
}
