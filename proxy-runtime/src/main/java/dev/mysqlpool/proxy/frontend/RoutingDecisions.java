package dev.mysqlpool.proxy.frontend;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code mysqlpool_routing_decisions_total{reason, to}}: where the statements of a read/write split
 * pool went ({@code to}: reader or writer) and why ({@code reason}: read, read_only_transaction,
 * rule, write and the classifier's other write reasons, in_transaction, pinned, command,
 * read_your_writes, lag_fallback, reader_unavailable). Counters are made once per pair and then
 * only looked up; thread-safe.
 */
final class RoutingDecisions {
  private final MeterRegistry registry;
  private final Map<String, Counter> toReader = new ConcurrentHashMap<>();
  private final Map<String, Counter> toWriter = new ConcurrentHashMap<>();

  RoutingDecisions(MeterRegistry registry) {
    this.registry = registry;
  }

  /** One statement went to a reader ({@code reader} true) or to the writer, for {@code reason}. */
  void count(String reason, boolean reader) {
    Map<String, Counter> counters = reader ? toReader : toWriter;
    Counter c = counters.get(reason);
    if (c == null) {
      c =
          counters.computeIfAbsent(
              reason,
              r ->
                  Counter.builder("mysqlpool.routing.decisions")
                      .description(
                          "Statements of a read/write split pool by destination and reason")
                      .tag("reason", r)
                      .tag("to", reader ? "reader" : "writer")
                      .register(registry));
    }
    c.increment();
  }

  /** For /stats: "to/reason" to count, sorted. */
  Map<String, Long> snapshot() {
    Map<String, Long> out = new TreeMap<>();
    toReader.forEach((r, c) -> out.put("reader/" + r, (long) c.count()));
    toWriter.forEach((r, c) -> out.put("writer/" + r, (long) c.count()));
    return out;
  }
}
