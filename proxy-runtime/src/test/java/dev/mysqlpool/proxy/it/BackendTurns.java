package dev.mysqlpool.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * Runs a check through a transaction-mode proxy with maxConnections 2 once on each of its two
 * backend connections. Two helper clients each start a transaction, which holds both connections;
 * h1 commits, so the connection it held is the only free one while the check runs; h1 starts a
 * transaction again, which can only get that same connection back, and h2 commits, so the check
 * runs on the other one. Which connection the pool picks for a client (its event loop, the most
 * recently used) is the pool's business; this way the check does not depend on it.
 */
final class BackendTurns {
  /** Something a client checks through the proxy. */
  @FunctionalInterface
  interface Check {
    void run() throws SQLException;
  }

  private BackendTurns() {}

  /** Runs {@code check} on one backend connection, then on the other. */
  static void onEach(Connection h1, Connection h2, Check check) throws SQLException {
    long first = beginHolding(h1);
    long second = beginHolding(h2);
    assertThat(first).as("the helpers hold different backend connections").isNotEqualTo(second);
    execute(h1, "COMMIT");
    check.run();
    assertThat(beginHolding(h1))
        .as("h1 again, while h2 holds the other backend connection")
        .isEqualTo(first);
    execute(h2, "COMMIT");
    check.run();
    execute(h1, "COMMIT");
  }

  /**
   * Starts a transaction on {@code helper}, which holds a backend connection until it commits, and
   * returns that connection's id; checks on the way that the helper sees the server's defaults.
   */
  private static long beginHolding(Connection helper) throws SQLException {
    execute(helper, "START TRANSACTION");
    try (Statement s = helper.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT @@SESSION.sql_mode = @@GLOBAL.sql_mode, @@SESSION.time_zone, DATABASE(),"
                    + " @@in_transaction, CONNECTION_ID()")) {
      assertThat(rs.next()).isTrue();
      long backend = rs.getLong(5);
      assertThat(List.of(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)))
          .as("a helper in its transaction on backend %s: server defaults", backend)
          .containsExactly("1", "SYSTEM", "app", "1");
      return backend;
    }
  }

  private static void execute(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }
}
