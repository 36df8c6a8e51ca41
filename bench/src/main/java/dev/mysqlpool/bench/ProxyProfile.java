package dev.mysqlpool.bench;

import dev.mysqlpool.bench.LoadGenerator.Result;
import dev.mysqlpool.bench.LoadGenerator.Workload;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The profile section (issue 16: where the time goes). A fresh session-mode proxy, warmed up with
 * point selects, then driven with them at 32 and 128 clients, each window under a flight recording
 * of its own ({@code jcmd JFR.start settings=profile method-profiling=max}, sampled every ms); a
 * transaction-mode proxy the same; HAProxy under the same two loads after them. From {@code /proc}:
 * CPU per statement split into the kernel's (system time) and user time by thread group, the
 * server's CPU per statement beside it, and context switches (wakeups); system calls from the
 * kernel's tracepoints; the event loops' user time is split further by whose code the window's
 * samples were in (ours, Netty's, the JDK's). Keeps the {@code .jfr} files. BenchMain runs it when
 * a target was missed, or always with {@code --profile always}.
 */
final class ProxyProfile {
  /**
   * Every client connects from 127.0.0.1 at once: the per-address limit on logins in progress (100
   * by default) would refuse some of the 128 of a cold proxy.
   */
  private static final String ONE_ADDRESS = "maxPendingLoginsPerAddress: 1000";

  private static final String SERVER = "server";

