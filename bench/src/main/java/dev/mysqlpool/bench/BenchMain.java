package dev.mysqlpool.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mysqlpool.bench.LoadGenerator.Result;
import dev.mysqlpool.bench.LoadGenerator.Workload;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The benchmark harness: steady load against a direct connection, the proxy and HAProxy in
 * interleaved rounds, sysbench, the burst / idle / slow-reader scenarios, the targets, a
 * flight recording when the proxy misses one, and the JMH microbenchmarks. Prints every table and
 * writes them to {@code bench/results/<timestamp>.md}. Started by {@code bench/run.sh}; options are
 * listed in bench/README.md.
 */
public final class BenchMain {
  private static final String DIRECT = "direct";
  private static final String PROXY = "proxy (session)";
  private static final String PROXY_TRANSACTION = "proxy (transaction)";
  private static final String PROXY_NO_DIGESTS = "proxy (session, digests off)";

  /** Backend connections of the transaction-mode proxy in the steady-load and sysbench cases. */
  static final int TRANSACTION_MODE_CONNECTIONS = 32;

  private static final String HAPROXY = "haproxy (tcp)";
  private static final int TARGET_CLIENTS = 32;

  /** The profile's second client count: issue 16 wants the syscalls minimal at 128 clients too. */
  private static final int PROFILE_MANY_CLIENTS = 128;

  /** Statements per case of the allocation section (and as many again to warm up). */
  private static final long ALLOC_STATEMENTS = 100_000;

  /** Client threads of the prepared-statement section (each holds a backend while it pins). */
  private static final int PREPARED_CLIENTS = 16;

  private static final long IDLE_RSS_TARGET_KIB = 256 * 1024;

  private static final Logger log = LoggerFactory.getLogger(BenchMain.class);

  private final Options o;
  private final StringBuilder md = new StringBuilder();
  private final List<String> targetLines = new ArrayList<>();
  private final PerformanceTargets performance =
      new PerformanceTargets(targetLines, DIRECT, PROXY, PROXY_TRANSACTION, HAPROXY);
  private boolean targetMissed;
  private EmbeddedMariaDb db;

  private BenchMain(Options o) {
    this.o = o;
  }

  /** Entry point; see bench/README.md for the options. */
  public static void main(String[] args) throws Exception {
    Options o = Options.parse(args);
    new BenchMain(o).run();
    // EmbeddedMariaDb's shutdown hook stops the server.
    System.exit(0);
  }

  /** Command-line options, each {@code --name value}. */
  record Options(
      Path proxyJar,
      Path resultsDir,
      Path workDir,
      int rounds,
      int seconds,
      int warmup,
      List<Integer> clients,
      int rows,
      Set<String> skip,
      boolean alwaysProfile,
      String memoryVariants) {
    static Options parse(String[] args) {
      Map<String, String> m = new LinkedHashMap<>();
      for (int i = 0; i < args.length; i += 2) {
        if (!args[i].startsWith("--") || i + 1 >= args.length) {
          throw new IllegalArgumentException(
              "arguments are --name value pairs; got " + Arrays.toString(args));
        }
        m.put(args[i].substring(2), args[i + 1]);
      }
      Set<String> known =
          Set.of(
              "proxy-jar",
              "results",
              "work",
              "rounds",
              "seconds",
              "warmup",
              "clients",
              "rows",
              "skip",
              "profile",
              "memory-variants");
      for (String k : m.keySet()) {
        if (!known.contains(k)) {
          throw new IllegalArgumentException(
              "unknown option --" + k + "; known: " + new TreeSet<>(known));
        }
      }
      String jar = m.get("proxy-jar");
      if (jar == null || !Files.isRegularFile(Path.of(jar))) {
        throw new IllegalArgumentException(
            "--proxy-jar must name the built proxy-runtime.jar; got " + jar);
      }
      List<Integer> clients = new ArrayList<>();
      for (String c : m.getOrDefault("clients", "8,32,128").split(",")) {
        clients.add(Integer.parseInt(c.trim()));
      }
      Set<String> skip = new TreeSet<>();
      for (String s : m.getOrDefault("skip", "").split(",")) {
        if (!s.isBlank()) {
          skip.add(s.trim());
        }
      }
      return new Options(
          Path.of(jar),
          Path.of(m.getOrDefault("results", "bench/results")),
          Path.of(m.getOrDefault("work", "bench/target/bench-work")),
          Integer.parseInt(m.getOrDefault("rounds", "3")),
          Integer.parseInt(m.getOrDefault("seconds", "10")),
          Integer.parseInt(m.getOrDefault("warmup", "5")),
          clients,
          Integer.parseInt(m.getOrDefault("rows", "100000")),
          skip,
          parseProfile(m.getOrDefault("profile", "auto")),
          m.getOrDefault("memory-variants", ""));
    }

    private static boolean parseProfile(String v) {
      if (!v.equals("auto") && !v.equals("always")) {
        throw new IllegalArgumentException(
            "--profile is auto (when a target is missed) or always; got " + v);
      }
      return v.equals("always");
    }
  }

  /** A place clients connect to; pid of the forwarding process, or -1 for the server itself. */
  private record Target(String name, int port, long pid) {}

  /** One measured round of one case. */
  private record Round(
      Result load, int threadsConnected, int maxUsed, long rssKib, long cpuMillis) {}

