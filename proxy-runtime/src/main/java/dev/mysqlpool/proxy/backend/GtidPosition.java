package dev.mysqlpool.proxy.backend;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A set of transactions named by global transaction ids, as a server reports them: MariaDB's {@code
 * domain-server-sequence} list ({@code @@last_gtid}, {@code @@gtid_slave_pos}, e.g. {@code
 * 0-1-42,1-2-7}) or MySQL's GTID set ({@code @@gtid_executed}, e.g. {@code
 * 3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7-9}). Read-your-writes asks one question of it: has a
 * replica applied everything a client wrote ({@link #covers})?
 *
 * <p>A MariaDB position {@code d-s-n} stands for the transactions 1..n of domain d: within a domain
 * sequence numbers only grow (replicas run with {@code gtid_strict_mode} in any setup where this
 * matters), so a replica at {@code d-x-m} with m ≥ n has applied it, whichever server id wrote it.
 * Immutable; parsed once per write and per replica check, never per statement.
 */
public final class GtidPosition {
  /** No transaction: covered by every position. */
  public static final GtidPosition EMPTY = new GtidPosition(Map.of());

  /** Per MariaDB domain or MySQL source uuid: sorted, disjoint [first, last] intervals. */
  private final Map<String, long[][]> intervals;

  private GtidPosition(Map<String, long[][]> intervals) {
    this.intervals = intervals;
  }

  /**
   * Parses what a server reported; null, empty or {@code NULL} text is {@link #EMPTY}.
   *
   * @throws IllegalArgumentException when the text is neither form
   */
  public static GtidPosition parse(String text) {
    if (text == null || text.isBlank() || text.equalsIgnoreCase("NULL")) {
      return EMPTY;
    }
    Map<String, List<long[]>> parsed = new HashMap<>();
    for (String item : text.split(",")) {
      String gtid = item.strip();
      if (gtid.isEmpty()) {
        continue;
      }
      int colon = gtid.indexOf(':');
      if (colon >= 0) {
        addMySql(parsed, gtid, colon);
      } else {
        addMariaDb(parsed, gtid);
      }
    }
    Map<String, long[][]> sets = new HashMap<>();
    parsed.forEach((source, list) -> sets.put(source, merged(list)));
    return new GtidPosition(Map.copyOf(sets));
  }

  private static void addMariaDb(Map<String, List<long[]>> parsed, String gtid) {
    String[] parts = gtid.split("-");
    if (parts.length != 3) {
      throw new IllegalArgumentException("not a MariaDB GTID (domain-server-sequence): " + gtid);
    }
    long sequence = number(parts[2], gtid);
    number(parts[1], gtid);
    parsed
        .computeIfAbsent("d" + number(parts[0], gtid), k -> new ArrayList<>())
        .add(new long[] {1, sequence});
  }

  private static void addMySql(Map<String, List<long[]>> parsed, String gtid, int colon) {
    String source = gtid.substring(0, colon).strip().toLowerCase(java.util.Locale.ROOT);
    List<long[]> list = parsed.computeIfAbsent(source, k -> new ArrayList<>());
    for (String range : gtid.substring(colon + 1).split(":")) {
      int dash = range.indexOf('-');
      long first = number(dash < 0 ? range : range.substring(0, dash), gtid);
      long last = dash < 0 ? first : number(range.substring(dash + 1), gtid);
      if (last < first) {
        throw new IllegalArgumentException("not a GTID interval: " + range + " in " + gtid);
      }
      list.add(new long[] {first, last});
    }
  }

  private static long number(String text, String gtid) {
    try {
      return Long.parseUnsignedLong(text.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("not a GTID: " + gtid, e);
    }
  }

  private static long[][] merged(List<long[]> list) {
    list.sort((a, b) -> Long.compare(a[0], b[0]));
    List<long[]> out = new ArrayList<>();
    for (long[] r : list) {
      long[] last = out.isEmpty() ? null : out.get(out.size() - 1);
      if (last != null && r[0] <= last[1] + 1) {
        last[1] = Math.max(last[1], r[1]);
      } else {
        out.add(new long[] {r[0], r[1]});
      }
    }
    return out.toArray(new long[0][]);
  }

  /** Whether this position includes every transaction of {@code other}. */
  public boolean covers(GtidPosition other) {
    for (Map.Entry<String, long[][]> e : other.intervals.entrySet()) {
      long[][] mine = intervals.get(e.getKey());
      for (long[] wanted : e.getValue()) {
        if (!contains(mine, wanted)) {
          return false;
        }
      }
    }
    return true;
  }

  private static boolean contains(long[][] set, long[] wanted) {
    if (set == null) {
      return false;
    }
    for (long[] r : set) {
      if (r[0] <= wanted[0] && wanted[1] <= r[1]) {
        return true;
      }
    }
    return false;
  }

  /** Whether no transaction is named. */
  public boolean isEmpty() {
    return intervals.isEmpty();
  }

  @Override
  public String toString() {
    StringBuilder s = new StringBuilder();
    intervals.forEach(
        (source, ranges) -> {
          for (long[] r : ranges) {
            s.append(s.length() == 0 ? "" : ",").append(source).append(':').append(r[0]);
            s.append('-').append(r[1]);
          }
        });
    return s.toString();
  }
}
