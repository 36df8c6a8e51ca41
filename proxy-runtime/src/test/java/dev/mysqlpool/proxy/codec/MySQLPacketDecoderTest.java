package dev.mysqlpool.proxy.codec;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mysqlpool.proxy.protocol.Packets;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link MySQLPacketDecoder} through an {@link EmbeddedChannel}, in the style of Netty's
 * LengthFieldBasedFrameDecoderTest: inputs split at every byte boundary, several packets per
 * buffer, and the 16 MiB boundary. Every buffer written in and every frame read out must end with a
 * reference count of 0.
 */
class MySQLPacketDecoderTest {

  /** A wire packet: 3-byte little-endian payload length, sequence id, payload. */
  private static byte[] packet(int seq, byte[] payload) {
    byte[] p = new byte[Packets.HEADER_SIZE + payload.length];
    p[0] = (byte) payload.length;
    p[1] = (byte) (payload.length >>> 8);
    p[2] = (byte) (payload.length >>> 16);
    p[3] = (byte) seq;
    System.arraycopy(payload, 0, p, Packets.HEADER_SIZE, payload.length);
    return p;
  }

  private static byte[] concat(byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) {
      n += p.length;
    }
    byte[] out = new byte[n];
    int i = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, i, p.length);
      i += p.length;
    }
    return out;
  }

  private static byte[] payload(int length, int seed) {
    byte[] b = new byte[length];
    for (int i = 0; i < length; i++) {
      b[i] = (byte) (seed + i * 31);
    }
    return b;
  }

  /**
   * A real (never the shared empty) buffer holding a copy of the range, so its refCnt can be
   * checked.
   */
  private static ByteBuf copy(byte[] source, int offset, int length) {
    return Unpooled.buffer(length).writeBytes(source, offset, length);
  }

  /**
   * Every frame a test read, kept (released) to check at the end that the memory behind it was
   * freed.
   */
  private final List<ByteBuf> emitted = new ArrayList<>();

  /**
   * Reads every frame the channel produced, copying its bytes out and releasing it, as the next
   * handler would.
   */
  private List<byte[]> drainFrames(EmbeddedChannel channel) {
    List<byte[]> frames = new ArrayList<>();
    ByteBuf frame;
    while ((frame = channel.readInbound()) != null) {
      emitted.add(frame);
      byte[] b = new byte[frame.readableBytes()];
      frame.getBytes(frame.readerIndex(), b);
      frames.add(b);
      assertThat(frame.refCnt()).as("a frame arrives with a reference of its own").isPositive();
      frame.release();
    }
    return frames;
  }

  /**
   * Closes the channel, asserts nothing was left over, and that every frame's underlying buffer has
   * been freed: frames are retained slices sharing the cumulation's count, so it reaches 0 only
   * when the decoder and every frame let go.
   */
  private void assertAllReleased(EmbeddedChannel channel) {
    assertThat(channel.finishAndReleaseAll())
        .as("no frame or partial packet may be left over")
        .isFalse();
    for (int i = 0; i < emitted.size(); i++) {
      assertThat(emitted.get(i).refCnt()).as("buffer behind frame %d still referenced", i).isZero();
    }
    emitted.clear();
  }

  private static void assertFrames(List<byte[]> actual, byte[]... expected) {
    assertThat(actual).as("number of frames").hasSize(expected.length);
    for (int i = 0; i < expected.length; i++) {
      assertThat(Arrays.equals(actual.get(i), expected[i]))
          .withFailMessage(
              "frame %d must be the whole packet, header included (length %d, got %d)",
              i, expected[i].length, actual.get(i).length)
          .isTrue();
    }
  }

  @Test
  void onePacketIsOneFrameWithItsHeader() {
    EmbeddedChannel channel = new EmbeddedChannel(new MySQLPacketDecoder());
    byte[] ping = packet(0, new byte[] {0x0e});
    ByteBuf in = Unpooled.wrappedBuffer(ping);
    channel.writeInbound(in);
    assertFrames(drainFrames(channel), ping);
    assertThat(in.refCnt()).as("the input buffer is released once decoded").isZero();
    assertAllReleased(channel);
  }

  @Test
  void packetsSplitAtEveryByteBoundaryDecodeTheSame() {
    byte[] a = packet(0, concat(new byte[] {0x03}, "SELECT 1".getBytes(StandardCharsets.US_ASCII)));
    byte[] empty = packet(1, new byte[0]);
    byte[] b = packet(2, payload(300, 7));
    byte[] stream = concat(a, empty, b);
    for (int split = 0; split <= stream.length; split++) {
      EmbeddedChannel channel = new EmbeddedChannel(new MySQLPacketDecoder());
      ByteBuf first = copy(stream, 0, split);
      ByteBuf second = copy(stream, split, stream.length - split);
      channel.writeInbound(first);
      List<byte[]> frames = drainFrames(channel);
      channel.writeInbound(second);
      frames.addAll(drainFrames(channel));
      assertFrames(frames, a, empty, b);
      assertThat(first.refCnt()).as("first part released, split at %d", split).isZero();
      assertThat(second.refCnt()).as("second part released, split at %d", split).isZero();
      assertAllReleased(channel);
    }
  }

  @Test
  void byteByByteInputDecodes() {
    byte[] a = packet(0, payload(17, 1));
    byte[] b = packet(1, payload(3, 2));
    byte[] stream = concat(a, b);
    EmbeddedChannel channel = new EmbeddedChannel(new MySQLPacketDecoder());
    List<byte[]> frames = new ArrayList<>();
    List<ByteBuf> inputs = new ArrayList<>();
    for (byte value : stream) {
      ByteBuf one = Unpooled.buffer(1).writeByte(value);
      inputs.add(one);
      channel.writeInbound(one);
      frames.addAll(drainFrames(channel));
    }
    assertFrames(frames, a, b);
    assertThat(inputs).allSatisfy(buf -> assertThat(buf.refCnt()).isZero());
    assertAllReleased(channel);
  }

  @Test
  void severalPacketsInOneBufferBecomeSeveralFrames() {
    byte[][] packets = new byte[20][];
    for (int i = 0; i < packets.length; i++) {
      packets[i] = packet(i, payload(i * 13, i));
    }
    EmbeddedChannel channel = new EmbeddedChannel(new MySQLPacketDecoder());
    ByteBuf in = Unpooled.wrappedBuffer(concat(packets));
    channel.writeInbound(in);
    assertFrames(drainFrames(channel), packets);
    assertThat(in.refCnt()).isZero();
    assertAllReleased(channel);
  }

  @Test
  void partialPacketIsHeldUntilTheRestArrives() {
    byte[] p = packet(0, payload(100, 3));
    EmbeddedChannel channel = new EmbeddedChannel(new MySQLPacketDecoder());
    channel.writeInbound(copy(p, 0, 3)); // not even a whole header
    assertThat(drainFrames(channel)).isEmpty();
    channel.writeInbound(copy(p, 3, 50));
    assertThat(drainFrames(channel)).as("a packet is emitted only when complete").isEmpty();
    channel.writeInbound(copy(p, 53, p.length - 53));
    assertFrames(drainFrames(channel), p);
    assertAllReleased(channel);
  }

  @Test
  void partialPacketIsReleasedWhenTheChannelCloses() {
    byte[] p = packet(0, payload(100, 3));
    EmbeddedChannel channel = new EmbeddedChannel(new MySQLPacketDecoder());
    ByteBuf partial = copy(p, 0, 40);
    channel.writeInbound(partial);
    assertAllReleased(channel);
    assertThat(partial.refCnt())
        .as("the cumulation holding the partial packet is released on close")
        .isZero();
  }

  @Test
  void maxPayloadPacketAndItsContinuationAreTwoFrames() {
    // A 16 MiB + 9 byte payload travels as one 0xFFFFFF-byte packet and a 10-byte continuation; the
    // decoder does
    // not aggregate them, so no 16 MiB payload is ever copied.
    byte[] big = packet(0, payload(Packets.MAX_PAYLOAD, 5));
    byte[] continuation = packet(1, payload(10, 9));
    byte[] next = packet(0, new byte[] {0x0e});
    ByteBuf in = Unpooled.wrappedBuffer(concat(big, continuation, next));
    EmbeddedChannel channel = new EmbeddedChannel(new MySQLPacketDecoder());
    channel.writeInbound(in);
    List<byte[]> frames = drainFrames(channel);
    assertFrames(frames, big, continuation, next);
    assertThat(frames.get(0).length).isEqualTo(Packets.HEADER_SIZE + Packets.MAX_PAYLOAD);
    assertThat(in.refCnt()).isZero();
    assertAllReleased(channel);
  }

  @Test
  void maxPayloadPacketArrivingInChunksIsOneFrame() {
    byte[] big = packet(0, payload(Packets.MAX_PAYLOAD, 11));
    byte[] terminator = packet(1, new byte[0]);
    byte[] stream = concat(big, terminator);
    EmbeddedChannel channel = new EmbeddedChannel(new MySQLPacketDecoder());
    List<byte[]> frames = new ArrayList<>();
    List<ByteBuf> inputs = new ArrayList<>();
    int chunk = 65536 + 7;
    for (int off = 0; off < stream.length; off += chunk) {
      ByteBuf part = copy(stream, off, Math.min(chunk, stream.length - off));
      inputs.add(part);
      channel.writeInbound(part);
      frames.addAll(drainFrames(channel));
    }
    assertFrames(frames, big, terminator);
    assertThat(inputs).allSatisfy(buf -> assertThat(buf.refCnt()).isZero());
    assertAllReleased(channel);
  }

  @Test
  void framesAreSlicesThatKeepTheirBytesAfterLaterInput() {
    // Frames are retained slices of the cumulation: bytes written later must not change a frame
    // still held.
    byte[] a = packet(0, payload(10, 1));
    byte[] b = packet(1, payload(10, 2));
    EmbeddedChannel channel = new EmbeddedChannel(new MySQLPacketDecoder());
    channel.writeInbound(Unpooled.wrappedBuffer(a));
    ByteBuf held = channel.readInbound();
    emitted.add(held);
    channel.writeInbound(Unpooled.wrappedBuffer(b));
    byte[] heldBytes = new byte[held.readableBytes()];
    held.getBytes(held.readerIndex(), heldBytes);
    assertThat(heldBytes).isEqualTo(a);
    assertThat(held.release()).isTrue();
    assertFrames(drainFrames(channel), b);
    assertAllReleased(channel);
  }
}
