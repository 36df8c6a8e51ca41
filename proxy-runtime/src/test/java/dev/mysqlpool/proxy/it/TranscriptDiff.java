package dev.mysqlpool.proxy.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Compares the transcripts of many clients with a reference transcript and explains the differences
 * readably: first every differing line over all clients (the direct value, then each value seen
 * instead and by how many clients), then, clients with the same transcript grouped, the first
 * differing line of the first few groups with a few lines of context from both sides. Transcripts
 * have one line per step, so line numbers align.
 */
final class TranscriptDiff {
  private static final int CONTEXT = 3;
  private static final int MAX_LISTED = 80;
  private static final int MAX_VALUES_PER_LINE = 4;
  private static final int MAX_VARIANTS_SHOWN = 3;

  private TranscriptDiff() {}

  /**
   * Null when every client's transcript equals {@code reference}; otherwise the explanation, and
   * every distinct transcript is written to {@code dir} (when not null) as {@code <way>-<n>.txt}
   * next to {@code direct.txt}.
   */
  static String explain(
      String way, List<String> reference, Map<Integer, List<String>> clients, Path dir) {
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
    out.append(way)
        .append(": ")
        .append(differing)
        .append(" of ")
        .append(clients.size())
        .append(" clients' transcripts differ from the direct run (")
        .append(variants.size())
        .append(
            " distinct variant(s)); every client must observe exactly what it observes directly on the server");
    summary(out, way, reference, variants);
    int n = 0;
    for (Map.Entry<List<String>, List<Integer>> v : variants.entrySet()) {
      n++;
      if (n > MAX_VARIANTS_SHOWN) {
        if (dir != null) {
          write(dir, way + "-" + n + ".txt", v.getKey());
        }
        continue;
      }
      List<String> other = v.getKey();
      out.append("\n\n=== variant ")
          .append(n)
          .append(": clients ")
          .append(names(v.getValue()))
          .append(" ===");
      if (dir != null) {
        Path file = write(dir, way + "-" + n + ".txt", other);
        write(dir, "direct.txt", reference);
        out.append("\n(full transcripts: ")
            .append(file)
            .append(" vs ")
            .append(dir.resolve("direct.txt"))
            .append(')');
      }
      List<Integer> diffs = new ArrayList<>();
      for (int i = 0; i < Math.max(reference.size(), other.size()); i++) {
        if (!at(reference, i).equals(at(other, i))) {
          diffs.add(i);
        }
      }
      int first = diffs.get(0);
      out.append("\nfirst difference at line ")
          .append(first + 1)
          .append(" of ")
          .append(reference.size())
          .append(" (direct) / ")
          .append(other.size())
          .append(" (")
          .append(way)
          .append(")");
      out.append("\n--- direct:");
      context(out, reference, first);
      out.append("\n--- ").append(way).append(':');
      context(out, other, first);
      out.append("\n(").append(diffs.size()).append(" differing lines in this variant)");
    }
    if (variants.size() > MAX_VARIANTS_SHOWN) {
      out.append("\n\n(")
          .append(variants.size() - MAX_VARIANTS_SHOWN)
          .append(" more variants not shown)");
    }
    return out.toString();
  }

  /**
   * Every line that differs in any client: the direct value, then the values seen instead, most
   * frequent first.
   */
  private static void summary(
      StringBuilder out,
      String way,
      List<String> reference,
      Map<List<String>, List<Integer>> variants) {
    Map<Integer, Map<String, Integer>> byLine = new TreeMap<>();
    for (Map.Entry<List<String>, List<Integer>> v : variants.entrySet()) {
      List<String> other = v.getKey();
      for (int i = 0; i < Math.max(reference.size(), other.size()); i++) {
        if (!at(reference, i).equals(at(other, i))) {
          byLine
              .computeIfAbsent(i, k -> new HashMap<>())
              .merge(at(other, i), v.getValue().size(), Integer::sum);
        }
      }
    }
    out.append("\n\n=== ").append(byLine.size()).append(" differing lines over all clients ===");
    int listed = 0;
    for (Map.Entry<Integer, Map<String, Integer>> e : byLine.entrySet()) {
      if (++listed > MAX_LISTED) {
        out.append("\n... and ").append(byLine.size() - MAX_LISTED).append(" more lines");
        break;
      }
      int i = e.getKey();
      out.append("\nline ").append(i + 1).append("\n    direct: ").append(at(reference, i));
      List<Map.Entry<String, Integer>> values = new ArrayList<>(e.getValue().entrySet());
      values.sort(Map.Entry.<String, Integer>comparingByValue().reversed());
      for (int k = 0; k < Math.min(values.size(), MAX_VALUES_PER_LINE); k++) {
        out.append("\n    ")
            .append(way)
            .append(" (")
            .append(values.get(k).getValue())
            .append(" clients): ")
            .append(values.get(k).getKey());
      }
      if (values.size() > MAX_VALUES_PER_LINE) {
        out.append("\n    ... ").append(values.size() - MAX_VALUES_PER_LINE).append(" more values");
      }
    }
  }

  private static void context(StringBuilder out, List<String> lines, int index) {
    for (int i = Math.max(0, index - CONTEXT);
        i <= Math.min(lines.size() - 1, index + CONTEXT);
        i++) {
      out.append('\n')
          .append(i == index ? ">> " : "   ")
          .append(String.format("%4d ", i + 1))
          .append(lines.get(i));
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

  /**
   * Writes {@code lines} to {@code dir/name}; returns the file, or a note when it could not be
   * written.
   */
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
