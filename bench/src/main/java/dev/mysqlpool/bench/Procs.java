package dev.mysqlpool.bench;

import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import dev.mysqlpool.proxy.testsupport.ReplicatedMariaDb;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/** Process facts from {@code /proc} and small process helpers. Linux only; thread-safe. */
final class Procs {
  /** USER_HZ: /proc reports CPU times in these ticks on every Linux the harness targets. */
  private static final long TICKS_PER_SECOND = 100;

  /**
   * Child processes to kill should the harness exit early: an orphaned proxy would hold its port
   * and memory.
   */
  private static final Set<Process> CHILDREN = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(() -> CHILDREN.forEach(Process::destroyForcibly), "bench-children-reaper"));
  }

  private Procs() {}

  /** Registers a long-running child to be killed when the harness exits; returns it. */
  static Process track(Process p) {
    CHILDREN.add(p);
    return p;
  }

  /** VmRSS of a process in KiB, or -1 when it is gone. */
  static long rssKib(long pid) {
    return statusField(pid, "VmRSS:");
  }

  /** VmHWM (peak RSS) of a process in KiB, or -1 when it is gone. */
  static long peakRssKib(long pid) {
    return statusField(pid, "VmHWM:");
  }

  /**
   * A field of {@code /proc/<pid>/status} with its colon, e.g. {@code RssAnon:}, as a number (KiB
   * for the memory fields), or -1 when the process is gone.
   */
  static long statusField(long pid, String field) {
    try {
      for (String line :
          Files.readAllLines(Path.of("/proc/" + pid + "/status"), StandardCharsets.US_ASCII)) {
        if (line.startsWith(field)) {
          return Long.parseLong(line.substring(field.length()).trim().split("\\s+")[0]);
        }
      }
      return -1;
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
  }

  /** User plus system CPU time a process used so far, in milliseconds, or -1 when it is gone. */
  static long cpuMillis(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"), StandardCharsets.US_ASCII);
      // The command name may hold spaces; the fields after its closing parenthesis are fixed.
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14 and 15)
      return ticks * 1000 / TICKS_PER_SECOND;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** {user, system} CPU time of a process so far in milliseconds, or {-1, -1} when it is gone. */
  static long[] cpuSplitMillis(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"), StandardCharsets.US_ASCII);
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return new long[] {
        Long.parseLong(f[11]) * 1000 / TICKS_PER_SECOND,
        Long.parseLong(f[12]) * 1000 / TICKS_PER_SECOND
      };
    } catch (IOException | RuntimeException e) {
      return new long[] {-1, -1};
    }
  }

  /**
   * {busy, total} CPU milliseconds of the whole machine so far, all cores summed, from the first
   * line of {@code /proc/stat} (busy: user, nice, system, irq, softirq, steal; total adds idle and
   * iowait), or {-1, -1}. Differences over a window give how busy the machine was, other users'
   * work included.
   */
  static long[] machineCpuMillis() {
    try {
      String first = Files.readAllLines(Path.of("/proc/stat"), StandardCharsets.US_ASCII).get(0);
      String[] f = first.trim().split("\\s+");
      long busy = 0;
      for (int i : new int[] {1, 2, 3, 6, 7, 8}) {
        busy += Long.parseLong(f[i]);
      }
      long total = busy + Long.parseLong(f[4]) + Long.parseLong(f[5]);
      return new long[] {busy * 1000 / TICKS_PER_SECOND, total * 1000 / TICKS_PER_SECOND};
    } catch (IOException | RuntimeException e) {
      return new long[] {-1, -1};
    }
  }

  /** Server process ids by port, each asked once. */
  private static final Map<Integer, Long> SERVER_PIDS = new ConcurrentHashMap<>();

  /**
   * A server's process id from its pid file, or -1 (its CPU figures then read as not measured).
   * Asked once per server: every storm round wants it, and a connection opened and closed just
   * before a round would be one more the server counts while its thread exits.
   */
  static long serverPid(EmbeddedMariaDb db) {
    return SERVER_PIDS.computeIfAbsent(db.port(), port -> readServerPid(db));
  }

  private static long readServerPid(EmbeddedMariaDb db) {
    try {
      String file = ReplicatedMariaDb.scalar(db, "SELECT @@pid_file");
      return Long.parseLong(Files.readString(Path.of(file)).trim());
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /**
   * Context switches of a process so far, all its threads summed: {voluntary, involuntary} from
   * {@code /proc/<pid>/task/<tid>/status}, or {-1, -1}. A voluntary switch is a thread going to
   * sleep (an event loop waiting for I/O, a lock, a park): the wakeups a request costs.
   */
  static long[] contextSwitches(long pid) {
    long voluntary = 0;
    long involuntary = 0;
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(Path.of("/proc/" + pid + "/task"))) {
      for (Path t : dirs) {
        try {
          for (String line : Files.readAllLines(t.resolve("status"), StandardCharsets.US_ASCII)) {
            if (line.startsWith("voluntary_ctxt_switches:")) {
              voluntary += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
            } else if (line.startsWith("nonvoluntary_ctxt_switches:")) {
              involuntary += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
            }
          }
        } catch (IOException | RuntimeException e) {
          // the thread ended meanwhile
        }
      }
    } catch (IOException e) {
      return new long[] {-1, -1};
    }
    return new long[] {voluntary, involuntary};
  }

  /**
   * {user, system} CPU milliseconds of each thread of a process, keyed by thread id, with the
   * thread's name ({@code comm}, at most 15 characters) in {@code names}. Empty when the process is
   * gone.
   */
  static Map<String, long[]> threadCpuSplitMillis(long pid, Map<String, String> names) {
    Map<String, long[]> cpu = new HashMap<>();
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(Path.of("/proc/" + pid + "/task"))) {
      for (Path t : dirs) {
        try {
          String stat = Files.readString(t.resolve("stat"), StandardCharsets.US_ASCII);
          String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
          cpu.put(
              t.getFileName().toString(),
              new long[] {
                Long.parseLong(f[11]) * 1000 / TICKS_PER_SECOND,
                Long.parseLong(f[12]) * 1000 / TICKS_PER_SECOND
              });
          names.put(
              t.getFileName().toString(),
              Files.readString(t.resolve("comm"), StandardCharsets.UTF_8).trim());
        } catch (IOException | RuntimeException e) {
          // the thread ended meanwhile
        }
      }
    } catch (IOException e) {
      // the process ended
    }
    return cpu;
  }

  /**
   * Waits until a TCP connect to 127.0.0.1:port succeeds, the process dies, or the timeout passes.
   */
  static void awaitPort(Process p, int port, Duration timeout, String what, Path log) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        throw new IllegalStateException(
            what
                + " exited with "
                + p.exitValue()
                + " before listening on port "
                + port
                + "; see "
                + log
                + ":\n"
                + tail(log, 20));
      }
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 500);
        return;
      } catch (IOException e) {
        // Fine-grained: the start-up time of the proxy is measured with this wait.
        sleep(10);
      }
    }
    throw new IllegalStateException(
        what
            + " did not listen on port "
            + port
            + " within "
            + timeout.toSeconds()
            + "s; see "
            + log
            + ":\n"
            + tail(log, 20));
  }

  /** SIGTERM, then SIGKILL after {@code grace}. */
  static void stop(Process p, Duration grace) {
    if (p == null || !p.isAlive()) {
      return;
    }
    CHILDREN.remove(p);
    p.destroy();
    try {
      if (!p.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
    }
  }

  /**
   * Runs a short command and returns its combined output; fails when it does not exit 0 within the
   * timeout.
   */
  static String run(Duration timeout, String... cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(
            String.join(" ", cmd) + " did not finish within " + timeout.toSeconds() + "s");
      }
      String text = new String(out, StandardCharsets.UTF_8);
      if (p.exitValue() != 0) {
        throw new IllegalStateException(
            String.join(" ", cmd) + " exited with " + p.exitValue() + ": " + text);
      }
      return text;
    } catch (IOException e) {
      throw new IllegalStateException(
          "while running " + String.join(" ", cmd) + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running " + String.join(" ", cmd), e);
    }
  }

  /** Whether an executable of this name is on the PATH. */
  static boolean onPath(String name) {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String dir : path.split(":")) {
      if (Files.isExecutable(Path.of(dir, name))) {
        return true;
      }
    }
    return false;
  }

  static String tail(Path file, int lines) {
    try {
      String[] all = Files.readString(file, StandardCharsets.UTF_8).split("\n");
      return String.join(
          "\n", java.util.List.of(all).subList(Math.max(0, all.length - lines), all.length));
    } catch (IOException e) {
      return "(cannot read " + file + ")";
    }
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
