package dev.mysqlpool.bench;

import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs {@code sysbench oltp_point_select} (the Debian package) against a port, on the {@code
 * sbtest1} table the harness created in sysbench's own layout, so no {@code prepare} step is
 * needed.
 */
final class Sysbench {
  private static final Pattern QPS = Pattern.compile("queries:\\s+\\d+\\s+\\(([0-9.]+) per sec");
  private static final Pattern P95 = Pattern.compile("95th percentile:\\s+([0-9.]+)");
  private static final Pattern ERRORS = Pattern.compile("ignored errors:\\s+(\\d+)");

  /** QPS and 95th percentile latency in ms, as sysbench prints them. */
  record Result(double qps, double p95Millis, long errors) {}

  private Sysbench() {}

  static boolean installed() {
    return Procs.onPath("sysbench");
  }

  static String version() {
    return Procs.run(Duration.ofSeconds(10), "sysbench", "--version").trim();
  }

  /** sysbench 1.0 (Debian 12) has no --warmup-time: warm up with a short run of its own. */
  static Result pointSelect(int port, int rows, int threads, int seconds) {
    String out =
        Procs.run(
            Duration.ofSeconds(seconds + 60),
            "sysbench",
            "oltp_point_select",
            "--db-driver=mysql",
            "--mysql-host=127.0.0.1",
            "--mysql-port=" + port,
            "--mysql-user=" + EmbeddedMariaDb.APP_USER,
            "--mysql-password=" + EmbeddedMariaDb.APP_PASSWORD,
            "--mysql-db=" + EmbeddedMariaDb.APP_DATABASE,
            "--mysql-ssl=off",
            "--tables=1",
            "--table-size=" + rows,
            "--threads=" + threads,
            "--time=" + seconds,
            "--percentile=95",
            "--report-interval=0",
            "run");
    Matcher q = QPS.matcher(out);
    Matcher p = P95.matcher(out);
    if (!q.find() || !p.find()) {
      throw new IllegalStateException("cannot read QPS and p95 from sysbench's output:\n" + out);
    }
    Matcher e = ERRORS.matcher(out);
    return new Result(
        Double.parseDouble(q.group(1)),
        Double.parseDouble(p.group(1)),
        e.find() ? Long.parseLong(e.group(1)) : 0);
  }
}
