package dev.mysqlpool.bench;

import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.ToLongFunction;

/**
 * Issue 16's memory figures: the proxy's RSS idle after start, through a 1,000-client connect storm
 * and with 10,000 idle clients, run as the image runs it; the same for variants of its JVM settings
 * in the same run ({@code --memory-variants}), with the rounds interleaved; where the memory goes
 * (Native Memory Tracking, one extra proxy per variant, since tracking costs memory itself). What
 * each variant costs in throughput is {@link MemoryLoad}'s.
 *
 * <p>Each round of each variant starts two fresh proxies in session mode with {@code
 * maxConnections: 20}: the first is measured idle once its RSS has settled, through the storm
 * (VmHWM, the peak RSS since the JVM started) and settled again after it; the second while 10,000
 * raw clients hold logins open, before any forced GC. RSS is VmRSS of /proc/pid/status; the figures
 * are medians of the rounds.
 */
final class Footprint {
  static final int STORM_CLIENTS = 1_000;
  static final int IDLE_CLIENTS = 10_000;
  private static final int MAX_CONNECTIONS = 20;

  /**
   * An idle figure is taken once the RSS has settled: the JIT goes on compiling start-up code after
   * the port opens (for longer when the machine is busy), a storm leaves compilations and garbage
   * behind, and the C heap they freed is given back a while later. Settled: at least {@link
   * #SETTLE_MIN_MILLIS} left alone, and the last {@link #SETTLE_SAMPLES} samples, a second apart,
   * within {@link #SETTLE_BAND_KIB}; at most {@link #SETTLE_MAX_MILLIS}.
   */
  private static final long SETTLE_MIN_MILLIS = 10_000;

  private static final long SETTLE_MAX_MILLIS = 60_000;
  private static final int SETTLE_SAMPLES = 5;
  private static final long SETTLE_BAND_KIB = 1024;

  private static final long IDLE_TARGET_KIB = 96 * 1024;
  private static final long STORM_TARGET_KIB = 128 * 1024;
  private static final long MANY_IDLE_TARGET_KIB = 160 * 1024;
  private static final String POOL = "maxConnections: " + MAX_CONNECTIONS + ", acquireTimeout: 60s";

  /**
   * The storm's clients all come from 127.0.0.1; the default of 100 logins at once per address
   * would refuse most of them, where clients from many application pods would not be.
   */
  private static final String FRONTEND =
      "maxClientConnections: "
          + (IDLE_CLIENTS + 100)
          + ", maxPendingLoginsPerAddress: "
          + STORM_CLIENTS;

  /** A named way to start the proxy's JVM. */
  record Variant(String name, ProxyJvm jvm) {}

  /** One round of one variant; memory in KiB, -1 where not measured. */
  record Sample(
      long startMillis,
      long startCpuMillis,
      long threads,
      long idleKib,
      long idleSettleMillis,
      long idleFileKib,
      long idlePeakKib,
      long stormPeakKib,
      long afterStormKib,
      int stormFailed,
      String firstError,
      long manyIdleKib,
      long manyIdlePeakKib,
      long manyHeapLiveKib,
      int opened) {}

  /** The NMT proxies' summaries, idle, after the storm and with the idle clients. */
  record Breakdown(
      NativeMemory idle,
      long idleRssKib,
      NativeMemory storm,
      long stormRssKib,
      NativeMemory many,
      long manyRssKib) {}

  private Footprint() {}

