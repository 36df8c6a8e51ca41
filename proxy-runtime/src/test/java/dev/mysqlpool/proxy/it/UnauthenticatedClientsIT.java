package dev.mysqlpool.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mysqlpool.proxy.frontend.Frontend;
import dev.mysqlpool.proxy.net.Buffers;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import io.netty.buffer.PooledByteBufAllocator;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Clients that have not logged in cannot hurt the proxy or learn from it: huge packets are refused
 * from their header on, a flood of half-open handshakes from one address does not lock out another,
 * failed logins are counted per address and logged without letting a user name forge log lines, and
 * a stranger never sees which backend the proxy uses or what it said.
 */
@ExtendWith(LeakGuard.class)
class UnauthenticatedClientsIT {
  private static final Logger log = LoggerFactory.getLogger(UnauthenticatedClientsIT.class);
  private static final int HUGE_CLIENTS = 200;
  private static final int BYTES_EACH = 1 << 20;
  private static final int HALF_OPEN = 2000;

  private static ProxyHarness proxy;

  @BeforeAll
  static void start() {
    // A long handshakeTimeout: whatever closes the connections below, it is not the timeout.
    proxy =
        ProxyHarness.start(
            EmbeddedMariaDb.shared(), "frontend: {handshakeTimeout: 60s, tls: {mode: disabled}}\n");
  }

  @AfterAll
  static void stop() {
    if (proxy != null) {
      proxy.close();
    }
  }

  private static long directMemoryInUse() {
    return ((PooledByteBufAllocator) Buffers.ALLOCATOR).metric().usedDirectMemory();
  }

  @Test
  void twoHundredClientsAnnouncing16MiBPacketsLeaveMemoryFlatAndANormalClientLogsInAtOnce()
      throws Exception {
    double tooLargeBefore =
        Metrics.value(proxy, "mysqlpool_errors_total", "kind=\"login_packet_too_large\"");
    long before = directMemoryInUse();
    List<SocketChannel> flood = new ArrayList<>();
    int closedByProxy = 0;
    long sentTotal = 0;
    try (Selector selector = Selector.open()) {
      for (int i = 0; i < HUGE_CLIENTS; i++) {
        // From four addresses, 50 each: under frontend.maxPendingLoginsPerAddress, so that the
        // packet limit, not the login cap, is what closes them.
        SocketChannel ch = SocketChannel.open();
        ch.bind(new InetSocketAddress("127.0.1." + (1 + i % 4), 0));
        ch.connect(new InetSocketAddress("127.0.0.1", proxy.port()));
        ch.configureBlocking(false);
        ch.register(selector, SelectionKey.OP_WRITE | SelectionKey.OP_READ, new long[] {0});
        flood.add(ch);
      }
      // Each announces a 16 MiB handshake response (length 0xFFFFFF) and sends up to 1 MiB of it,
      // as fast as the proxy takes it: 200 MiB if the proxy buffered what it is sent.
      ByteBuffer header = ByteBuffer.wrap(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 1});
      ByteBuffer chunk = ByteBuffer.allocate(64 * 1024);
      ByteBuffer sink = ByteBuffer.allocate(4096);
      long deadline = System.nanoTime() + 20_000_000_000L;
      int open = HUGE_CLIENTS;
      while (open > 0 && System.nanoTime() < deadline) {
        selector.select(100);
        for (SelectionKey k : selector.selectedKeys()) {
          SocketChannel ch = (SocketChannel) k.channel();
          long[] sent = (long[]) k.attachment();
          try {
            if (k.isReadable()) {
              sink.clear();
              if (ch.read(sink) < 0) {
                throw new IOException("closed by the proxy");
              }
            }
            if (k.isValid() && k.isWritable()) {
              if (sent[0] < BYTES_EACH) {
                ByteBuffer b = sent[0] == 0 ? header.duplicate() : chunk.clear();
                int n = ch.write(b);
                sent[0] += n;
                sentTotal += n;
              } else {
                k.interestOps(SelectionKey.OP_READ);
              }
            }
          } catch (IOException e) {
            k.cancel();
            ch.close();
            open--;
            closedByProxy++;
          }
        }
        selector.selectedKeys().clear();
      }
    } finally {
      for (SocketChannel ch : flood) {
        ch.close();
      }
    }
    long grew = directMemoryInUse() - before;

