package dev.mysqlpool.proxy.digest;

import java.util.Comparator;

/** The orders the digest view can be read in, largest first, by their names in the query string. */
public enum DigestSort {
  TOTAL_TIME("total_time", Comparator.comparingLong(DigestRow::totalTimeMicros)),
  COUNT("count", Comparator.comparingLong(DigestRow::count)),
  MAX_TIME("max_time", Comparator.comparingLong(DigestRow::maxTimeMicros)),
  AVG_TIME("avg_time", Comparator.comparingLong(DigestRow::avgTimeMicros)),
  ROWS_SENT("rows_sent", Comparator.comparingLong(DigestRow::rowsSent)),
  ERRORS("errors", Comparator.comparingLong(DigestRow::errors));

  private final String parameter;
  private final Comparator<DigestRow> order;

  DigestSort(String parameter, Comparator<DigestRow> ascending) {
    this.parameter = parameter;
    // Ties in a stable order, so that two reads of the same counts list the same rows.
    this.order =
        ascending
            .reversed()
            .thenComparing(DigestRow::digest)
            .thenComparing(r -> r.backend() == null ? "" : r.backend())
            .thenComparing(r -> r.user() == null ? "" : r.user());
  }

  /** The name in {@code ?sort=}. */
  public String parameter() {
    return parameter;
  }

  Comparator<DigestRow> order() {
    return order;
  }

  /** The sort of this name, or null. */
  public static DigestSort named(String name) {
    for (DigestSort s : values()) {
      if (s.parameter.equals(name)) {
        return s;
      }
    }
    return null;
  }

  /** The names, for an error message: "total_time, count, ... or errors". */
  public static String names() {
    StringBuilder sb = new StringBuilder();
    DigestSort[] all = values();
    for (int i = 0; i < all.length; i++) {
      sb.append(i == 0 ? "" : i == all.length - 1 ? " or " : ", ").append(all[i].parameter);
    }
    return sb.toString();
  }
}
