package dev.mysqlpool.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import dev.mysqlpool.proxy.it.RawProtocolIT.RawClient;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import dev.mysqlpool.proxy.testsupport.WireFuzzer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running proxy fed seeded garbage over real sockets: bytes before the greeting, damaged
 * handshake responses (random capability flags, length-encoded lengths past the end, missing NULs,
 * truncation, lying length headers up to 0xFFFFFF, wrong sequence ids), and after a real login
 * random command bytes, malformed COM_CHANGE_USER and COM_PROCESS_KILL, truncated packets and junk.
 * While that runs, a well-behaved JDBC client queries without pause.
 *
 * <p>Each case ends either by the client half-closing its socket (the proxy must then close too) or
 * by the client just waiting (the proxy must end it by its handshake or idle timeout). A case that
 * does not see the connection closed within {@link #CASE_DEADLINE} is a hang. Reproduce a case with
 * {@code -Dfuzz.seed=<base>} and the case number in the failure.
 */
@ExtendWith(LeakGuard.class)
class FuzzIT {
  private static final Logger log = LoggerFactory.getLogger(FuzzIT.class);
  private static final long BASE_SEED = Long.getLong("fuzz.seed", 20240611L);
  private static final int CASES = 600;
  private static final int PARALLEL = 16;

  /** handshakeTimeout 1s and clientIdleTimeout 2s below, plus slack for a loaded 2-core machine. */
  private static final Duration CASE_DEADLINE = Duration.ofSeconds(10);

  /**
   * COM_CREATE_DB, COM_DROP_DB and COM_REFRESH are relayed verbatim exactly like COM_QUERY, and
   * with the app account's privileges random arguments would create databases or flush the shared
   * server under other test classes.
   */
  private static final int[] DESTRUCTIVE_COMMANDS = {0x05, 0x06, 0x07};

  private static EmbeddedMariaDb db;
  private static ProxyHarness proxy;

  /**
   * Odd-numbered cases go to a proxy in transaction mode, whose statement scanning and pinning see
   * fuzzed SQL.
   */
  private static ProxyHarness transactionProxy;

  @BeforeAll
  static void start() {
    db = EmbeddedMariaDb.shared();
    proxy =
        ProxyHarness.start(
            db,
            "pool: {maxConnections: 24, acquireTimeout: 5s}\n"
                + "frontend: {handshakeTimeout: 1s, clientIdleTimeout: 2s}\n");
    transactionProxy =
        ProxyHarness.start(
            db,
            "pool: {mode: transaction, maxConnections: 8, acquireTimeout: 5s}\n"
                + "frontend: {handshakeTimeout: 1s, clientIdleTimeout: 2s}\n");
  }

  @AfterAll
  static void stop() {
    if (proxy != null) {
      proxy.close();
    }
    if (transactionProxy != null) {
      transactionProxy.close();
    }
  }

  /** How one case ended. */
  record Outcome(
      int caseNo,
      String kind,
      String trace,
      boolean halfClosed,
      String end,
      boolean sawErr,
      long millis) {}

  @Test
  void
      sixHundredFuzzedConnectionsEachEndClosedWithNoEscapedExceptionWhileAWellBehavedClientKeepsWorking()
          throws Exception {
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicInteger goodQueries = new AtomicInteger();
    List<String> goodClientErrors = new ArrayList<>();
    List<Outcome> outcomes = new ArrayList<>();
    List<String> hangs = new ArrayList<>();
    long started = System.nanoTime();
    try (LevelCapture netty =
            new LevelCapture(
                "io.netty",
                Level.WARN,
                e -> e.getLoggerName().startsWith("io.netty.util.ResourceLeakDetector"));
        LevelCapture ours = new LevelCapture("dev.mysqlpool.proxy", Level.ERROR, e -> false)) {
      Thread good =
          new Thread(
              () -> {
                try (Connection c = proxy.mariadb("socketTimeout=10000");
                    Statement s = c.createStatement()) {
                  int i = 0;
                  while (running.get()) {
                    try (ResultSet rs = s.executeQuery("SELECT " + (++i))) {
                      rs.next();
                      if (rs.getInt(1) != i) {
                        throw new AssertionError("wrong answer " + rs.getInt(1) + " for " + i);
                      }
                      goodQueries.incrementAndGet();
                    }
                  }
                } catch (SQLException | RuntimeException | Error e) {
                  synchronized (goodClientErrors) {
                    goodClientErrors.add(e.toString());
                  }
                }
              },
              "fuzz-well-behaved-client");
      good.start();

      ExecutorService pool = Executors.newFixedThreadPool(PARALLEL);
      try {
        List<Future<Outcome>> futures = new ArrayList<>();
        for (int i = 0; i < CASES; i++) {
          int caseNo = i;
          futures.add(pool.submit(() -> runCase(caseNo)));
        }
        for (Future<Outcome> f : futures) {
          Outcome o = f.get(2 * CASE_DEADLINE.toSeconds() + 60, TimeUnit.SECONDS);
          outcomes.add(o);
          if (!o.end().equals("closed")) {
            hangs.add(o.toString());
          }
        }
      } finally {
        pool.shutdownNow();
        running.set(false);
        good.join(TimeUnit.SECONDS.toMillis(20));
      }

      log.info(
          "fuzz: {} cases in {} ms (seed {}): {}",
          CASES,
          (System.nanoTime() - started) / 1_000_000,
          BASE_SEED,
          summarize(outcomes));
      assertThat(hangs)
          .withFailMessage(
              "cases the proxy neither answered nor closed within %s (seed %d):%n%s",
              CASE_DEADLINE, BASE_SEED, String.join("\n", hangs))
          .isEmpty();
      assertThat(netty.events())
          .withFailMessage(
              "Netty warned (an exception reached the pipeline's tail, or a buffer was released twice):"
                  + "%n%s",
              String.join("\n", netty.events()))
          .isEmpty();
      assertThat(ours.events()).as("errors logged by the proxy").isEmpty();
      assertThat(goodClientErrors).as("the well-behaved client next to the fuzzing").isEmpty();
      assertThat(goodQueries.get())
          .as("queries the well-behaved client ran during the fuzzing")
          .isGreaterThan(50);
    }
    for (ProxyHarness p : List.of(proxy, transactionProxy)) {
      try (Connection c = p.mysql("");
          Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT 'after fuzzing'")) {
        rs.next();
        assertThat(rs.getString(1)).isEqualTo("after fuzzing");
      }
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () -> {
                assertThat(p.server.stats().clientConnections())
                    .as("client sessions left open")
                    .isZero();
                assertThat(p.server.pool("primary").stats().used())
                    .as("backend connections still lent")
                    .isZero();
                assertThat(p.server.stats().pinnedSessions().values())
                    .as("pinned sessions left")
                    .allMatch(n -> n == 0);
              });
    }
  }

  @Test
  void queryOfOnlyWhitespaceGetsTheServersEmptyQueryErrorAndTheSessionGoesOn() throws Exception {
    try (RawClient c =
        RawClient.login(proxy.port(), EmbeddedMariaDb.APP_USER, EmbeddedMariaDb.APP_PASSWORD)) {
      for (String blank : List.of(" ", "        ", " \t\n ".repeat(10))) {
        RawProtocolIT.Err err = c.query(blank).error();
        assertThat(err)
            .as("reply to a COM_QUERY of %d whitespace characters", blank.length())
            .isNotNull();
        assertThat(err.code()).as("ER_EMPTY_QUERY from the server").isEqualTo(1065);
      }
      assertThat(c.query("SELECT 'still here'").value(0, 0)).isEqualTo("still here");
    }
  }

  private static Outcome runCase(int caseNo) {
    Random random = new Random(BASE_SEED * 1_000_003L + caseNo);
    WireFuzzer fuzz = new WireFuzzer(random);
    int kind = random.nextInt(10);
    boolean halfClose = random.nextInt(4) != 0;
    long begin = System.nanoTime();
    String kindName = kind < 2 ? "before-greeting" : kind < 5 ? "handshake" : "after-login";
    ProxyHarness target = caseNo % 2 == 0 ? proxy : transactionProxy;
    String end;
    boolean sawErr = false;
    Socket socket = null;
    try {
      byte[] junk;
      if (kind < 2) {
        socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", target.port()), 5_000);
        // A command, or random bytes, before the greeting was read.
        junk =
            random.nextBoolean()
                ? WireFuzzer.packet(new byte[] {0x03, 'S', 'E', 'L', 'E', 'C', 'T', ' ', '1'}, 0, 9)
                : fuzz.random(1 + random.nextInt(120));
      } else if (kind < 5) {
        RawClient c = RawClient.open(target.port());
        socket = c.socket;
        junk =
            fuzz.brokenHandshakeResponse(
                EmbeddedMariaDb.APP_USER, EmbeddedMariaDb.APP_PASSWORD, c.greeting.seed());
      } else {
        RawClient c =
            RawClient.login(target.port(), EmbeddedMariaDb.APP_USER, EmbeddedMariaDb.APP_PASSWORD);
        socket = c.socket;
        if (random.nextBoolean()) {
          c.query("SELECT 1"); // now holding a backend connection
        }
        junk = fuzz.brokenCommands(DESTRUCTIVE_COMMANDS);
      }
      socket.setSoTimeout((int) CASE_DEADLINE.toMillis());
      OutputStream out = socket.getOutputStream();
      try {
        out.write(junk);
        out.flush();
        if (halfClose) {
          socket.shutdownOutput();
        }
      } catch (SocketException e) {
        // The proxy closed first (e.g. an ERR after the first packet); what matters is that it is
        // closed.
      }
      long[] errSeen = {0};
      end = drainUntilClosed(socket.getInputStream(), begin, errSeen);
      sawErr = errSeen[0] > 0;
    } catch (IOException | AssertionError e) {
      end = "failed before the fuzz bytes were sent: " + e;
    } finally {
      if (socket != null) {
        try {
          socket.close();
        } catch (IOException ignored) {
          // already closed
        }
      }
    }
    return new Outcome(
        caseNo,
        kindName,
        fuzz.trace(),
        halfClose,
        end,
        sawErr,
        (System.nanoTime() - begin) / 1_000_000);
  }

  /**
   * Reads until end of stream or a reset: "closed" then, "hang" when the deadline passes first.
   * Counts the ERR packets in what was read (walking the packet headers), for the statistics.
   */
  private static String drainUntilClosed(InputStream in, long beginNanos, long[] errPackets)
      throws IOException {
    java.io.ByteArrayOutputStream seen = new java.io.ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    try {
      while (true) {
        if (System.nanoTime() - beginNanos > CASE_DEADLINE.toNanos()) {
          return "hang (the proxy kept sending)";
        }
        int n = in.read(buf);
        if (n < 0) {
          return "closed";
        }
        if (seen.size() < (1 << 20)) {
          seen.write(buf, 0, n);
        }
      }
    } catch (SocketTimeoutException e) {
      return "hang (no close within " + CASE_DEADLINE.toMillis() + " ms)";
    } catch (SocketException e) {
      return "closed"; // connection reset by the proxy
    } finally {
      byte[] b = seen.toByteArray();
      for (int i = 0; i + 4 < b.length; ) {
        int len = (b[i] & 0xff) | (b[i + 1] & 0xff) << 8 | (b[i + 2] & 0xff) << 16;
        if ((b[i + 4] & 0xff) == 0xff && len > 0) {
          errPackets[0]++;
        }
        i += 4 + len;
      }
    }
  }

  private static String summarize(List<Outcome> outcomes) {
    Map<String, int[]> byKind = new TreeMap<>();
    long maxMillis = 0;
    for (Outcome o : outcomes) {
      int[] c = byKind.computeIfAbsent(o.kind(), k -> new int[3]);
      c[0]++;
      if (o.sawErr()) {
        c[1]++;
      }
      if (o.halfClosed()) {
        c[2]++;
      }
      maxMillis = Math.max(maxMillis, o.millis());
    }
    StringBuilder sb = new StringBuilder();
    byKind.forEach(
        (k, c) ->
            sb.append(k)
                .append('=')
                .append(c[0])
                .append(" (")
                .append(c[1])
                .append(" got an ERR, ")
                .append(c[2])
                .append(" half-closed) "));
    return sb.append("slowest case ").append(maxMillis).append(" ms").toString();
  }
}