  /**
   * The image, then the variants of {@code spec}: {@code name=tokens;name=tokens}, the tokens as
   * {@link ProxyJvm#variant} reads them.
   */
  static List<Variant> variants(String spec) {
    List<Variant> all = new ArrayList<>();
    all.add(new Variant("image", ProxyProcess.IMAGE_JVM));
    for (String part : spec.split(";")) {
      if (part.isBlank()) {
        continue;
      }
      int eq = part.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException(
            "--memory-variants is name=tokens;name=tokens (e.g. 'g1=@image -XX:+UseG1GC'); got '"
                + part
                + "'");
      }
      all.add(new Variant(part.substring(0, eq).trim(), ProxyJvm.variant(part.substring(eq + 1))));
    }
    return all;
  }

  /**
   * Runs the section and returns it as Markdown; adds the image's verdicts on issue 16's memory
   * targets to {@code targetLines}.
   */
  static String run(
      BenchMain.Options o, EmbeddedMariaDb db, List<Variant> variants, List<String> targetLines)
      throws Exception {
    StringBuilder md = new StringBuilder();
    md.append("\n## Memory (issue 16)\n\n");
    md.append(
        String.format(
            Locale.ROOT,
            "Each variant's proxy JVM (`image` is proxy-runtime/Dockerfile's environment, as the operator"
                + " renders it for the default 512Mi limit; `%s` stands in for that limit):%n%n",
            ProxyJvm.CONTAINER_FLAG));
    for (Variant v : variants) {
      md.append("- `").append(v.name()).append("`: `").append(v.jvm().describe()).append("`\n");
    }
    md.append(
        String.format(
            Locale.ROOT,
            "%nSession mode, `maxConnections: %d`. Idle: once the RSS has settled (at least 10 s after the port opened, then the last 5 samples a second apart within 1 MiB; at most 60 s). Storm: %,d"
                + " clients released at once, each connects, runs a point select and disconnects; peak is VmHWM"
                + " (the most since the JVM started); after: settled again."
                + " %,d idle: raw clients logged in, nothing sent, on a fresh proxy, before any forced GC;"
                + " their live heap is the heap used after a full GC (`jcmd GC.run`) that follows."
                + " Medians of %d interleaved rounds; load average %s at the start.%n%n",
            MAX_CONNECTIONS,
            STORM_CLIENTS,
            IDLE_CLIENTS,
            o.rounds(),
            BenchMain.loadAverage()));
    Map<String, List<Sample>> samples = new LinkedHashMap<>();
    for (int r = 0; r < o.rounds(); r++) {
      for (Variant v : variants) {
        Sample s = sample(o, db, v, null);
        samples.computeIfAbsent(v.name(), k -> new ArrayList<>()).add(s);
        System.out.printf(
            Locale.ROOT,
            "   memory round %d %-16s start %4d ms  idle %6.1f  storm peak %6.1f  after %6.1f"
                + "  %d idle %6.1f MiB (opened %d, storm failures %d)%s%n",
            r + 1,
            v.name(),
            s.startMillis(),
            mib(s.idleKib()),
            mib(s.stormPeakKib()),
            mib(s.afterStormKib()),
            IDLE_CLIENTS,
            mib(s.manyIdleKib()),
            s.opened(),
            s.stormFailed(),
            s.firstError() == null ? "" : " first error: " + s.firstError());
      }
    }
    md.append(rssTable(samples));
    targetLines.addAll(targets(samples.values().iterator().next()));
    Map<String, Breakdown> breakdowns = new LinkedHashMap<>();
    for (Variant v : variants) {
      Breakdown[] b = new Breakdown[1];
      sample(o, db, v, b);
      breakdowns.put(v.name(), b[0]);
    }
    md.append(nmtTable(breakdowns));
    System.out.print(md);
    return md.toString();
  }

  /**
   * One round of one variant; with {@code nmt} non-null, the proxies track native memory and the
   * summaries go into {@code nmt[0]}.
   */
  private static Sample sample(BenchMain.Options o, EmbeddedMariaDb db, Variant v, Breakdown[] nmt)
      throws Exception {
    ProxyJvm jvm = nmt == null ? v.jvm() : v.jvm().plus(List.of(NativeMemory.FLAG));
    long startMillis;
    long startCpu;
    long threads;
    long idle;
    long idleFile;
    long idlePeak;
    long idleSettle;
    long peak;
    long after;
    int failed;
    String firstError;
    NativeMemory idleNmt = null;
    NativeMemory stormNmt = null;
    try (ProxyProcess p =
        ProxyProcess.start(
            o.proxyJar(),
            o.workDir(),
            "memory-storm",
            db,
            "session",
            "disabled",
            POOL,
            FRONTEND,
            jvm)) {
      startMillis = p.startMillis();
      startCpu = p.startCpuMillis();
      long[] waited = new long[1];
      idle = settledRssKib(p.pid(), waited);
      idleSettle = waited[0];
      idleFile = Procs.statusField(p.pid(), "RssFile:");
      idlePeak = Procs.peakRssKib(p.pid());
      threads = Procs.statusField(p.pid(), "Threads:");
      if (nmt != null) {
        idleNmt = NativeMemory.of(p.pid());
      }
      Scenarios.Burst b = Scenarios.burst(db, p.port(), p.pid(), STORM_CLIENTS, MAX_CONNECTIONS);
      failed = b.failed();
      firstError = b.firstError();
      peak = Procs.peakRssKib(p.pid());
      after = settledRssKib(p.pid(), new long[1]);
      if (nmt != null) {
        stormNmt = NativeMemory.of(p.pid());
      }
    }
    NativeMemory[] manyNmt = new NativeMemory[1];
    Scenarios.Idle i;
    long manyPeak;
    try (ProxyProcess p =
        ProxyProcess.start(
            o.proxyJar(),
            o.workDir(),
            "memory-idle",
            db,
            "session",
            "disabled",
            POOL,
            FRONTEND,
            jvm)) {
      i =
          Scenarios.idle(
              p,
              IDLE_CLIENTS,
              false,
              () -> {
                if (nmt != null) {
                  manyNmt[0] = NativeMemory.of(p.pid());
                }
              });
      manyPeak = Procs.peakRssKib(p.pid());
    }
    if (nmt != null) {
      nmt[0] = new Breakdown(idleNmt, idle, stormNmt, after, manyNmt[0], i.rssKib());
    }
    return new Sample(
        startMillis,
        startCpu,
        threads,
        idle,
        idleSettle,
        idleFile,
        idlePeak,
        peak,
        after,
        failed,
        firstError != null ? firstError : i.firstError(),
        i.rssKib(),
        manyPeak,
        i.heapAfterGcKib(),
        i.opened());
  }

  /**
   * The proxy's RSS once settled (see {@link #SETTLE_MIN_MILLIS}); the wait in {@code waited[0]}.
   */
  private static long settledRssKib(long pid, long[] waited) {
    long t0 = System.nanoTime();
    Deque<Long> last = new ArrayDeque<>();
    while (true) {
      long rss = Procs.rssKib(pid);
      last.addLast(rss);
      if (last.size() > SETTLE_SAMPLES) {
        last.removeFirst();
      }
      long elapsed = (System.nanoTime() - t0) / 1_000_000;
      boolean steady =
          last.size() == SETTLE_SAMPLES
              && Collections.max(last) - Collections.min(last) <= SETTLE_BAND_KIB;
      if ((steady && elapsed >= SETTLE_MIN_MILLIS) || elapsed >= SETTLE_MAX_MILLIS) {
        waited[0] = elapsed;
        return rss;
      }
      Procs.sleep(1000);
    }
  }

  private static String rssTable(Map<String, List<Sample>> samples) {
    StringBuilder b =
        new StringBuilder(
            "| variant | start-up ms (CPU ms) | threads idle | RSS idle MiB (file-backed) | settled after s"
                + " | peak before the storm MiB | storm peak MiB | after storm MiB | "
                + String.format(Locale.ROOT, "%,d", IDLE_CLIENTS)
                + " idle MiB (peak) | their live heap MiB | storm failures | idle clients opened |\n"
                + "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (Map.Entry<String, List<Sample>> e : samples.entrySet()) {
      List<Sample> s = e.getValue();
      b.append(
          String.format(
              Locale.ROOT,
              "| %s | %d (%d) | %d | %.1f (%.1f) | %.0f | %.1f | %.1f | %.1f | %.1f (%.1f) | %.1f | %d"
                  + " | %d |%n",
              e.getKey(),
              median(s, Sample::startMillis),
              median(s, Sample::startCpuMillis),
              median(s, Sample::threads),
              mib(median(s, Sample::idleKib)),
              mib(median(s, Sample::idleFileKib)),
              median(s, Sample::idleSettleMillis) / 1000.0,
              mib(median(s, Sample::idlePeakKib)),
              mib(median(s, Sample::stormPeakKib)),
              mib(median(s, Sample::afterStormKib)),
              mib(median(s, Sample::manyIdleKib)),
              mib(median(s, Sample::manyIdlePeakKib)),
              mib(median(s, Sample::manyHeapLiveKib)),
              s.stream().mapToInt(Sample::stormFailed).sum(),
              median(s, x -> x.opened())));
    }
    return b.append('\n').toString();
  }

  /** Issue 16's memory targets, judged on the image's medians. */
  private static List<String> targets(List<Sample> image) {
    return List.of(
        target("idle proxy", median(image, Sample::idleKib), IDLE_TARGET_KIB),
        target(
            String.format(Locale.ROOT, "peak through a %,d-client connect storm", STORM_CLIENTS),
            median(image, Sample::stormPeakKib),
            STORM_TARGET_KIB),
        target(
            String.format(Locale.ROOT, "%,d idle clients", IDLE_CLIENTS),
            median(image, Sample::manyIdleKib),
            MANY_IDLE_TARGET_KIB));
  }

  private static String target(String what, long kib, long targetKib) {
    return String.format(
        Locale.ROOT,
        "Issue 16, RSS of the proxy as the image runs it, %s: %.1f MiB, at most %d wanted: %s.",
        what,
        mib(kib),
        targetKib / 1024,
        verdict(kib, targetKib));
  }

  private static String verdict(long kib, long targetKib) {
    return kib <= targetKib ? "MET" : "MISSED";
  }

  /**
   * Committed memory by NMT category, in MiB, per variant and phase; categories under 1 MiB in
   * every row are summed as "rest".
   */
  private static String nmtTable(Map<String, Breakdown> breakdowns) {
    Set<String> columns = new LinkedHashSet<>();
    for (Breakdown b : breakdowns.values()) {
      for (NativeMemory n : Arrays.asList(b.idle(), b.storm(), b.many())) {
        if (n == null) {
          continue;
        }
        n.committedKib()
            .forEach(
                (k, v) -> {
                  if (v >= 1024) {
                    columns.add(k);
                  }
                });
      }
    }
    StringBuilder t =
        new StringBuilder(
            "Native Memory Tracking (`"
                + NativeMemory.FLAG
                + "`, one more round per variant; tracking itself adds the"
                + " \"Native Memory Tracking\" column and a few MiB of RSS), committed MiB by category. Netty's direct"
                + " buffers count under Other; the file-backed part of RSS (the JVM's libraries, the jar, the CDS"
                + " archive) is outside NMT except the archive (Shared class space).\n\n| variant | phase | RSS |"
                + " NMT total |");
    StringBuilder rule = new StringBuilder("|---|---|---:|---:|");
    for (String c : columns) {
      t.append(' ').append(c).append(" |");
      rule.append("---:|");
    }
    t.append(" rest |\n").append(rule).append("---:|\n");
    for (Map.Entry<String, Breakdown> e : breakdowns.entrySet()) {
      Breakdown b = e.getValue();
      row(t, e.getKey(), "idle", b.idleRssKib(), b.idle(), columns);
      row(t, e.getKey(), "after storm", b.stormRssKib(), b.storm(), columns);
      row(
          t,
          e.getKey(),
          String.format(Locale.ROOT, "%,d idle", IDLE_CLIENTS),
          b.manyRssKib(),
          b.many(),
          columns);
    }
    return t.append('\n').toString();
  }

  private static void row(
      StringBuilder t,
      String variant,
      String phase,
      long rssKib,
      NativeMemory n,
      Set<String> columns) {
    if (n == null || n.totalKib() < 0) {
      t.append("| ").append(variant).append(" | ").append(phase).append(" | - | no NMT |\n");
      return;
    }
    t.append(
        String.format(
            Locale.ROOT,
            "| %s | %s | %.1f | %.1f |",
            variant,
            phase,
            mib(rssKib),
            mib(n.totalKib())));
    long shown = 0;
    for (String c : columns) {
      long kib = n.committedKib(c);
      shown += kib;
      t.append(String.format(Locale.ROOT, " %.1f |", mib(kib)));
    }
    t.append(String.format(Locale.ROOT, " %.1f |%n", mib(n.totalKib() - shown)));
  }

  private static <T> long median(List<T> values, ToLongFunction<T> f) {
    long[] v = values.stream().mapToLong(f).sorted().toArray();
    return v.length == 0 ? -1 : v[(v.length - 1) / 2];
  }

  static double mib(long kib) {
    return kib < 0 ? -1 : kib / 1024.0;
  }
}