  private void run() throws Exception {
    String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    Files.createDirectories(o.resultsDir());
    Files.createDirectories(o.workDir());
    Path out = o.resultsDir().resolve(stamp + ".md");
    h1("mysqlpool benchmark " + stamp);
    line(
        "Machine: "
            + Runtime.getRuntime().availableProcessors()
            + " CPUs, load average at start "
            + loadAverage()
            + "; Java "
            + System.getProperty("java.version")
            + "; the proxy runs as its image does, in a container of the operator's default memory limit: `"
            + ProxyProcess.IMAGE_JVM.describe()
            + "`.");
    line(
        "Rounds: "
            + o.rounds()
            + " x "
            + o.seconds()
            + " s per case after a "
            + o.warmup()
            + " s warm-up, interleaved (direct, proxy, haproxy, direct, ...); figures are medians of the rounds.");
    line("Code: " + gitState() + ".");
    db = EmbeddedMariaDb.shared();
    line(
        "Server: embedded MariaDB "
            + scalar("SELECT VERSION()")
            + " on 127.0.0.1:"
            + db.port()
            + ", table sbtest1 with "
            + o.rows()
            + " rows (sysbench layout).");
    SbTest.create(db, o.rows());

    HaproxyProcess haproxy = null;
    ProxyProcess proxy = null;
    ProxyProcess transactionProxy = null;
    ProxyProcess noDigestsProxy = null;
    try {
      if (Procs.onPath("haproxy")) {
        haproxy = HaproxyProcess.start(o.workDir(), db);
        line("HAProxy: " + haproxy.version() + ", `mode tcp`, generated config.");
      } else {
        line(
            "HAProxy: skipped: `haproxy` is not installed (bench/run.sh installs it with apt-get when run as root).");
      }
      Target ha = haproxy == null ? null : new Target(HAPROXY, haproxy.port(), haproxy.pid());
      // Before the session-mode proxy below exists: holding no backend connection, it logs in every
      // 30 s to learn
      // whether the server is up, and the server counts would charge that login to the multiplexing
      // proxy.
      section("multiplex", () -> multiplex(ha));

      // Session mode holds one backend per client: room for the largest client count, sysbench's
      // and the slow
      // reader's.
      int maxClients =
          Math.max(
              TARGET_CLIENTS + 1, o.clients().stream().mapToInt(Integer::intValue).max().orElse(0));
      // maxIdle 0: a session's backend is closed when it ends, so the proxy holds no idle
      // connections during the
      // other targets' rounds and every case's Threads_connected is its own.
      String sessionPool =
          "maxConnections: "
              + (maxClients + 16)
              + ", maxIdle: 0, acquireTimeout: 30s, maxConcurrentConnects: 8";
      proxy =
          ProxyProcess.start(o.proxyJar(), o.workDir(), "session", db, sessionPool, "", List.of());
      // The same proxy without the query digest view (stats.queryDigests, on by default), in the
      // steady-load rounds only: what counting every statement costs.
      noDigestsProxy =
          ProxyProcess.start(
              o.proxyJar(),
              o.workDir(),
              "session-no-digests",
              db,
              "session",
              "disabled",
              sessionPool,
              "",
              "stats: {queryDigests: false}\n",
              List.of());
      // Transaction mode with fewer backend connections than the largest client count; idle ones
      // decay within a
      // second, so the other targets' rounds see at most a second of them on the server.
      transactionProxy =
          ProxyProcess.start(
              o.proxyJar(),
              o.workDir(),
              "transaction",
              db,
              "transaction",
              "maxConnections: "
                  + TRANSACTION_MODE_CONNECTIONS
                  + ", idleTimeout: 1s, acquireTimeout: 30s,"
                  + " maxConcurrentConnects: 8",
              "",
              List.of());
      List<Target> targets = new ArrayList<>();
      targets.add(new Target(DIRECT, db.port(), -1));
      targets.add(new Target(PROXY, proxy.port(), proxy.pid()));
      if (ha != null) {
        targets.add(ha);
      }
      List<Target> withTransactionMode = new ArrayList<>(targets);
      withTransactionMode.add(
          new Target(PROXY_TRANSACTION, transactionProxy.port(), transactionProxy.pid()));
      List<Target> loadTargets = new ArrayList<>(withTransactionMode);
      loadTargets.add(new Target(PROXY_NO_DIGESTS, noDigestsProxy.port(), noDigestsProxy.pid()));
      section("load", () -> steadyLoad(loadTargets));
      section("sysbench", () -> sysbench(withTransactionMode));
      section("burst", () -> burst(ha));
      section("idle", this::idle);
      section(
          "memory",
          () ->
              md.append(Footprint.run(o, db, Footprint.variants(o.memoryVariants()), targetLines)));
      section(
          "memory-load",
          () -> md.append(MemoryLoad.run(o, db, Footprint.variants(o.memoryVariants()))));
      section("slow-reader", () -> slowReader(targets.subList(0, 2)));
      section(
          "tls",
          () -> {
            String tls = TlsRatio.run(o, TARGET_CLIENTS);
            System.out.print(tls);
            md.append(tls);
          });
      section(
          "prepared",
          () -> {
            String prepared = PreparedRatio.run(o, db, PREPARED_CLIENTS);
            System.out.print(prepared);
            md.append(prepared);
          });
      section(
          "split",
          () -> {
            String split = SplitBench.run(o, TARGET_CLIENTS);
            System.out.print(split);
            md.append(split);
          });
      section(
          "alloc",
          () -> {
            String alloc =
                AllocationProbe.run(
                    db, TARGET_CLIENTS, ALLOC_STATEMENTS, List.of("session", "transaction"), false);
            System.out.print(alloc);
            md.append(alloc);
          });
      targetMissed |= performance.missed();
      // The profile measures one target itself (syscalls per statement): it runs before the list.
      StringBuilder profileMd = new StringBuilder();
      if (targetMissed || o.alwaysProfile()) {
        boolean missed = targetMissed;
        section(
            "profile",
            () -> {
              String profile =
                  ProxyProfile.run(
                      o,
                      db,
                      ha == null ? null : new ProxyProfile.Forwarder(HAPROXY, ha.port(), ha.pid()),
                      TARGET_CLIENTS,
                      PROFILE_MANY_CLIENTS,
                      missed ? "a target was missed" : "--profile always",
                      targetLines);
              System.out.print(profile);
              profileMd.append(profile);
            });
      }
      h2("Targets (issues 6 and 16)");
      for (String t : targetLines) {
        line("- " + t);
      }
      md.append(profileMd);
    } finally {
      if (proxy != null) {
        proxy.close();
      }
      if (transactionProxy != null) {
        transactionProxy.close();
      }
      if (noDigestsProxy != null) {
        noDigestsProxy.close();
      }
      if (haproxy != null) {
        haproxy.close();
      }
    }
    section("jmh", this::jmh);
    Files.writeString(out, md.toString(), StandardCharsets.UTF_8);
    System.out.println("\nResults written to " + out.toAbsolutePath());
  }

