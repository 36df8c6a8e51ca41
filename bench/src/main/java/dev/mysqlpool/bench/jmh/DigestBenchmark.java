package dev.mysqlpool.bench.jmh;

import dev.mysqlpool.proxy.config.ProxyConfig;
import dev.mysqlpool.proxy.digest.DigestNormalizer;
import dev.mysqlpool.proxy.digest.DigestRecorder;
import dev.mysqlpool.proxy.digest.QueryDigests;
import dev.mysqlpool.proxy.protocol.Commands;
import dev.mysqlpool.proxy.protocol.Packets;
import dev.mysqlpool.proxy.protocol.ResponseTracker;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.util.concurrent.ImmediateEventExecutor;
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

/**
 * What the query digest view ({@code stats.queryDigests}) costs per COM_QUERY, over a pooled direct
 * buffer as the decoder hands it on: {@link #hash} is the normaliser alone, {@link #record} what
 * the relay adds per statement of a digest seen before (hash, table lookup, counters at the reply).
 * Both must allocate nothing: run with {@code -prof gc} and read {@code gc.alloc.rate.norm}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class DigestBenchmark {
  /** sysbench's statements (as StatementScanBenchmark has them), a range select and a batch. */
  @Param({"point_select", "range", "update", "insert", "batch_insert", "commented_select"})
  public String statement;

  private ByteBuf packet;
  private ByteBuf copy;
  private int start;
  private int end;
  private final DigestNormalizer normalizer = new DigestNormalizer();
  private DigestRecorder recorder;
  private ResponseTracker tracker;

  @Setup(Level.Trial)
  public void setUp() {
    String sql =
        statement.equals("range")
            ? "SELECT c FROM sbtest1 WHERE id BETWEEN 50123 AND 50222"
            : StatementScanBenchmark.sql(statement);
    packet = Packets.command(PooledByteBufAllocator.DEFAULT, Commands.COM_QUERY, sql);
    start = Packets.HEADER_SIZE + 1;
    end = packet.writerIndex();
    byte[] bytes = new byte[end];
    packet.getBytes(0, bytes);
    copy = Unpooled.wrappedBuffer(bytes);
    recorder =
        new QueryDigests(new ProxyConfig.Stats(true, ProxyConfig.Stats.DEFAULT_MAX_QUERY_DIGESTS))
            .recorder(ImmediateEventExecutor.INSTANCE);
    tracker = new ResponseTracker(0);
    tracker.expect(Commands.COM_QUERY);
    ByteBuf ok = Packets.ok(PooledByteBufAllocator.DEFAULT, 1, 2, 0);
    tracker.onPacket(ok);
    ok.release();
    record(); // the digest is seen from now on
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    packet.release();
  }

  /** The normalised statement's 64-bit hash. */
  @Benchmark
  public long hash() {
    return normalizer.hash(copy, start, end, false);
  }

  /** Everything per statement: sent (hash, lookup) and done (counters). */
  @Benchmark
  public void record() {
    recorder.sent(packet, Commands.COM_QUERY, "primary", "app", 2);
    recorder.done(tracker, 250_000, 1);
  }
}
