package dev.mysqlpool.proxy.backend;

import java.util.List;

/**
 * The statements a lag check sends and how their answers read as a {@link ReplicaLag}.
 *
 * <ul>
 *   <li>MySQL and MariaDB: {@code SHOW REPLICA STATUS} (MariaDB 10.5.1+, MySQL 8.0.22+), or {@code
 *       SHOW SLAVE STATUS} where the server answers the first with a syntax error (1064). The lag
 *       is {@code Seconds_Behind_Master} ({@code Seconds_Behind_Source} on MySQL 8.0.22+), and only
 *       when both replication threads run: NULL, a stopped SQL thread or an IO thread that is not
 *       connected (its source is down: it cannot know what it misses) make it unknown. Only the
 *       first row is read: a MariaDB multi-source replica is judged by its default connection, a
 *       MySQL multi-channel replica by its first channel.
 *   <li>Aurora MySQL (the server has {@code @@aurora_server_id}): readers share the writer's
 *       storage and have no binlog replication, so {@code SHOW REPLICA STATUS} is empty there; the
 *       lag is {@code REPLICA_LAG_IN_MILLISECONDS} of this instance's row in {@code
 *       information_schema.replica_host_status}.
 *   <li>An empty {@code SHOW REPLICA STATUS} elsewhere means the server replicates from nowhere: it
 *       is not a replica (never set up, or detached by {@code RESET REPLICA ALL}, e.g. after a
 *       failover) and can be any distance behind, read-only or not. Its lag is unknown and it
 *       serves no reads: calling it 0 would serve stale rows with no bound, which is the one thing
 *       {@code maxReplicationLag} promises against. (Galera and Group Replication members, which
 *       replicate without a source row here, are not supported as readers.)
 * </ul>
 */
final class ReplicaStatus {
  static final String AURORA_PROBE = "SELECT @@aurora_server_id";
  static final String SHOW_REPLICA = "SHOW REPLICA STATUS";
  static final String SHOW_SLAVE = "SHOW SLAVE STATUS";

  /**
   * MariaDB 10.0+: one row per source connection, sorted by name, so the default connection (named
   * '') comes first; the form with {@code Gtid_Slave_Pos}.
   */
  static final String SHOW_ALL_SLAVES = "SHOW ALL SLAVES STATUS";

  static final String AURORA_LAG =
      "SELECT REPLICA_LAG_IN_MILLISECONDS FROM information_schema.replica_host_status"
          + " WHERE SERVER_ID = @@aurora_server_id";

  /** Error 1064, a syntax error: the server predates {@code SHOW REPLICA STATUS}. */
  static final String SYNTAX_ERROR = "1064";

  /** Error 1193, Unknown system variable: not Aurora. */
  static final String UNKNOWN_VARIABLE = "1193";

  private static final String ACCESS_DENIED = "1227";

  private ReplicaStatus() {}

  /** The lag in the first row of {@code SHOW REPLICA STATUS} or {@code SHOW SLAVE STATUS}. */
  static ReplicaLag fromShowStatus(List<String> columns, List<String> row) {
    if (row == null || columns == null) {
      return ReplicaLag.unknown(
          "not replicating: SHOW REPLICA STATUS is empty (no source configured)");
    }
    if (row.size() != columns.size()) {
      return ReplicaLag.unknown(
          "SHOW REPLICA STATUS sent " + row.size() + " values for " + columns.size() + " columns");
    }
    int sql = index(columns, "Slave_SQL_Running", "Replica_SQL_Running");
    int io = index(columns, "Slave_IO_Running", "Replica_IO_Running");
    int behind = index(columns, "Seconds_Behind_Master", "Seconds_Behind_Source");
    if (sql < 0 || io < 0 || behind < 0) {
      return ReplicaLag.unknown("SHOW REPLICA STATUS has no Seconds_Behind_Master column");
    }
    if (!"Yes".equals(row.get(sql))) {
      return ReplicaLag.unknown(
          "replication SQL thread not running ("
              + columns.get(sql)
              + "="
              + row.get(sql)
              + lastError(columns, row, "Last_SQL_Error")
              + ")");
    }
    if (!"Yes".equals(row.get(io))) {
      return ReplicaLag.unknown(
          "replication IO thread not running ("
              + columns.get(io)
              + "="
              + row.get(io)
              + lastError(columns, row, "Last_IO_Error")
              + ")");
    }
    String seconds = row.get(behind);
    if (seconds == null) {
      return ReplicaLag.unknown(columns.get(behind) + " is NULL");
    }
    try {
      return ReplicaLag.ofMillis(Long.parseLong(seconds.trim()) * 1000)
          .withApplied(applied(columns, row));
    } catch (NumberFormatException e) {
      return ReplicaLag.unknown(columns.get(behind) + " is not a number: " + seconds);
    }
  }

  /**
   * What the replica has applied, for read-your-writes: MySQL's {@code Executed_Gtid_Set},
   * MariaDB's {@code Gtid_Slave_Pos}; empty when neither is there or GTIDs are off.
   */
  private static GtidPosition applied(List<String> columns, List<String> row) {
    int i = index(columns, "Executed_Gtid_Set", "Gtid_Slave_Pos");
    if (i < 0) {
      return GtidPosition.EMPTY;
    }
    try {
      return GtidPosition.parse(row.get(i));
    } catch (IllegalArgumentException e) {
      return GtidPosition.EMPTY;
    }
  }

  /** The lag in the row of {@link #AURORA_LAG}. */
  static ReplicaLag fromAurora(List<String> row) {
    if (row == null || row.isEmpty()) {
      return ReplicaLag.unknown(
          "this Aurora instance has no row in information_schema.replica_host_status");
    }
    String millis = row.get(0);
    if (millis == null) {
      return ReplicaLag.unknown("REPLICA_LAG_IN_MILLISECONDS is NULL");
    }
    try {
      return ReplicaLag.ofMillis(Math.round(Double.parseDouble(millis.trim())));
    } catch (NumberFormatException e) {
      return ReplicaLag.unknown("REPLICA_LAG_IN_MILLISECONDS is not a number: " + millis);
    }
  }

  /** Why the lag is unknown when the server refused {@code sql} with {@code error}. */
  static ReplicaLag refused(String sql, String error) {
    return ReplicaLag.unknown(
        "the server refused "
            + sql
            + ": "
            + error
            + (error.startsWith(ACCESS_DENIED)
                ? " (the backend account needs REPLICATION CLIENT on MySQL, REPLICA MONITOR on"
                    + " MariaDB)"
                : ""));
  }

  private static String lastError(List<String> columns, List<String> row, String name) {
    int i = index(columns, name);
    String e = i < 0 ? null : row.get(i);
    return e == null || e.isBlank() ? "" : ": " + e;
  }

  private static int index(List<String> columns, String... names) {
    for (String n : names) {
      int i = columns.indexOf(n);
      if (i >= 0) {
        return i;
      }
    }
    return -1;
  }
}
