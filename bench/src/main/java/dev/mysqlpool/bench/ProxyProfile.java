package dev.mysqlpool.bench;

import dev.mysqlpool.bench.LoadGenerator.Result;
import dev.mysqlpool.bench.LoadGenerator.Workload;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The profile section (issue 16: where the time goes). A fresh session-mode proxy, warmed up with
 * point selects, then driven with them under a flight recording ({@code jcmd JFR.start
 * settings=profile}); then, without recording, at 128 clients; HAProxy under the same two loads
 * after it. From {@code /proc}: CPU per statement split into the kernel's (system time) and user
 * time by thread group, read and write syscalls, and context switches (wakeups) per statement; the
 * event loops' user time is split further by whose code the recording's samples were in (ours,
 * Netty's, the JDK's). Keeps the {@code .jfr} file. BenchMain runs it when a target was missed, or
 * always with {@code --profile always}.
 */
final class ProxyProfile {
  /** The proxy's event-loop threads' {@code comm} (Netty's default thread names, cut at 15). */
  private static final String EVENT_LOOP_COMM = "multiThreadIoEv";

  /**
   * Every client connects from 127.0.0.1 at once: the per-address limit on logins in progress (100
   * by default) would refuse some of the 128 of a cold proxy.
   */
  private static final String ONE_ADDRESS = "maxPendingLoginsPerAddress: 1000";

  private ProxyProfile() {}

  /** A forwarder to measure: the proxy or HAProxy. */
  record Forwarder(String name, int port, long pid) {}

  /** One measured window of one forwarder: per-statement figures from /proc. */
  record Window(
      int clients,
      double qps,
      double statements,
      long userMillis,
      long systemMillis,
      Map<String, Long> syscalls,
      long voluntarySwitches,
      long involuntarySwitches,
      Map<String, long[]> threadGroups) {
    double perStatementMicros(long millis) {
      return millis * 1000.0 / statements;
    }

    double perStatement(long count) {
      return count / statements;
    }
  }

  /**
   * Runs the section against {@code db}'s sbtest1 and returns it as Markdown; adds issue 16's
   * syscall target to {@code targetLines}.
   *
   * @param haproxy HAProxy in front of the same server, or null when it is not installed
   * @param why the heading's reason, e.g. "a target was missed"
   */
  static String run(
      BenchMain.Options o,
      EmbeddedMariaDb db,
      Forwarder haproxy,
      int clients,
      int manyClients,
      String why,
      List<String> targetLines)
      throws Exception {
    StringBuilder md = new StringBuilder("\n## Profile: where the time goes (" + why + ")\n\n");
    Path jfr = o.workDir().resolve("proxy-profile.jfr");
    Files.deleteIfExists(jfr);
    int seconds = o.seconds() * 2;
    // C2 compiles only hot code (the image sets its thresholds at 10x the JDK's): 40 s gets the
    // compiler threads of a fresh JVM quiet on a busy 2-core machine.
    int warmupSeconds = Math.max(40, o.warmup());
    try (ProxyProcess p =
        ProxyProcess.start(
            o.proxyJar(),
            o.workDir(),
            "profiled",
            db,
            "maxConnections: " + (manyClients + 16) + ", maxIdle: 0, acquireTimeout: 30s",
            ONE_ADDRESS,
            List.of())) {
      Forwarder proxy = new Forwarder("proxy (session)", p.port(), p.pid());
      LoadGenerator gen = new LoadGenerator(o.rows());
      // Warm the JIT first, so the recording shows the steady state rather than start-up and
      // compilation: C2 compiles only hot code, and a fresh JVM's compiler threads still burn about
      // as much CPU as the event loops after 5 s.
      warm(gen, proxy, clients, warmupSeconds);
      p.startRecording("bench");
      Window proxyWindow = window(gen, proxy, clients, seconds, o.workDir());
      p.dumpRecording("bench", jfr);
      Window proxyMany = window(gen, proxy, manyClients, seconds, o.workDir());
      List<Window> transaction =
          transactionWindows(o, db, gen, clients, manyClients, seconds, warmupSeconds);
      Window haWindow = null;
      Window haMany = null;
      if (haproxy != null) {
        warm(gen, haproxy, clients, 3);
        haWindow = window(gen, haproxy, clients, seconds, o.workDir());
        haMany = window(gen, haproxy, manyClients, seconds, o.workDir());
      }
      Map<String, Long> owners = JfrHotSpots.eventLoopOwners(jfr);
      md.append(
          String.format(
              Locale.ROOT,
              "Point selects through a fresh session-mode proxy after a %d s warm-up: %d s at %d clients"
                  + " under JFR (`settings=profile`, started with `jcmd JFR.start`), then %d s at %d clients"
                  + " without it; then a transaction-mode proxy (`maxConnections: %d`) the same without a"
                  + " recording, after the same warm-up; HAProxy the same right after. Per statement: CPU from `/proc/<pid>/task/*/stat`"
                  + " (system time is the kernel's work for the process: sockets, epoll, scheduling),"
                  + " system calls by the kernel's tracepoints (`perf stat -e syscalls:sys_enter_*`, counted in"
                  + " the kernel, so the process runs at its usual speed), context switches from"
                  + " `/proc/<pid>/task/*/status` (voluntary: a thread went to sleep and had to be woken). The"
                  + " event loops' user time is split by the top frame of the recording's execution samples in"
                  + " those threads. Load average %s at the end.%n%n",
              warmupSeconds,
              seconds,
              clients,
              seconds,
              manyClients,
              BenchMain.TRANSACTION_MODE_CONNECTIONS,
              BenchMain.loadAverage()));
      md.append(shares(proxyWindow, proxyMany, haWindow, haMany, owners)).append('\n');
      md.append(wakeups(List.of(proxyWindow, proxyMany), transaction, haWindow, haMany))
          .append('\n');
      judgeSyscalls(proxyWindow, proxyMany, targetLines);
      md.append("Recording: `")
          .append(jfr.toAbsolutePath())
          .append("` (`jfr summary`, `jfr print --events jdk.ExecutionSample`).\n\n");
      md.append(JfrHotSpots.summarize(jfr, 25));
    }
    return md.toString();
  }

