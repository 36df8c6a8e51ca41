package dev.mysqlpool.proxy.frontend;

import dev.mysqlpool.proxy.protocol.Packets;
import dev.mysqlpool.proxy.stmt.ClientStatement;
import dev.mysqlpool.proxy.stmt.StatementKey;
import io.netty.buffer.ByteBuf;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Follows the reply to a client's COM_STMT_PREPARE that went to a backend: gives the client the
 * proxy's statement id instead of the server's (in place), and keeps a copy of the reply for the
 * cache. One per prepare sent; on the session's event loop.
 */
final class PrepareReply extends ReplyWatcher {
  private final SharedStatements owner;
  final ClientStatement statement;
  final StatementKey key;
  final int scanFlags;
  final String pin;
  final String pinDetail;
  private boolean first = true;
  boolean failed;
  int serverId;
  int params;
  int columns;
  final ByteArrayOutputStream reply = new ByteArrayOutputStream(256);

  PrepareReply(
      SharedStatements owner,
      ClientStatement statement,
      StatementKey key,
      int scanFlags,
      String pin,
      String pinDetail) {
    this.owner = owner;
    this.statement = statement;
    this.key = key;
    this.scanFlags = scanFlags;
    this.pin = pin;
    this.pinDetail = pinDetail;
  }

  @Override
  void onPacket(ByteBuf packet, boolean last) {
    if (first) {
      first = false;
      int payload = packet.readerIndex() + Packets.HEADER_SIZE;
      failed = Packets.firstByte(packet) != Packets.OK;
      if (!failed) {
        serverId = packet.getIntLE(payload + 1);
        columns = packet.getUnsignedShortLE(payload + 5);
        params = packet.getUnsignedShortLE(payload + 7);
        packet.setIntLE(payload + 1, statement.id);
      }
    }
    if (!failed) {
      try {
        packet.getBytes(packet.readerIndex(), reply, packet.readableBytes());
      } catch (IOException e) {
        throw new UncheckedIOException(e); // not from a byte array
      }
    }
    if (last) {
      owner.prepared(this);
    }
  }
}
