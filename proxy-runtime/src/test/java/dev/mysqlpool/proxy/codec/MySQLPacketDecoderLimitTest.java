package dev.mysqlpool.proxy.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The decoder's limit on announced packet sizes and its hand-over of undecoded bytes. */
class MySQLPacketDecoderLimitTest {

  @Test
  void aHeaderAnnouncingMoreThanTheLimitFailsAtOnceAndDropsWhatWasBuffered() {
    MySQLPacketDecoder decoder = new MySQLPacketDecoder();
    decoder.maxPayload(8192);
    EmbeddedChannel ch = new EmbeddedChannel(decoder);
    ByteBuf in = Unpooled.buffer();
    in.writeBytes(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 1});
    in.writeZero(1000);
    assertThatThrownBy(() -> ch.writeInbound(in))
        .isInstanceOf(PacketTooLargeException.class)
        .hasMessage("packet of 16777215 bytes announced, more than the 8192 allowed here");
    assertThat(in.refCnt()).as("the input was consumed and released").isZero();
    assertThat(ch.<Object>readInbound()).isNull();
    ch.finishAndReleaseAll();
  }

  @Test
  void aPacketAtTheLimitPassesAndTheLimitCanBeLifted() {
    MySQLPacketDecoder decoder = new MySQLPacketDecoder();
    decoder.maxPayload(4);
    EmbeddedChannel ch = new EmbeddedChannel(decoder);
    ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {4, 0, 0, 0, 1, 2, 3, 4}));
    ByteBuf p = ch.readInbound();
    assertThat(p.readableBytes()).isEqualTo(8);
    p.release();
    decoder.maxPayload(Integer.MAX_VALUE);
    ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {5, 0, 0, 0, 1, 2, 3, 4, 5}));
    p = ch.readInbound();
    assertThat(p.readableBytes()).isEqualTo(9);
    p.release();
    ch.finishAndReleaseAll();
  }

  @Test
  void bytesBehindAPacketAreHandedOverToWhoeverTakesThem() {
    MySQLPacketDecoder decoder = new MySQLPacketDecoder();
    List<ByteBuf> taken = new ArrayList<>();
    EmbeddedChannel ch =
        new EmbeddedChannel(
            decoder,
            new ChannelInboundHandlerAdapter() {
              @Override
              public void channelRead(ChannelHandlerContext ctx, Object msg) {
                // What the login does on an SSLRequest: the rest is the TLS handshake.
                ((ByteBuf) msg).release();
                taken.add(decoder.takeBuffered());
              }
            });
    ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {1, 0, 0, 1, 9, 0x16, 0x03, 0x01}));
    assertThat(taken).hasSize(1);
    ByteBuf early = taken.get(0);
    assertThat(early.readableBytes()).isEqualTo(3);
    assertThat(early.getByte(0))
        .as("a TLS handshake record starts with 0x16")
        .isEqualTo((byte) 0x16);
    early.release();
    assertThat(decoder.takeBuffered()).as("nothing left").isNull();
    ch.finishAndReleaseAll();
  }
}
