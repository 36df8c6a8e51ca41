package dev.mysqlpool.bench.jmh;

import dev.mysqlpool.proxy.backend.BackendConnection;
import dev.mysqlpool.proxy.backend.BackendPool;
import dev.mysqlpool.proxy.backend.PoolKey;
import dev.mysqlpool.proxy.config.ConfigLoader;
import dev.mysqlpool.proxy.config.ProxyConfig;
import dev.mysqlpool.proxy.protocol.Capabilities;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.nio.file.Path;
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
import org.openjdk.jmh.annotations.Threads;

/**
 * {@link BackendPool} acquire and release with real backend connections to a running MariaDB (the
 * harness passes the embedded server's port): acquire of an idle connection, release {@code CLEAN}.
 * No server round trip is on this path, so the score is the pool's own bookkeeping (its lock, the
 * idle deque, the promise). Run with 1 and 2 threads (this machine has 2 cores) to see lock
 * contention.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class PoolBenchmark {
  /** The MariaDB port; 0 means "not run through bench/run.sh" and fails the trial. */
  @Param("0")
  public int backendPort;

  private EventLoopGroup group;
  private BackendPool pool;
  private PoolKey key;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    if (backendPort == 0) {
      throw new IllegalStateException(
          "PoolBenchmark needs a running MariaDB: run it through bench/run.sh, which"
              + " passes -p backendPort=<port> of the embedded server");
    }
    ProxyConfig config =
        ConfigLoader.parse(
            "backends:\n  - {name: primary, host: 127.0.0.1, port: "
                + backendPort
                + "}\nusers:\n  - {name: app, password: app-secret}\npool: {maxConnections: 8, minIdle: 4}\n",
            Path.of("."));
    group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    key =
        new PoolKey(
            config.users().get(0),
            Capabilities.CLIENT_FOUND_ROWS & Capabilities.BACKEND_PASSTHROUGH,
            45);
    pool = new BackendPool(config.backends().get(0), config.pool(), group, key);
    pool.start();
    // Open two connections for the key and return them: the benchmark then never waits for a login.
    EventLoop loop = group.next();
    BackendConnection a = pool.acquire(loop, key, false).get(10, TimeUnit.SECONDS);
    BackendConnection b = pool.acquire(loop, key, false).get(10, TimeUnit.SECONDS);
    pool.release(a, BackendPool.Release.CLEAN);
    pool.release(b, BackendPool.Release.CLEAN);
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    if (pool != null) {
      pool.close();
    }
    if (group != null) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }
  }

  /** Per-thread: the event loop this benchmark thread plays the client's part for. */
  @State(Scope.Thread)
  public static class Loop {
    EventLoop loop;

    @Setup(Level.Trial)
    public void setUp(PoolBenchmark b) {
      loop = b.group.next();
    }
  }

  @Benchmark
  @Threads(1)
  public BackendConnection acquireRelease(Loop l) throws Exception {
    BackendConnection c = pool.acquire(l.loop, key, false).get(5, TimeUnit.SECONDS);
    pool.release(c, BackendPool.Release.CLEAN);
    return c;
  }

  @Benchmark
  @Threads(2)
  public BackendConnection acquireReleaseTwoThreads(Loop l) throws Exception {
    BackendConnection c = pool.acquire(l.loop, key, false).get(5, TimeUnit.SECONDS);
    pool.release(c, BackendPool.Release.CLEAN);
    return c;
  }
}
