package dev.mysqlpool.proxy.digest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mysqlpool.proxy.protocol.Commands;
import dev.mysqlpool.proxy.protocol.ErrorCodes;
import dev.mysqlpool.proxy.protocol.Packets;
import dev.mysqlpool.proxy.protocol.ResponseTracker;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.ImmediateEventExecutor;
import java.lang.management.ManagementFactory;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The digest view's counting, without a server: replies are fed to a real {@link ResponseTracker},
 * as the relay does, and the view is read as /stats reads it.
 */
class QueryDigestsTest {
  private static final int MS = 1_000_000;
  private final ResponseTracker tracker = new ResponseTracker(0);

  @Test
  void countsTimesRowsAndErrorsPerDigestBackendAndUser() {
    QueryDigests digests = new QueryDigests(true, 100);
    DigestRecorder r = digests.recorder(ImmediateEventExecutor.INSTANCE);
    query(r, "SELECT c FROM t WHERE id = 1", "primary", "app", 3 * MS, resultSet(2));
    query(r, "select c from t where id=22", "primary", "app", 5 * MS, resultSet(1));
    query(r, "SELECT c FROM t WHERE id = 3", "replica", "app", 3 * MS / 2, resultSet(0));
    query(r, "UPDATE t SET k = 2 WHERE id = 1", "primary", "app", 2 * MS, ok(3));
    query(r, "UPDATE t SET k = 9 WHERE id = 4", "primary", "app", 4 * MS, err());
    query(r, "UPDATE t SET k = 9 WHERE id = 4", "primary", "batch", 1 * MS, ok(1));

    List<DigestRow> rows = digests.top(DigestSort.TOTAL_TIME, 10);
    assertThat(rows)
        .extracting(
            DigestRow::digestText,
            DigestRow::backend,
            DigestRow::user,
            DigestRow::count,
            DigestRow::totalTimeMicros,
            DigestRow::minTimeMicros,
            DigestRow::maxTimeMicros,
            DigestRow::rowsSent,
            DigestRow::rowsAffected,
            DigestRow::errors)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(
                "SELECT c FROM t WHERE id = ?",
                "primary",
                "app",
                2L,
                8000L,
                3000L,
                5000L,
                3L,
                0L,
                0L),
            org.assertj.core.groups.Tuple.tuple(
                "UPDATE t SET k = ? WHERE id = ?",
                "primary",
                "app",
                2L,
                6000L,
                2000L,
                4000L,
                0L,
                3L,
                1L),
            org.assertj.core.groups.Tuple.tuple(
                "SELECT c FROM t WHERE id = ?",
                "replica",
                "app",
                1L,
                1500L,
                1500L,
                1500L,
                0L,
                0L,
                0L),
            org.assertj.core.groups.Tuple.tuple(
                "UPDATE t SET k = ? WHERE id = ?",
                "primary",
                "batch",
                1L,
                1000L,
                1000L,
                1000L,
                0L,
                1L,
                0L));
    assertThat(rows.get(0).digest()).matches("0x[0-9A-F]{16}").isEqualTo(rows.get(2).digest());
    assertThat(rows.get(0).avgTimeMicros()).isEqualTo(4000);
    assertThat(digests.top(DigestSort.COUNT, 1)).extracting(DigestRow::count).containsExactly(2L);
    assertThat(digests.top(DigestSort.ERRORS, 1))
        .extracting(DigestRow::digestText)
        .containsExactly("UPDATE t SET k = ? WHERE id = ?");
    assertThat(digests.distinct()).isEqualTo(4);
  }

  @Test
  void beyondTheBoundStatementsCountInOneOtherRow() {
    QueryDigests digests = new QueryDigests(true, 3);
    DigestRecorder r = digests.recorder(ImmediateEventExecutor.INSTANCE);
    for (int table = 0; table < 3; table++) {
      query(r, "SELECT * FROM t" + table + " WHERE id = 1", "primary", "app", MS, resultSet(1));
    }
    // A client that makes up a new table name each time: the first beyond the bound and all after.
    for (int table = 3; table < 1000; table++) {
      query(r, "SELECT * FROM t" + table + " WHERE id = 1", "primary", "app", MS, resultSet(1));
    }
    // A digest admitted before the bound was reached is still counted as itself.
    query(r, "SELECT * FROM t0 WHERE id = 2", "primary", "app", MS, resultSet(1));

    DigestReport report = digests.report(DigestSort.COUNT, 100);
    assertThat(report.distinct()).isEqualTo(3);
    assertThat(report.overflowStatements()).isEqualTo(997);
    assertThat(report.digests())
        .extracting(DigestRow::digest, DigestRow::digestText, DigestRow::count)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("other", null, 997L),
            org.assertj.core.groups.Tuple.tuple(
                report.digests().get(1).digest(), "SELECT * FROM t0 WHERE id = ?", 2L),
            org.assertj.core.groups.Tuple.tuple(
                report.digests().get(2).digest(), report.digests().get(2).digestText(), 1L),
            org.assertj.core.groups.Tuple.tuple(
                report.digests().get(3).digest(), report.digests().get(3).digestText(), 1L));
    assertThat(report.digests().get(0).backend()).isNull();
  }

  @Test
  void eventLoopsCountApartAndMergeIntoOneRow() {
    QueryDigests digests = new QueryDigests(true, 10);
    DigestRecorder a = digests.recorder(ImmediateEventExecutor.INSTANCE);
    DigestRecorder b = digests.recorder(GlobalEventExecutor.INSTANCE);
    query(a, "SELECT 1", "primary", "app", 2 * MS, resultSet(1));
    query(b, "SELECT 2", "primary", "app", 7 * MS, resultSet(1));
    query(b, "SELECT 3", "primary", "app", 1 * MS, resultSet(1));

    assertThat(digests.top(DigestSort.TOTAL_TIME, 10))
        .extracting(
            DigestRow::digestText,
            DigestRow::count,
            DigestRow::minTimeMicros,
            DigestRow::maxTimeMicros)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("SELECT ?", 3L, 1000L, 7000L));
  }

  @Test
  void pipelinedRepliesCountUnderTheirOwnCommands() {
    QueryDigests digests = new QueryDigests(true, 10);
    DigestRecorder r = digests.recorder(ImmediateEventExecutor.INSTANCE);
    sent(r, "SELECT a FROM t", "primary", "app");
    ByteBuf ping = Packets.command(ByteBufAllocator.DEFAULT, Commands.COM_PING);
    r.sent(ping, Commands.COM_PING, "primary", "app", 0);
    ping.release();
    sent(r, "UPDATE t SET a = 1", "primary", "app");
    sent(r, "DELETE FROM t", "primary", "app");
    done(r, MS, resultSet(4));
    done(r, MS, ok(0)); // the PING's OK, counted nowhere
    // The UPDATE's reply was consumed and the UPDATE sent again, behind the DELETE.
    r.skip();
    sent(r, "UPDATE t SET a = 1", "primary", "app");
    done(r, MS, ok(2));
    done(r, MS, ok(5));

    assertThat(digests.top(DigestSort.TOTAL_TIME, 10))
        .extracting(DigestRow::digestText, DigestRow::count, DigestRow::rowsSent)
        .containsExactlyInAnyOrder(
            org.assertj.core.groups.Tuple.tuple("SELECT a FROM t", 1L, 4L),
            org.assertj.core.groups.Tuple.tuple("DELETE FROM t", 1L, 0L),
            org.assertj.core.groups.Tuple.tuple("UPDATE t SET a = ?", 1L, 0L));
    assertThat(digests.top(DigestSort.TOTAL_TIME, 10))
        .filteredOn(row -> row.digestText().startsWith("DELETE"))
        .extracting(DigestRow::rowsAffected)
        .as("the DELETE's reply is the one after the UPDATE's consumed one")
        .containsExactly(2L);
  }

  @Test
  void aResetStartsOverAndReturnsWhatWasCounted() {
    QueryDigests digests = new QueryDigests(true, 1);
    DigestRecorder r = digests.recorder(ImmediateEventExecutor.INSTANCE);
    query(r, "SELECT 1", "primary", "app", MS, resultSet(1));
    query(r, "SELECT 1 FROM t", "primary", "app", MS, resultSet(1));

    DigestReport before = digests.reset(DigestSort.TOTAL_TIME, 10);
    assertThat(before.digests()).hasSize(2);
    assertThat(before.overflowStatements()).isEqualTo(1);
    assertThat(digests.top(DigestSort.TOTAL_TIME, 10)).isEmpty();
    assertThat(digests.distinct()).isZero();

    query(r, "SELECT 1 FROM t", "primary", "app", MS, resultSet(1));
    assertThat(digests.top(DigestSort.TOTAL_TIME, 10))
        .as("the bound counts again from zero: the digest that overflowed before now fits")
        .extracting(DigestRow::digestText, DigestRow::count)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("SELECT ? FROM t", 1L));
  }

  @Test
  void switchedOffNothingIsCounted() {
    QueryDigests digests = new QueryDigests(false, 10);
    DigestRecorder r = digests.recorder(ImmediateEventExecutor.INSTANCE);
    assertThat(r).isSameAs(DigestRecorder.NONE);
    query(r, "SELECT 1", "primary", "app", MS, resultSet(1));
    assertThat(digests.report(DigestSort.TOTAL_TIME, 10).digests()).isEmpty();
    assertThat(digests.report(DigestSort.TOTAL_TIME, 10).enabled()).isFalse();
  }

  @Test
  void aStatementSeenBeforeAllocatesNothing() {
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    QueryDigests digests = new QueryDigests(true, 100);
    DigestRecorder r = digests.recorder(ImmediateEventExecutor.INSTANCE);
    // Heap buffers, which the leak detector does not track: at the paranoid level the tests run
    // with, it records a stack trace at every read of a pooled buffer, an allocation of its own.
    ByteBuf select = query("SELECT c FROM sbtest1 WHERE id=50123");
    ByteBuf update = query("UPDATE sbtest1 SET k=k+1 WHERE id=50123");
    try {
      tracker.expect(Commands.COM_QUERY);
      feed(ok(1));
      for (int i = 0; i < 20_000; i++) {
        cycle(r, select, update);
      }
      long before = threads.getCurrentThreadAllocatedBytes();
      for (int i = 0; i < 50_000; i++) {
        cycle(r, select, update);
      }
      long allocated = threads.getCurrentThreadAllocatedBytes() - before;
      assertThat(allocated)
          .as("bytes allocated by 100,000 statements of digests seen before")
          .isLessThan(100_000);
      assertThat(digests.top(DigestSort.COUNT, 10))
          .extracting(DigestRow::count)
          .containsExactly(70_000L, 70_000L);
    } finally {
      select.release();
      update.release();
    }
  }

  private static ByteBuf query(String sql) {
    byte[] text = sql.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] packet = new byte[Packets.HEADER_SIZE + 1 + text.length];
    packet[0] = (byte) (text.length + 1);
    packet[Packets.HEADER_SIZE] = Commands.COM_QUERY;
    System.arraycopy(text, 0, packet, Packets.HEADER_SIZE + 1, text.length);
    return Unpooled.wrappedBuffer(packet);
  }

  private void cycle(DigestRecorder r, ByteBuf a, ByteBuf b) {
    r.sent(a, Commands.COM_QUERY, "primary", "app", 0);
    r.done(tracker, 1000, 1);
    r.sent(b, Commands.COM_QUERY, "primary", "app", 0);
    r.done(tracker, 1000, 1);
  }

  // ------------------------------------------------------------------------------------- replies

  private void query(
      DigestRecorder r, String sql, String backend, String user, long nanos, byte[][] reply) {
    sent(r, sql, backend, user);
    done(r, nanos, reply);
  }

  private static void sent(DigestRecorder r, String sql, String backend, String user) {
    ByteBuf packet = Packets.command(ByteBufAllocator.DEFAULT, Commands.COM_QUERY, sql);
    try {
      r.sent(packet, Commands.COM_QUERY, backend, user, 0);
    } finally {
      packet.release();
    }
  }

  private void done(DigestRecorder r, long nanos, byte[][] reply) {
    tracker.expect(Commands.COM_QUERY);
    feed(reply);
    r.done(tracker, nanos, System.nanoTime());
  }

  private void feed(byte[]... payloads) {
    for (byte[] payload : payloads) {
      ByteBuf packet = Packets.packet(Unpooled.buffer().alloc(), 1, payload);
      try {
        tracker.onPacket(packet);
      } finally {
        packet.release();
      }
    }
  }

  private static byte[][] ok(int affectedRows) {
    return new byte[][] {{0x00, (byte) affectedRows, 0, 2, 0, 0, 0}};
  }

  private static byte[][] err() {
    ByteBuf err =
        Packets.err(ByteBufAllocator.DEFAULT, 1, ErrorCodes.LOST_CONNECTION, "HY000", "no");
    try {
      byte[] payload = new byte[err.readableBytes() - Packets.HEADER_SIZE];
      err.getBytes(Packets.HEADER_SIZE, payload);
      return new byte[][] {payload};
    } finally {
      err.release();
    }
  }

  /** A one-column result set of {@code rows} rows, terminated by EOF packets. */
  private static byte[][] resultSet(int rows) {
    byte[][] packets = new byte[rows + 4][];
    packets[0] = new byte[] {1};
    packets[1] =
        new byte[] {
          3, 'd', 'e', 'f', 0, 0, 0, 1, 'c', 0, 0x0c, 63, 0, 1, 0, 0, 0, 3, 0, 0, 0, 0, 0
        };
    packets[2] = new byte[] {(byte) 0xfe, 0, 0, 2, 0};
    for (int i = 0; i < rows; i++) {
      packets[3 + i] = new byte[] {1, 'x'};
    }
    packets[3 + rows] = new byte[] {(byte) 0xfe, 0, 0, 2, 0};
    return packets;
  }
}
