package dev.mysqlpool.bench;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Issue 16's throughput, latency and CPU targets, judged from the steady-load cases as they are
 * measured: in session mode the proxy's ratio to direct at least HAProxy's and its p95 no higher,
 * at 32 and 128 clients; transaction mode within 5% of session mode at 32 clients and ahead of it
 * at 128; CPU per statement no more than HAProxy's. Each verdict is a line of the results' targets
 * list, MET or MISSED with the figures.
 */
final class PerformanceTargets {
  /** The client counts the issue names. */
  private static final List<Integer> JUDGED_CLIENTS = List.of(32, 128);

  /** Transaction mode may trail session mode by this much at 32 clients. */
  private static final double TRANSACTION_TOLERANCE = 0.05;

  /** One target's medians in one case; cpuMicros is -1 for direct. */
  record Figures(double qps, double p95Millis, double cpuMicros) {}

  private final List<String> lines;
  private final String direct;
  private final String session;
  private final String transaction;
  private final String haproxy;
  private boolean missed;

  PerformanceTargets(
      List<String> lines, String direct, String session, String transaction, String haproxy) {
    this.lines = lines;
    this.direct = direct;
    this.session = session;
    this.transaction = transaction;
    this.haproxy = haproxy;
  }

  /** Whether any target judged so far was missed. */
  boolean missed() {
    return missed;
  }

  /** Judges one steady-load case, if its client count is one the issue names. */
  void steadyCase(String workload, int clients, Map<String, Figures> byTarget) {
    if (!JUDGED_CLIENTS.contains(clients)) {
      return;
    }
    Figures d = byTarget.get(direct);
    Figures s = byTarget.get(session);
    Figures t = byTarget.get(transaction);
    Figures h = byTarget.get(haproxy);
    String what = workload + " at " + clients + " clients";
    if (h == null) {
      lines.add("Issue 16, " + what + " vs HAProxy: not judged (HAProxy not installed).");
    } else {
      double sr = s.qps() / d.qps();
      double hr = h.qps() / d.qps();
      verdict(
          sr >= hr,
          "Issue 16, session mode, %s: %.3f x direct vs HAProxy's %.3f (%.2f of HAProxy's ratio)",
          what,
          sr,
          hr,
          sr / hr);
      verdict(
          s.p95Millis() <= h.p95Millis(),
          "Issue 16, session mode, %s: p95 %.2f ms vs HAProxy's %.2f ms",
          what,
          s.p95Millis(),
          h.p95Millis());
      verdict(
          s.cpuMicros() <= h.cpuMicros(),
          "Issue 16, session mode, %s: proxy CPU %.1f µs per statement vs HAProxy's %.1f (x%.2f)",
          what,
          s.cpuMicros(),
          h.cpuMicros(),
          s.cpuMicros() / h.cpuMicros());
    }
    if (t != null) {
      double ratio = t.qps() / s.qps();
      if (clients < 128) {
        verdict(
            ratio >= 1 - TRANSACTION_TOLERANCE,
            "Issue 16, transaction mode, %s: %.3f x session mode's QPS (within 5%% wanted)",
            what,
            ratio);
      } else {
        verdict(
            ratio > 1,
            "Issue 16, transaction mode, %s: %.3f x session mode's QPS (ahead wanted)",
            what,
            ratio);
      }
    }
  }

  /**
   * The connect storm: the proxy in session mode with {@code maxConnections} against HAProxy to a
   * server that allows every client a connection; medians of the rounds' completion times.
   */
  void storm(int clients, int maxConnections, double proxySeconds, double haproxySeconds) {
    verdict(
        proxySeconds <= haproxySeconds,
        "Issue 16, %,d-client connect storm: %.2f s through the proxy with maxConnections %d vs %.2f s"
            + " through HAProxy to a server allowing %,d",
        clients,
        proxySeconds,
        maxConnections,
        haproxySeconds,
        clients);
  }

  private void verdict(boolean met, String format, Object... args) {
    missed |= !met;
    lines.add(String.format(Locale.ROOT, format, args) + ": " + (met ? "MET" : "MISSED") + ".");
  }
}
