package dev.mysqlpool.proxy.it;

import static org.awaitility.Awaitility.await;

import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Savepoint;
import java.sql.Statement;
import java.sql.Types;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import org.awaitility.core.ConditionTimeoutException;

/**
 * What one client does on one JDBC connection for {@code SessionSemanticsIT}: which driver and URL
 * options it connects with, and the steps it runs, each of which renders what a program could
 * observe (rows as text, update counts, generated keys, warnings, errors) as exactly one transcript
 * line, so transcripts of different runs align line by line.
 *
 * <p>SQL and names in a script say {@code _cX} wherever a per-client name belongs (tables, lock
 * names); a client replaces it with its own suffix such as {@code _c17}, and the transcript turns
 * that suffix back into {@code _cX}, so the transcripts of 50 concurrent clients compare equal to
 * that of a single direct one.
 *
 * <p>Some steps run on a side connection: a MariaDB Connector/J connection straight to the server
 * (never through the proxy, so it cannot wait for a pooled backend), used to see what other
 * sessions see (committed rows, held locks) and to change rows under an open transaction. Steps
 * marked "after close" run on it once the client disconnected.
 *
 * <p>Instances are immutable once built and may be run by many threads at once; each run has its
 * own {@link Client}.
 */
final class SessionScript {
  /** The JDBC driver a script connects with. */
  enum Driver {
    MYSQL_CJ,
    MARIADB_CJ
  }

  /** Where connections go: a URL for a driver, database and driver options. */
  @FunctionalInterface
  interface Route {
    String url(Driver driver, String database, String params);
  }

  /**
   * A step's work; returns the transcript text, or throws (the exception is the transcript text
   * then).
   */
  @FunctionalInterface
  interface Action {
    String run(Client c) throws Exception;
  }

  private record Step(String name, Action action, boolean afterClose) {}

  private static final Pattern CONN_ID = Pattern.compile("\\(conn=\\d+\\) ");
  private static final Pattern MILLIS = Pattern.compile("\\d+ milliseconds");

  final String name;
  final Driver driver;
  final String params;
  private final List<Step> steps = new ArrayList<>();

  SessionScript(String name, Driver driver, String params) {
    this.name = name;
    this.driver = driver;
    this.params = params;
  }

  /**
   * Runs {@code sql} with {@link Statement#execute} and renders every result, update count and the
   * warnings.
   */
  SessionScript sql(String step, String sql) {
    return add(step, c -> c.exec(sql, true));
  }

  /**
   * Like {@link #sql} but never asks for warnings, so the driver sends no SHOW WARNINGS of its own
   * after it.
   */
  SessionScript sqlNoWarnings(String step, String sql) {
    return add(step, c -> c.exec(sql, false));
  }

  /**
   * Runs {@code sql} with {@code executeUpdate(sql, RETURN_GENERATED_KEYS)}: update count, keys,
   * warnings.
   */
  SessionScript insert(String step, String sql) {
    return add(
        step,
        c -> {
          try (Statement s = c.conn.createStatement()) {
            int n = s.executeUpdate(c.sub(sql), Statement.RETURN_GENERATED_KEYS);
            return "upd=" + n + " keys=" + keys(s) + warnings(s.getWarnings());
          }
        });
  }

  /** Runs {@code sql} on the side connection, straight to the server. */
  SessionScript side(String step, String sql) {
    return add(step, c -> c.side(sql));
  }

  /** A step written in JDBC. */
  SessionScript jdbc(String step, Action action) {
    return add(step, action);
  }

  /**
   * Polls {@code sql} on the side connection, after the client disconnected, until it answers
   * {@code expected} (at most 10 s): what the server shows once the client's session is gone (or
   * its backend was reset).
   */
  SessionScript afterCloseAwaitSide(String step, String sql, String expected) {
    steps.add(new Step(step, c -> c.awaitSide(sql, expected), true));
    return this;
  }

  private SessionScript add(String step, Action action) {
    steps.add(new Step(step, action, false));
    return this;
  }

