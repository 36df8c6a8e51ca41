package dev.mysqlpool.proxy.admin;

import dev.mysqlpool.proxy.backend.ReaderSet;
import dev.mysqlpool.proxy.backend.ReaderSet.ReaderStatus;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.function.ToDoubleFunction;

/**
 * The replication meters of each {@code role: reader} backend, read from {@link
 * ReaderSet#status(String)} at scrape time: its lag ({@code NaN} while unknown: a stopped SQL
 * thread, no answer, not replicating) and whether it serves reads.
 */
public final class ReaderMeters {
  private ReaderMeters() {}

  /** Registers the meters of every reader in {@code readers}; nothing when there is none. */
  public static void bind(MeterRegistry registry, ReaderSet readers) {
    for (ReaderStatus r : readers.status()) {
      gauge(
          registry,
          readers,
          r.name(),
          "mysqlpool.backend.replication.lag.seconds",
          "How far the reader is behind its source at the last check (each second); NaN when"
              + " unknown, which never counts as caught up",
          ReaderStatus::lagSeconds);
      gauge(
          registry,
          readers,
          r.name(),
          "mysqlpool.backend.serving.reads",
          "1 while the reader gets reads: reachable, and its lag known and within"
              + " routing.maxReplicationLag",
          s -> s.serving() ? 1 : 0);
    }
  }

  private static void gauge(
      MeterRegistry registry,
      ReaderSet readers,
      String backend,
      String name,
      String help,
      ToDoubleFunction<ReaderStatus> f) {
    Gauge.builder(
            name,
            readers,
            set -> {
              ReaderStatus s = set.status(backend);
              return s == null ? Double.NaN : f.applyAsDouble(s);
            })
        .description(help)
        .tag("backend", backend)
        .register(registry);
  }
}
