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
  private int maxPayload = Integer.MAX_VALUE;

  public MySQLPacketDecoder() {
    setCumulator(COMPACTING_CUMULATOR);
  }

  /**
   * Refuses packets whose header announces a payload above {@code maxPayload} bytes: the decoder
   * then throws {@link PacketTooLargeException} as soon as the header arrives, having dropped what
   * it buffered, so a peer cannot make it hold more than one read of data. Call on the channel's
   * event loop; {@code Integer.MAX_VALUE} (the default) lifts the limit.
   */
  public void maxPayload(int maxPayload) {
    this.maxPayload = maxPayload;
  }

  /**
   * Hands over the bytes read but not yet decoded, as a retained slice the caller must release (or
   * null when there are none), and forgets them. For a protocol switch (TLS after the SSLRequest):
   * the client may already have sent the first bytes of the new protocol, which belong to the
   * handler placed in front of this decoder. Call on the channel's event loop.
   */
  public ByteBuf takeBuffered() {
    ByteBuf buffered = internalBuffer();
    if (!buffered.isReadable()) {
      return null;
    }
    return buffered.readRetainedSlice(buffered.readableBytes());
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
      int length = in.getUnsignedMediumLE(i);
      if (length > maxPayload) {
        in.skipBytes(in.readableBytes());
        throw new PacketTooLargeException(length, maxPayload);
      }
      int next = i + Packets.HEADER_SIZE + length;
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
