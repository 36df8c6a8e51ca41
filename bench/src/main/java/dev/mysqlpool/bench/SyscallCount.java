package dev.mysqlpool.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * System calls of one process over a window, counted by the kernel's syscall tracepoints with
 * {@code perf stat -p} (in-kernel counters: no tracing of each call, so the process runs at its
 * usual speed, which {@code strace} would not let it). Covers every transport: NIO's read/write,
 * Netty's native epoll, HAProxy's recv/send, which {@code /proc/<pid>/io} counts only in part.
 * Needs {@code perf} and tracepoint access (root or {@code perf_event_paranoid} ≤ 1 with tracefs).
 */
final class SyscallCount implements AutoCloseable {
  /** The families reported, each the sum of its system calls' entry tracepoints. */
  static final Map<String, List<String>> FAMILIES;

  static {
    Map<String, List<String>> m = new LinkedHashMap<>();
    m.put("reads", List.of("read", "readv", "recvfrom", "recvmsg"));
    m.put("writes", List.of("write", "writev", "sendto", "sendmsg"));
    m.put("epoll waits", List.of("epoll_wait", "epoll_pwait", "epoll_pwait2"));
    m.put("futex", List.of("futex"));
    // A scheduled task's deadline moving (Netty's epoll loop re-arms its timerfd) and a channel's
    // read interest toggled (epoll_ctl): the two a waiting borrow is suspected of adding.
    m.put("timerfd", List.of("timerfd_settime"));
    m.put("epoll_ctl", List.of("epoll_ctl"));
    m.put("io_uring_enter", List.of("io_uring_enter"));
    FAMILIES = Collections.unmodifiableMap(m);
  }

  private static final String ALL = "raw_syscalls:sys_enter";

  private final Process perf;
  private final Path out;

  private SyscallCount(Process perf, Path out) {
    this.perf = perf;
    this.out = out;
  }

  /** Starts counting the system calls of {@code pid}; null when perf cannot (not installed). */
  static SyscallCount start(long pid, Path workDir) {
    if (!Procs.onPath("perf")) {
      return null;
    }
    StringBuilder events = new StringBuilder(ALL);
    FAMILIES
        .values()
        .forEach(calls -> calls.forEach(c -> events.append(",syscalls:sys_enter_").append(c)));
    try {
      Path out = Files.createTempFile(workDir, "perf-syscalls-", ".csv");
      Process p =
          new ProcessBuilder(
                  "perf",
                  "stat",
                  "-x",
                  ",",
                  "-o",
                  out.toString(),
                  "-e",
                  events.toString(),
                  "-p",
                  Long.toString(pid))
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      Procs.track(p);
      // perf attaches to the process's threads before it counts; give it that moment.
      Procs.sleep(300);
      return p.isAlive() ? new SyscallCount(p, out) : null;
    } catch (IOException e) {
      return null;
    }
  }

  /**
   * Stops counting (perf writes its counts on SIGINT) and returns the counts by family, plus "all";
   * empty when perf gave none (no tracepoint access).
   */
  Map<String, Long> stop() {
    try {
      new ProcessBuilder("kill", "-INT", Long.toString(perf.pid())).start().waitFor();
      if (!perf.waitFor(10, TimeUnit.SECONDS)) {
        perf.destroyForcibly();
        return Map.of();
      }
      Map<String, Long> byCall = new LinkedHashMap<>();
      for (String line : Files.readAllLines(out, StandardCharsets.UTF_8)) {
        String[] f = line.split(",");
        if (f.length < 3 || !f[0].matches("\\d+")) {
          continue;
        }
        byCall.put(f[2].replace("syscalls:sys_enter_", ""), Long.parseLong(f[0]));
      }
      if (!byCall.containsKey(ALL)) {
        return Map.of();
      }
      Map<String, Long> families = new LinkedHashMap<>();
      FAMILIES.forEach(
          (family, calls) ->
              families.put(
                  family, calls.stream().mapToLong(c -> byCall.getOrDefault(c, 0L)).sum()));
      families.put("all", byCall.get(ALL));
      return families;
    } catch (IOException e) {
      throw new UncheckedIOException("while reading perf's counts from " + out, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Map.of();
    }
  }

  @Override
  public void close() {
    if (perf.isAlive()) {
      perf.destroyForcibly();
    }
  }
}
