package dev.mysqlpool.proxy.config;

import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Whether and how statements are split between the writer and the readers.
 *
 * @param readWriteSplit on: reads may go to a {@link ProxyConfig.BackendRole#READER}, everything
 *     else goes to the one {@link ProxyConfig.BackendRole#WRITER}; off: every statement goes to the
 *     user's backend
 * @param maxReplicationLag a reader further behind its source than this gets no reads; whole
 *     seconds (what {@code Seconds_Behind_Master} reports), 1s to 1h
 * @param readYourWrites whether a client's reads after its own write must see that write
 * @param readYourWritesWait how long a reader may be waited for to apply the client's write ({@code
 *     MASTER_GTID_WAIT}) before the read goes to the writer instead; 0: never wait
 * @param rules checked in order before the statement classifier, first match wins; at most {@link
 *     #MAX_RULES}
 */
public record Routing(
    boolean readWriteSplit,
    Duration maxReplicationLag,
    ReadYourWrites readYourWrites,
    Duration readYourWritesWait,
    List<Rule> rules) {
  public static final Duration DEFAULT_MAX_REPLICATION_LAG = Duration.ofSeconds(5);
  public static final ReadYourWrites DEFAULT_READ_YOUR_WRITES = ReadYourWrites.SESSION;
  public static final Duration DEFAULT_READ_YOUR_WRITES_WAIT = Duration.ofSeconds(1);
  public static final int MAX_RULES = 100;

  /** No split: every statement goes to the user's backend, as before routing existed. */
  public static final Routing OFF =
      new Routing(false, DEFAULT_MAX_REPLICATION_LAG, DEFAULT_READ_YOUR_WRITES, List.of());

  public Routing {
    rules = List.copyOf(rules);
  }

  /** A routing with the default {@code readYourWritesWait}. */
  public Routing(
      boolean readWriteSplit,
      Duration maxReplicationLag,
      ReadYourWrites readYourWrites,
      List<Rule> rules) {
    this(readWriteSplit, maxReplicationLag, readYourWrites, DEFAULT_READ_YOUR_WRITES_WAIT, rules);
  }

  /** What a client's reads see of its own writes when reads go to replicas. */
  public enum ReadYourWrites {
    /** Nothing is promised: a read right after a write may miss it on a lagging reader. */
    NONE("none"),
    /** After a client's write, its own reads see it; other clients' reads are not held back. */
    SESSION("session");

    private final String configName;

    ReadYourWrites(String configName) {
      this.configName = configName;
    }

    /** The name in the config file. */
    public String configName() {
      return configName;
    }

    /** The value with this config name, or null. */
    public static ReadYourWrites named(String name) {
      for (ReadYourWrites r : values()) {
        if (r.configName.equals(name)) {
          return r;
        }
      }
      return null;
    }
  }

  /**
   * A routing rule: a statement whose text (comments included) contains a match of {@code match}
   * goes to {@code to}, whatever the classifier would say. Java regular expressions, searched
   * anywhere in the text ({@code ^} anchors at its start), case-sensitive unless the pattern says
   * {@code (?i)}.
   *
   * <p>Two rules are equal when their patterns have the same source and flags: {@link Pattern}
   * itself compares by identity, and a reloaded file must compare equal to the running one.
   */
  public record Rule(Pattern match, RouteTarget to) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Rule r
          && r.to == to
          && r.match.pattern().equals(match.pattern())
          && r.match.flags() == match.flags();
    }

    @Override
    public int hashCode() {
      return 31 * match.pattern().hashCode() + to.hashCode();
    }

    @Override
    public String toString() {
      return "Rule[match=" + match.pattern() + ", to=" + to.configName() + "]";
    }
  }

  /** Where a {@link Rule} sends the statements it matches. */
  public enum RouteTarget {
    /** The writer, as every statement that is not a safe read. */
    WRITER("writer"),
    /** A reader, subject to its replication lag and read-your-writes like any read. */
    READER("reader");

    private final String configName;

    RouteTarget(String configName) {
      this.configName = configName;
    }

    /** The name in the config file. */
    public String configName() {
      return configName;
    }

    /** The target with this config name, or null. */
    public static RouteTarget named(String name) {
      for (RouteTarget t : values()) {
        if (t.configName.equals(name)) {
          return t;
        }
      }
      return null;
    }
  }
}
