package dev.mysqlpool.proxy.protocol;

import io.netty.buffer.ByteBuf;

/**
 * Walks the packets of a buffer holding one or more whole packets, in place: while the walk goes
 * on, the batch's own reader and writer index frame the current packet (header at the reader index,
 * end at the writer index), so the batch itself is the packet and walking allocates nothing (a view
 * per batch cost a derived buffer per server reply). When {@link #advance} returns false the
 * batch's indices are back where they were. Take what you need from a packet before advancing;
 * positions in the batch come from {@link #start()} and {@link #end()}, which consumers that move
 * the packet's indices cannot disturb.
 *
 * <p>One cursor serves batch after batch ({@link #reset}). Not thread-safe; it never retains or
 * releases the batch.
 */
public final class PacketCursor {
  private ByteBuf batch;
  private int first;
  private int limit;
  private int start;
  private int next;

  /** A cursor to {@link #reset} onto each batch. */
  public PacketCursor() {}

  /** A cursor on {@code batch}. */
  public PacketCursor(ByteBuf batch) {
    reset(batch);
  }

  /** Starts walking {@code batch} from its reader index to its writer index. */
  public void reset(ByteBuf batch) {
    this.batch = batch;
    this.first = batch.readerIndex();
    this.limit = batch.writerIndex();
    this.start = first;
    this.next = first;
  }

  /**
   * Moves to the next packet; false at the end of the batch, whose indices are then restored to the
   * whole batch.
   */
  public boolean advance() {
    if (next >= limit) {
      batch.setIndex(first, limit);
      return false;
    }
    start = next;
    next = start + Packets.HEADER_SIZE + batch.getUnsignedMediumLE(start);
    batch.setIndex(start, next);
    return true;
  }

  /** The current packet: the batch, framed to it. */
  public ByteBuf packet() {
    return batch;
  }

  /** Where the current packet starts in the batch. */
  public int start() {
    return start;
  }

  /** Where the current packet ends in the batch. */
  public int end() {
    return next;
  }

  /** Where the batch began: its reader index when the walk started. */
  public int batchStart() {
    return first;
  }

  /** Where the batch ends: its writer index when the walk started. */
  public int batchEnd() {
    return limit;
  }
}
