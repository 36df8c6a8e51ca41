package dev.mysqlpool.proxy.it;

import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** What tests ask the server directly about a client's work: is it running, does it hold a lock. */
final class ServerProbes {
  private ServerProbes() {}

  /** Statements the server is running whose text contains {@code marker}, other than this one. */
  static int running(EmbeddedMariaDb db, String marker) throws SQLException {
    try (Connection root = db.rootConnection()) {
      return scalar(
          root,
          "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE '%"
              + marker
              + "%' AND ID <> CONNECTION_ID()");
    }
  }

  /**
   * Whether a direct connection can lock row id = 1 of {@code table} at once; it is unlocked again
   * before return.
   */
  static boolean rowLockFree(EmbeddedMariaDb db, String table) throws SQLException {
    try (Connection c = db.appConnection();
        Statement s = c.createStatement()) {
      c.setAutoCommit(false);
      try {
        s.executeQuery("SELECT id FROM " + table + " WHERE id = 1 FOR UPDATE NOWAIT").close();
        return true;
      } catch (SQLException e) {
        if (e.getErrorCode() == 1205) { // lock wait timeout, which NOWAIT reports at once
          return false;
        }
        throw e;
      } finally {
        c.rollback();
      }
    }
  }

  /** The first column of the first row, as an int. */
  static int scalar(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getInt(1);
    }
  }
}
