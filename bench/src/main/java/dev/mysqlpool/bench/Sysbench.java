package dev.mysqlpool.bench;

import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs a sysbench OLTP test (the Debian package, 1.0.20) against a port, on the {@code sbtest1}
 * table the harness created in sysbench's own layout ({@link SbTest}), so no {@code prepare} step
 * is needed.
 */
final class Sysbench {
  private static final Pattern QPS = Pattern.compile("queries:\\s+(\\d+)\\s+\\(([0-9.]+) per sec");
  private static final Pattern READS = Pattern.compile("read:\\s+(\\d+)");
  private static final Pattern TIME = Pattern.compile("total time:\\s+([0-9.]+)s");
  private static final Pattern P95 = Pattern.compile("95th percentile:\\s+([0-9.]+)");
  private static final Pattern ERRORS = Pattern.compile("ignored errors:\\s+(\\d+)");

  /**
   * What sysbench prints: QPS (every statement, BEGIN and COMMIT included), the 95th percentile of
   * an event (one transaction of the test) in ms, ignored errors, the statements and the reads
   * among them, the run's length in seconds, and sysbench's whole output.
   */
  record Result(
      double qps,
      double p95Millis,
      long errors,
      long queries,
      long reads,
      double seconds,
      String output) {}

  private Sysbench() {}

  static boolean installed() {
    return Procs.onPath("sysbench");
  }

  static String version() {
    return Procs.run(Duration.ofSeconds(10), "sysbench", "--version").trim();
  }

  /** sysbench 1.0 (Debian 12) has no --warmup-time: warm up with a short run of its own. */
  static Result pointSelect(int port, int rows, int threads, int seconds) {
    return run("oltp_point_select", port, rows, threads, seconds, List.of());
  }

  /**
   * Runs {@code test} (e.g. {@code oltp_read_only}) for {@code seconds}, with {@code options} (e.g.
   * {@code --skip_trx=on}) after the common ones. Bounded: the process is given a minute past its
   * time.
   */
  static Result run(
      String test, int port, int rows, int threads, int seconds, List<String> options) {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "sysbench",
                test,
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
                "--report-interval=0"));
    cmd.addAll(options);
    cmd.add("run");
    String out = Procs.run(Duration.ofSeconds(seconds + 60), cmd.toArray(String[]::new));
    Matcher q = QPS.matcher(out);
    Matcher p = P95.matcher(out);
    if (!q.find() || !p.find()) {
      throw new IllegalStateException("cannot read QPS and p95 from sysbench's output:\n" + out);
    }
    Matcher e = ERRORS.matcher(out);
    Matcher r = READS.matcher(out);
    Matcher t = TIME.matcher(out);
    return new Result(
        Double.parseDouble(q.group(2)),
        Double.parseDouble(p.group(1)),
        e.find() ? Long.parseLong(e.group(1)) : 0,
        Long.parseLong(q.group(1)),
        r.find() ? Long.parseLong(r.group(1)) : -1,
        t.find() ? Double.parseDouble(t.group(1)) : seconds,
        out);
  }
}
