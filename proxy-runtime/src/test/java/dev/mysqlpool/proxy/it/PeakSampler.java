package dev.mysqlpool.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Records the highest value each probe returns while a load runs (server sessions, pool size), on a
 * thread of its own at a fixed delay. A peak is only evidence if sampling went on while the load
 * ran and no sample failed: a sampler that died on its first exception would report peaks of 0,
 * which every "at most" bound accepts. So a failed sample is kept and rethrown by {@link
 * #assertSampledWhileLoadRan}, which also demands a minimum number of samples between {@link
 * #loadStarts()} and {@link #stop()}.
 */
final class PeakSampler implements AutoCloseable {
  /** One value to watch; may throw (the failure then fails the test). */
  @FunctionalInterface
  interface Probe {
    int read() throws Exception;
  }

  private final Map<String, Probe> probes = new LinkedHashMap<>();
  private final Map<String, AtomicInteger> peaks = new LinkedHashMap<>();
  private final AtomicInteger samples = new AtomicInteger();
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
  private int samplesAtLoadStart = -1;
  private int samplesAtStop = -1;

  /** Adds a probe; call before {@link #start}. */
  PeakSampler probe(String name, Probe probe) {
    probes.put(name, probe);
    peaks.put(name, new AtomicInteger(Integer.MIN_VALUE));
    return this;
  }

  /** Samples every probe, then waits {@code delay}, until stopped or a probe fails. */
  PeakSampler start(Duration delay) {
    timer.scheduleWithFixedDelay(this::sample, 0, delay.toMillis(), TimeUnit.MILLISECONDS);
    return this;
  }

  private void sample() {
    if (failure.get() != null) {
      return;
    }
    try {
      for (Map.Entry<String, Probe> e : probes.entrySet()) {
        int v = e.getValue().read();
        peaks.get(e.getKey()).accumulateAndGet(v, Math::max);
      }
      samples.incrementAndGet();
    } catch (Throwable t) {
      failure.compareAndSet(null, t);
    }
  }

  /**
   * Waits until the sampler has taken a sample, so the load about to start is watched from its
   * first moment, and marks where the load's samples begin.
   */
  void loadStarts() {
    await().atMost(Duration.ofSeconds(10)).until(() -> samples.get() > 0 || failure.get() != null);
    samplesAtLoadStart = samples.get();
  }

  /** Stops sampling and waits for a sample in progress to finish; idempotent. */
  void stop() throws InterruptedException {
    timer.shutdown();
    assertThat(timer.awaitTermination(10, TimeUnit.SECONDS))
        .as("the sampler stopped within 10 s")
        .isTrue();
    if (samplesAtStop < 0) {
      samplesAtStop = samples.get();
    }
  }

  /**
   * Fails if any sample threw, or if fewer than {@code minSamples} complete samples were taken
   * between {@link #loadStarts()} and {@link #stop()}.
   */
  void assertSampledWhileLoadRan(int minSamples) throws InterruptedException {
    stop();
    assertThat(failure.get()).as("a sample that failed (the peaks would be incomplete)").isNull();
    assertThat(samplesAtLoadStart).as("loadStarts() was called before the load").isNotNegative();
    assertThat(samplesAtStop - samplesAtLoadStart)
        .as("samples taken while the load ran")
        .isGreaterThanOrEqualTo(minSamples);
  }

  /** The highest value {@code probe} returned. */
  int peak(String probe) {
    AtomicInteger p = peaks.get(probe);
    assertThat(p).as("probe %s", probe).isNotNull();
    return p.get();
  }

  /** Stops sampling, interrupting a sample in progress; safe after {@link #stop()}. */
  @Override
  public void close() {
    timer.shutdownNow();
  }
}
