package dev.mysqlpool.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mysqlpool.operator.validation.Sizing;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A replica change goes in steps the budget check covers: never more pods at once, old cap and new
 * cap together, than {@link Sizing#podsDuringRollout} of the counts involved.
 */
class ScaleStepTest {
  static final Instant T0 = Instant.parse("2026-12-06T00:00:00Z");
  static final Duration SETTLE = Duration.ofSeconds(90);

  @ParameterizedTest(name = "{0} -> {1}: first step {2}")
  @CsvSource({
    "2, 4, 4", // one step of two pods
    "2, 6, 4", "4, 9, 6", "1, 5, 2", // a single replica grows by one pod first
    "6, 2, 4", "3, 1, 2", // down to a single replica: one pod at a time
    "2, 1, 1", "4, 1, 2"
  })
  void stepsStayInsideWhatTheBudgetCheckCounted(int from, int to, int first) {
    ScaleStep step = ScaleStep.next(to, from, T0, T0.plus(SETTLE), SETTLE);
    assertThat(step.replicas()).isEqualTo(first);
    int k = Math.abs(first - from);
    // Growing: old proxies at the old cap plus new ones at a cap no larger; (from + k) pods of the
    // old cap fit when the check for `from` counted them.
    // Shrinking: the remaining at the new cap plus the stopping ones; `from` pods of the new cap
    // fit when the check for `first` counted them.
    int counted = first > from ? Sizing.podsDuringRollout(from) : Sizing.podsDuringRollout(first);
    assertThat(Math.max(from, first))
        .as("%d -> %d: a step of %d pods", from, first, k)
        .isLessThanOrEqualTo(counted);
    assertThat(step.delay()).isEqualTo(first == to ? null : SETTLE);
  }

  @Test
  void aStepWaitsUntilThePreviousOneSettled() {
    ScaleStep early = ScaleStep.next(6, 4, T0, T0.plusSeconds(30), SETTLE);
    assertThat(early.replicas()).isEqualTo(4);
    assertThat(early.delay()).isEqualTo(Duration.ofSeconds(60));
    assertThat(early.message()).contains("scaling 4 -> 6", "waiting for the proxies");
  }

  @Test
  void aNewPoolOrAnUnchangedCountNeedsNoStep() {
    assertThat(ScaleStep.next(8, null, null, T0, SETTLE)).isEqualTo(new ScaleStep(8, null, null));
    assertThat(ScaleStep.next(3, 3, T0, T0, SETTLE)).isEqualTo(new ScaleStep(3, null, null));
  }
}
