package dev.mysqlpool.proxy.backend;

/**
 * How far a replica is behind its source, as the last lag check found: a number of milliseconds, or
 * unknown with the reason. Unknown is never read as 0: a replica whose SQL thread stopped reports
 * NULL and can be any distance behind.
 *
 * @param millis the lag, or -1 when unknown
 * @param unknownBecause why the lag is unknown (e.g. {@code Slave_SQL_Running=No}); null when known
 * @param applied the transactions the replica has applied ({@code Gtid_Slave_Pos} on MariaDB,
 *     {@code Executed_Gtid_Set} on MySQL); empty when the server reports none
 */
record ReplicaLag(long millis, String unknownBecause, GtidPosition applied) {
  /** Before the first check. */
  static final ReplicaLag NOT_CHECKED = unknown("not checked yet");

  static ReplicaLag ofMillis(long millis) {
    return new ReplicaLag(Math.max(0, millis), null, GtidPosition.EMPTY);
  }

  static ReplicaLag unknown(String why) {
    return new ReplicaLag(-1, why, GtidPosition.EMPTY);
  }

  /** This lag, with the replica's applied position. */
  ReplicaLag withApplied(GtidPosition position) {
    return new ReplicaLag(millis, unknownBecause, position);
  }

  boolean known() {
    return millis >= 0;
  }

  /** The lag as a user reads it: {@code 12s}, {@code 0.25s}, or {@code unknown}. */
  String text() {
    if (!known()) {
      return "unknown";
    }
    if (millis % 1000 == 0) {
      return millis / 1000 + "s";
    }
    return String.format(java.util.Locale.ROOT, "%.3fs", millis / 1000.0).replaceAll("0+s$", "s");
  }
}
