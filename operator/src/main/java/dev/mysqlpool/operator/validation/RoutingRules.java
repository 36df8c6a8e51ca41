package dev.mysqlpool.operator.validation;

import dev.mysqlpool.operator.api.MySQLPoolSpec;
import dev.mysqlpool.operator.api.ReaderSpec;
import dev.mysqlpool.operator.api.RoutingSpec;
import dev.mysqlpool.operator.common.Names;
import dev.mysqlpool.proxy.config.Durations;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The read/write split's fields ({@code spec.backend.readers}, {@code spec.routing}, {@code
 * spec.workload.readShare}) and what they ask of each other: readers and the split come together,
 * the split needs transaction mode, rules compile, the lag is whole seconds. Said here at the spec
 * field, with the fix, before the proxy would refuse the rendered file with its own field names.
 */
final class RoutingRules {
  private static final Pattern NAME = Pattern.compile(ReaderSpec.NAME_PATTERN);
  private static final Set<String> READ_YOUR_WRITES = Set.of("none", "session");
  private static final Set<String> TARGETS = Set.of("writer", "reader");
  private static final Duration MAX_LAG = Duration.ofHours(1);

  private RoutingRules() {}

  static void check(MySQLPoolSpec spec, List<FieldError> errors) {
    List<ReaderSpec> readers = spec.backend == null ? List.of() : spec.backend.readers;
    RoutingSpec r = spec.routing;
    boolean split = spec.readWriteSplit();
    if (!split && !readers.isEmpty()) {
      errors.add(
          new FieldError(
              "spec.backend.readers",
              readers.size()
                  + (readers.size() == 1 ? " reader is" : " readers are")
                  + " unused without spec.routing.readWriteSplit: true (every statement goes to"
                  + " the writer); set spec.routing.readWriteSplit: true, or remove the readers"));
    }
    if (split && readers.isEmpty()) {
      errors.add(
          new FieldError(
              "spec.routing.readWriteSplit",
              "needs at least one reader to send reads to; add a replica or the reader endpoint"
                  + " under spec.backend.readers, or set readWriteSplit: false"));
    }
    if (split && !"transaction".equals(spec.pool.mode)) {
      errors.add(
          new FieldError(
              "spec.routing.readWriteSplit",
              "needs spec.pool.mode: transaction (the proxy moves a client between the writer and"
                  + " the readers statement by statement, which only transaction mode does); set"
                  + " spec.pool.mode: transaction, or turn readWriteSplit off"));
    }
    readers(spec, readers, errors);
    if (r != null) {
      routing(r, split, errors);
    }
    Double share = spec.workload == null ? null : spec.workload.readShare;
    if (share != null && !(share >= 0 && share <= 1)) {
      errors.add(
          new FieldError(
              "spec.workload.readShare",
              share + " is not a share; use 0 to 1, e.g. 0.8 when four of five transactions read"));
    }
  }

  private static void readers(
      MySQLPoolSpec spec, List<ReaderSpec> readers, List<FieldError> errors) {
    Set<String> names = new HashSet<>();
    for (int i = 0; i < readers.size(); i++) {
      ReaderSpec reader = readers.get(i);
      String path = "spec.backend.readers[" + i + "]";
      if (reader == null) {
        errors.add(new FieldError(path, "required; give at least host"));
        continue;
      }
      if (reader.host == null || reader.host.isBlank()) {
        errors.add(
            new FieldError(
                path + ".host", "required; the replica's or the reader endpoint's host name"));
      }
      if (reader.port != null && (reader.port < 1 || reader.port > 65535)) {
        errors.add(new FieldError(path + ".port", reader.port + " is not a port; use 1 to 65535"));
      }
      if (reader.weight < 1 || reader.weight > ReaderSpec.MAX_WEIGHT) {
        errors.add(
            new FieldError(
                path + ".weight",
                reader.weight + " is out of range; use 1 to " + ReaderSpec.MAX_WEIGHT));
      }
      String name = reader.backendName(i);
      if (reader.name != null && (name.length() > 63 || !NAME.matcher(name).matches())) {
        errors.add(
            new FieldError(
                path + ".name",
                "'"
                    + name
                    + "' must be lower-case letters, digits and '-', starting and ending with a"
                    + " letter or digit, at most 63 characters"));
      } else if (Names.WRITER_BACKEND.equals(name)) {
        errors.add(
            new FieldError(
                path + ".name",
                "'" + name + "' is the writer's name; choose another, e.g. replica-a"));
      } else if (!names.add(name)) {
        errors.add(
            new FieldError(
                path + ".name",
                "'" + name + "' is used by another reader; reader names must be unique"));
      }
      if (reader.maxConnections != null && spec.backend != null) {
        if (reader.maxConnections < 1 || reader.maxConnections > 100_000) {
          errors.add(
              new FieldError(
                  path + ".maxConnections",
                  reader.maxConnections
                      + " is out of range; copy the replica's max_connections (1 to 100000)"));
        } else if (reader.maxConnections <= spec.backend.reservedConnections) {
          errors.add(
              new FieldError(
                  path + ".maxConnections",
                  reader.maxConnections
                      + " is not above spec.backend.reservedConnections ("
                      + spec.backend.reservedConnections
                      + "), which every reader keeps free too; no connection is left for the"
                      + " proxies"));
        }
      }
    }
  }

