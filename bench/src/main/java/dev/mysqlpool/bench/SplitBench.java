package dev.mysqlpool.bench;

import dev.mysqlpool.bench.LoadGenerator.Workload;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import dev.mysqlpool.proxy.testsupport.ReplicatedMariaDb;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Issue 15's figure: read-only load through a read/write split pool over a GTID primary and replica
 * against the same load through transaction mode with the primary alone, in one run, rounds
 * interleaved with direct to the primary and HAProxy in front of it. Reports QPS and its ratios,
 * the share of the split's borrows that went to the replica (the proxy's {@code
 * mysqlpool_routing_decisions_total}), the proxy's CPU per statement (the routing overhead, split
 * against no split) and the CPU the proxy, each server and the whole machine spent, from {@code
 * /proc}.
 *
 * <p>Both servers and the proxy share the machine's cores with the clients, so the replica adds a
 * server process, not a machine: the split can only scale reads as far as the cores it leaves idle.
 */
final class SplitBench {
  private static final String DIRECT = "direct (primary)";
  private static final String HAPROXY = "haproxy (tcp, primary)";
  private static final String NO_SPLIT = "proxy, no split (primary)";
  private static final String SPLIT = "proxy, split (primary + replica)";

  /**
   * Both proxies alike but for the split: backend connections stay between rounds (so each round
   * measures statements, not logins), and the cap is per backend.
   */
  private static final String POOL =
      "maxConnections: 32, idleTimeout: 5m, acquireTimeout: 30s, maxConcurrentConnects: 8";

  private static final Pattern DECISION =
      Pattern.compile("(?m)^mysqlpool_routing_decisions_total\\{([^}]*)}\\s+([0-9.eE+]+)$");
  private static final Pattern LABEL = Pattern.compile("(\\w+)=\"([^\"]*)\"");

  /** A place clients connect to: {@code proxy} is null, and {@code pid} -1 for the server. */
  private record Target(String name, int port, long pid, ProxyProcess proxy) {}

  /** A load generator workload, or a sysbench test with its options when {@code test} is set. */
  private record Case(String label, Workload workload, String test, List<String> options) {
    boolean sysbench() {
      return test != null;
    }
  }

  /**
   * Counters at one moment: CPU ms of the processes involved, the split's decisions so far, and the
   * servers' {@code Com_select} and {@code Com_update}: primary's, then replica's.
   */
  private record Counters(
      long nanos,
      long proxyCpu,
      long primaryCpu,
      long replicaCpu,
      long machineBusy,
      Map<String, Long> decisions,
      long[] statements) {}

  /** One measured round: the load's figures and the counters around it. */
  private record Round(
      double qps,
      double p95Millis,
      long errors,
      String error,
      double statements,
      Counters a,
      Counters b) {
    double cores(java.util.function.ToLongFunction<Counters> cpu) {
      long d = cpu.applyAsLong(b) - cpu.applyAsLong(a);
      return cpu.applyAsLong(a) < 0 ? Double.NaN : d * 1e6 / (b.nanos() - a.nanos());
    }

    long decided(String prefix) {
      long n = 0;
      for (Map.Entry<String, Long> e : b.decisions().entrySet()) {
        if (e.getKey().startsWith(prefix)) {
          n += e.getValue() - a.decisions().getOrDefault(e.getKey(), 0L);
        }
      }
      return n;
    }
  }

  private final BenchMain.Options o;
  private final int clients;
  private final ReplicatedMariaDb pair;
  private final long primaryPid;
  private final long replicaPid;

  /** Where sysbench's output of each round is kept, for a look at what a table cannot show. */
  private final Path work;

  private SplitBench(BenchMain.Options o, int clients, ReplicatedMariaDb pair, Path work) {
    this.o = o;
    this.work = work;
    this.clients = clients;
    this.pair = pair;
    this.primaryPid = Procs.serverPid(pair.primary());
    this.replicaPid = Procs.serverPid(pair.replica());
  }

