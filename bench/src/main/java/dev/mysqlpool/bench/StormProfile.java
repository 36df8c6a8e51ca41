package dev.mysqlpool.bench;

import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where a connect storm's time went (issue 16). Round by round, the CPU: the forwarder's (the
 * proxy's by thread group, or HAProxy's), the server's and the clients' (the harness's JDBC
 * threads), and how busy the machine was. On 2 cores shared by all three, a storm that keeps the
 * machine busy is CPU-bound, and its duration follows the CPU seconds it costs in all; this table
 * says whose they are.
 */
final class StormProfile {
  private StormProfile() {}

  static String table(
      String proxyTarget, List<Scenarios.Burst> viaProxy, List<Scenarios.Burst> viaHaproxy) {
    StringBuilder b =
        new StringBuilder(
            "| CPU seconds through the storm | round | seconds | machine busy | forwarder user"
                + " | of which event loops | JIT compilers | GC and VM threads | forwarder system"
                + " | server | clients | all three |\n"
                + "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    rows(b, proxyTarget, viaProxy);
    rows(b, "haproxy (tcp)", viaHaproxy);
    return b.toString();
  }

  private static void rows(StringBuilder b, String target, List<Scenarios.Burst> rounds) {
    for (int r = 0; r < rounds.size(); r++) {
      CpuShares.Used u = rounds.get(r).cpu();
      long forwarder = u.forwarder(0) + u.forwarder(1);
      long server = u.other(Scenarios.SERVER);
      long clients = u.other(Scenarios.CLIENTS);
      b.append(
          String.format(
              Locale.ROOT,
              "| %s | %d | %.2f | %.0f%% | %.2f | %s | %s | %s | %.2f | %s | %s | %s |%n",
              target,
              r + 1,
              u.seconds(),
              100 * u.machineBusy(),
              u.forwarder(0) / 1000.0,
              group(u, "event loops"),
              group(u, "JIT compilers"),
              group(u, "JVM"),
              u.forwarder(1) / 1000.0,
              seconds(server),
              seconds(clients),
              server < 0 || clients < 0 ? "-" : seconds(forwarder + server + clients)));
    }
  }

  /**
   * One more storm through the proxy, not counted in the rounds, under a flight recording: whose
   * code the event loops ran while the clients logged in, borrowed, ran one statement and left.
   * Returns it as Markdown.
   */
  static String recorded(
      ProxyProcess p, EmbeddedMariaDb db, int clients, int maxConnections, Path workDir)
      throws Exception {
    Path jfr = workDir.resolve("storm.jfr");
    Files.deleteIfExists(jfr);
    p.startRecording("storm");
    Scenarios.Burst b = Scenarios.burst(db, p.port(), p.pid(), clients, maxConnections);
    p.dumpRecording("storm", jfr);
    p.stopRecording("storm");
    Map<String, Long> owners = JfrHotSpots.eventLoopOwners(jfr);
    long samples = Math.max(1, owners.values().stream().mapToLong(Long::longValue).sum());
    StringBuilder split = new StringBuilder();
    owners.forEach(
        (owner, n) ->
            split.append(String.format(Locale.ROOT, "%s %.0f%%, ", owner, 100.0 * n / samples)));
    return String.format(
            Locale.ROOT,
            "A further storm through the proxy under a flight recording (not counted above): %.2f s;"
                + " the event loops' user time %.2f s, by the top frame of %,d execution samples: %s"
                + "JIT compilers %.2f s, system time %.2f s. Recording `%s`:%n%n",
            b.seconds(),
            b.cpu().group("event loops", 0) / 1000.0,
            samples,
            split,
            b.cpu().group("JIT compilers", 0) / 1000.0,
            b.cpu().forwarder(1) / 1000.0,
            jfr.toAbsolutePath())
        + JfrHotSpots.summarize(jfr, 15);
  }

  private static String group(CpuShares.Used u, String group) {
    return u.forwarderGroups().containsKey(group) ? seconds(u.group(group, 0)) : "-";
  }

  private static String seconds(long millis) {
    return millis < 0 ? "-" : String.format(Locale.ROOT, "%.2f", millis / 1000.0);
  }
}
