package dev.mysqlpool.proxy.testsupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Proves that {@link LeakGuard} actually sees Netty's leak reports, so a silent guard cannot pass
 * for a clean run.
 */
class LeakGuardTest {

  @Test
  void collectsTheReportOfALeakedBuffer() {
    LeakGuard.install();
    LeakGuard.provokeReports();
    int mark = LeakReportCollector.count();
    // Keeps this deliberate leak out of the console, where it would look like a real one; the
    // collector still sees it.
    Logger detector = (Logger) LoggerFactory.getLogger(LeakGuard.DETECTOR_LOGGER);
    detector.setAdditive(false);
    try {
      leakOneBuffer();

      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () -> {
                LeakGuard.provokeReports();
                assertThat(LeakReportCollector.since(mark))
                    .withFailMessage(
                        "a buffer that was never released must be reported through the collector")
                    .anyMatch(r -> r.contains("LEAK") && r.contains("leak-guard-self-test"));
              });
    } finally {
      detector.setAdditive(true);
    }
  }

  /** Allocates in its own frame so nothing on the test's stack keeps the buffer reachable. */
  private static void leakOneBuffer() {
    ByteBuf leaked = PooledByteBufAllocator.DEFAULT.directBuffer(16);
    leaked.writeInt(42);
    leaked.touch("leak-guard-self-test");
  }
}