  /**
   * Connects, runs every step and disconnects, appending one line per step (plus one for the
   * connection) to {@code out}. A step that throws is rendered as its error and the script goes on;
   * without a connection the remaining steps are rendered as not run.
   */
  void run(Route route, Route sideRoute, String suffix, List<String> out) {
    Client c = new Client(route, sideRoute, suffix);
    try {
      String connected;
      try {
        c.conn =
            DriverManager.getConnection(
                route.url(driver, SessionScripts.DB, params),
                EmbeddedMariaDb.APP_USER,
                EmbeddedMariaDb.APP_PASSWORD);
        connected = "ok";
      } catch (SQLException e) {
        connected = error(e);
      }
      out.add(line(c, "connect", connected));
      for (Step step : steps) {
        if (step.afterClose) {
          continue;
        }
        String text;
        if (c.conn == null) {
          text = "not run: no connection";
        } else {
          try {
            text = step.action.run(c);
          } catch (SQLException e) {
            text = error(e);
          } catch (Exception e) {
            text = "EXC " + e.getClass().getSimpleName() + ": " + e.getMessage();
          }
        }
        out.add(line(c, step.name, text));
      }
      String closed = "ok";
      if (c.conn != null) {
        try {
          c.conn.close();
        } catch (SQLException e) {
          closed = error(e);
        }
      }
      out.add(line(c, "close", closed));
      for (Step step : steps) {
        if (step.afterClose) {
          String text;
          try {
            text = step.action.run(c);
          } catch (Exception e) {
            text = e instanceof SQLException se ? error(se) : "EXC " + e;
          }
          out.add(line(c, step.name, text));
        }
      }
    } finally {
      c.closeSide();
    }
  }

  private String line(Client c, String step, String text) {
    return c.normalize(name + " / " + step + " => " + escapeControls(String.valueOf(text)));
  }

  /**
   * {@code text} with control characters written as {@code \n}, {@code \r} or {@code \xNN}: a value
   * that holds a line break (a garbled one, say) must not split its step's line and shift every
   * later line of the transcript.
   */
  static String escapeControls(String text) {
    StringBuilder out = null;
    for (int i = 0; i < text.length(); i++) {
      char ch = text.charAt(i);
      if (ch < 0x20 || ch == 0x7f) {
        if (out == null) {
          out = new StringBuilder(text.length() + 16).append(text, 0, i);
        }
        out.append(ch == '\n' ? "\\n" : ch == '\r' ? "\\r" : String.format("\\x%02x", (int) ch));
      } else if (out != null) {
        out.append(ch);
      }
    }
    return out == null ? text : out.toString();
  }

  /** {@code ERR code/SQLState message}, plus the update counts of a failed batch. */
  static String error(SQLException e) {
    String text = "ERR " + e.getErrorCode() + "/" + e.getSQLState() + " " + e.getMessage();
    if (e instanceof BatchUpdateException b) {
      text += " counts=" + Arrays.toString(b.getUpdateCounts());
    }
    return text;
  }

  /** Every generated key of the statement's last update, as {@code [1, 2]}. */
  static String keys(Statement s) throws SQLException {
    List<String> keys = new ArrayList<>();
    try (ResultSet rs = s.getGeneratedKeys()) {
      while (rs.next()) {
        keys.add(rs.getString(1));
      }
    }
    return keys.toString();
  }

  /** {@code warn=[1365 Division by 0, ...]}, or nothing when there are none. */
  static String warnings(SQLWarning w) {
    if (w == null) {
      return "";
    }
    List<String> list = new ArrayList<>();
    for (; w != null; w = w.getNextWarning()) {
      list.add(w.getErrorCode() + " " + w.getMessage());
    }
    return " warn=" + list;
  }

  /**
   * A result set as {@code label:TYPE,... = v1,v2 | v1,v2}: values as the driver's {@code
   * getString}, binary columns as hex, NULL as {@code NULL}.
   */
  static String rows(ResultSet rs) throws SQLException {
    StringBuilder out = new StringBuilder();
    try (rs) {
      ResultSetMetaData md = rs.getMetaData();
      int n = md.getColumnCount();
      for (int i = 1; i <= n; i++) {
        out.append(i == 1 ? "" : ",")
            .append(md.getColumnLabel(i))
            .append(':')
            .append(md.getColumnTypeName(i));
      }
      out.append(" =");
      boolean first = true;
      while (rs.next()) {
        out.append(first ? " " : " | ");
        first = false;
        for (int i = 1; i <= n; i++) {
          if (i > 1) {
            out.append(',');
          }
          int type = md.getColumnType(i);
          if (type == Types.BINARY
              || type == Types.VARBINARY
              || type == Types.LONGVARBINARY
              || type == Types.BLOB) {
            byte[] b = rs.getBytes(i);
            out.append(b == null ? "NULL" : "0x" + HexFormat.of().formatHex(b));
          } else {
            String v = rs.getString(i);
            out.append(v == null ? "NULL" : v);
          }
        }
      }
      if (first) {
        out.append(" (no rows)");
      }
    }
    return out.toString();
  }