  /**
   * The same windows through a transaction-mode proxy with {@link
   * BenchMain#TRANSACTION_MODE_CONNECTIONS} backend connections, without a recording: what
   * borrowing per statement costs beside session mode, in CPU, system calls and wakeups.
   */
  private static List<Window> transactionWindows(
      BenchMain.Options o,
      EmbeddedMariaDb db,
      LoadGenerator gen,
      int clients,
      int manyClients,
      int seconds,
      int warmupSeconds)
      throws Exception {
    try (ProxyProcess t =
        ProxyProcess.start(
            o.proxyJar(),
            o.workDir(),
            "profiled-transaction",
            db,
            "transaction",
            "maxConnections: " + BenchMain.TRANSACTION_MODE_CONNECTIONS + ", acquireTimeout: 30s",
            ONE_ADDRESS,
            List.of())) {
      Forwarder f = new Forwarder("proxy (transaction)", t.port(), t.pid());
      warm(gen, f, manyClients, warmupSeconds);
      return List.of(
          window(gen, f, clients, seconds, o.workDir()),
          window(gen, f, manyClients, seconds, o.workDir()));
    }
  }

  private static void warm(LoadGenerator gen, Forwarder f, int clients, int seconds)
      throws Exception {
    gen.run(
        BenchMain.url(f.port()),
        EmbeddedMariaDb.APP_USER,
        EmbeddedMariaDb.APP_PASSWORD,
        Workload.POINT_SELECT,
        clients,
        seconds * 1000L,
        1);
  }

  private static Window window(
      LoadGenerator gen, Forwarder f, int clients, int seconds, Path workDir) throws Exception {
    SyscallCount perf = SyscallCount.start(f.pid(), workDir);
    long[] cpu0 = Procs.cpuSplitMillis(f.pid());
    long[] cs0 = Procs.contextSwitches(f.pid());
    Map<String, String> names = new LinkedHashMap<>();
    Map<String, long[]> threads0 = Procs.threadCpuSplitMillis(f.pid(), names);
    Result r =
        gen.run(
            BenchMain.url(f.port()),
            EmbeddedMariaDb.APP_USER,
            EmbeddedMariaDb.APP_PASSWORD,
            Workload.POINT_SELECT,
            clients,
            1000,
            seconds * 1000L);
    long[] cpu1 = Procs.cpuSplitMillis(f.pid());
    Map<String, Long> syscalls = perf == null ? Map.of() : perf.stop();
    long[] cs1 = Procs.contextSwitches(f.pid());
    Map<String, long[]> threads1 = Procs.threadCpuSplitMillis(f.pid(), names);
    Map<String, long[]> groups = new LinkedHashMap<>();
    threads1.forEach(
        (tid, t1) -> {
          long[] t0 = threads0.getOrDefault(tid, new long[2]);
          long[] g = groups.computeIfAbsent(group(names.get(tid)), k -> new long[2]);
          g[0] += t1[0] - t0[0];
          g[1] += t1[1] - t0[1];
        });
    System.out.printf(
        Locale.ROOT,
        "   profile %-16s %3d clients %9.0f qps  user %d ms  system %d ms%n",
        f.name(),
        clients,
        r.qps(),
        cpu1[0] - cpu0[0],
        cpu1[1] - cpu0[1]);
    // The load generator's window excludes its own warm-in second: per-statement figures use the
    // counters of the whole run over the statements of the whole run, estimated from the rate.
    return new Window(
        clients,
        r.qps(),
        Math.max(1, r.qps() * (seconds + 1)),
        cpu1[0] - cpu0[0],
        cpu1[1] - cpu0[1],
        syscalls,
        cs1[0] - cs0[0],
        cs1[1] - cs0[1],
        groups);
  }

