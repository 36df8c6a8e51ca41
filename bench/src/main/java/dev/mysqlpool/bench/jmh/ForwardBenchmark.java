package dev.mysqlpool.bench.jmh;

import dev.mysqlpool.proxy.net.Buffers;
import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What handing {@code size} bytes of a read buffer to a NIO channel's write costs, two ways: a
 * retained slice of the buffer (a derived buffer: the NIO write path makes a new {@code ByteBuffer}
 * duplicate and slice of it for each write), or a copy into a buffer of the proxy's allocator
 * (whose {@code ByteBuffer} view the pool caches). {@code internalNioBuffer} is what {@code
 * ChannelOutboundBuffer.nioBuffers} calls once per written message. Run with {@code -prof gc}: the
 * allocation per operation ({@code gc.alloc.rate.norm}) is the figure that does not depend on the
 * machine's load. The relay forwards slices: the copy saves the garbage but costs more time (see
 * bench/README.md, issue 16).
 */
@State(Scope.Thread)
// JMH's threads are not Netty's: without this, the copy would miss the per-thread buffer cache an
// event loop has, and allocate (and lock) in the arena every time.
@Fork(jvmArgsAppend = "-Dio.netty.allocator.useCacheForAllThreads=true")
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ForwardBenchmark {
  /** Bytes forwarded: a small reply or statement, up to a few packets of rows. */
  @Param({"64", "256", "1024", "4096"})
  public int size;

  private ByteBuf read;

  @Setup(Level.Trial)
  public void setUp() {
    read = Buffers.ALLOCATOR.ioBuffer(65536);
    for (int i = 0; i < 65536; i++) {
      read.writeByte(i);
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    read.release();
  }

  @Benchmark
  public ByteBuffer slice() {
    ByteBuf out = read.retainedSlice(128, size);
    ByteBuffer nio = out.internalNioBuffer(out.readerIndex(), out.readableBytes());
    out.release();
    return nio;
  }

  @Benchmark
  public ByteBuffer copy() {
    ByteBuf out = Buffers.ALLOCATOR.ioBuffer(size);
    out.writeBytes(read, 128, size);
    ByteBuffer nio = out.internalNioBuffer(out.readerIndex(), out.readableBytes());
    out.release();
    return nio;
  }
}
