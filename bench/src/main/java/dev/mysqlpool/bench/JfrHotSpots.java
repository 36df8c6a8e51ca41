package dev.mysqlpool.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

/**
 * Summarises a flight recording of the proxy: execution samples by thread, the methods on top of
 * the stack (self time), the methods anywhere on the stack (total time, each counted once per
 * sample), GC pauses and allocation by class. The same data as {@code jfr print --events
 * jdk.ExecutionSample}, counted.
 */
final class JfrHotSpots {
  private JfrHotSpots() {}

  static String summarize(Path recording, int top) throws IOException {
    Map<String, Long> self = new HashMap<>();
    Map<String, Long> total = new HashMap<>();
    Map<String, Long> threads = new HashMap<>();
    Map<String, Long> allocation = new HashMap<>();
    Map<String, Long> nativeThreads = new HashMap<>();
    long samples = 0;
    long nativeSamples = 0;
    long gcCount = 0;
    double gcPauseMillis = 0;
    double allocationTotal = 0;
    try (RecordingFile file = new RecordingFile(recording)) {
      while (file.hasMoreEvents()) {
        RecordedEvent e = file.readEvent();
        String type = e.getEventType().getName();
        switch (type) {
          case "jdk.ExecutionSample" -> {
            RecordedStackTrace st = e.getStackTrace();
            if (st == null || st.getFrames().isEmpty()) {
              continue;
            }
            samples++;
            String thread =
                e.getThread("sampledThread") == null
                    ? "?"
                    : e.getThread("sampledThread").getJavaName();
            threads.merge(
                thread == null
                    ? "?"
                    : thread.replaceAll("-\\d+$", "-N").replaceAll("\\d+-\\d+$", "N-N"),
                1L,
                Long::sum);
            List<RecordedFrame> frames = st.getFrames();
            self.merge(name(frames.get(0)), 1L, Long::sum);
            Set<String> seen = new HashSet<>();
            for (RecordedFrame f : frames) {
              String n = name(f);
              if (seen.add(n)) {
                total.merge(n, 1L, Long::sum);
              }
            }
          }
          case "jdk.NativeMethodSample" -> {
            nativeSamples++;
            RecordedStackTrace st = e.getStackTrace();
            if (st != null && !st.getFrames().isEmpty()) {
              nativeThreads.merge(name(st.getFrames().get(0)), 1L, Long::sum);
            }
          }
          case "jdk.GarbageCollection" -> {
            gcCount++;
            gcPauseMillis += e.getDuration("sumOfPauses").toNanos() / 1e6;
          }
          case "jdk.ObjectAllocationSample" -> {
            long w = e.getLong("weight");
            allocationTotal += w;
            allocation.merge(e.getClass("objectClass").getName(), w, Long::sum);
          }
          default -> {
            // not summarised
          }
        }
      }
    }
    StringBuilder out = new StringBuilder();
    out.append("Execution samples: ")
        .append(samples)
        .append("; GCs: ")
        .append(gcCount)
        .append(String.format(", total pause %.1f ms", gcPauseMillis))
        .append(String.format("; sampled allocation %.1f MiB%n%n", allocationTotal / (1 << 20)));
    table(out, "Samples by thread", threads, samples, top);
    table(out, "Self (top frame)", self, samples, top);
    table(out, "Total (anywhere on the stack)", total, samples, top);
    Map<String, Long> own = new HashMap<>();
    total.forEach(
        (k, v) -> {
          if (k.startsWith("p.")) {
            own.put(k, v);
          }
        });
    table(out, "Total, the proxy's own methods (p. = dev.mysqlpool.proxy.)", own, samples, top);
    out.append(
            "Native-method samples (threads parked in native code: selector waits, socket I/O): ")
        .append(nativeSamples)
        .append("\n\n");
    table(out, "Native samples by method", nativeThreads, nativeSamples, 8);
    table(
        out,
        "Allocation by class (sampled weight)",
        allocation,
        (long) Math.max(1, allocationTotal),
        10);
    return out.toString();
  }

  /**
   * Execution samples of the proxy's event-loop threads by whose code was on top of the stack: our
   * code ({@code dev.mysqlpool}), Netty's, the JDK's, other; largest first.
   */
  static Map<String, Long> eventLoopOwners(Path recording) throws IOException {
    Map<String, Long> owners = new HashMap<>();
    try (RecordingFile file = new RecordingFile(recording)) {
      while (file.hasMoreEvents()) {
        RecordedEvent e = file.readEvent();
        if (!e.getEventType().getName().equals("jdk.ExecutionSample")) {
          continue;
        }
        RecordedStackTrace st = e.getStackTrace();
        String thread =
            e.getThread("sampledThread") == null
                ? null
                : e.getThread("sampledThread").getJavaName();
        if (st == null
            || st.getFrames().isEmpty()
            || thread == null
            || !thread.startsWith("multiThreadIoEventLoopGroup")) {
          continue;
        }
        owners.merge(owner(st.getFrames().get(0)), 1L, Long::sum);
      }
    }
    Map<String, Long> sorted = new LinkedHashMap<>();
    owners.entrySet().stream()
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .forEach(en -> sorted.put(en.getKey(), en.getValue()));
    return sorted;
  }

  private static String owner(RecordedFrame f) {
    String cls = f.getMethod().getType().getName();
    if (cls.startsWith("dev.mysqlpool.")) {
      return "our code";
    }
    if (cls.startsWith("io.netty.")) {
      return "Netty";
    }
    if (cls.startsWith("java.") || cls.startsWith("sun.") || cls.startsWith("jdk.")) {
      return "the JDK";
    }
    return "other";
  }

  private static void table(
      StringBuilder out, String title, Map<String, Long> counts, long all, int top) {
    out.append("| ").append(title).append(" | share |\n|---|---:|\n");
    List<Map.Entry<String, Long>> sorted = new ArrayList<>(counts.entrySet());
    sorted.sort(Map.Entry.<String, Long>comparingByValue().reversed());
    for (Map.Entry<String, Long> e : sorted.subList(0, Math.min(top, sorted.size()))) {
      out.append("| `")
          .append(e.getKey())
          .append("` | ")
          .append(String.format("%.1f%%", 100.0 * e.getValue() / Math.max(1, all)))
          .append(" |\n");
    }
    out.append('\n');
  }

  private static String name(RecordedFrame f) {
    String cls = f.getMethod().getType().getName();
    int dot = cls.lastIndexOf('.');
    String pkg = dot < 0 ? "" : cls.substring(0, dot);
    // Shorten well-known packages so tables stay readable.
    pkg =
        pkg.replace("io.netty.", "n.")
            .replace("dev.mysqlpool.proxy.", "p.")
            .replace("java.", "j.")
            .replace("sun.nio.", "s.n.");
    return (pkg.isEmpty() ? "" : pkg + ".")
        + cls.substring(dot + 1)
        + "."
        + f.getMethod().getName();
  }
}
