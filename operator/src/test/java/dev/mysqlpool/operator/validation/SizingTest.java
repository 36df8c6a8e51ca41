package dev.mysqlpool.operator.validation;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SizingTest {

  static Stream<Arguments> table() {
    return Stream.of(
        // tps, holdMs, safety, replicas, override, maxConn, reserved => required, total,
        // perReplica, rollout, source, valid, usable, reason
        Arguments.of(
            "the seed: 1000 TPS, 50ms, x2, 2 replicas",
            1000,
            50,
            2.0,
            2,
            null,
            500,
            20,
            new Sizing(50, 100, 50, 150, 480, "Computed", true, true, "Computed", null)),
        Arguments.of(
            "tiny workloads still get one connection",
            1,
            1,
            1.0,
            1,
            null,
            100,
            10,
            new Sizing(1, 1, 1, 2, 90, "Computed", true, true, "Computed", null)),
        Arguments.of(
            "per replica rounds up",
            1000,
            50,
            2.0,
            3,
            null,
            500,
            20,
            new Sizing(50, 100, 34, 136, 480, "Computed", true, true, "Computed", null)),
        Arguments.of(
            "fractional safety factor rounds up exactly",
            333,
            30,
            1.1,
            1,
            null,
            500,
            20,
            new Sizing(10, 11, 11, 22, 480, "Computed", true, true, "Computed", null)),
        Arguments.of(
            "an override is used and checked",
            1000,
            50,
            2.0,
            2,
            80,
            500,
            20,
            new Sizing(50, 100, 80, 240, 480, "Overridden", true, true, "Overridden", null)),
        Arguments.of(
            "exactly at the budget fits",
            1000,
            50,
            2.0,
            2,
            null,
            170,
            20,
            new Sizing(50, 100, 50, 150, 150, "Computed", true, true, "Computed", null)),
        Arguments.of(
            "one over the budget is clamped",
            1000,
            50,
            2.0,
            2,
            null,
            169,
            20,
            new Sizing(50, 100, 49, 147, 149, "Clamped", false, true, "ExceedsBackend", null)),
        Arguments.of(
            "an override over the budget is clamped",
            1000,
            50,
            2.0,
            2,
            1000,
            500,
            20,
            new Sizing(50, 100, 160, 480, 480, "Clamped", false, true, "ExceedsBackend", null)),
        Arguments.of(
            "a budget below one per pod is unusable",
            1000,
            50,
            2.0,
            2,
            null,
            22,
            20,
            new Sizing(50, 100, 0, 0, 2, "Clamped", false, false, "BackendTooSmall", null)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("table")
  void sizes(
      String name,
      int tps,
      int holdMs,
      double safety,
      int replicas,
      Integer override,
      int maxConn,
      int reserved,
      Sizing want) {
    Sizing got =
        Sizing.compute(
            tps, Duration.ofMillis(holdMs), safety, replicas, override, maxConn, reserved);
    assertThat(got)
        .withFailMessage("%s:%n got  %s%n want %s", name, got, want)
        .usingRecursiveComparison()
        .ignoringFields("message")
        .isEqualTo(want);
    assertThat((long) got.maxDuringRollout())
        .withFailMessage("%s: never exceed the backend budget", name)
        .isLessThanOrEqualTo(Math.max(got.budget(), 0));
  }

  @Test
  void explainsTheSeedArithmetic() {
    Sizing s = Sizing.compute(1000, Duration.ofMillis(50), 2, 2, null, 500, 20);
    assertThat(s.message())
        .isEqualTo(
            "required 50 = ceil(1000 TPS x 50ms); total 100 = ceil(50 x 2); per replica 50"
                + " = ceil(100 / 2 replicas); (2 replicas + 1 surge) x 50 = 150 fits the backend budget of 480"
                + " (max_connections 500 - reserved 20)");
  }

  @Test
  void aClampSaysTheNumbersAndTheFixes() {
    Sizing s = Sizing.compute(1000, Duration.ofMillis(50), 2, 4, null, 100, 10);
    assertThat(s.message())
        .isEqualTo(
            "(4 replicas + 1 surge) x 25 = 125 connections exceed the backend budget of 90"
                + " (max_connections 100 - reserved 10); clamped to 18 per replica (90 during a rollout, 72 steady); required"
                + " 50 = ceil(1000 TPS x 50ms); total 100 = ceil(50 x 2); per replica 25 = ceil(100 / 4 replicas). Fix:"
                + " fewer replicas, a lower workload.safetyFactor, or raise the server's max_connections to at least 135"
                + " (and spec.backend.maxConnections with it)");
  }

  @Test
  void aClampBelowTheWorkloadSaysSo() {
    Sizing s = Sizing.compute(1000, Duration.ofMillis(50), 2, 2, null, 60, 20);
    assertThat(s.perReplica()).isEqualTo(13);
    assertThat(s.message())
        .contains(
            "clamped to 13 per replica (39 during a rollout, 26 steady, below the 50 the"
                + " workload needs at its peak)");
  }

  @Test
  void aBackendTooSmallNamesTheMinimum() {
    Sizing s = Sizing.compute(1000, Duration.ofMillis(50), 2, 2, null, 22, 20);
    assertThat(s.message())
        .startsWith(
            "the backend budget of 2 (max_connections 22 - reserved 20) cannot give 3 pods"
                + " (2 replicas + 1 surge) one connection each;")
        .endsWith(
            "Fix: fewer replicas, fewer reservedConnections, or raise the server's max_connections to at"
                + " least 23");
  }
}
