package dev.mysqlpool.proxy.testsupport;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Two embedded MariaDB servers replicating with GTIDs: a primary ({@code server_id=1}) and a
 * replica ({@code server_id=2}), each on its own 127.0.0.1 port and datadir, both with {@code
 * log_bin}, {@code log_slave_updates}, {@code gtid_strict_mode=ON} and {@code binlog_format=ROW};
 * the replica runs {@code read_only=ON} and replicates with {@code MASTER_USE_GTID=slave_pos} as
 * the account {@value #REPL_USER}. The {@link EmbeddedMariaDb#APP_USER} account reads on both, and
 * writes on the primary only: its {@code READ_ONLY ADMIN} privilege (part of ALL PRIVILEGES on
 * MariaDB 11.4, and what lets an account write despite read_only) is revoked on the primary and
 * that revoke replicates, so a write that reaches the replica fails with 1290 instead of diverging
 * it. Changes made to accounts on the primary reach the replica the same way.
 *
 * <p>Both servers start in parallel (about 1.5 s on an idle 2-core machine, 3-6 s with other builds
 * running, once the binaries are unpacked, measured by {@link #startupMillis()}). {@link #close()}
 * stops both and deletes their datadirs.
 *
 * <p>What MariaDB 11.4.5 reports in {@code SHOW REPLICA STATUS} (checked by hand and by {@code
 * ReplicatedMariaDbIT}):
 *
 * <ul>
 *   <li>{@code Seconds_Behind_Master} is {@code NULL} whenever either thread is not running: SQL
 *       thread stopped ({@code Slave_IO_Running=Yes, Slave_SQL_Running=No}), IO thread stopped, and
 *       IO thread {@code Connecting} (primary down) alike. A lag check must read NULL as "unknown"
 *       and never as 0.
 *   <li>With {@code MASTER_DELAY=n} ({@link #delay(Duration)}) both threads keep running; while the
 *       SQL thread waits for an event, {@code Seconds_Behind_Master} grows from 0 to n second by
 *       second ({@code SQL_Remaining_Delay} counts down, the state reads "Waiting until
 *       MASTER_DELAY seconds after master executed event"), then drops to 0 once the event is
 *       applied and nothing else waits. So a steady stream of writes keeps a delayed replica about
 *       n seconds behind with a real, non-NULL number.
 *   <li>A server that replicates from nowhere returns an empty result (no row), not an error.
 *   <li>{@code CHANGE MASTER} defaults to {@code MASTER_SSL=1} with certificate verification on
 *       11.4: against a primary started with {@code --skip-ssl} the IO thread fails with 2026, so
 *       this fixture sets {@code MASTER_SSL=0}. {@code MASTER_CONNECT_RETRY} is 1 s instead of the
 *       default 60 s, so a restarted primary is found again at once.
 * </ul>
 *
 * <p>Methods are thread-safe as far as the servers are; use one pair per test class.
 */
public final class ReplicatedMariaDb implements AutoCloseable {
  /** The replication account on the primary. */
  public static final String REPL_USER = "repl";

  private static final String REPL_PASSWORD = "repl-secret";
  private static final Logger log = LoggerFactory.getLogger(ReplicatedMariaDb.class);
  private static final Duration CATCH_UP_TIMEOUT = Duration.ofSeconds(30);

  private final EmbeddedMariaDb primary;
  private final EmbeddedMariaDb replica;
  private final long startupMillis;

  private ReplicatedMariaDb(EmbeddedMariaDb primary, EmbeddedMariaDb replica, long startupMillis) {
    this.primary = primary;
    this.replica = replica;
    this.startupMillis = startupMillis;
  }

  /**
   * Starts both servers in parallel, sets up replication and returns once the replica caught up.
   */
  public static ReplicatedMariaDb start() {
    long begin = System.nanoTime();
    CompletableFuture<EmbeddedMariaDb> p =
        CompletableFuture.supplyAsync(() -> EmbeddedMariaDb.startNew(serverArgs(1)));
    CompletableFuture<EmbeddedMariaDb> r =
        CompletableFuture.supplyAsync(
            () ->
                EmbeddedMariaDb.startNew(
                    concat(serverArgs(2), "--read-only=ON", "--relay-log=relay-bin")));
    EmbeddedMariaDb primary;
    EmbeddedMariaDb replica;
    try {
      primary = p.join();
    } catch (CompletionException e) {
      r.thenAccept(EmbeddedMariaDb::close);
      throw new IllegalStateException("the primary did not start: " + e.getCause(), e.getCause());
    }
    try {
      replica = r.join();
    } catch (CompletionException e) {
      primary.close();
      throw new IllegalStateException("the replica did not start: " + e.getCause(), e.getCause());
    }
    ReplicatedMariaDb pair =
        new ReplicatedMariaDb(primary, replica, (System.nanoTime() - begin) / 1_000_000);
    try {
      pair.connect();
      pair.awaitCaughtUp();
    } catch (RuntimeException | Error e) {
      pair.close();
      throw e;
    }
    log.info(
        "primary {} and replica {} replicating, ready in {} ms",
        primary.port(),
        replica.port(),
        pair.startupMillis);
    return pair;
  }

  private static List<String> serverArgs(int serverId) {
    return List.of(
        "--server-id=" + serverId,
        "--log-bin=mysql-bin",
        "--log-slave-updates=ON",
        "--gtid-strict-mode=ON",
        "--binlog-format=ROW");
  }

  private static List<String> concat(List<String> a, String... more) {
    List<String> all = new java.util.ArrayList<>(a);
    all.addAll(List.of(more));
    return all;
  }

  /**
   * The replication account and the app account's rights on the primary; on the replica its own
   * start-up history (each server made the app account locally, in its own binlog: a GTID {@code
   * 0-2-n} would stop the primary's {@code 0-1-1} under gtid_strict_mode) is reset before it
   * replicates the primary from the start.
   */
  private void connect() {
    primary.execute(
        "CREATE USER '" + REPL_USER + "'@'127.0.0.1' IDENTIFIED BY '" + REPL_PASSWORD + "'",
        "GRANT REPLICATION SLAVE ON *.* TO '" + REPL_USER + "'@'127.0.0.1'",
        "REVOKE READ_ONLY ADMIN ON *.* FROM '" + EmbeddedMariaDb.APP_USER + "'@'%'",
        "REVOKE READ_ONLY ADMIN ON *.* FROM '" + EmbeddedMariaDb.APP_USER + "'@'localhost'");
    replica.execute(
        "RESET MASTER",
        "SET GLOBAL gtid_slave_pos = ''",
        "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT="
            + primary.port()
            + ", MASTER_USER='"
            + REPL_USER
            + "', MASTER_PASSWORD='"
            + REPL_PASSWORD
            + "', MASTER_USE_GTID=slave_pos, MASTER_SSL=0, MASTER_CONNECT_RETRY=1",
        "START SLAVE");
  }

  /** The primary: writable, {@code server_id=1}. Do not close it directly. */
  /**
   * A proxy config splitting reads and writes over this pair: the primary as the writer, the
   * replica as the reader, the application account, ports the kernel picks.
   *
   * @param poolFields the {@code pool:} section's fields, e.g. {@code mode: transaction,
   *     maxConnections: 2}
   * @param routingFields the {@code routing:} section's fields
   */
  public String splitProxyYaml(String poolFields, String routingFields) {
    return "listen: {host: 127.0.0.1, port: 0}\n"
        + "admin: {host: 127.0.0.1, port: 0}\n"
        + "backends:\n"
        + "  - {name: writer, host: 127.0.0.1, port: "
        + primary().port()
        + ", role: writer}\n"
        + "  - {name: replica, host: 127.0.0.1, port: "
        + replica().port()
        + ", role: reader}\n"
        + "users:\n  - {name: "
        + EmbeddedMariaDb.APP_USER
        + ", password: "
        + EmbeddedMariaDb.APP_PASSWORD
        + "}\n"
        + "pool: {"
        + poolFields
        + "}\n"
        + "routing: {"
        + routingFields
        + "}\n";
  }

  public EmbeddedMariaDb primary() {
    return primary;
  }

  /** The replica: {@code read_only=ON}, {@code server_id=2}. Do not close it directly. */
  public EmbeddedMariaDb replica() {
    return replica;
  }

  /** How long {@link #start()} took, both servers and the first catch-up included. */
  public long startupMillis() {
    return startupMillis;
  }

  /**
   * Waits (at most 30 s) until the replica has applied everything the primary has binlogged: its
   * {@code gtid_slave_pos} reaches the primary's {@code gtid_binlog_pos} in every domain. The
   * replica itself waits ({@code MASTER_GTID_WAIT}), so there is no polling, and the fixture needs
   * no test library (the bench uses it too).
   *
   * @throws IllegalStateException with the replica's status when it does not catch up in time
   */
  public void awaitCaughtUp() {
    String target = scalar(primary, "SELECT @@global.gtid_binlog_pos");
    String waited =
        scalar(
            replica,
            "SELECT MASTER_GTID_WAIT('" + target + "', " + CATCH_UP_TIMEOUT.toSeconds() + ")");
    if (!"0".equals(waited)) {
      throw new IllegalStateException(
          "the replica did not reach the primary's GTID position "
              + target
              + " within "
              + CATCH_UP_TIMEOUT.toSeconds()
              + "s; SHOW REPLICA STATUS: "
              + replicaStatus());
    }
  }

  /** Whether GTID position {@code pos} has, in every domain of {@code target}, at least its seq. */
  static boolean reached(String pos, String target) {
    Map<String, Long> have = seqByDomain(pos);
    for (Map.Entry<String, Long> want : seqByDomain(target).entrySet()) {
      Long seq = have.get(want.getKey());
      if (seq == null || seq < want.getValue()) {
        return false;
      }
    }
    return true;
  }

  private static Map<String, Long> seqByDomain(String pos) {
    Map<String, Long> out = new HashMap<>();
    if (pos == null || pos.isBlank()) {
      return out;
    }
    for (String gtid : pos.split(",")) {
      String[] parts = gtid.trim().split("-");
      out.put(parts[0], Long.parseLong(parts[2]));
    }
    return out;
  }

  /** {@code STOP SLAVE SQL_THREAD}: the replica keeps receiving events but applies none. */
  public void stopSqlThread() {
    replica.execute("STOP SLAVE SQL_THREAD");
  }

  /** {@code START SLAVE SQL_THREAD}: the replica applies what it received meanwhile. */
  public void startSqlThread() {
    replica.execute("START SLAVE SQL_THREAD");
  }

  /**
   * {@code CHANGE MASTER TO MASTER_DELAY=n} (whole seconds; zero turns it off): each event is
   * applied no sooner than n seconds after the primary executed it, with both threads running.
   * Restarts replication to change it, as MariaDB requires.
   */
  public void delay(Duration delay) {
    replica.execute(
        "STOP SLAVE", "CHANGE MASTER TO MASTER_DELAY=" + delay.toSeconds(), "START SLAVE");
  }

  /** Kills the replica's server process with SIGKILL. */
  public void killReplica() {
    replica.crash();
  }

  /**
   * Starts the replica again on its datadir and port, after {@link #killReplica()}; its replication
   * threads start by themselves and resume from its {@code gtid_slave_pos}.
   */
  public void restartReplica() {
    replica.start();
  }

  /** The replica's {@code SHOW REPLICA STATUS} row by column name; empty when it has none. */
  public Map<String, String> replicaStatus() {
    Map<String, String> row = new LinkedHashMap<>();
    try (Connection c = replica.rootConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SHOW REPLICA STATUS")) {
      if (rs.next()) {
        ResultSetMetaData md = rs.getMetaData();
        for (int i = 1; i <= md.getColumnCount(); i++) {
          row.put(md.getColumnLabel(i), rs.getString(i));
        }
      }
      return row;
    } catch (SQLException e) {
      throw new IllegalStateException(
          "while reading SHOW REPLICA STATUS on " + replica + ": " + e.getMessage(), e);
    }
  }

  /** The first column of the first row of {@code sql} run as root on {@code db}. */
  public static String scalar(EmbeddedMariaDb db, String sql) {
    try (Connection c = db.rootConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      return rs.next() ? rs.getString(1) : null;
    } catch (SQLException e) {
      throw new IllegalStateException(
          "while running " + sql + " on " + db + ": " + e.getMessage(), e);
    }
  }

  /** Stops and deletes the replica, then the primary. */
  @Override
  public void close() {
    try {
      replica.close();
    } finally {
      primary.close();
    }
  }

  @Override
  public String toString() {
    return "primary " + primary + " with replica " + replica;
  }
}