  private static void routing(RoutingSpec r, boolean split, List<FieldError> errors) {
    if (r.maxReplicationLag != null) {
      Duration lag = Durations.parse(r.maxReplicationLag);
      if (lag == null || lag.isZero() || lag.toMillis() % 1000 != 0 || lag.compareTo(MAX_LAG) > 0) {
        errors.add(
            new FieldError(
                "spec.routing.maxReplicationLag",
                "'"
                    + r.maxReplicationLag
                    + "' cannot be checked; use whole seconds from 1s to 1h, e.g. 5s (replicas"
                    + " report their lag in whole seconds)"));
      }
    }
    if (r.readYourWritesWait != null) {
      Duration wait = Durations.parse(r.readYourWritesWait);
      if (wait == null || wait.compareTo(Duration.ofMinutes(1)) > 0) {
        errors.add(
            new FieldError(
                "spec.routing.readYourWritesWait",
                "'"
                    + r.readYourWritesWait
                    + "' would hold a read that long before the writer serves it; use 0 (never"
                    + " wait) up to 1m, e.g. 1s"));
      }
    }
    if (r.readYourWrites != null && !READ_YOUR_WRITES.contains(r.readYourWrites)) {
      errors.add(
          new FieldError(
              "spec.routing.readYourWrites",
              "'"
                  + r.readYourWrites
                  + "' is not a read-your-writes mode; use session (a client's reads see its own"
                  + " writes) or none"));
    }
    if (!split && !r.rules.isEmpty()) {
      errors.add(
          new FieldError(
              "spec.routing.rules",
              "have no effect without spec.routing.readWriteSplit: true (every statement goes to"
                  + " the writer); set readWriteSplit: true or remove the rules"));
    }
    if (r.rules.size() > RoutingSpec.MAX_RULES) {
      errors.add(
          new FieldError(
              "spec.routing.rules",
              r.rules.size()
                  + " rules; at most "
                  + RoutingSpec.MAX_RULES
                  + " are allowed (every statement is tried against them), join patterns with |"
                  + " where they go to the same place"));
    }
    for (int i = 0; i < r.rules.size(); i++) {
      rule(r.rules.get(i), "spec.routing.rules[" + i + "]", errors);
    }
  }

  private static void rule(RoutingSpec.Rule rule, String path, List<FieldError> errors) {
    if (rule == null) {
      errors.add(new FieldError(path, "required; give match and to"));
      return;
    }
    if (rule.match == null || rule.match.isEmpty()) {
      errors.add(new FieldError(path + ".match", "required; a regular expression"));
    } else {
      try {
        // The proxy compiles the same text with the same engine: what compiles here compiles
        // there.
        Pattern.compile(rule.match);
      } catch (PatternSyntaxException e) {
        errors.add(
            new FieldError(
                path + ".match",
                "'"
                    + rule.match
                    + "' is not a valid regular expression ("
                    + e.getDescription()
                    + (e.getIndex() >= 0 ? " near index " + e.getIndex() : "")
                    + "); fix the pattern, escaping a literal ( [ * + ? or \\ with \\"));
      }
    }
    if (rule.to == null || !TARGETS.contains(rule.to)) {
      errors.add(
          new FieldError(
              path + ".to",
              (rule.to == null ? "required" : "'" + rule.to + "' is not a route target")
                  + "; use writer or reader"));
    }
  }
}