  /** Starts the pair and the forwarders, runs the cases and returns the section as Markdown. */
  static String run(BenchMain.Options o, int clients) throws Exception {
    String loadAtStart = BenchMain.loadAverage();
    Path work = Files.createDirectories(o.workDir().resolve("split"));
    try (ReplicatedMariaDb pair = ReplicatedMariaDb.start()) {
      SbTest.create(pair.primary(), o.rows());
      pair.awaitCaughtUp();
      String writer = backend("primary", pair.primary(), "writer");
      HaproxyProcess haproxy =
          Procs.onPath("haproxy") ? HaproxyProcess.start(work, pair.primary()) : null;
      try (ProxyProcess noSplit =
              ProxyProcess.startWithBackends(
                  o.proxyJar(), work, "no-split", writer, "transaction", POOL, "");
          ProxyProcess split =
              ProxyProcess.startWithBackends(
                  o.proxyJar(),
                  work,
                  "split",
                  writer + backend("replica", pair.replica(), "reader"),
                  "transaction",
                  POOL,
                  "readWriteSplit: true, maxReplicationLag: 5s, readYourWrites: session")) {
        awaitReaderServing(split);
        List<Target> targets = new ArrayList<>();
        targets.add(new Target(DIRECT, pair.primary().port(), -1, null));
        if (haproxy != null) {
          targets.add(new Target(HAPROXY, haproxy.port(), haproxy.pid(), null));
        }
        targets.add(new Target(NO_SPLIT, noSplit.port(), noSplit.pid(), noSplit));
        targets.add(new Target(SPLIT, split.port(), split.pid(), split));
        return new SplitBench(o, clients, pair, work).measureAll(targets, loadAtStart);
      } finally {
        if (haproxy != null) {
          haproxy.close();
        }
      }
    }
  }

  private static String backend(String name, EmbeddedMariaDb db, String role) {
    return "  - {name: "
        + name
        + ", host: 127.0.0.1, port: "
        + db.port()
        + ", role: "
        + role
        + ", tls: {mode: disabled}}\n";
  }

  /** Until the replica's lag check passed once, reads would fall back to the writer. */
  private static void awaitReaderServing(ProxyProcess split) {
    long deadline = System.nanoTime() + 60_000_000_000L;
    String last = "";
    while (System.nanoTime() < deadline) {
      last = split.admin("/backendz");
      if (last.matches("(?s).*replica up reader lag \\d+s\n.*")) {
        return;
      }
      Procs.sleep(200);
    }
    throw new IllegalStateException(
        "the split proxy's replica did not serve reads within 60s; /backendz: " + last);
  }

  private String measureAll(List<Target> targets, String loadAtStart) throws Exception {
    StringBuilder md = new StringBuilder("\n## Read/write split (issue 15)\n\n");
    md.append(
        String.format(
            Locale.ROOT,
            "Two embedded MariaDB %s servers replicating with GTIDs (`ReplicatedMariaDb`), `sbtest1`"
                + " with %d rows made on the primary and replicated. Targets, rounds interleaved:"
                + " %s; %s; %s (`pool.mode: transaction`, the primary as `role: writer`); %s (the same"
                + " plus the replica as `role: reader`, `routing: {readWriteSplit: true,"
                + " maxReplicationLag: 5s, readYourWrites: session}`). Both proxies `%s` (per"
                + " backend). %d interleaved rounds of %d s after a %d s warm-up per case and"
                + " target, medians. Load average at the start of the section %s; the clients, the"
                + " proxy and both servers share the machine's %d cores.%n%n",
            ReplicatedMariaDb.scalar(pair.primary(), "SELECT VERSION()"),
            o.rows(),
            DIRECT,
            targets.stream().anyMatch(t -> t.name().equals(HAPROXY))
                ? HAPROXY
                : "(HAProxy not installed)",
            NO_SPLIT,
            SPLIT,
            POOL,
            o.rounds(),
            o.seconds(),
            o.warmup(),
            loadAtStart,
            Runtime.getRuntime().availableProcessors()));
    List<Case> cases = new ArrayList<>();
    cases.add(new Case("point select x" + clients, Workload.POINT_SELECT, null, List.of()));
    if (Sysbench.installed()) {
      // sysbench prepares its statements on the server by default, and a split pool sends
      // prepared statements to the writer: text protocol for every target, so the split can act.
      cases.add(
          new Case(
              "sysbench oltp_read_only, BEGIN…COMMIT",
              null,
              "oltp_read_only",
              List.of("--db-ps-mode=disable")));
      cases.add(
          new Case(
              "sysbench oltp_read_only --skip_trx=on",
              null,
              "oltp_read_only",
              List.of("--db-ps-mode=disable", "--skip_trx=on")));
    } else {
      md.append("sysbench: skipped, not installed.\n\n");
    }
    cases.add(new Case("read-write txn x" + clients, Workload.READ_WRITE, null, List.of()));
    Map<String, Map<String, List<Round>>> all = new LinkedHashMap<>();
    for (Case c : cases) {
      Map<String, List<Round>> byTarget = measure(c, targets);
      all.put(c.label(), byTarget);
      md.append(table(c, byTarget));
    }
    md.append(summary(all));
    md.append(
        String.format(Locale.ROOT, "%nLoad average at the end: %s.%n", BenchMain.loadAverage()));
    return md.toString();
  }

