package dev.mysqlpool.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mysqlpool.proxy.it.RawProtocolIT.RawClient;
import dev.mysqlpool.proxy.net.Buffers;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client that pipelines 100,000 commands and reads none of the replies cannot make the proxy
 * buffer them: the proxy stops reading it once its replies pile up, holds at most about a channel's
 * high-water mark for it (seen at /metrics as {@code mysqlpool_frontend_pending_reply_bytes}), and
 * when the client finally reads, every reply arrives, in command order, the proxy's own errors
 * included. Another client is served normally meanwhile. Once with PINGs the proxy answers itself
 * (no backend yet), once with queries relayed to a session-mode backend. And a client that
 * pipelines while its borrow waits (transaction mode, the pool's one connection held by another
 * client's transaction) is read only a little ahead: the proxy does not take its pipeline into
 * memory while it waits, and once lent, the commands that queued behind the replies borrow again
 * after each hand-back, down to the last.
 */
@ExtendWith(LeakGuard.class)
class PipelinedClientsIT {
  private static final Logger log = LoggerFactory.getLogger(PipelinedClientsIT.class);
  private static final int COMMANDS = 100_000;

  /**
   * Every this many commands one is COM_TIME, which the proxy does not relay: its 1047 must come
   * back at exactly its place, behind the replies still owed for the commands before it.
   */
  private static final int UNSUPPORTED_EVERY = 10_000;

  private static final byte COM_PING = 0x0e;
  private static final byte COM_TIME = 0x0f;

  /**
   * What the proxy may hold for the client's unread replies. Buffering the PINGs' would take about
   * 10 MiB (100,000 replies of 11 bytes, each with 96 bytes of Netty's bookkeeping), the queries'
   * about 100 MiB.
   */
  private static final int BOUND = 1 << 20;

  private static ProxyHarness proxy;

  @BeforeAll
  static void start() {
    proxy = ProxyHarness.start(EmbeddedMariaDb.shared(), "");
  }

  @AfterAll
  static void stop() {
    if (proxy != null) {
      proxy.close();
    }
  }

  @Test
  void hundredThousandPingsWithoutABackendStayBoundedAndAreAnsweredInOrder() throws Exception {
    pipelineWithoutReading(new byte[] {COM_PING}, false);
  }

  /**
   * Each reply a result set of about 1 KiB, so 100 MiB in all: far more than the kernel's socket
   * buffers could hide.
   */
  @Test
  void hundredThousandQueriesThroughASessionBackendStayBoundedAndAreAnsweredInOrder()
      throws Exception {
    pipelineWithoutReading(RawClient.queryPayload("SELECT REPEAT('x', 1000)"), true);
  }

  /**
   * @param lendBackend the client runs a query first, so the pipeline goes to its backend, and each
   *     reply is a result set
   */
  private void pipelineWithoutReading(byte[] command, boolean lendBackend) throws Exception {
    byte[] wire = pipeline(command);
    try (RawClient c =
            RawClient.login(proxy.port(), EmbeddedMariaDb.APP_USER, EmbeddedMariaDb.APP_PASSWORD);
        PeakSampler sampler =
            new PeakSampler()
                .probe("pendingReplyBytes", PipelinedClientsIT::pendingReplyBytes)
                .probe("directMemory", () -> (int) Buffers.usedDirectMemory())) {
      if (lendBackend) {
        assertThat(c.query("SELECT 1").sets())
            .as("a backend is lent before the pipeline")
            .hasSize(1);
      }
      if (!lendBackend) {
        // 1.1 MB of PING replies would fit in the kernel's socket buffers: a small receive window
        // keeps them out. (The 100 MiB of query results cannot fit, and would take minutes to read
        // through a window that small.)
        c.socket.setReceiveBufferSize(4096);
      }
      long directBefore = Buffers.usedDirectMemory();
      sampler.start(Duration.ofMillis(10));
      sampler.loadStarts();
      CompletableFuture<Void> writer = writeInBackground(c, wire);

      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(
              () ->
                  assertThat(Metrics.value(proxy, "mysqlpool_frontend_backpressured_clients"))
                      .as("the client that reads none of its replies is reported backpressured")
                      .isGreaterThanOrEqualTo(1));
      // As long as the client reads nothing, what the proxy holds for it stays bounded.
      await()
          .during(Duration.ofSeconds(2))
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThat(pendingReplyBytes())
                      .as(
                          "bytes of unread replies the proxy holds for a client that reads none"
                              + " (mysqlpool_frontend_pending_reply_bytes)")
                      .isLessThan(BOUND));
      try (Connection other = proxy.mariadb("");
          Statement s = other.createStatement();
          ResultSet rs = s.executeQuery("SELECT 42")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getInt(1)).as("another client is served meanwhile").isEqualTo(42);
      }

      for (int i = 1; i <= COMMANDS; i++) {
        if (i % UNSUPPORTED_EVERY == 0) {
          assertThat(c.readErr().code())
              .as("reply %d is the unsupported command's ERR, in its place", i)
              .isEqualTo(1047);
        } else if (lendBackend) {
          assertThat(c.readResults().value(0, 0)).as("reply %d", i).hasSize(1000);
        } else {
          assertThat(c.readPayload()[0] & 0xff).as("reply %d is an OK", i).isZero();
        }
      }
      writer.get(30, TimeUnit.SECONDS);
      assertThat(c.command(COM_PING)[0]).as("the session carries on").isZero();
      sampler.assertSampledWhileLoadRan(10);
      int peak = sampler.peak("pendingReplyBytes");
      log.info(
          "{} pipelined {} without reading: peak pending reply bytes {}, direct memory {} -> peak {}",
          COMMANDS,
          lendBackend ? "1 KiB queries through a backend" : "PINGs",
          peak,
          directBefore,
          sampler.peak("directMemory"));
      assertThat(peak)
          .as("bytes of unread replies the proxy held for the client at the peak")
          .isLessThan(BOUND);
    }
  }

  /**
   * 10 MB of queries written while the client's borrow waits: the proxy keeps reading a little
   * ahead (so a client that sends one command and waits costs no pause and resume of its reads),
   * but far less than the pipeline, which stays in the kernel's buffers and the client's write.
   */
  @Test
  void aPipelineWrittenWhileTheBorrowWaitsStaysOutOfTheProxysMemory() throws Exception {
    int queries = 10_000;
    String padding = " /*" + "p".repeat(1000) + "*/";
    ByteArrayOutputStream out = new ByteArrayOutputStream(queries * 1024);
    for (int i = 1; i <= queries; i++) {
      out.writeBytes(RawClient.commandPacket(RawClient.queryPayload("SELECT " + i + padding)));
    }
    byte[] wire = out.toByteArray();
    try (ProxyHarness tx =
            ProxyHarness.start(
                EmbeddedMariaDb.shared(),
                "pool: {mode: transaction, maxConnections: 1, acquireTimeout: 60s}\n");
        Connection holder = tx.mariadb("");
        Statement hs = holder.createStatement();
        RawClient c =
            RawClient.login(tx.port(), EmbeddedMariaDb.APP_USER, EmbeddedMariaDb.APP_PASSWORD)) {
      hs.execute("BEGIN");
      hs.execute("SELECT 1"); // the pool's only connection is now held by this transaction
      long directBefore = Buffers.usedDirectMemory();
      CompletableFuture<Void> writer = writeInBackground(c, wire);
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> Metrics.value(tx, "mysqlpool_pool_connections", "state=\"pending\"") >= 1);
      // Give the proxy time to read whatever it would read of the pipeline.
      await().pollDelay(Duration.ofSeconds(2)).until(() -> true);
      long held = Buffers.usedDirectMemory() - directBefore;
      log.info(
          "{} bytes pipelined while the borrow waits: direct memory {} -> {}",
          wire.length,
          directBefore,
          directBefore + held);
      assertThat(writer)
          .as("the client's write of 10 MB cannot finish while the proxy reads only ahead a little")
          .isNotDone();
      assertThat(held)
          .as(
              "direct memory the proxy took while the client's borrow waited (pipeline %d bytes)",
              wire.length)
          .isLessThanOrEqualTo(4L << 20);
      hs.execute("COMMIT");
      for (int i = 1; i <= queries; i++) {
        assertThat(c.readResults().value(0, 0)).as("reply %d, in order", i).isEqualTo("" + i);
      }
      writer.get(30, TimeUnit.SECONDS);
    }
  }

  /** Writes {@code wire} from another thread: the write blocks while the proxy reads none of it. */
  private static CompletableFuture<Void> writeInBackground(RawClient c, byte[] wire) {
    return CompletableFuture.runAsync(
        () -> {
          try {
            c.writeRaw(wire);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
  }

  /** {@code COMMANDS} commands on the wire, every {@code UNSUPPORTED_EVERY}th one COM_TIME. */
  private static byte[] pipeline(byte[] command) {
    byte[] one = RawClient.commandPacket(command);
    byte[] unsupported = RawClient.commandPacket(new byte[] {COM_TIME});
    ByteArrayOutputStream out = new ByteArrayOutputStream(COMMANDS * one.length);
    for (int i = 1; i <= COMMANDS; i++) {
      out.writeBytes(i % UNSUPPORTED_EVERY == 0 ? unsupported : one);
    }
    return out.toByteArray();
  }

  private static int pendingReplyBytes() {
    return (int) Metrics.value(proxy, "mysqlpool_frontend_pending_reply_bytes");
  }
}
