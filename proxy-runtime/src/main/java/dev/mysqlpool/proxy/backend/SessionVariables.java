package dev.mysqlpool.proxy.backend;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The session variables transaction mode carries from one backend connection to the next, for one
 * server family. A session's values are a {@code String[]} in {@link #names()} order, read with
 * {@link #snapshotQuery()} (index 0 of that query's row is the default database, the variables
 * follow) and replayed with {@link #restoreStatement}.
 *
 * <p>Values are compared and replayed as the server prints them in a SELECT, so a snapshot taken on
 * one connection restores exactly on another. The order matters: a character set assignment resets
 * the matching collation, so the collation comes after it.
 */
public final class SessionVariables {
  /**
   * Names a client may SET without being pinned, besides the ones in {@link #names()}: aliases and
   * SET forms.
   */
  private static final Set<String> SET_FORMS =
      Set.of(
          "names",
          "character set",
          "charset",
          "transaction",
          "tx_isolation",
          "transaction_isolation",
          "tx_read_only",
          "transaction_read_only");

  private static final List<String> COMMON =
      List.of(
          "autocommit",
          "sql_mode",
          "time_zone",
          "character_set_client",
          "character_set_results",
          "character_set_connection",
          "collation_connection",
          "sql_select_limit",
          "group_concat_max_len",
          "net_read_timeout",
          "net_write_timeout",
          "div_precision_increment",
          "lc_time_names",
          "session_track_system_variables",
          "session_track_schema",
          "session_track_transaction_info");
  private static final Set<String> NUMERIC =
      Set.of(
          "autocommit",
          "sql_select_limit",
          "group_concat_max_len",
          "net_read_timeout",
          "net_write_timeout",
          "div_precision_increment",
          "session_track_schema",
          "tx_read_only",
          "transaction_read_only");

  /** The two families: the transaction variables renamed (MySQL 8.0.3+, MariaDB 11.1.1+) or not. */
  private static final SessionVariables RENAMED =
      new SessionVariables("transaction_isolation", "transaction_read_only");

  private static final SessionVariables LEGACY =
      new SessionVariables("tx_isolation", "tx_read_only");

  /** How many distinct sets of values {@link #canonical} shares; more are used as they come. */
  static final int CANONICAL_SETS = 256;

  private final String[] names;
  private final boolean[] numeric;
  private final String snapshotQuery;

  /**
   * Sets of values by content, each shared by every session that has it (see {@link #canonical}).
   */
  private final ConcurrentHashMap<List<String>, String[]> canonical = new ConcurrentHashMap<>();

  /** One family's variables; {@link #forServer} gives the two shared ones. */
  SessionVariables(String isolation, String readOnly) {
    String[] n = COMMON.toArray(new String[COMMON.size() + 2]);
    n[COMMON.size()] = isolation;
    n[COMMON.size() + 1] = readOnly;
    this.names = n;
    this.numeric = new boolean[n.length];
    StringBuilder q = new StringBuilder("SELECT DATABASE()");
    for (int i = 0; i < n.length; i++) {
      numeric[i] = NUMERIC.contains(n[i]);
      q.append(", @@SESSION.").append(n[i]);
    }
    this.snapshotQuery = q.append(", LAST_INSERT_ID()").toString();
  }

  /**
   * The variables for a server by its handshake version: the isolation and read-only variables were
   * renamed in MySQL 8.0.3 and MariaDB 11.1.1 (the old names are gone from MySQL 8.0).
   */
  public static SessionVariables forServer(String serverVersion) {
    return renamedTransactionVariables(serverVersion) ? RENAMED : LEGACY;
  }

  /**
   * The one shared array with these values: sessions whose variables are equal then hold the same
   * array, and {@link #restoreStatement} sees they need no SET by reference, where comparing every
   * value's text on every transaction-mode lend was 8% of the event loops' samples at 128 clients.
   * The arrays are never changed once made. At most {@link #CANONICAL_SETS} sets are kept, so
   * clients setting ever new values cost no memory; beyond that {@code values} itself is returned.
   */
  public String[] canonical(String[] values) {
    List<String> key = Arrays.asList(values);
    String[] shared = canonical.get(key);
    if (shared != null) {
      return shared;
    }
    if (canonical.size() >= CANONICAL_SETS) {
      return values;
    }
    shared = canonical.putIfAbsent(key, values);
    return shared != null ? shared : values;
  }

  static boolean renamedTransactionVariables(String serverVersion) {
    String v = serverVersion.startsWith("5.5.5-") ? serverVersion.substring(6) : serverVersion;
    int[] parts = new int[3];
    int part = 0;
    for (int i = 0; i < v.length() && part < 3; i++) {
      char c = v.charAt(i);
      if (Character.isDigit(c)) {
        parts[part] = parts[part] * 10 + (c - '0');
      } else if (c == '.') {
        part++;
      } else {
        break;
      }
    }
    boolean mariadb = serverVersion.contains("MariaDB");
    long version = parts[0] * 1_000_000L + parts[1] * 1_000L + parts[2];
    return mariadb ? version >= 11_001_001L : version >= 8_000_003L;
  }

  public String[] names() {
    return names.clone();
  }

  public int size() {
    return names.length;
  }

  /** A SELECT of the default database, every carried variable in order, and LAST_INSERT_ID(). */
  public String snapshotQuery() {
    return snapshotQuery;
  }

  /**
   * Whether a client may SET this variable (lower case, without scope prefix) and still move
   * between backends.
   */
  public boolean carries(String name) {
    return SET_FORMS.contains(name) || Arrays.asList(names).contains(name);
  }

  /**
   * One SET statement that turns a connection whose variables are {@code current} into one whose
   * variables are {@code target}, or null when they already agree.
   *
   * @throws IllegalArgumentException for a value that cannot be written back safely
   */
  public String restoreStatement(String[] target, String[] current) {
    if (target == current) {
      return null;
    }
    StringBuilder sql = null;
    for (int i = 0; i < names.length; i++) {
      if (Objects.equals(target[i], current[i])) {
        continue;
      }
      sql = sql == null ? new StringBuilder("SET ") : sql.append(", ");
      sql.append("@@SESSION.").append(names[i]).append(" = ").append(literal(i, target[i]));
    }
    return sql == null ? null : sql.toString();
  }

  private String literal(int i, String value) {
    if (value == null) {
      return "NULL";
    }
    if (numeric[i]) {
      for (int k = 0; k < value.length(); k++) {
        if (!Character.isDigit(value.charAt(k))) {
          throw new IllegalArgumentException(names[i] + " has a non-numeric value: " + value);
        }
      }
      return value.isEmpty() ? "DEFAULT" : value;
    }
    if (value.indexOf('\\') >= 0) {
      // Whether a backslash escapes depends on sql_mode NO_BACKSLASH_ESCAPES, which this very
      // statement may change.
      throw new IllegalArgumentException(names[i] + " contains a backslash: " + value);
    }
    return "'" + value.replace("'", "''") + "'";
  }

  @Override
  public String toString() {
    return "SessionVariables" + Arrays.toString(names).toLowerCase(Locale.ROOT);
  }
}
