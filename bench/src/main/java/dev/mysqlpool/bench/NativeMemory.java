package dev.mysqlpool.bench;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A proxy's Native Memory Tracking summary ({@code jcmd <pid> VM.native_memory summary}, which
 * needs the JVM started with {@code -XX:NativeMemoryTracking=summary}): committed KiB by category,
 * in the JVM's order, and the total. Netty's direct buffers count under "Other".
 */
record NativeMemory(Map<String, Long> committedKib, long totalKib) {
  /** The flag that makes the JVM keep the figures (it costs a little memory itself). */
  static final String FLAG = "-XX:NativeMemoryTracking=summary";

  private static final Pattern TOTAL =
      Pattern.compile("(?m)^Total: reserved=(\\d+)KB, committed=(\\d+)KB");
  private static final Pattern CATEGORY =
      Pattern.compile("(?m)^-\\s+(.+?) \\(reserved=(\\d+)KB, committed=(\\d+)KB\\)");

  NativeMemory {
    committedKib = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(committedKib));
  }

  /** Asks the proxy for its summary; an empty one (total -1) when the JVM does not track. */
  static NativeMemory of(long pid) {
    try {
      return parse(
          Procs.run(
              Duration.ofSeconds(30), "jcmd", Long.toString(pid), "VM.native_memory", "summary"));
    } catch (IllegalStateException e) {
      return new NativeMemory(Map.of(), -1);
    }
  }

  static NativeMemory parse(String summary) {
    Matcher total = TOTAL.matcher(summary);
    if (!total.find()) {
      return new NativeMemory(Map.of(), -1);
    }
    Map<String, Long> byCategory = new LinkedHashMap<>();
    Matcher m = CATEGORY.matcher(summary);
    while (m.find()) {
      byCategory.put(m.group(1).trim(), Long.parseLong(m.group(3)));
    }
    return new NativeMemory(byCategory, Long.parseLong(total.group(2)));
  }

  long committedKib(String category) {
    return committedKib.getOrDefault(category, 0L);
  }
}
