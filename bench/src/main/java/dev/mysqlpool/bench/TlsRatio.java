package dev.mysqlpool.bench;

import dev.mysqlpool.bench.LoadGenerator.Result;
import dev.mysqlpool.bench.LoadGenerator.Workload;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import dev.mysqlpool.proxy.testsupport.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Issue 11's TLS figure: point-select throughput with TLS through the proxy, as a ratio against
 * plain through the proxy and against TLS direct to the server, in one run on one server.
 *
 * <p>The shared server runs without TLS, so this section starts its own, with a certificate from a
 * CA made here, and its own {@code sbtest1}. Four targets, rounds interleaved: direct plain, direct
 * TLS, the proxy in plain TCP on both legs, and the proxy with TLS on both legs (the client asks
 * for it, {@code backends[].tls.mode: preferred} encrypts the backend leg), which is what a
 * deployment with TLS everywhere runs. Clients use MariaDB Connector/J with {@code sslMode=trust}
 * (encryption without verification, so the figure is the cost of TLS, not of a trust store).
 */
final class TlsRatio {
  private static final String DIRECT_PLAIN = "direct plain";
  private static final String DIRECT_TLS = "direct TLS";
  private static final String PROXY_PLAIN = "proxy plain";
  private static final String PROXY_TLS = "proxy TLS";

  private record Target(String name, int port, boolean tls) {}

  private TlsRatio() {}

  /** Runs the rounds and returns the section as Markdown. */
  static String run(BenchMain.Options o, int clients) throws Exception {
    // Absolute: the server runs in its own folder.
    Path dir = Files.createDirectories(o.workDir().resolve("tls-ratio")).toAbsolutePath();
    TestPki ca = TestPki.authority("bench-backend-ca");
    ca.issueServer("bench-mariadb").writeTo(dir);
    try (EmbeddedMariaDb db =
        EmbeddedMariaDb.startNew(
            List.of(
                "--ssl",
                "--ssl-cert=" + dir.resolve("tls.crt"),
                "--ssl-key=" + dir.resolve("tls.key")))) {
      fill(db, o.rows());
      String pool = "maxConnections: " + (clients + 8) + ", maxIdle: 0, acquireTimeout: 30s";
      try (ProxyProcess plain =
              ProxyProcess.start(
                  o.proxyJar(),
                  o.workDir(),
                  "tls-ratio-plain",
                  db,
                  "session",
                  "disabled",
                  pool,
                  "tls: {mode: disabled}",
                  List.of());
          ProxyProcess tls =
              ProxyProcess.start(
                  o.proxyJar(),
                  o.workDir(),
                  "tls-ratio-tls",
                  db,
                  "session",
                  "preferred",
                  pool,
                  "tls: {mode: required}",
                  List.of())) {
        List<Target> targets =
            List.of(
                new Target(DIRECT_PLAIN, db.port(), false),
                new Target(DIRECT_TLS, db.port(), true),
                new Target(PROXY_PLAIN, plain.port(), false),
                new Target(PROXY_TLS, tls.port(), true));
        return measure(o, clients, targets);
      }
    }
  }

  private static String measure(BenchMain.Options o, int clients, List<Target> targets)
      throws InterruptedException {
    LoadGenerator gen = new LoadGenerator(o.rows());
    for (Target t : targets) {
      gen.run(
          url(t),
          EmbeddedMariaDb.APP_USER,
          EmbeddedMariaDb.APP_PASSWORD,
          Workload.POINT_SELECT,
          clients,
          o.warmup() * 1000L,
          1);
    }
    Map<String, List<Result>> byTarget = new LinkedHashMap<>();
    for (int r = 0; r < o.rounds(); r++) {
      for (Target t : targets) {
        Result res =
            gen.run(
                url(t),
                EmbeddedMariaDb.APP_USER,
                EmbeddedMariaDb.APP_PASSWORD,
                Workload.POINT_SELECT,
                clients,
                0,
                o.seconds() * 1000L);
        byTarget.computeIfAbsent(t.name(), k -> new ArrayList<>()).add(res);
        System.out.printf(
            Locale.ROOT,
            "   tls round %d %-13s %9.0f qps  p95 %6.2f ms  errors %d%n",
            r + 1,
            t.name(),
            res.qps(),
            res.p95() / 1000.0,
            res.errors());
      }
    }
    double proxyTls = medianQps(byTarget.get(PROXY_TLS));
    StringBuilder md = new StringBuilder("\n## TLS (issue 11)\n\n");
    md.append(
        String.format(
            Locale.ROOT,
            "Point selects, %d MariaDB Connector/J clients, on a server of this section's own with TLS"
                + " (certificate from a CA made here); the proxy with TLS has it on both legs (client"
                + " `sslMode=trust`, `frontend.tls.mode: required`, `backends[].tls.mode: preferred`), the"
                + " plain proxy on neither. %d interleaved rounds of %d s, medians.%n%n",
            clients,
            o.rounds(),
            o.seconds()));
    md.append("| target | QPS | p95 ms | errors | proxy TLS ÷ this |\n|---|---|---|---|---|\n");
    for (Map.Entry<String, List<Result>> e : byTarget.entrySet()) {
      double qps = medianQps(e.getValue());
      md.append(
          String.format(
              Locale.ROOT,
              "| %s | %.0f | %.2f | %d | %.2f |%n",
              e.getKey(),
              qps,
              median(e.getValue().stream().mapToDouble(x -> x.p95() / 1000.0).toArray()),
              e.getValue().stream().mapToLong(Result::errors).sum(),
              proxyTls / qps));
    }
    md.append(
        String.format(
            Locale.ROOT,
            "%nTLS through the proxy: %.2f× plain through the proxy, %.2f× TLS direct to the server.%n",
            proxyTls / medianQps(byTarget.get(PROXY_PLAIN)),
            proxyTls / medianQps(byTarget.get(DIRECT_TLS))));
    return md.toString();
  }

  private static String url(Target t) {
    return "jdbc:mariadb://127.0.0.1:"
        + t.port()
        + "/"
        + EmbeddedMariaDb.APP_DATABASE
        + "?sslMode="
        + (t.tls() ? "trust" : "disable")
        + "&connectTimeout=30000";
  }

  /** sbtest1 in sysbench's layout; rows from MariaDB's sequence engine. */
  private static void fill(EmbeddedMariaDb db, int rows) throws Exception {
    try (Connection c = db.appConnection();
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE sbtest1 (id INT NOT NULL AUTO_INCREMENT, k INT NOT NULL DEFAULT 0,"
              + " c CHAR(120) NOT NULL DEFAULT '', pad CHAR(60) NOT NULL DEFAULT '',"
              + " PRIMARY KEY (id), KEY k_1 (k)) ENGINE=InnoDB");
      s.execute(
          "INSERT INTO sbtest1 (id, k, c, pad) SELECT seq, 1 + (seq * 7919) % "
              + rows
              + ", LPAD(seq, 119, '0'), LPAD(seq, 59, '1') FROM seq_1_to_"
              + rows);
      s.execute("ANALYZE TABLE sbtest1");
    }
  }

  private static double medianQps(List<Result> rs) {
    return median(rs.stream().mapToDouble(Result::qps).toArray());
  }

  private static double median(double[] values) {
    double[] v = values.clone();
    Arrays.sort(v);
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }
}
