package dev.mysqlpool.proxy.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link PacketCursor}: the walk in place over a batch of whole packets. */
class PacketCursorTest {
  private static ByteBuf batch(int skip, int... payloadLengths) {
    ByteBuf b = Unpooled.buffer();
    b.writeZero(skip);
    int seq = 1;
    for (int length : payloadLengths) {
      b.writeMediumLE(length);
      b.writeByte(seq++);
      b.writeZero(length);
    }
    return b.skipBytes(skip);
  }

  private static List<String> walk(PacketCursor cursor, ByteBuf batch) {
    List<String> seen = new ArrayList<>();
    while (cursor.advance()) {
      ByteBuf p = cursor.packet();
      assertThat(p).as("the packet is the batch itself, framed").isSameAs(batch);
      assertThat(p.readerIndex()).isEqualTo(cursor.start());
      assertThat(p.writerIndex()).isEqualTo(cursor.end());
      seen.add(cursor.start() + "-" + cursor.end() + "#" + Packets.sequenceId(p));
      // A consumer may read from the packet; the walk does not depend on its indices.
      p.skipBytes(p.readableBytes());
    }
    return seen;
  }

  @Test
  void walksEachPacketInPlaceAndRestoresTheBatchAtTheEnd() {
    ByteBuf b = batch(3, 5, 0, 300);
    try {
      PacketCursor cursor = new PacketCursor(b);
      assertThat(walk(cursor, b)).containsExactly("3-12#1", "12-16#2", "16-320#3");
      assertThat(b.readerIndex()).as("the batch's reader index is back where it was").isEqualTo(3);
      assertThat(b.writerIndex()).isEqualTo(320);
      assertThat(cursor.batchStart()).isEqualTo(3);
      assertThat(cursor.batchEnd()).isEqualTo(320);
    } finally {
      b.release();
    }
  }

  @Test
  void oneCursorServesBatchAfterBatch() {
    PacketCursor cursor = new PacketCursor();
    ByteBuf first = batch(0, 1, 2);
    ByteBuf second = batch(0, 7);
    try {
      cursor.reset(first);
      assertThat(walk(cursor, first)).containsExactly("0-5#1", "5-11#2");
      cursor.reset(second);
      assertThat(walk(cursor, second)).containsExactly("0-11#1");
      assertThat(cursor.advance()).as("nothing more in the second batch").isFalse();
    } finally {
      first.release();
      second.release();
    }
  }
}
