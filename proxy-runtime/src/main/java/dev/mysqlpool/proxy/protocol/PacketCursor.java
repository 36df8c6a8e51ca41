package dev.mysqlpool.proxy.protocol;

import io.netty.buffer.ByteBuf;

/**
 * Walks the packets of a buffer holding one or more whole packets, presenting each as a view whose
 * reader index is at its header and writer index at its end. One cursor per batch; the view is
 * reused, so take what you need from it before advancing.
 */
public final class PacketCursor {
  private final ByteBuf batch;
  private final ByteBuf view;
  private int next;

  public PacketCursor(ByteBuf batch) {
    this.batch = batch;
    this.view = batch.duplicate();
    this.next = batch.readerIndex();
  }

  /** Moves to the next packet; false at the end of the batch. */
  public boolean advance() {
    if (next >= batch.writerIndex()) {
      return false;
    }
    int start = next;
    next = start + Packets.HEADER_SIZE + batch.getUnsignedMediumLE(start);
    view.setIndex(start, next);
    return true;
  }

  /** The current packet. */
  public ByteBuf packet() {
    return view;
  }

  /** Where the current packet starts in the batch. */
  public int start() {
    return view.readerIndex();
  }

  /** Where the current packet ends in the batch. */
  public int end() {
    return next;
  }
}
