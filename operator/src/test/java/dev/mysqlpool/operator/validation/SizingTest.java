package dev.mysqlpool.operator.validation;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SizingTest {

  private static Sizing fits(long req, long total, int per, int pods, int budget, String source) {
    return new Sizing(
        req,
        total,
        per,
        pods,
        // Every pod holds its pool and, during a mass client disconnect, one KILL connection.
        (long) pods * (per + 1),
        budget,
        source,
        null,
        null,
        true,
        true,
        source,
        null);
  }

  private static Sizing clamped(
      long req, long total, int per, int pods, int budget, String reason) {
    return new Sizing(
        req,
        total,
        per,
        pods,
        // Every pod holds its pool and, during a mass client disconnect, one KILL connection.
        (long) pods * (per + 1),
        budget,
        "Clamped",
        null,
        null,
        false,
        true,
        reason,
        null);
  }

  static Stream<Arguments> table() {
    return Stream.of(
        // tps, holdMs, safety, replicas, override, maxConn, reserved => want
        Arguments.of(
            "the seed: 1000 TPS, 50ms, x2, 2 replicas (4 pods during a rollout)",
            1000,
            50L,
            2.0,
            2,
            null,
            500,
            20,
            fits(50, 100, 50, 4, 480, "Computed")),
        Arguments.of(
            "tiny workloads still get one connection; one replica rolls as two pods",
            1,
            1L,
            1.0,
            1,
            null,
            100,
            10,
            fits(1, 1, 1, 2, 90, "Computed")),
        Arguments.of(
            "per replica rounds up",
            1000,
            50L,
            2.0,
            3,
            null,
            500,
            20,
            fits(50, 100, 34, 5, 480, "Computed")),
        Arguments.of(
            "four replicas roll as six pods: the surge pod and the old pod still draining",
            1000,
            50L,
            2.0,
            4,
            null,
            500,
            20,
            fits(50, 100, 25, 6, 480, "Computed")),
        Arguments.of(
            "fractional safety factor rounds up exactly",
            333,
            30L,
            1.1,
            1,
            null,
            500,
            20,
            fits(10, 11, 11, 2, 480, "Computed")),
        Arguments.of(
            "an override is used and checked",
            1000,
            50L,
            2.0,
            2,
            80,
            500,
            20,
            fits(50, 100, 80, 4, 480, "Overridden")),
        Arguments.of(
            "exactly at the budget fits: 4 pods x (50 + 1 KILL connection) = 204",
            1000,
            50L,
            2.0,
            2,
            null,
            224,
            20,
            fits(50, 100, 50, 4, 204, "Computed")),
        Arguments.of(
            "one over the budget is clamped",
            1000,
            50L,
            2.0,
            2,
            null,
            223,
            20,
            clamped(50, 100, 49, 4, 203, "ExceedsBackend")),
        Arguments.of(
            "4 x 50 = 200 alone would fit 200, but not with each pod's KILL connection",
            1000,
            50L,
            2.0,
            2,
            null,
            220,
            20,
            clamped(50, 100, 49, 4, 200, "ExceedsBackend")),
        Arguments.of(
            "an override over the budget is clamped",
            1000,
            50L,
            2.0,
            2,
            1000,
            500,
            20,
            clamped(50, 100, 119, 4, 480, "ExceedsBackend")),
        Arguments.of(
            "1,000,000 TPS x 1h needs more than any backend: exact, clamped, and said so",
            1_000_000,
            3_600_000L,
            2.0,
            2,
            null,
            500,
            20,
            clamped(3_600_000_000L, 7_200_000_000L, 119, 4, 480, "LoadExceedsBackend")),
        Arguments.of(
            "10,000,000 TPS x 150s does not throw",
            10_000_000,
            150_000L,
            10.0,
            100,
            null,
            100_000,
            0,
            clamped(1_500_000_000L, 15_000_000_000L, 979, 102, 100_000, "LoadExceedsBackend")),
        Arguments.of(
            "a budget of two per pod still gives each pod one pool connection beside its KILL one",
            1000,
            50L,
            2.0,
            2,
            null,
            28,
            20,
            clamped(50, 100, 1, 4, 8, "LoadExceedsBackend")),
        Arguments.of(
            "a budget below two per pod (one pool connection and the KILL connection) is unusable",
            1000,
            50L,
            2.0,
            2,
            null,
            27,
            20,
            new Sizing(
                50,
                100,
                0,
                4,
                0,
                7,
                "Clamped",
                null,
                null,
                false,
                false,
                "BackendTooSmall",
                null)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("table")
  void sizes(
      String name,
      int tps,
      long holdMs,
      double safety,
      int replicas,
      Integer override,
      int maxConn,
      int reserved,
      Sizing want) {
    Sizing got =
        Sizing.compute(
            tps,
            Duration.ofMillis(holdMs),
            safety,
            replicas,
            override,
            null,
            null,
            maxConn,
            reserved);
    assertThat(got)
        .withFailMessage("%s:%n got  %s%n want %s", name, got, want)
        .usingRecursiveComparison()
        .ignoringFields("message")
        .isEqualTo(want);
    assertThat(got.maxDuringRollout())
        .withFailMessage("%s: never exceed the backend budget", name)
        .isLessThanOrEqualTo(Math.max(got.budget(), 0));
  }

  @Test
  void idleLimitsAreClampedToTheDerivedSizeAndSaySo() {
    // Issue 14: max_connections 169, 20 reserved, minIdle = maxIdle = 50 rendered maxIdle 50 over
    // maxConnections 49, which the proxy refuses. 149 / 4 pods - 1 KILL connection = 36.
    Sizing s = Sizing.compute(1000, Duration.ofMillis(50), 2, 2, null, 50, 50, 169, 20);
    assertThat(s.perReplica()).isEqualTo(36);
    assertThat(s.minIdle()).isEqualTo(36);
    assertThat(s.maxIdle()).isEqualTo(36);
    assertThat(s.message())
        .endsWith(
            "; idle limits clamped to the 36 connections per replica: pool.minIdle 50 -> 36,"
                + " pool.maxIdle 50 -> 36 (the proxy keeps idle connections inside maxConnections)");
    Sizing fits = Sizing.compute(1000, Duration.ofMillis(50), 2, 2, null, 5, null, 500, 20);
    assertThat(fits.minIdle()).isEqualTo(5);
    assertThat(fits.maxIdle()).isNull();
    assertThat(fits.message()).doesNotContain("idle limits");
  }

  @Test
  void anUnservableLoadSaysWhichFieldsToCheck() {
    Sizing s = Sizing.compute(1_000_000, Duration.ofHours(1), 2, 2, null, null, null, 500, 20);
    assertThat(s.message())
        .contains(
            "clamped to 119 per replica (4 x (119 + 1 KILL connection) = 480 during a rollout;"
                + " 2 replicas x 119 = 238 for the workload, below the 3600000000 it needs at its"
                + " peak)")
        .endsWith(
            "Fix: the workload needs 3600000000 connections busy at its peak, more than this"
                + " backend can ever give; check spec.workload.peakTps and spec.workload.holdTime,"
                + " or use a larger server");
  }

  @Test
  void explainsTheSeedArithmetic() {
    Sizing s = Sizing.compute(1000, Duration.ofMillis(50), 2, 2, null, null, null, 500, 20);
    assertThat(s.message())
        .isEqualTo(
            "required 50 = ceil(1000 TPS x 50ms); total 100 = ceil(50 x 2); per replica 50"
                + " = ceil(100 / 2 replicas); 4 pods (2 replicas + 2 rolling) x (50 + 1 KILL"
                + " connection) = 204 fits the backend budget of 480 (max_connections 500 - reserved"
                + " 20)");
  }

  @Test
  void aClampSaysTheNumbersAndTheFixes() {
    Sizing s = Sizing.compute(1000, Duration.ofMillis(50), 2, 4, null, null, null, 100, 10);
    assertThat(s.message())
        .isEqualTo(
            "6 pods (4 replicas + 2 rolling) x (25 + 1 KILL connection) = 156 connections exceed"
                + " the backend budget of 90 (max_connections 100 - reserved 10); clamped to 14 per"
                + " replica (6 x (14 + 1 KILL connection) = 90 during a rollout; 4 replicas x 14 ="
                + " 56 for the workload); required 50 = ceil(1000 TPS x 50ms); total 100 = ceil(50 x"
                + " 2); per replica 25 = ceil(100 / 4 replicas). Fix: fewer replicas"
                + " (spec.replicas), a lower spec.workload.safetyFactor, or raise the server's"
                + " max_connections to at least 166 (and spec.backend.maxConnections with it)");
  }

  @Test
  void aClampBelowTheWorkloadSaysSo() {
    Sizing s = Sizing.compute(1000, Duration.ofMillis(50), 2, 2, null, null, null, 80, 20);
    assertThat(s.perReplica()).isEqualTo(14);
    assertThat(s.message())
        .contains(
            "clamped to 14 per replica (4 x (14 + 1 KILL connection) = 60 during a rollout;"
                + " 2 replicas x 14 = 28 for the workload, below the 50 it needs at its peak)");
  }

  @Test
  void aBackendTooSmallNamesTheMinimum() {
    Sizing s = Sizing.compute(1000, Duration.ofMillis(50), 2, 2, null, null, null, 23, 20);
    assertThat(s.message())
        .startsWith(
            "the backend budget of 3 (max_connections 23 - reserved 20) cannot give 4 pods"
                + " (2 replicas + 2 rolling) one connection each beside its KILL connection"
                + " (4 x (1 + 1 KILL connection) = 8);")
        .endsWith(
            "Fix: fewer replicas (spec.replicas), fewer spec.backend.reservedConnections, or raise"
                + " the server's max_connections to at least 28");
  }
}