  // ------------------------------------------------------------------------------------------------ steady load

  private void steadyLoad(List<Target> targets) throws Exception {
    h2("Steady load (load generator: MariaDB Connector/J, one connection per client thread)");
    line(
        "QPS counts statements (a read-write transaction is 4: BEGIN, SELECT, UPDATE, COMMIT); latency is per"
            + " operation (statement or transaction). Ratios are against direct in the same run. Server columns exclude the"
            + " harness's sampler connection. RSS and CPU are the forwarding process's (proxy or haproxy).");
    line(
        "Proxy (transaction): pool.mode transaction with maxConnections "
            + TRANSACTION_MODE_CONNECTIONS
            + ", so above that many clients they share backend connections between statements and transactions.");
    LoadGenerator gen = new LoadGenerator(o.rows());
    StringBuilder table = new StringBuilder(header());
    for (Workload w : Workload.values()) {
      for (int clients : o.clients()) {
        String caseName = w.label + " x" + clients;
        System.out.println("\n== " + caseName);
        for (Target t : targets) {
          gen.run(
              url(t.port()),
              EmbeddedMariaDb.APP_USER,
              EmbeddedMariaDb.APP_PASSWORD,
              w,
              clients,
              o.warmup() * 1000L,
              1);
        }
        Map<String, List<Round>> byTarget = new LinkedHashMap<>();
        for (int r = 0; r < o.rounds(); r++) {
          for (Target t : targets) {
            Round round = round(gen, t, w, clients);
            byTarget.computeIfAbsent(t.name(), k -> new ArrayList<>()).add(round);
            System.out.printf(
                Locale.ROOT,
                "   round %d %-16s %9.0f qps  p95 %6.2f ms  errors %d%s%n",
                r + 1,
                t.name(),
                round.load().qps(),
                round.load().p95() / 1000.0,
                round.load().errors(),
                round.load().firstError() == null ? "" : " (" + round.load().firstError() + ")");
          }
        }
        String rows = rows(w.label, clients, byTarget);
        performance.steadyCase(w.label, clients, medians(byTarget));
        table.append(rows);
        System.out.print(header() + rows);
        if (w == Workload.POINT_SELECT && clients == TARGET_CLIENTS) {
          judgeSteady(byTarget);
        }
      }
    }
    md.append(table).append('\n');
    System.out.println();
    System.out.print(table);
  }

  private Round round(LoadGenerator gen, Target t, Workload w, int clients) throws Exception {
    try (Connection root = db.rootConnection()) {
      ServerSampler sampler = new ServerSampler(root, 250);
      sampler.start();
      long cpu0 = t.pid() > 0 ? Procs.cpuMillis(t.pid()) : -1;
      Result r =
          gen.run(
              url(t.port()),
              EmbeddedMariaDb.APP_USER,
              EmbeddedMariaDb.APP_PASSWORD,
              w,
              clients,
              1000,
              o.seconds() * 1000L);
      long cpu1 = t.pid() > 0 ? Procs.cpuMillis(t.pid()) : -1;
      long rss = t.pid() > 0 ? Procs.rssKib(t.pid()) : -1;
      int[] server = sampler.stop();
      return new Round(r, server[0], server[1], rss, cpu0 < 0 || cpu1 < 0 ? -1 : cpu1 - cpu0);
    }
  }

  private static Map<String, PerformanceTargets.Figures> medians(
      Map<String, List<Round>> byTarget) {
    Map<String, PerformanceTargets.Figures> m = new LinkedHashMap<>();
    byTarget.forEach(
        (target, rs) ->
            m.put(
                target,
                new PerformanceTargets.Figures(
                    median(rs, x -> x.load().qps()),
                    median(rs, x -> x.load().p95()) / 1000,
                    median(rs, BenchMain::cpuPer1k))));
    return m;
  }

  /** CPU milliseconds per 1,000 statements, which is microseconds per statement; -1 for direct. */
  private static double cpuPer1k(Round x) {
    return x.cpuMillis() < 0
        ? -1
        : x.cpuMillis() * 1000.0 / Math.max(1, x.load().qps() * x.load().seconds());
  }