    long started = System.nanoTime();
    try (Connection c = proxy.mariadb("connectTimeout=5000");
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT 'right after'")) {
      rs.next();
      assertThat(rs.getString(1)).isEqualTo("right after");
    }
    long loginMs = (System.nanoTime() - started) / 1_000_000;
    log.info(
        "{} clients sent {} KiB of announced 16 MiB packets; the proxy closed {}, its direct memory"
            + " grew by {} KiB; a normal client logged in and queried in {} ms",
        HUGE_CLIENTS,
        sentTotal / 1024,
        closedByProxy,
        grew / 1024,
        loginMs);
    assertThat(closedByProxy)
        .as("the proxy closes every client announcing more than 8 KiB before login")
        .isEqualTo(HUGE_CLIENTS);
    assertThat(grew)
        .as("direct memory growth with 200 clients sending up to 1 MiB each")
        .isLessThan(16L << 20);
    assertThat(loginMs).as("a normal login right after the flood, in ms").isLessThan(3000);
    assertThat(Metrics.value(proxy, "mysqlpool_errors_total", "kind=\"login_packet_too_large\""))
        .isEqualTo(tooLargeBefore + HUGE_CLIENTS);
  }

  @Test
  void twoThousandHalfOpenHandshakesFromOneAddressDoNotLockOutAnother() throws Exception {
    double refusedBefore =
        Metrics.value(proxy, "mysqlpool_errors_total", "kind=\"pending_login_limit\"");
    List<Socket> flood = new ArrayList<>();
    try {
      for (int i = 0; i < HALF_OPEN; i++) {
        Socket s = new Socket();
        flood.add(s);
        s.bind(new InetSocketAddress("127.0.0.1", 0));
        s.connect(new InetSocketAddress("127.0.0.1", proxy.port()), 5_000);
      }
      long started = System.nanoTime();
      try (Connection c = proxy.mariadb("localSocketAddress=127.0.0.2&connectTimeout=5000");
          Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT 'from 127.0.0.2'")) {
        rs.next();
        assertThat(rs.getString(1)).isEqualTo("from 127.0.0.2");
      }
      long otherMs = (System.nanoTime() - started) / 1_000_000;
      assertThatThrownBy(() -> proxy.mariadb("localSocketAddress=127.0.0.1").close())
          .as("127.0.0.1 is at frontend.maxPendingLoginsPerAddress (100)")
          .hasMessageContaining("Too many connections still logging in from 127.0.0.1")
          .hasMessageContaining("frontend.maxPendingLoginsPerAddress=100");

      int refused = 0;
      int stillWaiting = 0;
      for (Socket s : flood) {
        s.setSoTimeout(100);
        String first = firstPacketKind(s.getInputStream());
        if (first.equals("1040")) {
          refused++;
        } else {
          stillWaiting++;
        }
      }
      log.info(
          "{} half-open handshakes from 127.0.0.1: {} refused with 1040, {} pending; a client"
              + " from 127.0.0.2 logged in and queried in {} ms",
          HALF_OPEN,
          refused,
          stillWaiting,
          otherMs);
      assertThat(stillWaiting).as("admitted from one address").isEqualTo(100);
      assertThat(refused).isEqualTo(HALF_OPEN - 100);
      assertThat(
              Metrics.value(proxy, "mysqlpool_errors_total", "kind=\"pending_login_limit\"")
                  - refusedBefore)
          .isEqualTo(HALF_OPEN - 100 + 1);
      assertThat(otherMs).as("the other address's login, in ms").isLessThan(3000);
    } finally {
      for (Socket s : flood) {
        s.close();
      }
    }
  }

  /** "1040" for the refusal, "greeting" for a HandshakeV10, or what else came first. */
  private static String firstPacketKind(InputStream in) throws IOException {
    byte[] header = in.readNBytes(4);
    if (header.length < 4) {
      return "closed";
    }
    int length = (header[0] & 0xff) | (header[1] & 0xff) << 8 | (header[2] & 0xff) << 16;
    byte[] payload = in.readNBytes(length);
    if ((payload[0] & 0xff) == 0xff) {
      return Integer.toString((payload[1] & 0xff) | (payload[2] & 0xff) << 8);
    }
    return payload[0] == 10 ? "greeting" : "other";
  }

  @Test
  void failedLoginsAreCountedPerAddressAndLoggedWithTheUserNameEscaped() {
    String forged = "eve\n2026-01-01 00:00:00.000 INFO  d.m.p.frontend.Frontend - admin logged in";
    double before =
        Metrics.value(proxy, "mysqlpool_frontend_failed_logins_total", "source=\"127.0.0.3\"");
    try (LogCapture logs = new LogCapture(Frontend.class)) {
      for (String user : new String[] {forged, "app"}) {
        assertThatThrownBy(
                () ->
                    DriverManager.getConnection(
                            proxy.mariadbUrl("localSocketAddress=127.0.0.3"), user, "wrong")
                        .close())
            .isInstanceOfSatisfying(
                SQLException.class, e -> assertThat(e.getErrorCode()).isEqualTo(1045));
      }
      assertThat(
              Metrics.value(
                  proxy, "mysqlpool_frontend_failed_logins_total", "source=\"127.0.0.3\""))
          .isEqualTo(before + 2);
      List<String> denied =
          logs.messages().stream().filter(m -> m.contains("access denied")).toList();
      assertThat(denied).hasSize(2);
      assertThat(denied.get(0))
          .as("the user name cannot start a log line of its own")
          .doesNotContain("\n")
          .contains("from 127.0.0.3: access denied for user 'eve\\n2026-01-01 00:00:00.000 INFO");
    }
  }

  @Test
  void aClientThatHasNotLoggedInNeverSeesTheBackendOrWhatItSaid() throws Exception {
    int deadPort = EmbeddedMariaDb.freePort();
    try (ProxyHarness p =
            ProxyHarness.start(
                "127.0.0.1",
                deadPort,
                "pool: {acquireTimeout: 1s, connectTimeout: 500ms}\n"
                    + "frontend: {tls: {mode: disabled}}\n");
        Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", p.port()), 5_000);
      s.setSoTimeout(10_000);
      byte[] header = s.getInputStream().readNBytes(4);
      int length = (header[0] & 0xff) | (header[1] & 0xff) << 8 | (header[2] & 0xff) << 16;
      byte[] payload = s.getInputStream().readNBytes(length);
      assertThat(payload[0] & 0xff).as("an ERR packet instead of a greeting").isEqualTo(0xff);
      String message = new String(payload, 9, payload.length - 9, StandardCharsets.UTF_8);
      assertThat(message)
          .isEqualTo("mysqlpool: the database is not reachable right now; try again later")
          .doesNotContain(Integer.toString(deadPort))
          .doesNotContain("127.0.0.1")
          .doesNotContainIgnoringCase("refused");
    }
  }
}
