package dev.mysqlpool.bench;

import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import java.io.IOException;
import java.io.InputStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Histogram;

/** The scenarios beyond steady load: a connect burst, many idle clients, a slow reader. */
final class Scenarios {
  private Scenarios() {}

  /** Latencies in milliseconds; server figures exclude the sampler's own connection. */
  record Burst(
      int clients,
      int maxConnections,
      int ok,
      int failed,
      String firstError,
      double seconds,
      int maxThreadsConnected,
      int maxUsedConnections,
      long p50Millis,
      long p99Millis,
      long maxMillis,
      CpuShares.Used cpu) {}

  /** Names of the processes whose CPU a burst measures beside the forwarder's. */
  static final String SERVER = "server";

  static final String CLIENTS = "clients";

  /**
   * {@code clients} threads released at once, each connecting to the forwarder (the proxy or
   * HAProxy, process {@code forwarderPid}), running one point select and disconnecting, while the
   * server's {@code Threads_connected} is sampled every 5 ms and the CPU the forwarder, the server
   * and the clients spend from the release to the last disconnect is measured. Bounded to 3
   * minutes.
   */
  static Burst burst(
      EmbeddedMariaDb db, int port, long forwarderPid, int clients, int maxConnections)
      throws SQLException, InterruptedException {
    long serverPid = Procs.serverPid(db);
    String url =
        EmbeddedMariaDb.jdbcUrl("127.0.0.1", port, EmbeddedMariaDb.APP_DATABASE)
            + "&connectTimeout=60000&socketTimeout=120000";
    CountDownLatch ready = new CountDownLatch(clients);
    CountDownLatch go = new CountDownLatch(1);
    AtomicInteger ok = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    AtomicReference<String> firstError = new AtomicReference<>();
    Histogram latency = new Histogram(1, TimeUnit.MINUTES.toMillis(10), 3);
    List<Thread> threads = new ArrayList<>();
    long[] started = new long[1];
    for (int i = 0; i < clients; i++) {
      Thread t =
          new Thread(
              null,
              () -> {
                ready.countDown();
                try {
                  go.await();
                  try (Connection c =
                          LoadGenerator.connect(
                              url, EmbeddedMariaDb.APP_USER, EmbeddedMariaDb.APP_PASSWORD);
                      PreparedStatement s =
                          c.prepareStatement("SELECT c FROM sbtest1 WHERE id=?")) {
                    s.setInt(1, 1);
                    try (ResultSet rs = s.executeQuery()) {
                      rs.next();
                    }
                  }
                  ok.incrementAndGet();
                  long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started[0]);
                  synchronized (latency) {
                    latency.recordValue(Math.max(1, ms));
                  }
                } catch (SQLException e) {
                  failed.incrementAndGet();
                  firstError.compareAndSet(null, e.getMessage());
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              },
              "burst-" + i,
              256 * 1024);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
    ready.await(60, TimeUnit.SECONDS);
    try (Connection root = db.rootConnection()) {
      ServerSampler sampler = new ServerSampler(root, 5);
      sampler.start();
      CpuShares cpu =
          CpuShares.start(
              forwarderPid, Map.of(SERVER, serverPid, CLIENTS, ProcessHandle.current().pid()));
      started[0] = System.nanoTime();
      go.countDown();
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
      for (Thread t : threads) {
        t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
      }
      double seconds = (System.nanoTime() - started[0]) / 1e9;
      CpuShares.Used used = cpu.stop();
      int[] server = sampler.stop();
      return new Burst(
          clients,
          maxConnections,
          ok.get(),
          failed.get(),
          firstError.get(),
          seconds,
          server[0],
          server[1],
          latency.getValueAtPercentile(50),
          latency.getValueAtPercentile(99),
          latency.getMaxValue(),
          used);
    }
  }

  /** Memory in KiB; -1 where not measured. */
  record Idle(
      int target,
      int opened,
      String firstError,
      double openSeconds,
      long rssEmptyKib,
      long heapEmptyKib,
      long rssKib,
      long rssAfterGcKib,
      long heapAfterGcKib,
      boolean stillServes) {}

  /**
   * Opens {@code target} raw client connections to the proxy (logged in, no command sent, so none
   * holds a backend), measures the proxy's RSS and its heap after a full GC, checks that a new
   * client is still served, and closes them.
   */
  static Idle idle(ProxyProcess proxy, int target) throws InterruptedException {
    return idle(proxy, target, true, () -> {});
  }

  /**
   * As above; with {@code gcFirst} false the proxy's heap is left alone until the RSS with the
   * clients is taken (no {@code jcmd GC.run} before; {@code heapEmptyKib} is then -1), so that RSS
   * is what the proxy's own collector leaves. {@code whileOpen} runs once that RSS is taken, with
   * the clients still open.
   */
  static Idle idle(ProxyProcess proxy, int target, boolean gcFirst, Runnable whileOpen)
      throws InterruptedException {
    long heapEmpty = gcFirst ? proxy.heapUsedAfterGcKib() : -1;
    long rssEmpty = Procs.rssKib(proxy.pid());
    ConcurrentLinkedQueue<RawMySqlClient> open = new ConcurrentLinkedQueue<>();
    AtomicReference<String> firstError = new AtomicReference<>();
    AtomicInteger remaining = new AtomicInteger(target);
    AtomicInteger failures = new AtomicInteger();
    long t0 = System.nanoTime();
    long deadline = t0 + TimeUnit.MINUTES.toNanos(3);
    List<Thread> openers = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      Thread t =
          new Thread(
              () -> {
                while (remaining.getAndDecrement() > 0
                    && System.nanoTime() < deadline
                    && failures.get() < 100) {
                  try {
                    open.add(
                        RawMySqlClient.login(
                            proxy.port(),
                            EmbeddedMariaDb.APP_USER,
                            EmbeddedMariaDb.APP_PASSWORD,
                            null,
                            0));
                  } catch (IOException e) {
                    failures.incrementAndGet();
                    firstError.compareAndSet(null, e.toString());
                  }
                }
              },
              "idle-opener-" + i);
      t.setDaemon(true);
      openers.add(t);
      t.start();
    }
    for (Thread t : openers) {
      t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()) + 5_000));
    }
    double openSeconds = (System.nanoTime() - t0) / 1e9;
    try {
      Procs.sleep(2_000);
      long rss = Procs.rssKib(proxy.pid());
      whileOpen.run();
      long heap = proxy.heapUsedAfterGcKib();
      long rssAfterGc = Procs.rssKib(proxy.pid());
      boolean serves;
      try (RawMySqlClient probe =
          RawMySqlClient.login(
              proxy.port(), EmbeddedMariaDb.APP_USER, EmbeddedMariaDb.APP_PASSWORD, null, 0)) {
        serves = true;
      } catch (IOException e) {
        serves = false;
        firstError.compareAndSet(null, "new client after the idle ones: " + e);
      }
      return new Idle(
          target,
          open.size(),
          firstError.get(),
          openSeconds,
          rssEmpty,
          heapEmpty,
          rss,
          rssAfterGc,
          heap,
          serves);
    } finally {
      for (RawMySqlClient c : open) {
        try {
          c.close();
        } catch (IOException e) {
          // closing anyway
        }
      }
    }
  }

  /**
   * A paced reader of a large result: how many bytes it read and whether it was still reading at
   * the end.
   */
  static final class SlowReader implements AutoCloseable {
    private final RawMySqlClient client;
    private final Thread thread;
    private final AtomicLong bytes = new AtomicLong();
    private volatile boolean stop;
    private volatile boolean finished;
    private volatile String error;

    /**
     * Logs in, asks for every row of sbtest1 (about 19 MB) and reads {@code bytesPerSecond} at
     * most, with a 64 KiB receive buffer, until closed.
     */
    SlowReader(int port, int bytesPerSecond) throws IOException {
      client =
          RawMySqlClient.login(
              port,
              EmbeddedMariaDb.APP_USER,
              EmbeddedMariaDb.APP_PASSWORD,
              EmbeddedMariaDb.APP_DATABASE,
              64 * 1024);
      client.sendQuery("SELECT id, k, c, pad FROM sbtest1");
      thread =
          new Thread(
              () -> {
                byte[] chunk = new byte[16 * 1024];
                long pauseMillis = Math.max(1, 1000L * chunk.length / bytesPerSecond);
                InputStream in = client.stream();
                try {
                  while (!stop) {
                    int n = in.read(chunk);
                    if (n < 0) {
                      finished = true;
                      return;
                    }
                    bytes.addAndGet(n);
                    Thread.sleep(pauseMillis);
                  }
                } catch (IOException e) {
                  if (!stop) {
                    error = e.toString();
                  }
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              },
              "slow-reader");
      thread.setDaemon(true);
      thread.start();
    }

    long bytesRead() {
      return bytes.get();
    }

    /**
     * True when the reader reached the end of the stream (it should not within the measured
     * window).
     */
    boolean finished() {
      return finished;
    }

    String error() {
      return error;
    }

    @Override
    public void close() throws IOException {
      stop = true;
      client.close();
      try {
        thread.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
