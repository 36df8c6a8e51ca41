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
 * The profile section: a fresh session-mode proxy, warmed up with point selects, then driven with
 * them under a flight recording ({@code jcmd JFR.start settings=profile}). Reports the proxy's CPU
 * and read/write syscalls per statement from {@code /proc}, its CPU by thread group, and the
 * recording's hottest methods ({@link JfrHotSpots}); keeps the {@code .jfr} file. BenchMain runs it
 * when a target was missed, or always with {@code --profile always}.
 */
final class ProxyProfile {
  private ProxyProfile() {}

  /**
   * Runs the recording against {@code db}'s sbtest1 and returns the section as Markdown.
   *
   * @param why the heading's reason, e.g. "a target was missed"
   */
  static String run(BenchMain.Options o, EmbeddedMariaDb db, int clients, String why)
      throws Exception {
    StringBuilder md = new StringBuilder("\n## Profile of the proxy (" + why + ")\n\n");
    Path jfr = o.workDir().resolve("proxy-profile.jfr");
    Files.deleteIfExists(jfr);
    int seconds = o.seconds() * 2;
    int warmupSeconds = Math.max(20, o.warmup());
    try (ProxyProcess p =
        ProxyProcess.start(
            o.proxyJar(),
            o.workDir(),
            "profiled",
            db,
            "maxConnections: 64, maxIdle: 0, acquireTimeout: 30s",
            "",
            List.of())) {
      LoadGenerator gen = new LoadGenerator(o.rows());
      // Warm the JIT first, so the recording shows the steady state rather than start-up and
      // compilation. A fresh JVM's C2 compiler threads still burn about as much CPU as the event
      // loops after 5 s: warm longer.
      gen.run(
          BenchMain.url(p.port()),
          EmbeddedMariaDb.APP_USER,
          EmbeddedMariaDb.APP_PASSWORD,
          Workload.POINT_SELECT,
          clients,
          warmupSeconds * 1000L,
          1);
      p.startRecording("bench");
      long[] cpu0 = Procs.cpuSplitMillis(p.pid());
      long[] io0 = Procs.ioSyscalls(p.pid());
      Map<String, String> threadNames = new LinkedHashMap<>();
      Map<String, Long> threads0 = Procs.threadCpuMillis(p.pid(), threadNames);
      Result r =
          gen.run(
              BenchMain.url(p.port()),
              EmbeddedMariaDb.APP_USER,
              EmbeddedMariaDb.APP_PASSWORD,
              Workload.POINT_SELECT,
              clients,
              1000,
              seconds * 1000L);
      long[] cpu1 = Procs.cpuSplitMillis(p.pid());
      long[] io1 = Procs.ioSyscalls(p.pid());
      Map<String, Long> threads1 = Procs.threadCpuMillis(p.pid(), threadNames);
      p.dumpRecording("bench", jfr);
      // The load generator's window excludes its own warm-in second, so per-statement figures use
      // the CPU and syscalls of the whole run over the statements of the whole run, estimated from
      // the measured rate.
      double statements = Math.max(1, r.qps() * (seconds + 1));
      md.append(
          String.format(
              Locale.ROOT,
              "JFR (`settings=profile`, started with `jcmd JFR.start` after a %d s warm-up)"
                  + " on the proxy during %d s of point selects at %d clients: %.0f qps. Proxy CPU in that time: user %d"
                  + " ms, system %d ms, i.e. about %.0f us user + %.0f us system per statement; read-family syscalls %.2f"
                  + " and write-family syscalls %.2f per statement (`/proc/<pid>/io`, which counts read/readv/write/writev"
                  + " but not recv/send: complete for the NIO transport, writes only for Netty's native epoll transport)."
                  + " Recording: `%s` (`jfr summary`, `jfr print --events jdk.ExecutionSample`).%n%n",
              warmupSeconds,
              seconds,
              clients,
              r.qps(),
              cpu1[0] - cpu0[0],
              cpu1[1] - cpu0[1],
              (cpu1[0] - cpu0[0]) * 1000.0 / statements,
              (cpu1[1] - cpu0[1]) * 1000.0 / statements,
              (io1[0] - io0[0]) / statements,
              (io1[1] - io0[1]) / statements,
              jfr.toAbsolutePath()));
      md.append(threadGroups(threadNames, threads0, threads1)).append('\n');
      md.append(JfrHotSpots.summarize(jfr, 25));
    }
    return md.toString();
  }

  /**
   * CPU by thread group from /proc: robust where JFR's sampler skips threads that are in native
   * code or the VM.
   */
  private static String threadGroups(
      Map<String, String> names, Map<String, Long> before, Map<String, Long> after) {
    Map<String, Long> byGroup = new LinkedHashMap<>();
    after.forEach(
        (tid, ms) ->
            byGroup.merge(
                names.get(tid).replaceAll("\\d+", "N"),
                ms - before.getOrDefault(tid, 0L),
                Long::sum));
    StringBuilder b =
        new StringBuilder(
            "| proxy thread group (/proc comm) | CPU ms in the window | share |\n"
                + "|---|---:|---:|\n");
    long cpuAll = Math.max(1, byGroup.values().stream().mapToLong(Long::longValue).sum());
    byGroup.entrySet().stream()
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .limit(10)
        .forEach(
            e ->
                b.append(
                    String.format(
                        Locale.ROOT,
                        "| `%s` | %d | %.1f%% |%n",
                        e.getKey(),
                        e.getValue(),
                        100.0 * e.getValue() / cpuAll)));
    return b.toString();
  }
}
