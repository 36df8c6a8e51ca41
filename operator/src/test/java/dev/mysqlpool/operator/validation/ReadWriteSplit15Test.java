package dev.mysqlpool.operator.validation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mysqlpool.operator.api.MySQLPoolSpec;
import dev.mysqlpool.operator.api.ReaderSpec;
import dev.mysqlpool.operator.api.RoutingSpec;
import dev.mysqlpool.operator.testing.Fixtures;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 15's spec fields through the validator: each refusal names the field and the fix, before
 * the proxy would refuse the rendered file (or, for a regular expression, before a pod crashes on
 * it).
 */
class ReadWriteSplit15Test {

  /** A valid split: transaction mode, one reader endpoint. */
  static void split(MySQLPoolSpec s) {
    s.pool.mode = "transaction";
    s.backend.readers.add(new ReaderSpec("orders.cluster-ro-abc123.eu-west-1.rds.amazonaws.com"));
    s.routing = new RoutingSpec();
    s.routing.readWriteSplit = true;
  }

  @Test
  void aSplitWithAReaderInTransactionModeIsValid() {
    assertThat(
            MySQLPoolValidator.validate(
                Fixtures.pool(
                    ReadWriteSplit15Test::split,
                    s -> {
                      s.routing.maxReplicationLag = "30s";
                      s.routing.readYourWrites = "none";
                      s.routing.readYourWritesWait = "250ms";
                      s.routing.rules.add(new RoutingSpec.Rule("^SELECT .* FOR UPDATE", "writer"));
                      s.workload.readShare = 0.95;
                    })))
        .isEmpty();
  }

  static Stream<Arguments> refused() {
    return Stream.of(
        Arguments.of(
            (Consumer<MySQLPoolSpec>) s -> s.backend.readers.clear(),
            new FieldError(
                "spec.routing.readWriteSplit",
                "needs at least one reader to send reads to; add a replica or the reader endpoint"
                    + " under spec.backend.readers, or set readWriteSplit: false")),
        Arguments.of(
            (Consumer<MySQLPoolSpec>) s -> s.routing.readWriteSplit = false,
            new FieldError(
                "spec.backend.readers",
                "1 reader is unused without spec.routing.readWriteSplit: true (every statement goes"
                    + " to the writer); set spec.routing.readWriteSplit: true, or remove the"
                    + " readers")),
        Arguments.of(
            (Consumer<MySQLPoolSpec>) s -> s.pool.mode = "session",
            new FieldError(
                "spec.routing.readWriteSplit",
                "needs spec.pool.mode: transaction (the proxy moves a client between the writer and"
                    + " the readers statement by statement, which only transaction mode does); set"
                    + " spec.pool.mode: transaction, or turn readWriteSplit off")),
        Arguments.of(
            (Consumer<MySQLPoolSpec>)
                s -> s.routing.rules.add(new RoutingSpec.Rule("SELECT (.* FOR UPDATE", "writer")),
            new FieldError(
                "spec.routing.rules[0].match",
                "'SELECT (.* FOR UPDATE' is not a valid regular expression (Unclosed group near"
                    + " index 21); fix the pattern, escaping a literal ( [ * + ? or \\ with \\")),
        Arguments.of(
            (Consumer<MySQLPoolSpec>)
                s -> s.routing.rules.add(new RoutingSpec.Rule("^SELECT", "replica")),
            new FieldError(
                "spec.routing.rules[0].to",
                "'replica' is not a route target; use writer or reader")),
        Arguments.of(
            (Consumer<MySQLPoolSpec>) s -> s.routing.maxReplicationLag = "500ms",
            new FieldError(
                "spec.routing.maxReplicationLag",
                "'500ms' cannot be checked; use whole seconds from 1s to 1h, e.g. 5s (replicas"
                    + " report their lag in whole seconds)")),
        Arguments.of(
            (Consumer<MySQLPoolSpec>) s -> s.routing.maxReplicationLag = "2h",
            new FieldError(
                "spec.routing.maxReplicationLag",
                "'2h' cannot be checked; use whole seconds from 1s to 1h, e.g. 5s (replicas"
                    + " report their lag in whole seconds)")),
        Arguments.of(
            (Consumer<MySQLPoolSpec>) s -> s.routing.maxReplicationLag = "0",
            new FieldError(
                "spec.routing.maxReplicationLag",
                "'0' cannot be checked; use whole seconds from 1s to 1h, e.g. 5s (replicas"
                    + " report their lag in whole seconds)")),
        Arguments.of(
            (Consumer<MySQLPoolSpec>) s -> s.routing.readYourWritesWait = "2m",
            new FieldError(
                "spec.routing.readYourWritesWait",
                "'2m' would hold a read that long before the writer serves it; use 0 (never wait)"
                    + " up to 1m, e.g. 1s")),
        Arguments.of(
            (Consumer<MySQLPoolSpec>) s -> s.routing.readYourWrites = "global",
            new FieldError(
                "spec.routing.readYourWrites",
                "'global' is not a read-your-writes mode; use session (a client's reads see its own"
                    + " writes) or none")),
        Arguments.of(
            (Consumer<MySQLPoolSpec>) s -> s.backend.readers.get(0).name = "writer",
            new FieldError(
                "spec.backend.readers[0].name",
                "'writer' is the writer's name; choose another, e.g. replica-a")),
        Arguments.of(
            (Consumer<MySQLPoolSpec>)
                s -> {
                  s.backend.readers.add(new ReaderSpec("replica-2.example"));
                  s.backend.readers.get(0).name = "reader-2";
                },
            new FieldError(
                "spec.backend.readers[1].name",
                "'reader-2' is used by another reader; reader names must be unique")),
        Arguments.of(
            (Consumer<MySQLPoolSpec>) s -> s.backend.readers.get(0).maxConnections = 20,
            new FieldError(
                "spec.backend.readers[0].maxConnections",
                "20 is not above spec.backend.reservedConnections (20), which every reader keeps"
                    + " free too; no connection is left for the proxies")),
        Arguments.of(
            (Consumer<MySQLPoolSpec>) s -> s.backend.readers.get(0).host = " ",
            new FieldError(
                "spec.backend.readers[0].host",
                "required; the replica's or the reader endpoint's host name")),
        Arguments.of(
            (Consumer<MySQLPoolSpec>) s -> s.workload.readShare = 1.5,
            new FieldError(
                "spec.workload.readShare",
                "1.5 is not a share; use 0 to 1, e.g. 0.8 when four of five transactions read")));
  }

  @ParameterizedTest
  @MethodSource("refused")
  void eachMistakeIsRefusedNamingTheFieldAndTheFix(
      Consumer<MySQLPoolSpec> mutator, FieldError expected) {
    assertThat(MySQLPoolValidator.validate(Fixtures.pool(ReadWriteSplit15Test::split, mutator)))
        .containsExactly(expected);
  }

  @Test
  void rulesWithoutTheSplitAreRefusedToo() {
    assertThat(
            MySQLPoolValidator.validate(
                Fixtures.pool(
                    s -> {
                      s.routing = new RoutingSpec();
                      s.routing.rules.add(new RoutingSpec.Rule("^SELECT", "reader"));
                    })))
        .containsExactly(
            new FieldError(
                "spec.routing.rules",
                "have no effect without spec.routing.readWriteSplit: true (every statement goes"
                    + " to the writer); set readWriteSplit: true or remove the rules"));
  }
}