  private static String header() {
    return "| workload | clients | target | QPS | QPS vs direct | p50 ms | p95 ms | p99 ms | p95 vs direct"
        + " | Threads_connected (max) | Max_used_connections | RSS MiB | CPU ms / 1k stmts | errors |\n"
        + "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  }

  private String rows(String workload, int clients, Map<String, List<Round>> byTarget) {
    double directQps = median(byTarget.get(DIRECT), x -> x.load().qps());
    double directP95 = median(byTarget.get(DIRECT), x -> x.load().p95());
    StringBuilder b = new StringBuilder();
    for (Map.Entry<String, List<Round>> e : byTarget.entrySet()) {
      List<Round> rs = e.getValue();
      double qps = median(rs, x -> x.load().qps());
      double p95 = median(rs, x -> x.load().p95());
      double rss = median(rs, x -> x.rssKib());
      double cpuPer1k = median(rs, BenchMain::cpuPer1k);
      long errors = rs.stream().mapToLong(x -> x.load().errors()).sum();
      b.append(
          String.format(
              Locale.ROOT,
              "| %s | %d | %s | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f | %.0f | %.0f"
                  + " | %s | %s | %d |%n",
              workload,
              clients,
              e.getKey(),
              qps,
              qps / directQps,
              median(rs, x -> x.load().p50()) / 1000,
              p95 / 1000,
              median(rs, x -> x.load().p99()) / 1000,
              p95 / directP95,
              median(rs, x -> x.threadsConnected()),
              median(rs, x -> x.maxUsed()),
              rss < 0 ? "-" : String.format(Locale.ROOT, "%.0f", rss / 1024),
              cpuPer1k < 0 ? "-" : String.format(Locale.ROOT, "%.0f", cpuPer1k),
              errors));
    }
    return b.toString();
  }

  private void judgeSteady(Map<String, List<Round>> byTarget) {
    if (!byTarget.containsKey(HAPROXY)) {
      targetLines.add("Point select at 32 clients vs HAProxy: not judged (HAProxy not installed).");
      return;
    }
    double direct = median(byTarget.get(DIRECT), x -> x.load().qps());
    double proxyRatio = median(byTarget.get(PROXY), x -> x.load().qps()) / direct;
    double haRatio = median(byTarget.get(HAPROXY), x -> x.load().qps()) / direct;
    double proxyP95 = median(byTarget.get(PROXY), x -> x.load().p95()) / 1000;
    double haP95 = median(byTarget.get(HAPROXY), x -> x.load().p95()) / 1000;
    boolean qpsMet = proxyRatio >= haRatio;
    boolean p95Met = proxyP95 <= haP95;
    targetMissed |= !qpsMet || !p95Met;
    targetLines.add(
        String.format(
            Locale.ROOT,
            "Point-select QPS at 32 clients (load generator): proxy %.2f x direct,"
                + " HAProxy %.2f x direct: %s (proxy/HAProxy = %.2f).",
            proxyRatio,
            haRatio,
            qpsMet ? "MET" : "MISSED",
            proxyRatio / haRatio));
    targetLines.add(
        String.format(
            Locale.ROOT,
            "Point-select p95 at 32 clients (load generator): proxy %.2f ms,"
                + " HAProxy %.2f ms: %s (proxy/HAProxy = %.2f).",
            proxyP95,
            haP95,
            p95Met ? "MET" : "MISSED",
            proxyP95 / haP95));
  }

  // --------------------------------------------------------------------------------------------------- sysbench

  private void sysbench(List<Target> targets) {
    h2("sysbench oltp_point_select, " + TARGET_CLIENTS + " threads");
    if (!Sysbench.installed()) {
      line(
          "skipped: `sysbench` is not installed (bench/run.sh installs it with apt-get when run as root).");
      return;
    }
    line(
        Sysbench.version()
            + "; a 3 s unmeasured run per target, then "
            + o.rounds()
            + " interleaved rounds of "
            + o.seconds()
            + " s; medians.");
    for (Target t : targets) {
      Sysbench.pointSelect(t.port(), o.rows(), TARGET_CLIENTS, 3);
    }
    Map<String, List<Sysbench.Result>> byTarget = new LinkedHashMap<>();
    for (int r = 0; r < o.rounds(); r++) {
      for (Target t : targets) {
        Sysbench.Result res = Sysbench.pointSelect(t.port(), o.rows(), TARGET_CLIENTS, o.seconds());
        byTarget.computeIfAbsent(t.name(), k -> new ArrayList<>()).add(res);
        System.out.printf(
            Locale.ROOT,
            "   sysbench round %d %-16s %9.0f qps  p95 %6.2f ms%n",
            r + 1,
            t.name(),
            res.qps(),
            res.p95Millis());
      }
    }
    double directQps = median(byTarget.get(DIRECT), Sysbench.Result::qps);
    double directP95 = median(byTarget.get(DIRECT), Sysbench.Result::p95Millis);
    StringBuilder b =
        new StringBuilder(
            "| target | QPS | QPS vs direct | p95 ms | p95 vs direct | errors |\n"
                + "|---|---:|---:|---:|---:|---:|\n");
    for (Map.Entry<String, List<Sysbench.Result>> e : byTarget.entrySet()) {
      double qps = median(e.getValue(), Sysbench.Result::qps);
      double p95 = median(e.getValue(), Sysbench.Result::p95Millis);
      b.append(
          String.format(
              Locale.ROOT,
              "| %s | %.0f | %.2f | %.2f | %.2f | %d |%n",
              e.getKey(),
              qps,
              qps / directQps,
              p95,
              p95 / directP95,
              e.getValue().stream().mapToLong(Sysbench.Result::errors).sum()));
    }
    table(b.toString());
    if (byTarget.containsKey(HAPROXY)) {
      double pr = median(byTarget.get(PROXY), Sysbench.Result::qps) / directQps;
      double hr = median(byTarget.get(HAPROXY), Sysbench.Result::qps) / directQps;
      double pp = median(byTarget.get(PROXY), Sysbench.Result::p95Millis);
      double hp = median(byTarget.get(HAPROXY), Sysbench.Result::p95Millis);
      targetMissed |= pr < hr || pp > hp;
      targetLines.add(
          String.format(
              Locale.ROOT,
              "Point-select QPS at 32 threads (sysbench): proxy %.2f x direct,"
                  + " HAProxy %.2f x direct: %s (proxy/HAProxy = %.2f); p95 proxy %.2f ms vs HAProxy %.2f ms: %s.",
              pr,
              hr,
              pr >= hr ? "MET" : "MISSED",
              pr / hr,
              pp,
              hp,
              pp <= hp ? "MET" : "MISSED"));
    }
  }

  // -------------------------------------------------------------------------------------------------- scenarios

  /**
   * The connect storm: {@code clients} released at once against a proxy with {@code maxConnections:
   * 20}, and (issue 16) through HAProxy to a server that allows them all, in interleaved rounds;
   * one proxy for every round, so after the first it is warm, as a proxy in service is when an
   * application's pods all restart.
   */
  private void burst(Target haproxy) throws Exception {
    int clients = 2000;
    int max = 20;
    h2("Scenario: " + clients + "-client connect burst, pool.maxConnections " + max);
    try (ProxyProcess p =
        ProxyProcess.start(
            o.proxyJar(),
            o.workDir(),
            "burst",
            db,
            "maxConnections: " + max + ", acquireTimeout: 60s",
            // Every client comes from 127.0.0.1, where in service they come from many pods: the
            // per-address limit on logins in progress (100 by default) would refuse most of them.
            "maxClientConnections: 10000, maxPendingLogins: "
                + clients
                + ", maxPendingLoginsPerAddress: "
                + clients,
            List.of())) {
      // The steady-load proxies' idle connections decay for a while after their last round; the
      // server's counts below are the burst's own once they are gone.
      awaitNoAppSessions();
      List<Scenarios.Burst> viaProxy = new ArrayList<>();
      List<Scenarios.Burst> viaHaproxy = new ArrayList<>();
      for (int r = 0; r < o.rounds(); r++) {
        viaProxy.add(Scenarios.burst(db, p.port(), p.pid(), clients, max));
        awaitNoAppSessionsBeyond(max);
        if (haproxy != null) {
          viaHaproxy.add(haproxyBurst(haproxy, clients));
          // The proxy's idle backends stay; HAProxy's connections close with their clients.
          awaitNoAppSessionsBeyond(max);
        }
      }
      StringBuilder b =
          new StringBuilder(
              "| target | round | succeeded | failed | seconds to complete | p50 ms | p99 ms | max ms"
                  + " | server Threads_connected (max) | Max_used_connections |\n"
                  + "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
      burstRows(b, "proxy (session), maxConnections " + max, viaProxy);
      burstRows(b, "haproxy (tcp), server allows " + clients, viaHaproxy);
      line(
          clients
              + " clients released at once; each connects, runs one point select and disconnects."
              + " The server's connections are sampled every 5 ms (without the sampler's own). Proxy RSS"
              + " after the rounds: "
              + Procs.rssKib(p.pid()) / 1024
              + " MiB. "
              + (viaProxy.stream().anyMatch(x -> x.firstError() != null)
                  ? "First error through the proxy: "
                      + viaProxy.stream()
                          .filter(x -> x.firstError() != null)
                          .findFirst()
                          .get()
                          .firstError()
                      + "."
                  : ""));
      table(b.toString());
      line(
          "Where the CPU went from the release to the last disconnect (issue 16: the storm's profile),"
              + " from `/proc`: the forwarder by thread group, the server (mariadbd), the clients (the"
              + " harness's JDBC threads); machine busy is all cores' busy time over the window's.");
      table(StormProfile.table("proxy (session)", viaProxy, viaHaproxy));
      int seen =
          viaProxy.stream()
              .mapToInt(x -> Math.max(x.maxThreadsConnected(), x.maxUsedConnections()))
              .max()
              .orElse(0);
      long failed = viaProxy.stream().mapToLong(Scenarios.Burst::failed).sum();
      targetMissed |= seen > max;
      targetLines.add(
          String.format(
              Locale.ROOT,
              "%d-client burst: server saw at most %d connections from the proxy"
                  + " (maxConnections %d): %s%s.",
              clients,
              seen,
              max,
              seen <= max ? "MET" : "MISSED",
              failed == 0 ? "" : "; but " + failed + " clients failed"));
      if (!viaHaproxy.isEmpty()) {
        performance.storm(
            clients,
            max,
            median(viaProxy, Scenarios.Burst::seconds),
            median(viaHaproxy, Scenarios.Burst::seconds));
      }
      if (seen > max || failed > 0) {
        line("See " + p.log() + " for the proxy's log.");
      }
      line(StormProfile.recorded(p, db, clients, max, o.workDir()));
      awaitNoAppSessionsBeyond(max);
    }
  }

  /** One storm through HAProxy, the server's max_connections raised for it and restored. */
  private Scenarios.Burst haproxyBurst(Target haproxy, int clients) throws Exception {
    int oldMax = Integer.parseInt(scalar("SELECT @@GLOBAL.max_connections"));
    int needed = clients + 50;
    try {
      if (oldMax < needed) {
        db.execute("SET GLOBAL max_connections = " + needed);
      }
      return Scenarios.burst(db, haproxy.port(), haproxy.pid(), clients, clients);
    } finally {
      if (oldMax < needed) {
        db.execute("SET GLOBAL max_connections = " + oldMax);
      }
    }
  }

  private static void burstRows(StringBuilder b, String target, List<Scenarios.Burst> rounds) {
    for (int r = 0; r < rounds.size(); r++) {
      Scenarios.Burst x = rounds.get(r);
      b.append(
          String.format(
              Locale.ROOT,
              "| %s | %d | %d | %d | %.2f | %d | %d | %d | %d | %d |%n",
              target,
              r + 1,
              x.ok(),
              x.failed(),
              x.seconds(),
              x.p50Millis(),
              x.p99Millis(),
              x.maxMillis(),
              x.maxThreadsConnected(),
              x.maxUsedConnections()));
    }
  }

  private void idle() throws Exception {
    int target = 10_000;
    h2("Scenario: " + target + " idle client connections to the proxy");
    try (ProxyProcess p =
        ProxyProcess.start(
            o.proxyJar(),
            o.workDir(),
            "idle",
            db,
            "maxConnections: 20",
            "maxClientConnections: " + (target + 100),
            List.of())) {
      Scenarios.Idle i = Scenarios.idle(p, target);
      line(
          String.format(
              Locale.ROOT,
              "Raw-socket clients logged in with mysql_native_password and sent nothing (so"
                  + " none holds a backend). Opened %d of %d in %.1f s%s. Proxy RSS: %.0f MiB with no clients (heap after"
                  + " GC %.1f MiB); **%.0f MiB** with %d idle clients, %.0f MiB after a full GC; heap used after GC **%.1f"
                  + " MiB**; that is %.1f KiB RSS and %.2f KiB heap per idle client. A new client was %s.",
              i.opened(),
              target,
              i.openSeconds(),
              i.firstError() == null ? "" : " (first error: " + i.firstError() + ")",
              i.rssEmptyKib() / 1024.0,
              i.heapEmptyKib() / 1024.0,
              i.rssKib() / 1024.0,
              i.opened(),
              i.rssAfterGcKib() / 1024.0,
              i.heapAfterGcKib() / 1024.0,
              (i.rssKib() - i.rssEmptyKib()) / (double) Math.max(1, i.opened()),
              (i.heapAfterGcKib() - i.heapEmptyKib()) / (double) Math.max(1, i.opened()),
              i.stillServes() ? "still served" : "NOT served"));
      boolean met = i.opened() == target && i.rssKib() < IDLE_RSS_TARGET_KIB;
      targetMissed |= !met;
      targetLines.add(
          String.format(
              Locale.ROOT,
              "%d idle clients: proxy RSS %.0f MiB (target < 256 MiB): %s%s.",
              i.opened(),
              i.rssKib() / 1024.0,
              met ? "MET" : "MISSED",
              String.format(
                  Locale.ROOT,
                  " (%.0f MiB headroom)",
                  (IDLE_RSS_TARGET_KIB - i.rssKib()) / 1024.0)));
    }
  }

  /**
   * @param haproxy HAProxy in {@code mode tcp}, or null when it is not installed
   */
  private void multiplex(Target haproxy) throws Exception {
    int pools = 20;
    int perPool = 100;
    int max = 20;
    int clients = pools * perPool;
    h2(
        "Scenario: "
            + clients
            + " HikariCP clients in transaction mode, pool.maxConnections "
            + max);
    line(
        String.format(
            Locale.ROOT,
            "%d HikariCP pools of %d (MariaDB Connector/J, minimumIdle = maximumPoolSize, so"
                + " all %d connections stay open) shared by %d application threads; each thread takes its next connection"
                + " from the next pool in turn and runs BEGIN; point select; `UPDATE sbtest1 SET k=k+1 WHERE id=?`; COMMIT."
                + " Every connection runs one transaction before the clock starts; then %d s warm-up and one measured window"
                + " of %d s per target (setting up %d connections per round would dominate the run, so there are no rounds"
                + " here). Latency is per transaction including the borrow from HikariCP. Server columns are sampled every"
                + " 10 ms from before the first pool opens, without the sampler's connection; Max_used_connections is the"
                + " server's own high-water mark over the same time; backend logins are the connections the proxy opened"
                + " to the server in the whole case (its /stats). The honest baseline for the multiplexing claim is a"
                + " direct pool of %d serving the same threads; the %d direct connections need the server's max_connections"
                + " raised for that case (the embedded server starts with 300).",
            pools,
            perPool,
            clients,
            Multiplex.WORKERS,
            o.warmup(),
            o.seconds(),
            clients,
            max,
            clients));
    Map<String, Multiplex.Result> results = new LinkedHashMap<>();
    Map<String, String> logins = new LinkedHashMap<>();
    String proxyName = "proxy (transaction), " + clients + " clients";
    try (ProxyProcess p =
        ProxyProcess.start(
            o.proxyJar(),
            o.workDir(),
            "multiplex",
            db,
            "transaction",
            "maxConnections: " + max + ", acquireTimeout: 30s",
            "maxClientConnections: " + (clients + 100),
            List.of())) {
      results.put(proxyName, muxRun(proxyName, "proxy", p.port(), p.pid(), pools, perPool));
      logins.put(proxyName, backendLogins(p));
    }
    awaitNoAppSessions();
    String directPool = "direct, one pool of " + max;
    results.put(directPool, muxRun(directPool, "direct" + max, db.port(), -1, 1, max));
    awaitNoAppSessions();
    int oldMax = Integer.parseInt(scalar("SELECT @@GLOBAL.max_connections"));
    int needed = clients + 50;
    boolean raised = false;
    try {
      if (oldMax < needed) {
        db.execute("SET GLOBAL max_connections = " + needed);
        raised = true;
      }
      String direct = "direct, " + clients + " connections";
      results.put(direct, muxRun(direct, "direct", db.port(), -1, pools, perPool));
      awaitNoAppSessions();
      if (haproxy != null) {
        String name = "haproxy (tcp), " + clients + " connections";
        results.put(name, muxRun(name, "haproxy", haproxy.port(), haproxy.pid(), pools, perPool));
        awaitNoAppSessions();
      }
    } catch (IllegalStateException e) {
      line(
          "Direct and HAProxy with "
              + clients
              + " server connections: skipped: could not raise max_connections"
              + " from "
              + oldMax
              + " to "
              + needed
              + " ("
              + e.getMessage()
              + ").");
    } finally {
      if (raised) {
        db.execute("SET GLOBAL max_connections = " + oldMax);
      }
    }
    if (haproxy == null) {
      line("HAProxy: skipped: `haproxy` is not installed.");
    }
    Multiplex.Result base = results.get(directPool);
    StringBuilder b =
        new StringBuilder(
            "| target | client connections | server Threads_connected (max) |"
                + " Max_used_connections | backend logins | txn/s | txn/s vs direct pool of "
                + max
                + " | p50 ms | p95 ms"
                + " | p99 ms | forwarder RSS MiB (peak) | CPU ms / 1k txns | connections opened in s | errors |\n"
                + "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (Map.Entry<String, Multiplex.Result> e : results.entrySet()) {
      Multiplex.Result r = e.getValue();
      b.append(
          String.format(
              Locale.ROOT,
              "| %s | %d | %d | %d | %s | %.0f | %.2f | %.2f | %.2f | %.2f | %s | %s"
                  + " | %.1f | %d%s |%n",
              e.getKey(),
              r.connections(),
              r.maxThreadsConnected(),
              r.maxUsedConnections(),
              logins.getOrDefault(e.getKey(), "-"),
              r.tps(),
              base == null ? Double.NaN : r.tps() / base.tps(),
              r.p50() / 1000.0,
              r.p95() / 1000.0,
              r.p99() / 1000.0,
              r.rssKib() < 0
                  ? "-"
                  : String.format(Locale.ROOT, "%d (%d)", r.rssKib() / 1024, r.peakRssKib() / 1024),
              r.cpuMillis() < 0
                  ? "-"
                  : String.format(
                      Locale.ROOT, "%.0f", r.cpuMillis() * 1000.0 / Math.max(1, r.transactions())),
              r.openSeconds(),
              r.errors(),
              r.firstError() == null ? "" : " (" + r.firstError() + ")"));
    }
    table(b.toString());
    Multiplex.Result proxied = results.get(proxyName);
    int seen = Math.max(proxied.maxThreadsConnected(), proxied.maxUsedConnections());
    boolean met = seen <= max && proxied.errors() == 0;
    targetMissed |= !met;
    targetLines.add(
        String.format(
            Locale.ROOT,
            "%d HikariCP clients in transaction mode: server saw at most %d"
                + " connections from the proxy (maxConnections %d): %s%s; %.0f txn/s, %.2f x a direct pool of %d.",
            clients,
            seen,
            max,
            seen <= max ? "MET" : "MISSED",
            proxied.errors() == 0 ? "" : "; but " + proxied.errors() + " transactions failed",
            proxied.tps(),
            base == null ? Double.NaN : proxied.tps() / base.tps(),
            max));
  }

  private Multiplex.Result muxRun(
      String name, String label, int port, long pid, int pools, int perPool) throws Exception {
    System.out.println("\n== multiplex: " + name);
    Multiplex.Result r =
        Multiplex.run(
            db,
            label,
            port,
            pid,
            pools,
            perPool,
            o.rows(),
            o.warmup() * 1000L,
            o.seconds() * 1000L);
    System.out.printf(
        Locale.ROOT,
        "   %-40s %7.0f txn/s  p95 %7.2f ms  server max %d  opened in %.1f s  errors %d%s%n",
        name,
        r.tps(),
        r.p95() / 1000.0,
        Math.max(r.maxThreadsConnected(), r.maxUsedConnections()),
        r.openSeconds(),
        r.errors(),
        r.firstError() == null ? "" : " (" + r.firstError() + ")");
    return r;
  }

  /** Backend connections the proxy opened so far, from its /stats. */
  private static String backendLogins(ProxyProcess p) {
    try {
      HttpResponse<String> r =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + p.adminPort() + "/stats"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      long n = 0;
      for (JsonNode row : new ObjectMapper().readTree(r.body()).get("backends")) {
        n += row.get("connOk").asLong();
      }
      return Long.toString(n);
    } catch (IOException | RuntimeException e) {
      return "? (" + e.getMessage() + ")";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "?";
    }
  }

  /**
   * Waits (at most a minute) until the server has let go of every app session, so cases do not
   * overlap.
   */
  /** Waits (a minute at most) until the server has at most {@code n} application sessions. */
  private void awaitNoAppSessionsBeyond(int n) {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
    while (db.threadIds(EmbeddedMariaDb.APP_USER).size() > n && System.nanoTime() < deadline) {
      Procs.sleep(100);
    }
  }

  private void awaitNoAppSessions() {
    awaitNoAppSessionsBeyond(0);
  }

  private void slowReader(List<Target> targets) throws Exception {
    int bytesPerSecond = 1 << 20;
    h2("Scenario: a slow reader during point selects (" + TARGET_CLIENTS + " clients)");
    line(
        "One raw client runs `SELECT id, k, c, pad FROM sbtest1` (about 19 MB) and reads it at 1 MiB/s with a 64 KiB"
            + " receive buffer for the whole window; the others run point selects. Without and with, back to back.");
    LoadGenerator gen = new LoadGenerator(o.rows());
    StringBuilder b =
        new StringBuilder(
            "| target | QPS without | QPS with | ratio | p95 ms without | p95 ms with"
                + " | ratio | slow reader read | forwarder RSS MiB with |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (Target t : targets) {
      Round without = round(gen, t, Workload.POINT_SELECT, TARGET_CLIENTS);
      Round with;
      long read;
      String note = "";
      try (Scenarios.SlowReader slow = new Scenarios.SlowReader(t.port(), bytesPerSecond)) {
        with = round(gen, t, Workload.POINT_SELECT, TARGET_CLIENTS);
        read = slow.bytesRead();
        if (slow.finished()) {
          note = " (finished early)";
        } else if (slow.error() != null) {
          note = " (" + slow.error() + ")";
        }
      }
      b.append(
          String.format(
              Locale.ROOT,
              "| %s | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f | %.1f MiB%s | %s |%n",
              t.name(),
              without.load().qps(),
              with.load().qps(),
              with.load().qps() / without.load().qps(),
              without.load().p95() / 1000.0,
              with.load().p95() / 1000.0,
              (double) with.load().p95() / without.load().p95(),
              read / (double) (1 << 20),
              note,
              with.rssKib() < 0 ? "-" : Long.toString(with.rssKib() / 1024)));
    }
    table(b.toString());
  }

  // -------------------------------------------------------------------------------------------------------- JMH

  private void jmh() throws RunnerException {
    h2("JMH microbenchmarks");
    line(
        "1 fork, 4 x 2 s warm-up, 5 x 1 s measurement. PoolBenchmark runs BackendPool against the embedded MariaDB"
            + " (acquire of an idle connection and release CLEAN: no server round trip).");
    Collection<RunResult> results =
        new Runner(
                new OptionsBuilder()
                    .include("dev\\.mysqlpool\\.bench\\.jmh\\..*")
                    .forks(1)
                    .warmupIterations(4)
                    .warmupTime(TimeValue.seconds(2))
                    .measurementIterations(5)
                    .measurementTime(TimeValue.seconds(1))
                    .param("backendPort", Integer.toString(db.port()))
                    .jvmArgs("-Xms256m", "-Xmx256m", "-Dio.netty.leakDetection.level=disabled")
                    .build())
            .run();
    StringBuilder b =
        new StringBuilder(
            "| benchmark | params | score | error (99.9%) | unit |\n|---|---|---:|---:|---|\n");
    for (RunResult r : results) {
      var p = r.getParams();
      StringBuilder params = new StringBuilder();
      for (String k : p.getParamsKeys()) {
        if (!k.equals("backendPort")) {
          params
              .append(params.length() == 0 ? "" : ", ")
              .append(k)
              .append('=')
              .append(p.getParam(k));
        }
      }
      String name =
          p.getBenchmark()
              .substring(
                  p.getBenchmark().lastIndexOf('.', p.getBenchmark().lastIndexOf('.') - 1) + 1);
      double score = r.getPrimaryResult().getScore();
      String digits = score < 10 ? "%.3f" : "%.1f";
      b.append(
          String.format(
              Locale.ROOT,
              "| %s | %s | " + digits + " | " + digits + " | %s |%n",
              name,
              params,
              score,
              r.getPrimaryResult().getScoreError(),
              r.getPrimaryResult().getScoreUnit()));
    }
    table(b.toString());
  }

  // ---------------------------------------------------------------------------------------------------- helpers

  /** A part of the run that may fail on its own: the failure is reported and the run goes on. */
  private interface Section {
    void run() throws Exception;
  }

  private void section(String name, Section s) {
    if (o.skip().contains(name)) {
      line("(" + name + ": skipped by --skip)");
      return;
    }
    try {
      s.run();
    } catch (Exception | Error e) {
      log.error("section {} failed", name, e);
      line("**" + name + " failed:** " + e);
      targetLines.add(name + ": FAILED to run (" + e.getMessage() + ")");
    }
  }

  private String scalar(String sql) throws SQLException {
    try (Connection c = db.rootConnection();
        Statement s = c.createStatement();
        var rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  static String url(int port) {
    return EmbeddedMariaDb.jdbcUrl("127.0.0.1", port, EmbeddedMariaDb.APP_DATABASE)
        + "&connectTimeout=30000";
  }

  /** The commit the proxy was built from, and whether the proxy's sources differed from it. */
  private static String gitState() {
    try {
      String head = Procs.run(Duration.ofSeconds(10), "git", "rev-parse", "--short", "HEAD").trim();
      String dirty =
          Procs.run(
                  Duration.ofSeconds(10), "git", "status", "--porcelain", "proxy-runtime/src/main")
              .trim();
      return "commit "
          + head
          + (dirty.isEmpty()
              ? ", proxy-runtime/src/main unchanged"
              : ", with uncommitted changes in proxy-runtime/src/main (built as found): "
                  + dirty.replace('\n', ';').replaceAll("\\s+", " "));
    } catch (RuntimeException e) {
      return "unknown (git: " + e.getMessage() + ")";
    }
  }

  static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim().split(" ")[0];
    } catch (IOException e) {
      return "?";
    }
  }

  static <T> double median(List<T> values, java.util.function.ToDoubleFunction<T> f) {
    double[] v = values.stream().mapToDouble(f).sorted().toArray();
    if (v.length == 0) {
      return Double.NaN;
    }
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }

  private void h1(String s) {
    md.append("# ").append(s).append("\n\n");
    System.out.println("\n# " + s);
  }

  private void h2(String s) {
    md.append("\n## ").append(s).append("\n\n");
    System.out.println("\n## " + s);
  }

  private void line(String s) {
    md.append(s).append("\n\n");
    System.out.println(s);
  }

  private void table(String s) {
    md.append(s).append('\n');
    System.out.print(s);
  }
}
