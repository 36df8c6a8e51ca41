package dev.mysqlpool.proxy.frontend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mysqlpool.proxy.codec.MySQLPacketDecoder;
import dev.mysqlpool.proxy.protocol.HandshakeResponse41;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import dev.mysqlpool.proxy.testsupport.WireFuzzer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The first thing an unauthenticated client reaches, fuzzed without a network: the packet decoder
 * and the HandshakeResponse41 parser, fed seeded damaged handshakes split at random points. The
 * parser may reject a packet only with a {@link RuntimeException} (which {@code ClientSession}
 * answers with 1043 and a close), must never allocate what a length field claims before checking it
 * against the packet, and every buffer is released.
 *
 * <p>Reproduce a failure with the seed in its message: {@code -Dfuzz.seed=<seed>}.
 */
@ExtendWith(LeakGuard.class)
class FrontendFuzzTest {
  private static final long BASE_SEED = Long.getLong("fuzz.seed", 0x6d7973716cL);
  private static final int CASES = 5_000;
  private static final byte[] SEED = "abcdefgh1234567890AB".getBytes(StandardCharsets.US_ASCII);

  /** Far below any array a lying length field could make the parser allocate. */
  private static final long MAX_ALLOCATION_PER_CASE = 1 << 20;

  @Test
  void
      fiveThousandDamagedHandshakesAreRejectedWithARuntimeExceptionWithoutLargeAllocationsOrLeaks() {
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long thread = Thread.currentThread().getId();
    int parsed = 0;
    int rejected = 0;
    for (int i = 0; i < CASES; i++) {
      long seed = BASE_SEED + i;
      WireFuzzer fuzz = new WireFuzzer(new Random(seed));
      byte[] wire = fuzz.brokenHandshakeResponse("app", "app-secret", SEED);
      EmbeddedChannel ch = new EmbeddedChannel(new MySQLPacketDecoder());
      try {
        List<ByteBuf> frames = new ArrayList<>();
        int off = 0;
        while (off < wire.length) {
          int n = 1 + fuzz.random().nextInt(wire.length - off);
          ch.writeInbound(Unpooled.copiedBuffer(wire, off, n));
          off += n;
          for (Object m; (m = ch.readInbound()) != null; ) {
            frames.add((ByteBuf) m);
          }
        }
        for (ByteBuf frame : frames) {
          int length = frame.readableBytes();
          long before = threads.getThreadAllocatedBytes(thread);
          try {
            HandshakeResponse41.parse(frame);
            parsed++;
          } catch (RuntimeException expected) {
            rejected++;
          } catch (Throwable t) {
            throw new AssertionError(
                "case seed " + seed + " (" + fuzz.trace() + "): parse threw " + t, t);
          } finally {
            frame.release();
          }
          long allocated = threads.getThreadAllocatedBytes(thread) - before;
          assertThat(allocated)
              .withFailMessage(
                  "case seed %d (%s): parsing a %d-byte packet allocated %d bytes; a length field"
                      + " must be checked against the packet before anything is allocated for it",
                  seed, fuzz.trace(), length, allocated)
              .isLessThan(MAX_ALLOCATION_PER_CASE);
        }
      } finally {
        ch.finishAndReleaseAll();
      }
    }
    assertThat(parsed + rejected).as("packets that reached the parser").isGreaterThan(CASES / 2);
    assertThat(rejected).as("damaged packets rejected").isGreaterThan(CASES / 4);
  }

  @Test
  void lenencAuthLengthNear2GiBIsRejectedAsPastTheEndInsteadOfAllocated() {
    byte[] valid =
        WireFuzzer.validHandshakePayload(
            WireFuzzer.BASE_CAPABILITIES, "app", "app-secret", SEED, null, true);
    // caps(4) max(4) collation(1) filler(23) "app\0", then the auth length: 0xfe + 8 bytes of
    // 0x7fffffff.
    int at = 32 + 4;
    byte[] payload = new byte[at + 9 + 4];
    System.arraycopy(valid, 0, payload, 0, at);
    payload[at] = (byte) 0xfe;
    payload[at + 1] = (byte) 0xff;
    payload[at + 2] = (byte) 0xff;
    payload[at + 3] = (byte) 0xff;
    payload[at + 4] = (byte) 0x7f;
    ByteBuf packet = Unpooled.wrappedBuffer(WireFuzzer.packet(payload, 1, payload.length));
    try {
      assertThatThrownBy(() -> HandshakeResponse41.parse(packet))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("2147483647")
          .hasMessageContaining("past the end");
    } finally {
      packet.release();
    }
  }
}
