package dev.mysqlpool.proxy.frontend;

import dev.mysqlpool.proxy.backend.ServerSession;
import dev.mysqlpool.proxy.protocol.Commands;
import dev.mysqlpool.proxy.protocol.Packets;
import dev.mysqlpool.proxy.stmt.ClientStatement;
import dev.mysqlpool.proxy.stmt.StatementCache;
import io.netty.buffer.ByteBuf;
import java.util.List;

/**
 * Prepares a shared statement on the lent backend connection, which has not seen it, while the
 * client command that needs it waits here (parked); the prepare blocks later client commands, and
 * its reply is consumed. Then the command goes with the new server id; if the statement no longer
 * prepares (a table dropped), the command gets the server's error, as from a server that had kept
 * it. One per session, reused; on the session's event loop.
 */
final class StatementReprepare extends ProxyCommand {
  private final SharedStatements owner;
  private final ClientSession session;
  private final BackendRelay relay;
  private final StatementCache cache;

  /** A statement the proxy sends around the prepare (COM_INIT_DB, COM_STMT_RESET). */
  final ProxyCommand quiet =
      new ProxyCommand(false, false) {
        @Override
        void done(String error, List<String> firstRow) {
          relay.wantRelease();
        }
      };

  private ByteBuf parked;
  private int parkedCommand;
  private ClientStatement parkedFor;
  private boolean parkedAgain;
  private int serverId;
  private ByteBuf error;

  StatementReprepare(
      SharedStatements owner, ClientSession session, BackendRelay relay, StatementCache cache) {
    super(true, false);
    this.owner = owner;
    this.session = session;
    this.relay = relay;
    this.cache = cache;
  }

  /**
   * Holds {@code packet} (taking ownership) and prepares its statement on the lent backend; {@code
   * again}: an execute sent again after error 1615.
   */
  void park(ByteBuf packet, int command, ClientStatement s, boolean again) {
    parked = packet;
    parkedAgain = again;
    parkedCommand = command;
    parkedFor = s;
    serverId = 0;
    cache.reprepared();
    ServerSession server = relay.backend().session();
    String schema = s.shared.key().schema();
    String current = server.schema();
    // Only from a known database the proxy can switch back to; otherwise names resolve in the
    // client's current one.
    boolean otherSchema = schema != null && current != null && !schema.equals(current);
    if (otherSchema) {
      // The client changed its database since it prepared: the statement's names resolve in the
      // one it was prepared in, as on the server it was prepared on.
      relay.sendOwn(quiet, Packets.command(session.alloc(), Commands.COM_INIT_DB, schema));
    }
    relay.sendOwn(this, s.shared.preparePacket(session.alloc(), Commands.COM_STMT_PREPARE));
    if (otherSchema) {
      relay.sendOwn(quiet, Packets.command(session.alloc(), Commands.COM_INIT_DB, current));
    }
  }

  @Override
  void onPacket(ByteBuf packet) {
    if (serverId != 0 || error != null) {
      return;
    }
    if (Packets.firstByte(packet) == Packets.OK) {
      serverId = packet.getIntLE(packet.readerIndex() + Packets.HEADER_SIZE + 1);
    } else {
      error = packet.retainedSlice();
    }
  }

  @Override
  void done(String failure, List<String> firstRow) {
    ByteBuf packet = parked;
    ClientStatement s = parkedFor;
    parked = null;
    parkedFor = null;
    if (packet == null) {
      close();
      return;
    }
    if (error == null) {
      owner.reprepared(packet, parkedCommand, s, serverId, parkedAgain);
      return;
    }
    ByteBuf err = error;
    error = null;
    int seq = Packets.sequenceId(packet) + 1;
    packet.release();
    if (Commands.expectsResponse(parkedCommand)) {
      Packets.setSequenceId(err, seq);
      session.writeLocal(err);
    } else {
      err.release();
    }
    relay.wantRelease();
  }

  /** The session ends: what is held is released. */
  void close() {
    if (parked != null) {
      parked.release();
      parked = null;
      parkedFor = null;
    }
    if (error != null) {
      error.release();
      error = null;
    }
  }
}