  /** A thread's group by its {@code comm}: event loops, the JVM's own threads, or other. */
  private static String group(String comm) {
    if (comm == null) {
      return "other";
    }
    if (comm.startsWith(EVENT_LOOP_COMM)) {
      return "event loops";
    }
    if (comm.contains("Compiler")
        || comm.startsWith("GC ")
        || comm.startsWith("VM ")
        || comm.equals("Service Thread")
        || comm.startsWith("Monitor Deflati")
        || comm.startsWith("Common-Cleaner")
        || comm.startsWith("Finalizer")
        || comm.startsWith("Reference Handl")
        || comm.startsWith("Sweeper")
        || comm.startsWith("Signal Dispatch")) {
      return "JVM";
    }
    return comm.equals("haproxy") ? "haproxy" : "other";
  }

  /**
   * CPU per statement by where it went: the kernel (system time of every thread), the JVM's own
   * threads (JIT compilers, GC, VM), the event loops' user time split by the owner of the sampled
   * code, and the rest; HAProxy beside it.
   */
  private static String shares(
      Window proxy, Window proxyMany, Window ha, Window haMany, Map<String, Long> owners) {
    StringBuilder b =
        new StringBuilder(
            "| CPU per statement, µs | proxy, "
                + proxy.clients()
                + " clients | share | proxy, "
                + proxyMany.clients()
                + " | share |"
                + (ha == null
                    ? ""
                    : " HAProxy, " + ha.clients() + " | HAProxy, " + haMany.clients() + " |")
                + "\n|---|---:|---:|---:|---:|"
                + (ha == null ? "" : "---:|---:|")
                + "\n");
    long ownerSamples = Math.max(1, owners.values().stream().mapToLong(Long::longValue).sum());
    row(
        b,
        "kernel (system time, all threads)",
        proxy,
        proxyMany,
        w -> w.systemMillis(),
        ha,
        haMany,
        w -> w.systemMillis());
    for (Map.Entry<String, Long> owner : owners.entrySet()) {
      double share = owner.getValue() / (double) ownerSamples;
      row(
          b,
          "event loops, user: " + owner.getKey(),
          proxy,
          proxyMany,
          w -> Math.round(groupMillis(w, "event loops") * share),
          null,
          null,
          null);
    }
    row(
        b,
        "JVM threads, user (JIT compilers, GC, VM)",
        proxy,
        proxyMany,
        w -> groupMillis(w, "JVM"),
        null,
        null,
        null);
    row(b, "other threads, user", proxy, proxyMany, w -> groupMillis(w, "other"), null, null, null);
    row(b, "user (HAProxy's own code)", null, null, null, ha, haMany, w -> w.userMillis());
    row(
        b,
        "**total**",
        proxy,
        proxyMany,
        w -> w.userMillis() + w.systemMillis(),
        ha,
        haMany,
        w -> w.userMillis() + w.systemMillis());
    b.append(
        String.format(
            Locale.ROOT,
            "%nThe event loops' user time is split by %,d execution samples of the %d-client window"
                + " (top frame's package: `dev.mysqlpool` ours, `io.netty` Netty, `java.`/`sun.`/`jdk.` the JDK).%n",
            ownerSamples,
            proxy.clients()));
    return b.toString();
  }

  private static long groupMillis(Window w, String group) {
    long[] g = w.threadGroups().get(group);
    return g == null ? 0 : g[0];
  }

  private interface Millis {
    long of(Window w);
  }

