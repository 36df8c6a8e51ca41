package dev.mysqlpool.bench.jmh;

import dev.mysqlpool.proxy.protocol.Capabilities;
import dev.mysqlpool.proxy.protocol.Commands;
import dev.mysqlpool.proxy.protocol.ResponseTracker;
import io.netty.buffer.ByteBuf;
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

/**
 * {@link ResponseTracker#onPacket} following the packets of one text result set of {@code rows}
 * rows (the same bytes as {@link PacketCodecBenchmark}), as the proxy does for every packet a
 * backend sends. Scores are per result set.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class ResponseTrackerBenchmark {
  /** Rows in the result set: 1 is a point select, 1000 a small scan. */
  @Param({"1", "1000"})
  public int rows;

  private ByteBuf[] packets;
  private ResponseTracker tracker;

  @Setup(Level.Trial)
  public void setUp() {
    PacketCodecBenchmark source = new PacketCodecBenchmark();
    source.rows = rows;
    source.chunk = 65536;
    source.setUp();
    packets = source.packets();
    source.tearDown();
    tracker = new ResponseTracker(Capabilities.CLIENT_PROTOCOL_41);
  }

  /** True once, at the final EOF. */
  @Benchmark
  public boolean trackResultSet() {
    tracker.expect(Commands.COM_QUERY);
    boolean done = false;
    for (ByteBuf p : packets) {
      done = tracker.onPacket(p);
    }
    if (!done) {
      throw new IllegalStateException("the tracker did not see the result set end");
    }
    return done;
  }
}
