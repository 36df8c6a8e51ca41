package dev.mysqlpool.proxy.backend;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mysqlpool.proxy.config.ConfigLoader;
import dev.mysqlpool.proxy.config.ProxyConfig;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.local.LocalIoHandler;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * How {@link ReaderSet#pick()} spreads reads over the serving readers by weight, and falls back to
 * the writer (null) when none serves. The pools are never started: only the choice is under test;
 * ReaderSplitIT covers the checks that decide who serves.
 */
class ReaderSetTest {
  private EventLoopGroup group;
  private BackendPool a;
  private BackendPool b;
  private ReaderSet.Reader ra;
  private ReaderSet.Reader rb;
  private ReaderSet set;

  @BeforeEach
  void readers() {
    group = new MultiThreadIoEventLoopGroup(1, LocalIoHandler.newFactory());
    ProxyConfig config =
        ConfigLoader.parse(
            "backends: [{name: a, host: a.invalid}, {name: b, host: b.invalid}]\n"
                + "users: [{name: app, password: secret}]\n",
            null);
    Logins none =
        (loop, pool, key, side) -> loop.newFailedFuture(new BackendException("no server here"));
    a = new BackendPool(config.backends().get(0), config.pool(), group, null, none);
    b = new BackendPool(config.backends().get(1), config.pool(), group, null, none);
    // As a lag check's successful login marks them: reachable.
    a.sideLoginEnded(null);
    b.sideLoginEnded(null);
    ra = new ReaderSet.Reader(a, 1);
    rb = new ReaderSet.Reader(b, 3);
    set = new ReaderSet(List.of(ra, rb), Duration.ofSeconds(5));
  }

  @AfterEach
  void close() {
    a.close();
    b.close();
    group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS);
  }

  @Test
  void weightsOneAndThreeSplitReadsOneToThreeExactly() {
    set.serving(ra, true);
    set.serving(rb, true);
    Map<String, Integer> counts = count(4000);
    assertThat(counts).containsEntry("a", 1000).containsEntry("b", 3000);
  }

  @Test
  void theLightReaderIsNotHandedABurst() {
    set.serving(ra, true);
    set.serving(rb, true);
    StringBuilder seq = new StringBuilder();
    for (int i = 0; i < 8; i++) {
      seq.append(set.pick().name());
    }
    assertThat(seq.toString())
        .withFailMessage("smooth weighted round robin interleaves: %s", seq)
        .isEqualTo("babbbabb");
  }

  @Test
  void aReaderThatStopsServingGetsNothingAndComesBack() {
    set.serving(ra, true);
    set.serving(rb, true);
    set.serving(rb, false);
    assertThat(count(100)).containsOnlyKeys("a").containsEntry("a", 100);
    set.serving(rb, true);
    assertThat(count(400)).containsEntry("a", 100).containsEntry("b", 300);
  }

  @Test
  void aReaderWhoseServerWentAwayIsSkippedBeforeItsNextCheck() {
    set.serving(ra, true);
    set.serving(rb, true);
    b.sideLoginEnded(new BackendException("Connection refused"));
    assertThat(count(100)).containsOnlyKeys("a");
    assertThat(set.status("b").serving()).isFalse();
    assertThat(set.status("b").line()).isEqualTo("b down: Connection refused");

    a.sideLoginEnded(new BackendException("Connection refused"));
    assertThat(set.anyServing()).isFalse();
    assertThat(set.pick()).isNull();
    assertThat(set.fallbacks()).isEqualTo(1);
  }

  @Test
  void noServingReaderMeansTheWriterAndIsCounted() {
    assertThat(set.anyServing()).isFalse();
    assertThat(set.pick()).isNull();
    assertThat(set.pick()).isNull();
    assertThat(set.fallbacks()).isEqualTo(2);

    set.serving(ra, true);
    assertThat(set.anyServing()).isTrue();
    assertThat(set.pick()).isSameAs(a);
    assertThat(set.fallbacks()).isEqualTo(2);
  }

  @Test
  void withoutReadersNothingFallsBack() {
    ReaderSet empty = new ReaderSet(List.of(), Duration.ofSeconds(5));
    assertThat(empty.pick()).isNull();
    assertThat(empty.isEmpty()).isTrue();
    assertThat(empty.fallbacks()).isZero();
    assertThat(empty.status()).isEmpty();
  }

  @Test
  void weightsAreReducedSoTheCycleStaysShort() {
    assertThat(ReaderSet.smoothOrder(new int[] {500, 1000})).containsExactly(1, 0, 1);
    assertThat(ReaderSet.smoothOrder(new int[] {1000})).containsExactly(0);
    assertThat(ReaderSet.smoothOrder(new int[] {})).isEmpty();
    int[] order = ReaderSet.smoothOrder(new int[] {5, 1, 1});
    assertThat(order).containsExactly(0, 0, 1, 0, 2, 0, 0);
  }

  @Test
  void aPickAllocatesNothing() {
    set.serving(ra, true);
    set.serving(rb, true);
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long id = Thread.currentThread().getId();
    int sink = 0;
    for (int i = 0; i < 200_000; i++) {
      sink += set.pick() == a ? 1 : 0;
    }
    long before = threads.getThreadAllocatedBytes(id);
    for (int i = 0; i < 200_000; i++) {
      sink += set.pick() == a ? 1 : 0;
    }
    long allocated = threads.getThreadAllocatedBytes(id) - before;
    assertThat(sink).isEqualTo(100_000);
    assertThat(allocated)
        .withFailMessage("200k picks allocated %d bytes; a pick must allocate nothing", allocated)
        .isLessThan(16 * 1024);
  }

  @Test
  void statusSaysWhyAReaderDoesNotServe() {
    ra.lag = ReplicaLag.unknown("replication SQL thread not running (Slave_SQL_Running=No)");
    assertThat(set.status("a").serving()).isFalse();
    assertThat(set.status("a").lagSeconds()).isNaN();
    assertThat(set.status("a").line())
        .isEqualTo(
            "a up reader lag unknown, not serving: replication SQL thread not running"
                + " (Slave_SQL_Running=No)");
    rb.lag = ReplicaLag.ofMillis(12_000);
    assertThat(set.status("b").line()).isEqualTo("b lagging 12s > maxReplicationLag 5s");
    assertThat(set.status("b").lagSeconds()).isEqualTo(12.0);
    rb.lag = ReplicaLag.ofMillis(0);
    set.serving(rb, true);
    assertThat(set.status("b").line()).isEqualTo("b up reader lag 0s");
    assertThat(set.status("b").serving()).isTrue();
    assertThat(set.status("nope")).isNull();
  }

  private Map<String, Integer> count(int picks) {
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < picks; i++) {
      counts.merge(set.pick().name(), 1, Integer::sum);
    }
    return counts;
  }
}
