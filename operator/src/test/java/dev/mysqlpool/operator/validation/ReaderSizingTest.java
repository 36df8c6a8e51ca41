package dev.mysqlpool.operator.validation;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Readers sized from the declared load: read share split by weight; each reader checked against
 * every proxy's pool (pool.maxConnections is per backend), clamped or blocked like the writer.
 */
class ReaderSizingTest {
  /** The seed: 1000 TPS x 50ms = 50; x2 = 100; 2 replicas -> 50 each; 4 pods; budget 480. */
  static final Sizing WRITER =
      Sizing.compute(1000, Duration.ofMillis(50), 2, 2, null, null, null, 500, 20);

  static ReaderSizing.Input reader(String name, int weight, int maxConnections) {
    return new ReaderSizing.Input(
        name, name + ".example:3306", weight, maxConnections, "spec.backend.maxConnections");
  }

  @Test
  void theReadShareIsSplitByWeightAndTheWriterKeepsTheWholeLoad() {
    ReaderSizing r =
        ReaderSizing.compute(
            WRITER, 2, 0.8, List.of(reader("replica-a", 2, 500), reader("replica-b", 1, 500)), 20);

    assertThat(r.readers())
        .containsExactly(
            new ReaderSizing.Reader("replica-a", "replica-a.example:3306", 2, 54, 480, 204),
            new ReaderSizing.Reader("replica-b", "replica-b.example:3306", 1, 27, 480, 204));
    assertThat(r.sizing().perReplica()).as("the writer's pool is unchanged").isEqualTo(50);
    assertThat(r.sizing().valid()).isTrue();
    assertThat(r.sizing().reason()).isEqualTo("Computed");
    assertThat(r.sizing().message())
        .startsWith(WRITER.message())
        .endsWith(
            "; readers by weight, read share 0.8 of total 100: replica-a 54 (weight 2), replica-b"
                + " 27 (weight 1); each proxy's reader pools are as large as its writer pool"
                + " (pool.maxConnections is per backend), and 4 x (50 + 1 KILL connection) = 204"
                + " fits every reader's budget (replica-a 480, replica-b 480)");
  }

  @Test
  void aSmallerReaderClampsEveryBackendsPoolAndSaysWhatItCosts() {
    ReaderSizing r =
        ReaderSizing.compute(
            WRITER,
            2,
            0.8,
            List.of(
                new ReaderSizing.Input(
                    "small",
                    "small.example:3306",
                    1,
                    100,
                    "spec.backend.readers[0].maxConnections")),
            20);

    assertThat(r.sizing().perReplica()).as("80 / 4 pods - 1 KILL connection").isEqualTo(19);
    assertThat(r.sizing().valid()).isFalse();
    assertThat(r.sizing().usable()).isTrue();
    assertThat(r.sizing().reason()).isEqualTo("ExceedsReader");
    assertThat(r.sizing().source()).isEqualTo("Clamped");
    assertThat(r.sizing().maxDuringRollout()).isEqualTo(80);
    assertThat(r.readers().get(0).maxDuringRollout()).isEqualTo(80);
    assertThat(r.sizing().message())
        .startsWith(
            "each proxy's reader pools are as large as its writer pool (pool.maxConnections is per"
                + " backend): 4 pods x (50 + 1 KILL connection) = 204 exceed reader small's budget"
                + " of 80 (spec.backend.readers[0].maxConnections 100 - reserved 20); clamped to 19"
                + " per replica for every backend (4 x (19 + 1 KILL connection) = 80 during a"
                + " rollout); reader small gets 2 x 19 = 38, below the 80 its share of the reads"
                + " needs at the peak; the writer gets 38, below the 50 the whole load needs when"
                + " every reader is down. Fix: raise the replica's max_connections to at least 224"
                + " (and spec.backend.readers[0].maxConnections with it), fewer replicas"
                + " (spec.replicas), or a lower spec.workload.safetyFactor.");
  }

  @Test
  void aReaderTooSmallForOneConnectionPerPodBlocks() {
    ReaderSizing r =
        ReaderSizing.compute(
            WRITER,
            2,
            0.5,
            List.of(
                new ReaderSizing.Input(
                    "tiny", "tiny.example:3306", 1, 27, "spec.backend.readers[0].maxConnections")),
            20);
    assertThat(r.sizing().usable()).isFalse();
    assertThat(r.sizing().reason()).isEqualTo("ReaderTooSmall");
    assertThat(r.sizing().message())
        .startsWith(
            "each proxy's reader pools are as large as its writer pool (pool.maxConnections is per"
                + " backend): 4 pods x (50 + 1 KILL connection) = 204 exceed reader tiny's budget"
                + " of 7 (spec.backend.readers[0].maxConnections 27 - reserved 20), which cannot"
                + " give each of the 4 pods one connection beside its KILL connection (8). Fix:"
                + " raise the replica's max_connections to at least 28");
  }

  @Test
  void aReadShareOfZeroLeavesTheReadersNothingToCarry() {
    ReaderSizing r = ReaderSizing.compute(WRITER, 2, 0, List.of(reader("replica-a", 1, 500)), 20);
    assertThat(r.readers().get(0).needed()).isZero();
    assertThat(r.sizing().perReplica()).isEqualTo(50);
  }
}
