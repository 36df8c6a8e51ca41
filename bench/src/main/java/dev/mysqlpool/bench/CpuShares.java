package dev.mysqlpool.bench;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * CPU time over a window from {@code /proc}, by where it went: the forwarder's threads by group
 * (event loops, JIT compilers, the JVM's other threads, other; HAProxy is one group), each other
 * process named, and the whole machine. On a 2-core machine shared by clients, forwarder and
 * server, a window whose machine is busy throughout is CPU-bound, and these shares say who spent
 * it.
 */
final class CpuShares {
  /** The proxy's event-loop threads' {@code comm} (Netty's default thread names, cut at 15). */
  private static final String EVENT_LOOP_COMM = "multiThreadIoEv";

  private final long forwarderPid;
  private final Map<String, Long> others;
  private final Map<String, String> names = new LinkedHashMap<>();
  private final Map<String, long[]> threads0;
  private final Map<String, long[]> others0 = new LinkedHashMap<>();
  private final long[] machine0;
  private final long startNanos;

  private CpuShares(long forwarderPid, Map<String, Long> others) {
    this.forwarderPid = forwarderPid;
    this.others = others;
    this.threads0 = Procs.threadCpuSplitMillis(forwarderPid, names);
    others.forEach((name, pid) -> others0.put(name, Procs.cpuSplitMillis(pid)));
    this.machine0 = Procs.machineCpuMillis();
    this.startNanos = System.nanoTime();
  }

  /**
   * Starts a window over {@code forwarderPid} (split by thread group) and {@code others} (name to
   * pid, each taken whole).
   */
  static CpuShares start(long forwarderPid, Map<String, Long> others) {
    return new CpuShares(forwarderPid, others);
  }

  /** What the window used: {user, system} milliseconds by group and by process. */
  record Used(
      double seconds,
      Map<String, long[]> forwarderGroups,
      Map<String, long[]> others,
      long machineBusyMillis,
      long machineTotalMillis) {
    long forwarder(int column) {
      return forwarderGroups.values().stream().mapToLong(g -> g[column]).sum();
    }

    long group(String group, int column) {
      long[] g = forwarderGroups.get(group);
      return g == null ? 0 : g[column];
    }

    long other(String name) {
      long[] o = others.get(name);
      return o == null || o[0] < 0 ? -1 : o[0] + o[1];
    }

    double machineBusy() {
      return machineBusyMillis / (double) Math.max(1, machineTotalMillis);
    }
  }

  Used stop() {
    double seconds = (System.nanoTime() - startNanos) / 1e9;
    Map<String, long[]> threads1 = Procs.threadCpuSplitMillis(forwarderPid, names);
    Map<String, long[]> groups = new LinkedHashMap<>();
    threads1.forEach(
        (tid, t1) -> {
          long[] t0 = threads0.getOrDefault(tid, new long[2]);
          long[] g = groups.computeIfAbsent(threadGroup(names.get(tid)), k -> new long[2]);
          g[0] += t1[0] - t0[0];
          g[1] += t1[1] - t0[1];
        });
    Map<String, long[]> used = new LinkedHashMap<>();
    others.forEach(
        (name, pid) -> {
          long[] a = others0.get(name);
          long[] b = Procs.cpuSplitMillis(pid);
          used.put(
              name,
              a[0] < 0 || b[0] < 0 ? new long[] {-1, -1} : new long[] {b[0] - a[0], b[1] - a[1]});
        });
    long[] machine1 = Procs.machineCpuMillis();
    return new Used(seconds, groups, used, machine1[0] - machine0[0], machine1[1] - machine0[1]);
  }

  /**
   * A thread's group by its {@code comm}: event loops, JIT compilers, the JVM's other threads (GC,
   * VM), or other.
   */
  static String threadGroup(String comm) {
    if (comm == null) {
      return "other";
    }
    if (comm.startsWith(EVENT_LOOP_COMM)) {
      return "event loops";
    }
    if (comm.contains("Compiler")) {
      return "JIT compilers";
    }
    if (comm.startsWith("GC ")
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
}