  private Map<String, List<Round>> measure(Case c, List<Target> targets) throws Exception {
    System.out.println("\n== split: " + c.label());
    LoadGenerator gen = new LoadGenerator(o.rows());
    for (Target t : targets) {
      if (c.sysbench()) {
        Sysbench.run(c.test(), t.port(), o.rows(), clients, Math.max(1, o.warmup()), c.options());
      } else {
        gen.run(
            BenchMain.url(t.port()),
            EmbeddedMariaDb.APP_USER,
            EmbeddedMariaDb.APP_PASSWORD,
            c.workload(),
            clients,
            o.warmup() * 1000L,
            1);
      }
    }
    Map<String, List<Round>> byTarget = new LinkedHashMap<>();
    for (int r = 0; r < o.rounds(); r++) {
      for (Target t : targets) {
        Round round = round(gen, c, t, r + 1);
        byTarget.computeIfAbsent(t.name(), k -> new ArrayList<>()).add(round);
        System.out.printf(
            Locale.ROOT,
            "   split round %d %-34s %9.0f qps  p95 %6.2f ms  to replica %d of %d  errors %d%s%n",
            r + 1,
            t.name(),
            round.qps(),
            round.p95Millis(),
            round.decided("reader/"),
            round.decided(""),
            round.errors(),
            round.error() == null ? "" : " (" + round.error() + ")");
      }
    }
    return byTarget;
  }

  private Round round(LoadGenerator gen, Case c, Target t, int n) throws Exception {
    Counters before = counters(t);
    Round r;
    if (c.sysbench()) {
      Sysbench.Result s =
          Sysbench.run(c.test(), t.port(), o.rows(), clients, o.seconds(), c.options());
      String file = "sysbench " + c.label() + " " + t.name() + " round " + n;
      Files.writeString(
          work.resolve(file.replaceAll("[^A-Za-z0-9_=-]+", "-") + ".txt"), s.output());
      r = new Round(s.qps(), s.p95Millis(), s.errors(), null, s.queries(), before, counters(t));
    } else {
      LoadGenerator.Result l =
          gen.run(
              BenchMain.url(t.port()),
              EmbeddedMariaDb.APP_USER,
              EmbeddedMariaDb.APP_PASSWORD,
              c.workload(),
              clients,
              1000,
              o.seconds() * 1000L);
      // The CPU window holds the 1 s warm-in too: statements of the whole run, from the rate.
      double statements = l.qps() * (l.seconds() + 1);
      r =
          new Round(
              l.qps(),
              l.p95() / 1000.0,
              l.errors(),
              l.firstError(),
              statements,
              before,
              counters(t));
    }
    return r;
  }

  private Counters counters(Target t) {
    return new Counters(
        System.nanoTime(),
        t.pid() > 0 ? Procs.cpuMillis(t.pid()) : -1,
        primaryPid > 0 ? Procs.cpuMillis(primaryPid) : -1,
        replicaPid > 0 ? Procs.cpuMillis(replicaPid) : -1,
        Procs.machineCpuMillis()[0],
        t.proxy() == null ? Map.of() : decisions(t.proxy()),
        new long[] {
          status(pair.primary(), "COM_SELECT"),
          status(pair.primary(), "COM_UPDATE"),
          status(pair.replica(), "COM_SELECT"),
          status(pair.replica(), "COM_UPDATE")
        });
  }

  private static long status(EmbeddedMariaDb db, String name) {
    return Long.parseLong(
        ReplicatedMariaDb.scalar(
            db,
            "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = '"
                + name
                + "'"));
  }

  /** The proxy's routing decisions so far, "to/reason" to count (empty without a split). */
  private static Map<String, Long> decisions(ProxyProcess p) {
    Map<String, Long> out = new TreeMap<>();
    Matcher m = DECISION.matcher(p.admin("/metrics"));
    while (m.find()) {
      Map<String, String> labels = new LinkedHashMap<>();
      Matcher l = LABEL.matcher(m.group(1));
      while (l.find()) {
        labels.put(l.group(1), l.group(2));
      }
      out.merge(
          labels.get("to") + "/" + labels.get("reason"),
          (long) Double.parseDouble(m.group(2)),
          Long::sum);
    }
    return out;
  }

