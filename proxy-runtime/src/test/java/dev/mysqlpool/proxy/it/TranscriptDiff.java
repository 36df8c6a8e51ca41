package dev.mysqlpool.proxy.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Compares the transcripts of many clients with a reference transcript and explains the differences readably: clients
 * with the same transcript are grouped, and for each group the message shows the first differing line with a few lines
 * of context from both sides, then every differing line (step, reference value, this value). Transcripts have one
 * line per step, so line numbers align.
 */
final class TranscriptDiff {
  private static final int CONTEXT = 3;
  private static final int MAX_LISTED = 60;

  private TranscriptDiff() {}

  /**
   * Null when every client's transcript equals {@code reference}; otherwise the explanation, and every distinct
   * transcript is written to {@code dir} (when not null) as {@code <way>-<n>.txt} next to {@code direct.txt}.
   */
  static String explain(String way, List<String> reference, Map<Integer, List<String>> clients, Path dir) {
    Map<List<String>, List<Integer>> variants = new LinkedHashMap<>();
    for (Map.Entry<Integer, List<String>> e : clients.entrySet()) {
      if (!e.getValue().equals(reference)) {
        variants.computeIfAbsent(e.getValue(), k -> new ArrayList<>()).add(e.getKey());
      }
    }
    if (variants.isEmpty()) {
      return null;
    }
    int differing = variants.values().stream().mapToInt(List::size).sum();
    StringBuilder out = new StringBuilder();
    out.append(way).append(": ").append(differing).append(" of ").append(clients.size())
        .append(" clients' transcripts differ from the direct run (").append(variants.size())
        .append(" distinct variant(s)); every client must observe exactly what it observes directly on the server");
    int n = 0;
    for (Map.Entry<List<String>, List<Integer>> v : variants.entrySet()) {
      n++;
      List<String> other = v.getKey();
      out.append("\n\n=== variant ").append(n).append(": clients ").append(names(v.getValue())).append(" ===");
      if (dir != null) {
        Path file = write(dir, way + "-" + n + ".txt", other);
        write(dir, "direct.txt", reference);
        out.append("\n(full transcripts: ").append(file).append(" vs ").append(dir.resolve("direct.txt"))
            .append(')');
      }
      List<Integer> diffs = new ArrayList<>();
      for (int i = 0; i < Math.max(reference.size(), other.size()); i++) {
        if (!at(reference, i).equals(at(other, i))) {
          diffs.add(i);
        }
      }
      int first = diffs.get(0);
      out.append("\nfirst difference at line ").append(first + 1).append(" of ").append(reference.size())
          .append(" (direct) / ").append(other.size()).append(" (").append(way).append(")");
      out.append("\n--- direct:");
      context(out, reference, first);
      out.append("\n--- ").append(way).append(':');
      context(out, other, first);
      out.append("\n--- all ").append(diffs.size()).append(" differing lines:");
      for (int k = 0; k < Math.min(diffs.size(), MAX_LISTED); k++) {
        int i = diffs.get(k);
        out.append("\n  line ").append(i + 1)
            .append("\n    direct: ").append(at(reference, i))
            .append("\n    ").append(way).append(": ").append(at(other, i));
      }
      if (diffs.size() > MAX_LISTED) {
        out.append("\n  ... and ").append(diffs.size() - MAX_LISTED).append(" more");
      }
    }
    return out.toString();
  }

  private static void context(StringBuilder out, List<String> lines, int index) {
    for (int i = Math.max(0, index - CONTEXT); i <= Math.min(lines.size() - 1, index + CONTEXT); i++) {
      out.append('\n').append(i == index ? ">> " : "   ").append(String.format("%4d ", i + 1)).append(lines.get(i));
    }
    if (index >= lines.size()) {
      out.append("\n>> (transcript ends after line ").append(lines.size()).append(')');
    }
  }

  private static String at(List<String> lines, int i) {
    return i < lines.size() ? lines.get(i) : "(missing)";
  }

  private static String names(List<Integer> clients) {
    StringBuilder sb = new StringBuilder();
    for (int c : clients) {
      sb.append(sb.length() == 0 ? "" : ", ").append("c").append(c);
    }
    return sb.toString();
  }

  /** Writes {@code lines} to {@code dir/name}; returns the file, or a note when it could not be written. */
  static Path write(Path dir, String name, List<String> lines) {
    Path file = dir.resolve(name);
    try {
      Files.createDirectories(dir);
      Files.write(file, lines, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return Path.of("(could not write " + file + ": " + e + ")");
    }
    return file;
  }
}
