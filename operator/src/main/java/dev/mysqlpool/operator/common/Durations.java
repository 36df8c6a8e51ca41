package dev.mysqlpool.operator.common;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations in the proxy config's own syntax ({@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h},
 * or {@code 0}). The operator may not depend on proxy-runtime, so this mirrors its parser; a test
 * checks both agree.
 */
public final class Durations {
  /** The schema pattern for a duration field of the MySQLPool spec; zero is allowed. */
  public static final String PATTERN = "^(0|[0-9]{1,9}(ms|s|m|h))$";

  private static final Pattern FORMAT = Pattern.compile("(\\d{1,9})(ms|s|m|h)");

  private Durations() {}

  /**
   * Parses {@code text}; returns null when it is not a duration so the caller can name the field.
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
    long n = Long.parseLong(m.group(1));
    switch (m.group(2)) {
      case "ms":
        return Duration.ofMillis(n);
      case "s":
        return Duration.ofSeconds(n);
      case "m":
        return Duration.ofMinutes(n);
      default:
        return Duration.ofHours(n);
    }
  }

  /** The shortest exact spelling of {@code d}, so a rendered file reads back equal. */
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