  private static void row(
      StringBuilder b,
      String label,
      Window proxy,
      Window proxyMany,
      Millis proxyMillis,
      Window ha,
      Window haMany,
      Millis haMillis) {
    b.append("| ").append(label).append(" | ");
    if (proxy == null) {
      b.append("| | | |");
    } else {
      double total = proxy.perStatementMicros(proxy.userMillis() + proxy.systemMillis());
      double totalMany =
          proxyMany.perStatementMicros(proxyMany.userMillis() + proxyMany.systemMillis());
      double us = proxy.perStatementMicros(proxyMillis.of(proxy));
      double usMany = proxyMany.perStatementMicros(proxyMillis.of(proxyMany));
      b.append(
          String.format(
              Locale.ROOT,
              "%.1f | %.0f%% | %.1f | %.0f%% |",
              us,
              100 * us / Math.max(1e-9, total),
              usMany,
              100 * usMany / Math.max(1e-9, totalMany)));
    }
    if (ha != null) {
      if (haMillis == null) {
        b.append(" | |");
      } else {
        b.append(
            String.format(
                Locale.ROOT,
                " %.1f | %.1f |",
                ha.perStatementMicros(haMillis.of(ha)),
                haMany.perStatementMicros(haMillis.of(haMany))));
      }
    }
    b.append('\n');
  }

  private static String wakeups(
      List<Window> proxy, List<Window> transaction, Window ha, Window haMany) {
    StringBuilder b =
        new StringBuilder("| per statement | clients | QPS | CPU µs user | CPU µs system |");
    StringBuilder rule = new StringBuilder("|---|---:|---:|---:|---:|");
    for (String family : SyscallCount.FAMILIES.keySet()) {
      b.append(' ').append(family).append(" |");
      rule.append("---:|");
    }
    b.append(" all syscalls | voluntary context switches | involuntary |\n")
        .append(rule)
        .append("---:|---:|---:|\n");
    for (Window w : proxy) {
      wakeupRow(b, "proxy (session)", w);
    }
    for (Window w : transaction) {
      wakeupRow(b, "proxy (transaction)", w);
    }
    if (ha != null) {
      wakeupRow(b, "haproxy (tcp)", ha);
      wakeupRow(b, "haproxy (tcp)", haMany);
    }
    if (proxy.get(0).syscalls().isEmpty()) {
      b.append(
          "\nSyscalls not counted: `perf stat` with the kernel's syscall tracepoints was not"
              + " available (install `linux-perf`; needs root or tracefs access).\n");
    }
    return b.toString();
  }

  private static void wakeupRow(StringBuilder b, String name, Window w) {
    b.append(
        String.format(
            Locale.ROOT,
            "| %s | %d | %.0f | %.1f | %.1f |",
            name,
            w.clients(),
            w.qps(),
            w.perStatementMicros(w.userMillis()),
            w.perStatementMicros(w.systemMillis())));
    for (String family : SyscallCount.FAMILIES.keySet()) {
      b.append(' ').append(count(w, family)).append(" |");
    }
    b.append(
        String.format(
            Locale.ROOT,
            " %s | %.2f | %.2f |%n",
            count(w, "all"),
            w.perStatement(w.voluntarySwitches()),
            w.perStatement(w.involuntarySwitches())));
  }

  private static String count(Window w, String family) {
    Long n = w.syscalls().get(family);
    return n == null ? "-" : String.format(Locale.ROOT, "%.2f", w.perStatement(n));
  }

  /**
   * Issue 16: one read and one write per direction is the minimum, two of each per statement (the
   * client's request in and out, the server's reply in and out); a few hundredths above it are the
   * login and the load generator's warm-in second.
   */
  private static void judgeSyscalls(Window few, Window many, List<String> targetLines) {
    for (Window w : List.of(few, many)) {
      if (w.syscalls().isEmpty()) {
        targetLines.add(
            "Issue 16, syscalls per point select at "
                + w.clients()
                + " clients: not judged (perf could not count them).");
        continue;
      }
      double reads = w.perStatement(w.syscalls().get("reads"));
      double writes = w.perStatement(w.syscalls().get("writes"));
      boolean met = reads <= 2.05 && writes <= 2.05;
      targetLines.add(
          String.format(
              Locale.ROOT,
              "Issue 16, syscalls per point select at %d clients (profile, perf): %.2f reads and %.2f"
                  + " writes, the minimum being 2 and 2 (one of each per direction); %.2f in all: %s.",
              w.clients(),
              reads,
              writes,
              w.perStatement(w.syscalls().get("all")),
              met ? "MET" : "MISSED"));
    }
  }
}