  /**
   * Every result of an executed statement, in order: result sets, update counts; then its warnings
   * if asked.
   */
  static String results(Statement s, boolean isResultSet, boolean withWarnings)
      throws SQLException {
    StringBuilder out = new StringBuilder();
    boolean rs = isResultSet;
    while (true) {
      if (rs) {
        out.append(out.length() == 0 ? "" : " ; ").append(rows(s.getResultSet()));
      } else {
        int count = s.getUpdateCount();
        if (count == -1) {
          break;
        }
        out.append(out.length() == 0 ? "" : " ; ").append("upd=").append(count);
      }
      try {
        rs = s.getMoreResults();
      } catch (SQLException e) {
        out.append(" ; ").append(error(e));
        break;
      }
    }
    if (withWarnings) {
      out.append(warnings(s.getWarnings()));
    }
    return out.toString();
  }

  /**
   * One client's run of a script: its connection, side connection, suffix and named JDBC objects.
   */
  static final class Client {
    final String suffix;
    private final Pattern suffixPattern;
    private final Route route;
    private final Route sideRoute;
    private final Map<String, Object> objects = new HashMap<>();
    Connection conn;
    private Connection side;

    Client(Route route, Route sideRoute, String suffix) {
      this.route = route;
      this.sideRoute = sideRoute;
      this.suffix = suffix;
      this.suffixPattern = Pattern.compile(Pattern.quote(suffix) + "(?![0-9])");
    }

    /** {@code text} with every {@code _cX} replaced by this client's suffix. */
    String sub(String text) {
      return text.replace("_cX", suffix);
    }

    /**
     * A transcript line without what legitimately differs between runs: the suffix, connection ids,
     * timings.
     */
    String normalize(String line) {
      String s = suffixPattern.matcher(line).replaceAll("_cX");
      s = CONN_ID.matcher(s).replaceAll("");
      return MILLIS.matcher(s).replaceAll("N milliseconds");
    }

    /** Executes {@code sql} on the client connection and renders all its results. */
    String exec(String sql, boolean withWarnings) throws SQLException {
      try (Statement s = conn.createStatement()) {
        return results(s, s.execute(sub(sql)), withWarnings);
      }
    }

    /** A prepared statement kept under {@code key} for later steps, prepared now when missing. */
    PreparedStatement prepared(String key, String sql, boolean keys) throws SQLException {
      PreparedStatement ps = (PreparedStatement) objects.get(key);
      if (ps == null) {
        ps =
            keys
                ? conn.prepareStatement(sub(sql), Statement.RETURN_GENERATED_KEYS)
                : conn.prepareStatement(sub(sql));
        objects.put(key, ps);
      }
      return ps;
    }

    /** Closes and forgets the prepared statement kept under {@code key}. */
    String closePrepared(String key) throws SQLException {
      PreparedStatement ps = (PreparedStatement) objects.remove(key);
      ps.close();
      return "closed";
    }

    /** Executes a prepared statement and renders its results and warnings. */
    static String exec(PreparedStatement ps) throws SQLException {
      return results(ps, ps.execute(), true);
    }

    /** Executes a prepared update and renders count, generated keys and warnings. */
    static String update(PreparedStatement ps) throws SQLException {
      int n = ps.executeUpdate();
      return "upd=" + n + " keys=" + keys(ps) + warnings(ps.getWarnings());
    }

    void put(String key, Object value) {
      objects.put(key, value);
    }

    Savepoint savepoint(String key) {
      return (Savepoint) objects.get(key);
    }

    /** Runs {@code sql} on the side connection and renders it. */
    String side(String sql) throws SQLException {
      try (Statement s = sideConnection().createStatement()) {
        return results(s, s.execute(sub(sql)), true);
      }
    }

    String awaitSide(String sql, String expected) throws SQLException {
      AtomicReference<String> last = new AtomicReference<>();
      try {
        await()
            .atMost(Duration.ofSeconds(10))
            .pollInterval(Duration.ofMillis(20))
            .until(
                () -> {
                  try (Statement s = sideConnection().createStatement();
                      ResultSet rs = s.executeQuery(sub(sql))) {
                    rs.next();
                    last.set(rs.getString(1));
                  }
                  return expected.equals(last.get());
                });
        return expected;
      } catch (ConditionTimeoutException e) {
        return "still " + last.get() + " after 10 s";
      }
    }

    private Connection sideConnection() throws SQLException {
      if (side == null) {
        side =
            DriverManager.getConnection(
                sideRoute.url(Driver.MARIADB_CJ, SessionScripts.DB, ""),
                EmbeddedMariaDb.APP_USER,
                EmbeddedMariaDb.APP_PASSWORD);
      }
      return side;
    }

    void closeSide() {
      if (side != null) {
        try {
          side.close();
        } catch (SQLException e) {
          // the side connection only observes; a failure to close it changes nothing the test
          // checks
        }
        side = null;
      }
    }
  }
}
