package dev.mysqlpool.proxy.codec;

import dev.mysqlpool.proxy.protocol.Packets;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import java.nio.ByteOrder;

/**
 * Splits the byte stream into wire packets, header included, as retained slices of the cumulation (no copy). A
 * logical payload of 16 MiB or more arrives as several packets; they are passed on one by one, so no payload is ever
 * aggregated in memory and a result set far larger than the heap streams through.
 *
 * <p>Ownership: each emitted packet belongs to the next handler, which must forward or release it.
 */
public final class MySQLPacketDecoder extends LengthFieldBasedFrameDecoder {
  public MySQLPacketDecoder() {
    super(ByteOrder.LITTLE_ENDIAN, Packets.HEADER_SIZE + Packets.MAX_PAYLOAD, 0, 3, 1, 0, true);
  }
}
