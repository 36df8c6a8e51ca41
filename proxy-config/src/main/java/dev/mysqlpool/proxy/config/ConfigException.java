package dev.mysqlpool.proxy.config;

import java.util.List;

/** A config file the proxy refuses to start with; every message names the field and the fix. */
public final class ConfigException extends RuntimeException {
  private final List<String> problems;

  public ConfigException(List<String> problems) {
    super(format(problems));
    this.problems = List.copyOf(problems);
  }

  /**
   * One line per problem, each starting with the field path, e.g. {@code pool.maxConnections: ...}.
   */
  public List<String> problems() {
    return problems;
  }

  private static String format(List<String> problems) {
    StringBuilder sb = new StringBuilder("invalid proxy configuration:");
    for (String p : problems) {
      sb.append("\n  - ").append(p);
    }
    return sb.toString();
  }
}
