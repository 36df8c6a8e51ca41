package dev.mysqlpool.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

/**
 * Where some threads allocate: a flight recording of {@code jdk.ObjectAllocationSample}
 * (unthrottled, with stacks) over one measured phase of {@link AllocationProbe}, summed by
 * allocated class and the first frames of the stack. The sample weights add up to the bytes
 * allocated, so each site's share converts to bytes per statement.
 */
final class AllocationSites {
  /** Frames shown per site: enough to tell which of our calls led to a JDK or Netty allocation. */
  private static final int FRAMES = 7;

  private static final int SITES = 15;

  private final String threadPrefix;
  private Recording recording;
  private Path file;

  AllocationSites(String threadPrefix) {
    this.threadPrefix = threadPrefix;
  }

  void start() throws IOException {
    file = Files.createTempFile("alloc-probe", ".jfr");
    recording = new Recording();
    recording.enable("jdk.ObjectAllocationSample").withStackTrace().with("throttle", "1000000/s");
    recording.start();
  }

  void stop() throws IOException {
    recording.stop();
    recording.dump(file);
    recording.close();
  }

  /** The heaviest sites as a Markdown table, in bytes per statement. */
  String table(long statements) throws IOException {
    Map<String, Long> bySite = new HashMap<>();
    long total = 0;
    try {
      for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
        RecordedThread t = e.getThread("eventThread");
        if (t == null || t.getJavaName() == null || !t.getJavaName().startsWith(threadPrefix)) {
          continue;
        }
        long weight = e.getLong("weight");
        total += weight;
        bySite.merge(site(e), weight, Long::sum);
      }
    } finally {
      Files.deleteIfExists(file);
    }
    List<Map.Entry<String, Long>> sorted = new ArrayList<>(bySite.entrySet());
    sorted.sort((a, b) -> Long.compare(b.getValue(), a.getValue()));
    StringBuilder md =
        new StringBuilder(
            String.format(
                Locale.ROOT,
                "Sampled: %,.0f bytes/statement in all.%n%n| bytes/statement | class | stack |%n"
                    + "|---|---|---|%n",
                (double) total / statements));
    for (Map.Entry<String, Long> site : sorted.subList(0, Math.min(SITES, sorted.size()))) {
      String[] parts = site.getKey().split("\n", 2);
      md.append(
          String.format(
              Locale.ROOT,
              "| %,.1f | %s | %s |%n",
              (double) site.getValue() / statements,
              parts[0],
              parts.length > 1 ? parts[1] : ""));
    }
    return md.toString();
  }

  private static String site(RecordedEvent e) {
    StringBuilder b = new StringBuilder(e.getClass("objectClass").getName()).append('\n');
    RecordedStackTrace stack = e.getStackTrace();
    if (stack != null) {
      List<RecordedFrame> frames = stack.getFrames();
      for (int i = 0; i < Math.min(FRAMES, frames.size()); i++) {
        RecordedFrame f = frames.get(i);
        String type = f.getMethod().getType().getName();
        b.append(i == 0 ? "" : " < ")
            .append(type.substring(type.lastIndexOf('.') + 1))
            .append('.')
            .append(f.getMethod().getName())
            .append(':')
            .append(f.getLineNumber());
      }
    }
    return b.toString();
  }
}
