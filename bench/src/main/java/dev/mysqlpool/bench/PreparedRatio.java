package dev.mysqlpool.bench;

import dev.mysqlpool.bench.LoadGenerator.Result;
import dev.mysqlpool.bench.LoadGenerator.Workload;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Issue 13's figure: MySQL Connector/J with server prepared statements ({@code
 * useServerPrepStmts=true&cachePrepStmts=true}) directly, through session mode, through transaction
 * mode with prepares pinning ({@code pool.maxPreparedStatementsPerConnection: 0}, the "before") and
 * through transaction mode sharing statements (the "after"), rounds interleaved in one run on the
 * shared server: QPS as a ratio of direct, and the server's {@code Com_stmt_prepare} per second.
 * Two kinds of clients: ones that keep their connection (a driver prepares each statement once per
 * connection, so every target prepares almost nothing once running), and ones that open a new
 * connection every {@link #RECONNECT_EVERY} operations, as an application whose pool retires
 * connections: there each new connection prepares again on the server, except through the shared
 * cache.
 */
final class PreparedRatio {
  static final int RECONNECT_EVERY = 50;

  private static final String DIRECT = "direct";
  private static final String SESSION = "proxy session";
  private static final String PINNED = "proxy transaction, pinning (before)";
  private static final String SHARED = "proxy transaction, shared (after)";

  private record Target(String name, int port) {}

  private record Case(Workload workload, int reconnectEvery) {
    String label() {
      return workload.label
          + (reconnectEvery > 0 ? ", new connection every " + reconnectEvery + " ops" : "");
    }
  }

  /** One round's load and the server's prepares and executes during it (connects included). */
  private record Round(Result load, long prepares, long executes) {}

  private PreparedRatio() {}

  /** Runs the rounds on {@code db}'s sbtest1 and returns the section as Markdown. */
  static String run(BenchMain.Options o, EmbeddedMariaDb db, int clients) throws Exception {
    // Every client holds a backend connection while it pins, so the pool has room for all of
    // them in both transaction-mode proxies; sharing then needs no fewer to compare like for like.
    String pool = "maxConnections: " + (clients + 8) + ", acquireTimeout: 30s";
    try (ProxyProcess session =
            ProxyProcess.start(
                o.proxyJar(),
                o.workDir(),
                "prepared-session",
                db,
                "session",
                pool + ", maxIdle: 0",
                "",
                List.of());
        ProxyProcess pinned =
            ProxyProcess.start(
                o.proxyJar(),
                o.workDir(),
                "prepared-pinned",
                db,
                "transaction",
                pool + ", idleTimeout: 1s, maxPreparedStatementsPerConnection: 0",
                "",
                List.of());
        ProxyProcess shared =
            ProxyProcess.start(
                o.proxyJar(),
                o.workDir(),
                "prepared-shared",
                db,
                "transaction",
                pool + ", idleTimeout: 1s",
                "",
                List.of())) {
      List<Target> targets =
          List.of(
              new Target(DIRECT, db.port()),
              new Target(SESSION, session.port()),
              new Target(PINNED, pinned.port()),
              new Target(SHARED, shared.port()));
      StringBuilder md = new StringBuilder("\n## Server prepared statements (issue 13)\n\n");
      md.append(
          String.format(
              Locale.ROOT,
              "MySQL Connector/J %s with `useServerPrepStmts=true&cachePrepStmts=true`, %d client"
                  + " threads, one connection each; both transaction-mode proxies and the session"
                  + " proxy have `maxConnections: %d`; `pinning` is `pool.maxPreparedStatementsPerConnection:"
                  + " 0` (a prepare pins the client to its backend, as before issue 13), `shared` the"
                  + " default 100. %d interleaved rounds of %d s after a %d s warm-up, medians."
                  + " Prepares/s and executes/s are the server's `Com_stmt_prepare` and"
                  + " `Com_stmt_execute` over the round (its connects included) per second of it;"
                  + " load average at the start of the section %s.%n",
              com.mysql.cj.Constants.CJ_VERSION,
              clients,
              clients + 8,
              o.rounds(),
              o.seconds(),
              o.warmup(),
              BenchMain.loadAverage()));
      for (Case c :
          List.of(
              new Case(Workload.POINT_SELECT, 0),
              new Case(Workload.READ_WRITE, 0),
              new Case(Workload.POINT_SELECT, RECONNECT_EVERY))) {
        md.append(measure(o, db, clients, targets, c));
      }
      md.append(
          String.format(Locale.ROOT, "%nLoad average at the end: %s.%n", BenchMain.loadAverage()));
      return md.toString();
    }
  }

  private static String measure(
      BenchMain.Options o, EmbeddedMariaDb db, int clients, List<Target> targets, Case c)
      throws Exception {
    LoadGenerator gen = new LoadGenerator(o.rows(), c.reconnectEvery());
    for (Target t : targets) {
      gen.run(
          url(t),
          EmbeddedMariaDb.APP_USER,
          EmbeddedMariaDb.APP_PASSWORD,
          c.workload(),
          clients,
          o.warmup() * 1000L,
          1);
    }
    Map<String, List<Round>> byTarget = new LinkedHashMap<>();
    for (int r = 0; r < o.rounds(); r++) {
      for (Target t : targets) {
        long[] before = statementCounts(db);
        Result res =
            gen.run(
                url(t),
                EmbeddedMariaDb.APP_USER,
                EmbeddedMariaDb.APP_PASSWORD,
                c.workload(),
                clients,
                0,
                o.seconds() * 1000L);
        long[] after = statementCounts(db);
        Round round = new Round(res, after[0] - before[0], after[1] - before[1]);
        byTarget.computeIfAbsent(t.name(), k -> new ArrayList<>()).add(round);
        System.out.printf(
            Locale.ROOT,
            "   prepared %s round %d %-36s %9.0f qps  p95 %6.2f ms  prepares %d  errors %d%n",
            c.label(),
            r + 1,
            t.name(),
            res.qps(),
            res.p95() / 1000.0,
            round.prepares(),
            res.errors());
      }
    }
    double direct = median(byTarget.get(DIRECT), x -> x.load().qps());
    StringBuilder md = new StringBuilder();
    md.append(String.format(Locale.ROOT, "%n**%s**%n%n", c.label()));
    md.append(
        "| target | QPS | ÷ direct | p95 ms | prepares/s | executes/s | errors |\n"
            + "|---|---|---|---|---|---|---|\n");
    for (Map.Entry<String, List<Round>> e : byTarget.entrySet()) {
      List<Round> rs = e.getValue();
      double qps = median(rs, x -> x.load().qps());
      md.append(
          String.format(
              Locale.ROOT,
              "| %s | %.0f | %.2f | %.2f | %.0f | %.0f | %d%s |%n",
              e.getKey(),
              qps,
              qps / direct,
              median(rs, x -> x.load().p95() / 1000.0),
              median(rs, x -> x.prepares() / x.load().seconds()),
              median(rs, x -> x.executes() / x.load().seconds()),
              rs.stream().mapToLong(x -> x.load().errors()).sum(),
              rs.stream()
                  .map(x -> x.load().firstError())
                  .filter(x -> x != null)
                  .findFirst()
                  .map(x -> " (" + x.replace('|', '/') + ")")
                  .orElse("")));
    }
    return md.toString();
  }

  /** The server's Com_stmt_prepare and Com_stmt_execute so far. */
  private static long[] statementCounts(EmbeddedMariaDb db) throws SQLException {
    long[] counts = new long[2];
    try (Connection c = db.rootConnection();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SHOW GLOBAL STATUS WHERE Variable_name IN ('Com_stmt_prepare', 'Com_stmt_execute')")) {
      while (rs.next()) {
        counts[rs.getString(1).equalsIgnoreCase("Com_stmt_prepare") ? 0 : 1] = rs.getLong(2);
      }
    }
    return counts;
  }

  private static String url(Target t) {
    return "jdbc:mysql://127.0.0.1:"
        + t.port()
        + "/"
        + EmbeddedMariaDb.APP_DATABASE
        + "?sslMode=DISABLED&allowPublicKeyRetrieval=true&useServerPrepStmts=true"
        + "&cachePrepStmts=true&connectTimeout=30000";
  }

  private static <T> double median(List<T> values, java.util.function.ToDoubleFunction<T> f) {
    double[] v = values.stream().mapToDouble(f).toArray();
    Arrays.sort(v);
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }
}
