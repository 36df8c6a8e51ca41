package dev.mysqlpool.bench.jmh;

import dev.mysqlpool.proxy.backend.SessionVariables;
import dev.mysqlpool.proxy.frontend.StatementScan;
import dev.mysqlpool.proxy.sql.Keyword;
import dev.mysqlpool.proxy.sql.KillStatement;
import dev.mysqlpool.proxy.sql.LoadLocal;
import dev.mysqlpool.proxy.sql.ReadScan;
import dev.mysqlpool.proxy.sql.SqlLexer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The SQL the proxy reads from every COM_QUERY, over a pooled direct buffer as the decoder hands it
 * on: {@link #scan} is transaction mode's {@link StatementScan}, {@link #inspect} the checks every
 * session runs (is it a KILL the proxy answers, a LOAD DATA LOCAL, a USE), {@link #readScan} the
 * read/write split's classifier ({@link ReadScan}, run on each COM_QUERY a client in autocommit
 * sends outside a transaction). Scores are per statement.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class StatementScanBenchmark {
  /**
   * Typical statements: sysbench's (a point select, oltp_read_only's longest range select, an
   * update, an insert), a batch of 50 rows as rewritten batches send it (9 KB), a driver's
   * connect-time SET, a tagged query, a KILL.
   */
  @Param({
    "point_select",
    "distinct_range",
    "update",
    "insert",
    "batch_insert",
    "driver_set",
    "commented_select",
    "kill_query"
  })
  public String statement;

  private ByteBuf buf;
  private int end;
  private StatementScan scan;
  private final ReadScan readScan = new ReadScan();

  static String sql(String statement) {
    switch (statement) {
      case "point_select":
        return "SELECT c FROM sbtest1 WHERE id=50123";
      case "distinct_range":
        return "SELECT DISTINCT c FROM sbtest1 WHERE id BETWEEN 50123 AND 50222 ORDER BY c";
      case "update":
        return "UPDATE sbtest1 SET k=k+1 WHERE id=50123";
      case "insert":
        return "INSERT INTO sbtest1 (id, k, c, pad) VALUES (50123, 49929, "
            + "'83868641912-28773972837-60736120486-75162659906-27563526494-20381887404-"
            + "41576422241-93426793964-56405065102-33518432330', "
            + "'67847967377-48000963322-62604785301-91415491898-96926520291')";
      case "batch_insert":
        StringBuilder batch = new StringBuilder("INSERT INTO sbtest1 (id, k, c, pad) VALUES ");
        for (int row = 0; row < 50; row++) {
          batch
              .append(row == 0 ? "" : ", ")
              .append("(")
              .append(50123 + row)
              .append(", 49929, '83868641912-28773972837-60736120486-75162659906-27563526494-")
              .append("20381887404-41576422241-93426793964-56405065102-33518432330', ")
              .append("'67847967377-48000963322-62604785301-91415491898-96926520291')");
        }
        return batch.toString();
      case "driver_set":
        return "set autocommit=1, sql_mode = concat(@@sql_mode,',STRICT_TRANS_TABLES'),"
            + " session_track_schema=1, time_zone='+00:00'";
      case "commented_select":
        return "/* app=orders,route=/checkout,traceparent=00-4bf92f3577b34da6a3ce929d0e0e4736 */"
            + " SELECT c FROM sbtest1 WHERE id=50123";
      case "kill_query":
        return "KILL QUERY 4711";
      default:
        throw new IllegalArgumentException("unknown statement " + statement);
    }
  }

  @Setup(Level.Trial)
  public void setUp() {
    byte[] bytes = sql(statement).getBytes(StandardCharsets.UTF_8);
    buf = PooledByteBufAllocator.DEFAULT.directBuffer(bytes.length).writeBytes(bytes);
    end = bytes.length;
    scan = new StatementScan(SessionVariables.forServer("11.4.5-MariaDB"));
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    buf.release();
  }

  /** Transaction mode: the flags of the statement. */
  @Benchmark
  public int scan() {
    return scan.scan(buf, 0, end);
  }

  /** A split pool: whether the statement may go to a reader, and why. */
  @Benchmark
  public ReadScan.Reason readScan() {
    return readScan.scan(buf, 0, end, false);
  }

  /** Every session: KILL (parsed), LOAD DATA LOCAL or USE. */
  @Benchmark
  public int inspect() {
    Keyword first = SqlLexer.firstKeyword(buf, 0, end);
    if (first == Keyword.KILL) {
      KillStatement kill = KillStatement.parse(buf, 0, end);
      return kill.supported() ? (int) kill.threadId() : -1;
    }
    if (first == Keyword.LOAD) {
      return LoadLocal.matches(buf, 0, end) ? 2 : 0;
    }
    return first == Keyword.USE ? 1 : 0;
  }
}
