package dev.mysqlpool.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The proxy's packages form layers (the order proxy-runtime/README.md gives under "How the proxy is
 * built"): a main source file may import only from packages below its own, so there is no cycle and
 * nothing low depends on something high. Read from the sources, so a new import that breaks the
 * order fails here with the file and the import named.
 */
class PackageLayersTest {
  /** Lowest first; packages on one layer may not import each other. */
  private static final Map<String, Integer> LAYER =
      Map.ofEntries(
          Map.entry("config", 0),
          Map.entry("protocol", 1),
          Map.entry("metrics", 1),
          Map.entry("net", 1),
          Map.entry("sql", 2),
          Map.entry("codec", 2),
          Map.entry("tls", 2),
          Map.entry("auth", 3),
          Map.entry("digest", 3),
          Map.entry("stmt", 4),
          Map.entry("backend", 5),
          Map.entry("frontend", 6),
          Map.entry("admin", 7),
          Map.entry("", 8));

  private static final Pattern IMPORT =
      Pattern.compile(
          "^import (?:static )?dev\\.mysqlpool\\.proxy\\.([a-z]+)\\.", Pattern.MULTILINE);

  @Test
  void everyImportPointsToALowerLayer() throws IOException {
    Path root = Path.of("src/main/java/dev/mysqlpool/proxy");
    List<String> violations = new ArrayList<>();
    List<Path> files;
    try (Stream<Path> walk = Files.walk(root)) {
      files = walk.filter(p -> p.toString().endsWith(".java")).toList();
    }
    assertThat(files).as("proxy sources found under %s", root.toAbsolutePath()).isNotEmpty();
    for (Path file : files) {
      String own = root.relativize(file.getParent()).toString().replace('/', '.');
      Integer ownLayer = LAYER.get(own);
      if (ownLayer == null) {
        violations.add(file + ": package '" + own + "' has no layer; add it to LAYER");
        continue;
      }
      Matcher m = IMPORT.matcher(Files.readString(file));
      while (m.find()) {
        String target = m.group(1);
        if (target.equals(own)) {
          continue;
        }
        Integer targetLayer = LAYER.get(target);
        if (targetLayer == null || targetLayer >= ownLayer) {
          violations.add(
              file
                  + " imports "
                  + target
                  + " (layer "
                  + targetLayer
                  + " >= its own "
                  + ownLayer
                  + ")");
        }
      }
    }
    assertThat(violations).as("imports that point up or sideways").isEmpty();
  }
}
