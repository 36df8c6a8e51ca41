package dev.mysqlpool.bench.jmh;

import dev.mysqlpool.proxy.codec.MySQLPacketDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The first step of the per-packet hot path on a whole text result set of {@code rows} rows (column
 * count, 2 column definitions, EOF, rows, EOF; classic EOF framing): {@link MySQLPacketDecoder}
 * splitting the byte stream into packets inside an {@link EmbeddedChannel}, fed in reads of {@code
 * chunk} bytes. Scores are per result set; divide by {@code rows + 5} for per-packet figures.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class PacketCodecBenchmark {
  /** Rows in the result set: 1 is a point select, 1000 a small scan. */
  @Param({"1", "1000"})
  public int rows;

  /**
   * Bytes per channelRead: a loopback read is usually 64 KiB or less; 1460 is one Ethernet segment.
   */
  @Param({"1460", "65536"})
  public int chunk;

  private byte[] resultSet;
  private ByteBuf[] packets;
  private ByteBuf whole;
  private EmbeddedChannel channel;

  @Setup(Level.Trial)
  public void setUp() {
    List<byte[]> payloads = new ArrayList<>();
    payloads.add(new byte[] {2});
    payloads.add(columnDefinition("id"));
    payloads.add(columnDefinition("c"));
    payloads.add(new byte[] {(byte) 0xfe, 0, 0, 2, 0});
    for (int i = 0; i < rows; i++) {
      byte[] id = Integer.toString(i + 1).getBytes(StandardCharsets.US_ASCII);
      byte[] row = new byte[1 + id.length + 1 + 119];
      row[0] = (byte) id.length;
      System.arraycopy(id, 0, row, 1, id.length);
      row[1 + id.length] = (byte) 119;
      for (int j = 2 + id.length; j < row.length; j++) {
        row[j] = (byte) ('0' + j % 10);
      }
      payloads.add(row);
    }
    payloads.add(new byte[] {(byte) 0xfe, 0, 0, 2, 0});
    int size = 0;
    for (byte[] p : payloads) {
      size += 4 + p.length;
    }
    resultSet = new byte[size];
    packets = new ByteBuf[payloads.size()];
    whole = Unpooled.wrappedBuffer(resultSet);
    int at = 0;
    int seq = 1;
    for (int i = 0; i < payloads.size(); i++) {
      byte[] p = payloads.get(i);
      resultSet[at] = (byte) p.length;
      resultSet[at + 1] = (byte) (p.length >>> 8);
      resultSet[at + 2] = (byte) (p.length >>> 16);
      resultSet[at + 3] = (byte) seq++;
      System.arraycopy(p, 0, resultSet, at + 4, p.length);
      packets[i] = whole.slice(at, 4 + p.length);
      at += 4 + p.length;
    }
    channel = new EmbeddedChannel(new MySQLPacketDecoder());
  }

  /**
   * The result set's packets as slices of one buffer, header included, as the decoder emits them.
   */
  ByteBuf[] packets() {
    return packets;
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    channel.finishAndReleaseAll();
  }

  /**
   * Bytes in, packets out (retained slices, released here as the next handler would after
   * forwarding).
   */
  @Benchmark
  public int decodeResultSet(Blackhole bh) {
    ByteBufAllocator alloc = channel.alloc();
    int count = 0;
    for (int at = 0; at < resultSet.length; at += chunk) {
      int n = Math.min(chunk, resultSet.length - at);
      ByteBuf in = alloc.ioBuffer(n);
      in.writeBytes(resultSet, at, n);
      channel.writeInbound(in);
      for (Object o = channel.readInbound(); o != null; o = channel.readInbound()) {
        ByteBuf packet = (ByteBuf) o;
        bh.consume(packet.getByte(packet.readerIndex() + 4));
        packet.release();
        count++;
      }
    }
    return count;
  }

  static byte[] columnDefinition(String name) {
    // catalog "def", schema, table, org_table, name, org_name, then the fixed-length fields.
    byte[][] strings = {
      "def".getBytes(StandardCharsets.US_ASCII),
      "app".getBytes(StandardCharsets.US_ASCII),
      "sbtest1".getBytes(StandardCharsets.US_ASCII),
      "sbtest1".getBytes(StandardCharsets.US_ASCII),
      name.getBytes(StandardCharsets.US_ASCII),
      name.getBytes(StandardCharsets.US_ASCII)
    };
    int size = 13;
    for (byte[] s : strings) {
      size += 1 + s.length;
    }
    byte[] b = new byte[size];
    int at = 0;
    for (byte[] s : strings) {
      b[at++] = (byte) s.length;
      System.arraycopy(s, 0, b, at, s.length);
      at += s.length;
    }
    b[at] = 0x0c; // length of the fixed fields
    b[at + 1] = 45; // utf8mb4_general_ci
    b[at + 3] = (byte) 120; // column length
    b[at + 7] = (byte) 0xfe; // MYSQL_TYPE_STRING
    return b;
  }
}
