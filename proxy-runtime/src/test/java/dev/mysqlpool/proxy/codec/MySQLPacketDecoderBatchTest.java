package dev.mysqlpool.proxy.codec;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mysqlpool.proxy.protocol.PacketCursor;
import dev.mysqlpool.proxy.protocol.Packets;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Batch mode hands on every complete packet of a read as one slice, and keeps a partial packet for
 * later.
 */
class MySQLPacketDecoderBatchTest {
  private static ByteBuf packet(int seq, int payloadLength, int fill) {
    ByteBuf b = Unpooled.buffer();
    b.writeMediumLE(payloadLength);
    b.writeByte(seq);
    for (int i = 0; i < payloadLength; i++) {
      b.writeByte(fill);
    }
    return b;
  }

  private static List<Integer> sequenceIds(ByteBuf batch) {
    List<Integer> ids = new ArrayList<>();
    PacketCursor cursor = new PacketCursor(batch);
    while (cursor.advance()) {
      ids.add(Packets.sequenceId(cursor.packet()));
      assertThat(cursor.end() - cursor.start())
          .isEqualTo(Packets.HEADER_SIZE + Packets.payloadLength(cursor.packet()));
    }
    return ids;
  }

  @Test
  void completePacketsOfOneReadArriveAsOneSliceAndAPartialOneWaits() {
    MySQLPacketDecoder decoder = new MySQLPacketDecoder();
    decoder.batch(true);
    EmbeddedChannel ch = new EmbeddedChannel(decoder);
    ByteBuf input = Unpooled.buffer();
    input.writeBytes(packet(1, 5, 'a')).writeBytes(packet(2, 0, 0)).writeBytes(packet(3, 300, 'c'));
    ByteBuf fourth = packet(4, 10, 'd');
    input.writeBytes(fourth, 0, 7);
    ch.writeInbound(input);

    ByteBuf first = ch.readInbound();
    assertThat(sequenceIds(first)).containsExactly(1, 2, 3);
    assertThat((Object) ch.readInbound()).as("the partial fourth packet is held back").isNull();
    first.release();

    ch.writeInbound(fourth.skipBytes(7));
    ByteBuf second = ch.readInbound();
    assertThat(sequenceIds(second)).containsExactly(4);
    assertThat(second.readableBytes()).isEqualTo(Packets.HEADER_SIZE + 10);
    second.release();
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }

  @Test
  void perPacketModeEmitsOnePacketAtATime() {
    EmbeddedChannel ch = new EmbeddedChannel(new MySQLPacketDecoder());
    ch.writeInbound(Unpooled.buffer().writeBytes(packet(1, 2, 'x')).writeBytes(packet(2, 3, 'y')));
    ByteBuf a = ch.readInbound();
    ByteBuf b = ch.readInbound();
    assertThat(sequenceIds(a)).containsExactly(1);
    assertThat(sequenceIds(b)).containsExactly(2);
    a.release();
    b.release();
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }
}
