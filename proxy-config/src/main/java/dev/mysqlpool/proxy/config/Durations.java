package dev.mysqlpool.proxy.config;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as operators write them: {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h}, or {@code
 * 0}.
 */
public final class Durations {
  private static final Pattern FORMAT = Pattern.compile("(\\d+)(ms|s|m|h)");

  private Durations() {}

  /**
   * Parses {@code text}; returns null when it is null or not a duration, so the caller can name the
   * field in its error.
   */
  public static Duration parse(String text) {
    if (text == null) {
      return null;
    }
    String t = text.trim();
    if (t.equals("0")) {
      return Duration.ZERO;
    }
    Matcher m = FORMAT.matcher(t);
    if (!m.matches()) {
      return null;
    }
    try {
      long n = Long.parseLong(m.group(1));
      Duration d =
          switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            default -> Duration.ofHours(n);
          };
      // Every timer takes milliseconds: a value beyond Long.MAX_VALUE ms would throw there instead
      // of being
      // reported with its field.
      d.toMillis();
      return d;
    } catch (NumberFormatException | ArithmeticException e) {
      return null;
    }
  }

  /**
   * The shortest exact spelling of {@code d} in the config's own syntax, so a rendered file reads
   * back equal.
   */
  public static String format(Duration d) {
    long ms = d.toMillis();
    if (ms == 0) {
      return "0";
    }
    if (ms % 3_600_000 == 0) {
      return (ms / 3_600_000) + "h";
    }
    if (ms % 60_000 == 0) {
      return (ms / 60_000) + "m";
    }
    if (ms % 1000 == 0) {
      return (ms / 1000) + "s";
    }
    return ms + "ms";
  }
}
