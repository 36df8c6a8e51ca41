package dev.mysqlpool.proxy.frontend;

import dev.mysqlpool.proxy.backend.BackendConnection;
import dev.mysqlpool.proxy.protocol.Packets;
import io.netty.buffer.ByteBuf;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The replies to the proxy's own {@link ProxyCommand}s on a lent connection: what they carry (the
 * server's error, the first row) is collected and handed to the command when its reply is complete,
 * and blocking commands hold client commands back until then. A refusal that answers the waiting
 * client command goes to that command, once. Threading: the session's event loop.
 */
final class OwnReplies {
  /** Logs as the session: what a client's session logs, operators find under one logger name. */
  private static final Logger log = LoggerFactory.getLogger(ClientSession.class);

  private final ClientSession session;

  /** The proxy's own blocking commands in flight that client commands must wait for. */
  private int blocking;

  private String error;
  private boolean errorAnswered;
  private List<String> firstRow;

  OwnReplies(ClientSession session) {
    this.session = session;
  }

  /** A lend starts or ends: nothing of the previous connection's is pending. */
  void reset() {
    blocking = 0;
    error = null;
    errorAnswered = false;
    firstRow = null;
  }

  /** {@code own} was sent. */
  void sent(ProxyCommand own) {
    if (own.blocking) {
      blocking++;
    }
  }

  /** Whether client commands must wait. */
  boolean blocking() {
    return blocking > 0;
  }

  /**
   * One packet of {@code own}'s reply; returns true when an error went to the waiting client
   * command (the client channel then needs a flush). The caller keeps the packet.
   */
  boolean onPacket(ProxyCommand own, ByteBuf packet, boolean rowPacket, BackendConnection c) {
    own.onPacket(packet);
    if (Packets.firstByte(packet) == Packets.ERR && !rowPacket) {
      error = Packets.describeError(packet);
      if (own.answersWaitingCommand && !errorAnswered) {
        errorAnswered = true;
        return session.answerWaitingCommand(packet.retainedSlice());
      }
      log.warn(
          "client #{}: backend {} refused the proxy's own statement: {}", session.id, c, error);
    } else if (rowPacket && firstRow == null) {
      firstRow = Packets.textRow(packet);
    }
    return false;
  }

  /** {@code own}'s reply is complete: hands it what it carried. */
  void done(ProxyCommand own) {
    String e = error;
    List<String> row = firstRow;
    error = null;
    firstRow = null;
    if (own.blocking) {
      blocking--;
    }
    own.done(e, row);
  }
}
