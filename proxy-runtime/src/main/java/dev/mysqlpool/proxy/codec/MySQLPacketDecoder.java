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
  /**
   * Netty's merge cumulator only compacts the cumulation at read-complete time, and only when no slice of it is still
   * referenced; a relay that forwards slices and flushes afterwards is never in that state, so in a long stream the
   * consumed bytes were never dropped and the buffer grew until direct memory ran out. Compact on append instead,
   * whenever the slices handed out before have been written and released.
   */
  private static final Cumulator COMPACTING_CUMULATOR = (alloc, cumulation, in) -> {
    if (cumulation.refCnt() == 1 && cumulation.readerIndex() > 0 && !cumulation.isReadOnly()) {
      cumulation.discardReadBytes();
    }
    return MERGE_CUMULATOR.cumulate(alloc, cumulation, in);
  };

  public MySQLPacketDecoder() {
    super(ByteOrder.LITTLE_ENDIAN, Packets.HEADER_SIZE + Packets.MAX_PAYLOAD, 0, 3, 1, 0, true);
    setCumulator(COMPACTING_CUMULATOR);
  }
}
