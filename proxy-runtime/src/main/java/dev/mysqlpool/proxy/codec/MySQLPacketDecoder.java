package dev.mysqlpool.proxy.codec;

import dev.mysqlpool.proxy.protocol.Packets;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Splits the byte stream into wire packets, header included, as retained slices of the cumulation
 * (no copy). A logical payload of 16 MiB or more arrives as several packets; they are passed on one
 * by one, so no payload is ever aggregated in memory and a result set far larger than the heap
 * streams through.
 *
 * <p>In batch mode (backend connections after login) one slice carries every complete packet the
 * read brought, so a reply of many packets is inspected in place and forwarded as one buffer;
 * consumers walk the packet boundaries.
 *
 * <p>Ownership: each emitted slice belongs to the next handler, which must forward or release it.
 */
public final class MySQLPacketDecoder extends ByteToMessageDecoder {
  /**
   * Netty's merge cumulator only compacts the cumulation at read-complete time, and only when no
   * slice of it is still referenced; a relay that forwards slices and flushes afterwards is never
   * in that state, so in a long stream the consumed bytes were never dropped and the buffer grew
   * until direct memory ran out. Compact on append instead, whenever the slices handed out before
   * have been written and released.
   */
  private static final Cumulator COMPACTING_CUMULATOR =
      (alloc, cumulation, in) -> {
        if (cumulation.refCnt() == 1 && cumulation.readerIndex() > 0 && !cumulation.isReadOnly()) {
          cumulation.discardReadBytes();
        }
        return MERGE_CUMULATOR.cumulate(alloc, cumulation, in);
      };

  private boolean batch;

  public MySQLPacketDecoder() {
    setCumulator(COMPACTING_CUMULATOR);
  }

  /**
   * Switches to emitting all complete packets of a read as one slice. Call on the channel's event
   * loop.
   */
  public void batch(boolean batch) {
    this.batch = batch;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    int start = in.readerIndex();
    int end = in.writerIndex();
    int i = start;
    while (end - i >= Packets.HEADER_SIZE) {
      int next = i + Packets.HEADER_SIZE + in.getUnsignedMediumLE(i);
      if (next > end) {
        break;
      }
      i = next;
      if (!batch) {
        break;
      }
    }
    if (i > start) {
      out.add(in.readRetainedSlice(i - start));
    }
  }
}