  private static final String CLIENTS = "clients";

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
      long serverMillis,
      long clientsMillis,
      long machineBusyMillis,
      Map<String, Long> syscalls,
      long voluntarySwitches,
      long involuntarySwitches,
      Map<String, long[]> threadGroups,
      Map<String, Long> owners,
      Path recording) {
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
    int seconds = o.seconds() * 2;
    // C2 compiles only hot code (the image sets its thresholds at 10x the JDK's): 40 s gets the
    // compiler threads of a fresh JVM quiet on a busy 2-core machine.
    int warmupSeconds = Math.max(40, o.warmup());
    long serverPid = Procs.serverPid(db);
    LoadGenerator gen = new LoadGenerator(o.rows());
    List<Window> session;
    try (ProxyProcess p =
        ProxyProcess.start(
            o.proxyJar(),
            o.workDir(),
            "profiled",
            db,
            "maxConnections: " + (manyClients + 16) + ", maxIdle: 0, acquireTimeout: 30s",
            ONE_ADDRESS,
            List.of())) {
      Recorded proxy = new Recorded(new Forwarder("proxy (session)", p.port(), p.pid()), p);
      // Warm the JIT first, so the recording shows the steady state rather than start-up and
      // compilation: C2 compiles only hot code, and a fresh JVM's compiler threads still burn about
      // as much CPU as the event loops after 5 s.
      warm(gen, proxy, clients, warmupSeconds);
      session =
          List.of(
              window(gen, proxy, clients, seconds, o.workDir(), serverPid),
              window(gen, proxy, manyClients, seconds, o.workDir(), serverPid));
    }
    List<Window> transaction =
        transactionWindows(o, db, gen, clients, manyClients, seconds, warmupSeconds, serverPid);
    List<Window> ha = new ArrayList<>();
    if (haproxy != null) {
      Recorded unrecorded = new Recorded(haproxy, null);
      warm(gen, haproxy, clients, 3);
      ha.add(window(gen, unrecorded, clients, seconds, o.workDir(), serverPid));
      ha.add(window(gen, unrecorded, manyClients, seconds, o.workDir(), serverPid));
    }
    md.append(
        String.format(
            Locale.ROOT,
            "Point selects through a fresh session-mode proxy after a %d s warm-up: %d s at %d clients,"
                + " then %d s at %d; then a transaction-mode proxy (`maxConnections: %d`) the same after"
                + " the same warm-up; HAProxy the same right after. Each proxy window runs under its own"
                + " flight recording (`jcmd JFR.start settings=profile method-profiling=max`: execution sampled every"
                + " millisecond). Per statement: CPU from"
                + " `/proc/<pid>/task/*/stat` (system time is the kernel's work for the process: sockets,"
                + " epoll, scheduling), the server's (mariadbd's) CPU beside it, system calls by the"
                + " kernel's tracepoints (`perf stat -e syscalls:sys_enter_*`, counted in the kernel, so the"
                + " process runs at its usual speed), context switches from `/proc/<pid>/task/*/status`"
                + " (voluntary: a thread went to sleep and had to be woken). The event loops' user time is"
                + " split by the top frame of the window's execution samples in those threads. Load average"
                + " %s at the end.%n%n",
            warmupSeconds,
            seconds,
            clients,
            seconds,
            manyClients,
            BenchMain.TRANSACTION_MODE_CONNECTIONS,
            BenchMain.loadAverage()));
    List<Column> columns = new ArrayList<>();
    session.forEach(w -> columns.add(new Column("session", w)));
    transaction.forEach(w -> columns.add(new Column("transaction", w)));
    ha.forEach(w -> columns.add(new Column("HAProxy", w)));
    md.append(shares(columns)).append('\n');
    md.append(wakeups(session, transaction, ha)).append('\n');
    judgeSyscalls(session.get(0), session.get(1), targetLines);
    for (Window w : List.of(session.get(0), transaction.get(1))) {
      md.append("Recording of the ")
          .append(w.clients())
          .append("-client window: `")
          .append(w.recording().toAbsolutePath())
          .append("` (`jfr summary`, `jfr print --events jdk.ExecutionSample`).\n\n")
          .append(JfrHotSpots.summarize(w.recording(), 20));
    }
    return md.toString();
  }

  /** A forwarder and, for the proxy, its process to record each window with. */
  private record Recorded(Forwarder forwarder, ProxyProcess process) {}

  /** One column of the CPU table: a mode or HAProxy, at one client count. */
  private record Column(String name, Window window) {}

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
      int warmupSeconds,
      long serverPid)
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
      Recorded f = new Recorded(new Forwarder("proxy (transaction)", t.port(), t.pid()), t);
      warm(gen, f, manyClients, warmupSeconds);
      return List.of(
          window(gen, f, clients, seconds, o.workDir(), serverPid),
          window(gen, f, manyClients, seconds, o.workDir(), serverPid));
    }
  }

  /**
   * Warms a proxy up under a throwaway recording, so the windows' own recordings find the flight
   * recorder's code loaded and compiled (without it, the first recorded window showed 10 to 20 µs a
   * statement of JIT compilation that was the recorder's).
   */
  private static void warm(LoadGenerator gen, Recorded r, int clients, int seconds)
      throws Exception {
    if (r.process() != null) {
      r.process().startRecording("warm-up");
    }
    warm(gen, r.forwarder(), clients, seconds);
    if (r.process() != null) {
      r.process().stopRecording("warm-up");
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

  /**
   * One measured window; under a flight recording of its own when {@code r} has a process, whose
   * file the window keeps.
   */
  private static Window window(
      LoadGenerator gen, Recorded r, int clients, int seconds, Path workDir, long serverPid)
      throws Exception {
    Forwarder f = r.forwarder();
    String name = f.name().replaceAll("[^a-z]+", "-").replaceAll("-$", "") + "-" + clients;
    Path jfr = workDir.resolve("profile-" + name + ".jfr");
    Files.deleteIfExists(jfr);
    if (r.process() != null) {
      r.process().startRecording(name);
    }
    SyscallCount perf = SyscallCount.start(f.pid(), workDir);
    long[] cs0 = Procs.contextSwitches(f.pid());
    CpuShares cpu =
        CpuShares.start(f.pid(), Map.of(SERVER, serverPid, CLIENTS, ProcessHandle.current().pid()));
    Result load =
        gen.run(
            BenchMain.url(f.port()),
            EmbeddedMariaDb.APP_USER,
            EmbeddedMariaDb.APP_PASSWORD,
            Workload.POINT_SELECT,
            clients,
            1000,
            seconds * 1000L);
    CpuShares.Used used = cpu.stop();
    Map<String, Long> syscalls = perf == null ? Map.of() : perf.stop();
    long[] cs1 = Procs.contextSwitches(f.pid());
    Map<String, Long> owners = Map.of();
    if (r.process() != null) {
      r.process().dumpRecording(name, jfr);
      r.process().stopRecording(name);
      owners = JfrHotSpots.eventLoopOwners(jfr);
    }
    System.out.printf(
        Locale.ROOT,
        "   profile %-16s %3d clients %9.0f qps  user %d ms  system %d ms  server %d ms%n",
        f.name(),
        clients,
        load.qps(),
        used.forwarder(0),
        used.forwarder(1),
        used.other(SERVER));
    // The load generator's window excludes its own warm-in second: per-statement figures use the
    // counters of the whole run over the statements of the whole run, estimated from the rate.
    return new Window(
        clients,
        load.qps(),
        Math.max(1, load.qps() * (seconds + 1)),
        used.forwarder(0),
        used.forwarder(1),
        used.other(SERVER),
        used.other(CLIENTS),
        used.machineBusyMillis(),
        syscalls,
        cs1[0] - cs0[0],
        cs1[1] - cs0[1],
        used.forwarderGroups(),
        owners,
        r.process() == null ? null : jfr);
  }

  /** The owners of the event loops' sampled code, in the table's order. */
  private static final List<String> OWNERS = List.of("our code", "Netty", "the JDK", "other");

  /**
   * CPU per statement by where it went, one column per window: the kernel (system time of every
   * thread), the event loops' user time split by the owner of the sampled code, the JIT compilers,
   * the JVM's other threads (GC, VM), the rest; HAProxy's own code; and the server's CPU beside it,
   * which shows what fewer backend connections save the server.
   */
  private static String shares(List<Column> columns) {
    StringBuilder b = new StringBuilder("| CPU per statement, µs (share of the forwarder's) |");
    StringBuilder rule = new StringBuilder("|---|");
    for (Column c : columns) {
      b.append(' ').append(c.name()).append(", ").append(c.window().clients()).append(" |");
      rule.append("---:|");
    }
    b.append('\n').append(rule).append('\n');
    row(b, "kernel (system time, all threads)", columns, w -> w.systemMillis());
    for (String owner : OWNERS) {
      row(
          b,
          "event loops, user: " + owner,
          columns,
          w -> {
            long samples = w.owners().values().stream().mapToLong(Long::longValue).sum();
            return samples == 0
                ? -1
                : Math.round(
                    groupMillis(w, "event loops", 0)
                        * w.owners().getOrDefault(owner, 0L)
                        / (double) samples);
          });
    }
    row(b, "JIT compilers, user", columns, w -> groupMillis(w, "JIT compilers", -1));
    row(b, "GC and VM threads, user", columns, w -> groupMillis(w, "JVM", -1));
    row(b, "other threads, user", columns, w -> groupMillis(w, "other", -1));
    row(b, "HAProxy's own code, user", columns, w -> groupMillis(w, "haproxy", -1));
    row(b, "**forwarder, total**", columns, w -> w.userMillis() + w.systemMillis());
    row(b, "server (mariadbd), user + system", columns, Window::serverMillis);
    row(b, "clients (the load generator's JVM), user + system", columns, Window::clientsMillis);
    row(
        b,
        "forwarder + server + clients",
        columns,
        w ->
            w.serverMillis() < 0 || w.clientsMillis() < 0
                ? -1
                : w.userMillis() + w.systemMillis() + w.serverMillis() + w.clientsMillis());
    row(b, "machine busy (all processes, both cores)", columns, Window::machineBusyMillis);
    b.append(
        "\nThe event loops' user time is split by each window's execution samples in those threads"
            + " (top frame's package: `dev.mysqlpool` ours, `io.netty` Netty, `java.`/`sun.`/`jdk.`"
            + " the JDK); HAProxy's windows are not recorded. A blank cell: not measured or not"
            + " that forwarder's. The last rows' shares are of the forwarder's total, so above 100%:"
            + " on a machine busy throughout, QPS is its 2 cores' time over the machine's CPU per"
            + " statement, and the forwarder's part of that is what a forwarder can change.\n");
    return b.toString();
  }

  /** A group's user time, or {@code none} when the forwarder has no thread of that group. */
  private static long groupMillis(Window w, String group, long none) {
    long[] g = w.threadGroups().get(group);
    return g == null ? none : g[0];
  }

  private interface Millis {
    /** Milliseconds of the window, or -1 for a blank cell. */
    long of(Window w);
  }

  private static void row(StringBuilder b, String label, List<Column> columns, Millis millis) {
    b.append("| ").append(label).append(" |");
    for (Column c : columns) {
      Window w = c.window();
      long ms = millis.of(w);
      if (ms < 0) {
        b.append(" |");
        continue;
      }
      double total = w.perStatementMicros(w.userMillis() + w.systemMillis());
      double us = w.perStatementMicros(ms);
      b.append(
          String.format(Locale.ROOT, " %.1f (%.0f%%) |", us, 100 * us / Math.max(1e-9, total)));
    }
    b.append('\n');
  }

  private static String wakeups(List<Window> proxy, List<Window> transaction, List<Window> ha) {
    StringBuilder b =
        new StringBuilder(
            "| per statement | clients | QPS | CPU µs user | CPU µs system | server CPU µs |");
    StringBuilder rule = new StringBuilder("|---|---:|---:|---:|---:|---:|");
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
    for (Window w : ha) {
      wakeupRow(b, "haproxy (tcp)", w);
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
            "| %s | %d | %.0f | %.1f | %.1f | %s |",
            name,
            w.clients(),
            w.qps(),
            w.perStatementMicros(w.userMillis()),
            w.perStatementMicros(w.systemMillis()),
            w.serverMillis() < 0
                ? "-"
                : String.format(Locale.ROOT, "%.1f", w.perStatementMicros(w.serverMillis()))));
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
