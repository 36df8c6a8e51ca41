package dev.mysqlpool.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How the proxy's JVM is started: the environment the proxy image sets ({@code JAVA_TOOL_OPTIONS}
 * and its other {@code ENV} lines, read from proxy-runtime/Dockerfile, so the bench runs what the
 * image and the operator's pods run) and command-line flags after it, which override it.
 *
 * <p>The image's class-data-sharing archive is replaced by one written the same way for the bench's
 * jar ({@link #forJar}). One flag stands in for the container: {@code -XX:MaxRAM} makes the JVM
 * size its heap from the operator's default memory limit instead of this machine's RAM, as it does
 * in a pod, where the cgroup limit is the memory it sees. The collector is not left to the JVM's
 * ergonomics, which in a 512Mi container pick Serial and on this machine G1: the image names it.
 */
record ProxyJvm(Map<String, String> env, List<String> flags) {
  /** The operator's default memory limit of a proxy container; the image's figures are for it. */
  static final int CONTAINER_MEMORY_MIB = 512;

  /** The container's memory as the JVM sees it, from {@link #CONTAINER_MEMORY_MIB}. */
  static final String CONTAINER_FLAG = "-XX:MaxRAM=" + CONTAINER_MEMORY_MIB + "m";

  /** The image's Dockerfile, relative to the repository root (bench/run.sh runs from there). */
  static final Path IMAGE_DOCKERFILE = Path.of("proxy-runtime", "Dockerfile");

  /** Where the image keeps its class-data-sharing archive (proxy-runtime/cds-archive.sh). */
  static final String IMAGE_ARCHIVE = "/app/proxy-runtime.jsa";

  private static final Pattern ENV_LINE =
      Pattern.compile("(?m)^ENV ([A-Z_][A-Z0-9_]*)=(?:\"([^\"]*)\"|(\\S+))\\s*$");

  private static final Pattern ENV_TOKEN = Pattern.compile("[A-Z_][A-Z0-9_]*=.*");

  ProxyJvm {
    env = Collections.unmodifiableMap(new LinkedHashMap<>(env));
    flags = List.copyOf(flags);
  }

  /** The image's environment, plus {@link #CONTAINER_FLAG}. */
  static ProxyJvm image() {
    return new ProxyJvm(imageEnv(IMAGE_DOCKERFILE), List.of(CONTAINER_FLAG));
  }

  /** The {@code ENV} lines of a Dockerfile, in order; one {@code KEY=value} per line. */
  static Map<String, String> imageEnv(Path dockerfile) {
    String text;
    try {
      text = Files.readString(dockerfile, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "while reading the proxy image's JVM settings from "
              + dockerfile.toAbsolutePath()
              + " (run the bench from the repository root, as bench/run.sh does)",
          e);
    }
    Map<String, String> env = new LinkedHashMap<>();
    Matcher m = ENV_LINE.matcher(text);
    while (m.find()) {
      env.put(m.group(1), m.group(2) != null ? m.group(2) : m.group(3));
    }
    if (!env.containsKey("JAVA_TOOL_OPTIONS")) {
      throw new IllegalStateException(
          dockerfile
              + " has no line ENV JAVA_TOOL_OPTIONS=\"...\"; the bench runs the proxy with it");
    }
    return env;
  }

  /**
   * A variant of the image's settings for the memory section, from whitespace-separated tokens:
   * {@code @image} stands for the image's environment, {@code KEY=value} with an upper-case key
   * sets an environment variable, anything else is a JVM option of {@code JAVA_TOOL_OPTIONS} (after
   * the image's, when {@code @image} comes first). Without {@code @image} the tokens replace the
   * image's settings: {@code -XX:MaxRAMPercentage=40 -XX:MaxDirectMemorySize=128m} is a former
   * image.
   */
  static ProxyJvm variant(String tokens) {
    ProxyJvm image = image();
    Map<String, String> env = new LinkedHashMap<>();
    List<String> options = new ArrayList<>();
    for (String t : tokens.trim().split("\\s+")) {
      if (t.isEmpty()) {
        continue;
      }
      if (t.equals("@image")) {
        env.putAll(image.env());
        options.addAll(Arrays.asList(image.env().get("JAVA_TOOL_OPTIONS").split("\\s+")));
      } else if (ENV_TOKEN.matcher(t).matches()) {
        env.put(t.substring(0, t.indexOf('=')), t.substring(t.indexOf('=') + 1));
      } else {
        options.add(t);
      }
    }
    env.put("JAVA_TOOL_OPTIONS", String.join(" ", options));
    return new ProxyJvm(env, image.flags());
  }

  /**
   * These settings for the proxy jar at {@code jar}: the image's archive becomes the one next to it
   * ({@code proxy-runtime.jsa}, which bench/run.sh writes with proxy-runtime/cds-archive.sh after
   * building the jar, as the image's build does).
   */
  ProxyJvm forJar(Path jar) {
    String archive = jar.toString().replaceFirst("\\.jar$", "") + ".jsa";
    Map<String, String> mapped = new LinkedHashMap<>();
    env.forEach((k, v) -> mapped.put(k, v.replace(IMAGE_ARCHIVE, archive)));
    if (!mapped.equals(env) && !Files.isRegularFile(Path.of(archive))) {
      throw new IllegalStateException(
          "the proxy image runs with a class-data-sharing archive, and "
              + archive
              + " is missing: run bench/run.sh, which writes it after building the jar"
              + " (proxy-runtime/cds-archive.sh "
              + jar
              + " "
              + archive
              + ")");
    }
    return new ProxyJvm(mapped, flags);
  }

  /** These settings with {@code more} flags after the others. */
  ProxyJvm plus(List<String> more) {
    List<String> all = new ArrayList<>(flags);
    all.addAll(more);
    return new ProxyJvm(env, all);
  }

  /** For the results: the environment as the image states it, then the flags. */
  String describe() {
    StringBuilder b = new StringBuilder();
    env.forEach(
        (k, v) ->
            b.append(b.length() == 0 ? "" : " ").append(k).append("=\"").append(v).append('"'));
    return b + " java " + String.join(" ", flags) + " -jar proxy-runtime.jar";
  }
}