  private String table(Case c, Map<String, List<Round>> byTarget) {
    double direct = BenchMain.median(byTarget.get(DIRECT), Round::qps);
    double noSplit = BenchMain.median(byTarget.get(NO_SPLIT), Round::qps);
    StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%n**%s**%n%n", c.label()));
    b.append(
        "| target | QPS | ÷ direct | ÷ no split | p95 ms | borrows to the replica"
            + " | forwarder CPU µs / stmt | CPU (cores): forwarder | primary | replica | whole machine"
            + " | errors |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (Map.Entry<String, List<Round>> e : byTarget.entrySet()) {
      List<Round> rs = e.getValue();
      double qps = BenchMain.median(rs, Round::qps);
      long decided = rs.stream().mapToLong(x -> x.decided("")).sum();
      long toReplica = rs.stream().mapToLong(x -> x.decided("reader/")).sum();
      double cpuPerStatement =
          BenchMain.median(
              rs,
              x ->
                  x.a().proxyCpu() < 0
                      ? Double.NaN
                      : (x.b().proxyCpu() - x.a().proxyCpu()) * 1000.0 / x.statements());
      b.append(
          String.format(
              Locale.ROOT,
              "| %s | %.0f | %.2f | %.2f | %.2f | %s | %s | %s | %.2f | %.2f | %.2f | %d%s |%n",
              e.getKey(),
              qps,
              qps / direct,
              qps / noSplit,
              BenchMain.median(rs, Round::p95Millis),
              decided == 0
                  ? "-"
                  : String.format(Locale.ROOT, "%.1f%%", 100.0 * toReplica / decided),
              Double.isNaN(cpuPerStatement)
                  ? "-"
                  : String.format(Locale.ROOT, "%.1f", cpuPerStatement),
              e.getValue().get(0).a().proxyCpu() < 0
                  ? "-"
                  : String.format(
                      Locale.ROOT, "%.2f", BenchMain.median(rs, x -> x.cores(Counters::proxyCpu))),
              BenchMain.median(rs, x -> x.cores(Counters::primaryCpu)),
              BenchMain.median(rs, x -> x.cores(Counters::replicaCpu)),
              BenchMain.median(rs, x -> x.cores(Counters::machineBusy)),
              rs.stream().mapToLong(Round::errors).sum(),
              rs.stream()
                  .map(Round::error)
                  .filter(x -> x != null)
                  .findFirst()
                  .map(x -> " (" + x.replace('|', '/') + ")")
                  .orElse("")));
    }
    b.append(decisionLine(byTarget.get(SPLIT)));
    return b.toString();
  }

  /**
   * The split's decisions by reason over its rounds, and what the servers ran meanwhile: SELECTs on
   * each (only clients send them: the proxy's lag check is a SHOW, and replication applies row
   * events, which count as the replica's Com_update but never as a SELECT) and UPDATEs on the
   * primary.
   */
  private static String decisionLine(List<Round> split) {
    Map<String, Long> sum = new TreeMap<>();
    long[] ran = new long[4];
    for (Round r : split) {
      r.b()
          .decisions()
          .forEach(
              (k, v) -> {
                long d = v - r.a().decisions().getOrDefault(k, 0L);
                if (d > 0) {
                  sum.merge(k, d, Long::sum);
                }
              });
      for (int i = 0; i < ran.length; i++) {
        ran[i] += r.b().statements()[i] - r.a().statements()[i];
      }
    }
    StringBuilder b = new StringBuilder("\nThe split's routing decisions over its rounds: ");
    sum.forEach((k, v) -> b.append('`').append(k).append("` ").append(v).append(", "));
    return b.append(
            String.format(
                Locale.ROOT,
                "and the servers meanwhile: SELECTs (`Com_select`) primary %d, replica %d;"
                    + " UPDATEs (`Com_update`) primary %d, replica %d (replication applying the"
                    + " primary's row events counts there too; a client's UPDATE would fail there"
                    + " with 1290, the app account cannot write on the replica).%n",
                ran[0],
                ran[2],
                ran[1],
                ran[3]))
        .toString();
  }

  /**
   * Split against no split per case: QPS as the median and range of each round's ratio (the two run
   * back to back, so they share the machine's other load more than the medians do), and the
   * forwarder's CPU per statement.
   */
  private static String summary(Map<String, Map<String, List<Round>>> all) {
    StringBuilder b =
        new StringBuilder(
            "\n| case | split ÷ no split, QPS of the same round: median (range) |"
                + " proxy CPU µs / stmt, no split → split |\n|---|---:|---:|\n");
    java.util.function.ToDoubleFunction<Round> cpu =
        x -> (x.b().proxyCpu() - x.a().proxyCpu()) * 1000.0 / x.statements();
    all.forEach(
        (label, byTarget) -> {
          List<Round> split = byTarget.get(SPLIT);
          List<Double> ratios = new ArrayList<>();
          for (int i = 0; i < split.size(); i++) {
            ratios.add(split.get(i).qps() / byTarget.get(NO_SPLIT).get(i).qps());
          }
          b.append(
              String.format(
                  Locale.ROOT,
                  "| %s | %.2f (%.2f–%.2f) | %.1f → %.1f |%n",
                  label,
                  BenchMain.median(ratios, Double::doubleValue),
                  ratios.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN),
                  ratios.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN),
                  BenchMain.median(byTarget.get(NO_SPLIT), cpu),
                  BenchMain.median(split, cpu)));
        });
    return b.toString();
  }
}
