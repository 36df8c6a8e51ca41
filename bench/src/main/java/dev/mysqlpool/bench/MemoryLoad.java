package dev.mysqlpool.bench;

import dev.mysqlpool.bench.LoadGenerator.Result;
import dev.mysqlpool.bench.LoadGenerator.Workload;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The {@code memory-load} section (issue 16): point selects at {@value #LOAD_CLIENTS} clients
 * through one proxy per JVM setting of {@link Footprint}'s variants, rounds interleaved with
 * direct: what each setting costs in throughput and proxy CPU per statement, and its RSS under
 * load.
 */
final class MemoryLoad {
  private static final int LOAD_CLIENTS = 32;

  private MemoryLoad() {}

  /** Runs the section and returns it as Markdown. */
  static String run(BenchMain.Options o, EmbeddedMariaDb db, List<Footprint.Variant> variants)
      throws Exception {
    List<ProxyProcess> proxies = new ArrayList<>();
    try {
      for (Footprint.Variant v : variants) {
        proxies.add(
            ProxyProcess.start(
                o.proxyJar(),
                o.workDir(),
                "memory-load-" + proxies.size(),
                db,
                "session",
                "disabled",
                "maxConnections: "
                    + (LOAD_CLIENTS + 16)
                    + ", maxIdle: 0, acquireTimeout: 30s, maxConcurrentConnects: 8",
                "",
                v.jvm()));
      }
      LoadGenerator gen = new LoadGenerator(o.rows());
      List<Integer> ports = new ArrayList<>();
      ports.add(db.port());
      proxies.forEach(p -> ports.add(p.port()));
      for (int port : ports) {
        gen.run(
            BenchMain.url(port),
            EmbeddedMariaDb.APP_USER,
            EmbeddedMariaDb.APP_PASSWORD,
            Workload.POINT_SELECT,
            LOAD_CLIENTS,
            o.warmup() * 1000L,
            1);
      }
      List<List<double[]>> rounds = new ArrayList<>();
      ports.forEach(p -> rounds.add(new ArrayList<>()));
      for (int r = 0; r < o.rounds(); r++) {
        for (int t = 0; t < ports.size(); t++) {
          long pid = t == 0 ? -1 : proxies.get(t - 1).pid();
          long cpu0 = pid < 0 ? 0 : Procs.cpuMillis(pid);
          Result res =
              gen.run(
                  BenchMain.url(ports.get(t)),
                  EmbeddedMariaDb.APP_USER,
                  EmbeddedMariaDb.APP_PASSWORD,
                  Workload.POINT_SELECT,
                  LOAD_CLIENTS,
                  1000,
                  o.seconds() * 1000L);
          long cpu = pid < 0 ? 0 : Procs.cpuMillis(pid) - cpu0;
          double cpuPer1k = cpu * 1000.0 / Math.max(1, res.qps() * (res.seconds() + 1));
          rounds
              .get(t)
              .add(
                  new double[] {
                    res.qps(), res.p95() / 1000.0, cpuPer1k, pid < 0 ? -1 : Procs.rssKib(pid)
                  });
          System.out.printf(
              Locale.ROOT,
              "   memory load round %d %-16s %9.0f qps  errors %d%n",
              r + 1,
              t == 0 ? "direct" : variants.get(t - 1).name(),
              res.qps(),
              res.errors());
        }
      }
      double direct = medianOf(rounds.get(0), 0);
      StringBuilder b =
          new StringBuilder(
              String.format(
                  Locale.ROOT,
                  "### What the variants cost%n%nPoint selects at %d clients (MariaDB Connector/J), one proxy per variant, %d interleaved"
                      + " rounds of %d s with direct; CPU per 1k statements counts the proxy's whole round (its"
                      + " warm-in second too); RSS at the end of the last round and the peak (VmHWM).%n%n"
                      + "| variant | QPS | vs direct | vs image | p95 ms | proxy CPU ms / 1k stmts | RSS MiB"
                      + " after load (peak) |%n|---|---:|---:|---:|---:|---:|---:|%n",
                  LOAD_CLIENTS,
                  o.rounds(),
                  o.seconds()));
      double image = medianOf(rounds.get(1), 0);
      for (int t = 1; t < ports.size(); t++) {
        List<double[]> rs = rounds.get(t);
        double qps = medianOf(rs, 0);
        b.append(
            String.format(
                Locale.ROOT,
                "| %s | %.0f | %.2f | %.2f | %.2f | %.1f | %.1f (%.1f) |%n",
                variants.get(t - 1).name(),
                qps,
                qps / direct,
                qps / image,
                medianOf(rs, 1),
                medianOf(rs, 2),
                Footprint.mib((long) rs.get(rs.size() - 1)[3]),
                Footprint.mib(Procs.peakRssKib(proxies.get(t - 1).pid()))));
      }
      b.append('\n');
      System.out.print(b);
      return b.toString();
    } finally {
      proxies.forEach(ProxyProcess::close);
    }
  }

  private static double medianOf(List<double[]> rounds, int column) {
    double[] v = rounds.stream().mapToDouble(x -> x[column]).sorted().toArray();
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }
}
