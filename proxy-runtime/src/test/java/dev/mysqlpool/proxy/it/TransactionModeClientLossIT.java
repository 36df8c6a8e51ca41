package dev.mysqlpool.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mysqlpool.proxy.backend.PoolStats;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Transaction mode, a client lost with a transaction open: its socket closed without COM_QUIT
 * (Connector/J's {@code abort}), or its process killed with SIGKILL (the mariadb command-line
 * client). Lost between statements, its row lock is freed within two seconds and its backend
 * connection goes back to the pool rolled back and with the server's defaults; lost in the middle
 * of a statement, the statement is stopped on the server as well, and the next client is served
 * cleanly. maxConnections is 1, so the next client of the same kind gets whatever the lost one
 * left.
 */
@ExtendWith(LeakGuard.class)
class TransactionModeClientLossIT {
  private static final String TABLE = "app.txm_loss";
  private static final Duration LOCK_FREED_WITHIN = Duration.ofSeconds(2);

  private static EmbeddedMariaDb db;
  private ProxyHarness proxy;

  /** How the client goes away. */
  enum Loss {
    SOCKET_CLOSED,
    PROCESS_KILLED
  }

  @BeforeAll
  static void server() {
    db = EmbeddedMariaDb.shared();
    db.execute(
        "CREATE TABLE IF NOT EXISTS " + TABLE + " (id INT PRIMARY KEY, v INT)",
        "INSERT IGNORE INTO " + TABLE + " VALUES (1, 0)");
  }

  @AfterEach
  void stopProxy() {
    if (proxy != null) {
      proxy.close();
    }
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> db.threadIds(EmbeddedMariaDb.APP_USER).isEmpty());
  }

  private void start() {
    proxy =
        ProxyHarness.start(
            db, "pool: {mode: transaction, maxConnections: 1, acquireTimeout: 20s}\n");
  }

  private PoolStats stats() {
    return proxy.server.pool("primary").stats();
  }

  @ParameterizedTest
  @EnumSource(Loss.class)
  void clientLostMidTransactionFreesItsLockAndItsBackendReturnsToThePoolClean(Loss loss)
      throws Exception {
    start();
    int before = committedValue();
    long backend;
    try (LosableClient client = LosableClient.connect(loss, proxy, db)) {
      backend = client.beginTransaction();
      assertThat(rowLockFree()).as("the row lock while the client is there").isFalse();
      assertThat(stats().used()).as("backends lent to the client in its transaction").isEqualTo(1);
      client.lose();
      assertLockFreedWithinBound();
    }
    await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(
            () -> {
              assertThat(stats().used()).as("backends lent after the loss").isZero();
              assertThat(stats().free()).as("free backends after the loss").isEqualTo(1);
            });
    assertNextClientSeesACleanSession(loss, backend, before);
  }

  @ParameterizedTest
  @EnumSource(Loss.class)
  void clientLostMidQueryHasItsStatementStoppedItsLockFreedAndTheNextClientServedClean(Loss loss)
      throws Exception {
    start();
    int before = committedValue();
    String marker = "txm_loss_" + loss.name().toLowerCase();
    try (LosableClient client = LosableClient.connect(loss, proxy, db)) {
      client.beginTransaction();
      client.startSleep(marker);
      await().atMost(Duration.ofSeconds(10)).until(() -> running(marker) == 1);
      client.lose();
      assertLockFreedWithinBound();
      await()
          .atMost(Duration.ofSeconds(2))
          .untilAsserted(
              () -> assertThat(running(marker)).as("the lost client's SLEEP(60)").isZero());
    }
    await()
        .atMost(Duration.ofSeconds(5))
        .untilAsserted(
            () -> assertThat(stats().used()).as("backends lent after the loss").isZero());
    assertNextClientSeesACleanSession(loss, null, before);
    assertThat(db.threadIds(EmbeddedMariaDb.APP_USER))
        .as("app sessions on the server (maxConnections 1)")
        .hasSizeLessThanOrEqualTo(1);
  }

  private static void assertLockFreedWithinBound() {
    long lostAt = System.nanoTime();
    await()
        .atMost(LOCK_FREED_WITHIN)
        .pollInterval(Duration.ofMillis(50))
        .untilAsserted(() -> assertThat(rowLockFree()).as("the lost client's row lock").isTrue());
    assertThat(Duration.ofNanos(System.nanoTime() - lostAt)).isLessThan(LOCK_FREED_WITHIN);
  }

  /**
   * The next client, of the same kind as the lost one (so with maxConnections 1 it is served by the
   * connection the lost one left, if that was kept): no open transaction, the uncommitted update
   * rolled back, the server's time zone.
   *
   * @param backend the lost client's backend connection when it must have been kept, else null
   */
  private void assertNextClientSeesACleanSession(Loss loss, Long backend, int committedBefore)
      throws SQLException {
    assertThat(proxy.server.stats().clientConnections()).as("clients of the proxy").isZero();
    String sql =
        "SELECT CONNECTION_ID(), @@in_transaction, @@time_zone, v FROM " + TABLE + " WHERE id = 1";
    List<String> row = new ArrayList<>();
    if (loss == Loss.SOCKET_CLOSED) {
      try (Connection next = proxy.mysql("");
          Statement s = next.createStatement();
          ResultSet rs = s.executeQuery(sql)) {
        assertThat(rs.next()).isTrue();
        for (int i = 1; i <= 4; i++) {
          row.add(rs.getString(i));
        }
      }
    } else {
      List<List<String>> rows =
          db.runCli(
                  "127.0.0.1",
                  proxy.port(),
                  EmbeddedMariaDb.APP_USER,
                  EmbeddedMariaDb.APP_PASSWORD,
                  EmbeddedMariaDb.APP_DATABASE,
                  sql,
                  "--skip-column-names")
              .requireSuccess()
              .rows();
      assertThat(rows).as("the mariadb client's output").hasSize(1);
      row.addAll(rows.get(0));
    }
    if (backend != null) {
      assertThat(row.get(0))
          .as("the next client's backend: the lost client's, back in the pool")
          .isEqualTo(Long.toString(backend));
    }
    assertThat(row.subList(1, 4))
        .as("@@in_transaction, @@time_zone the lost client had set, its uncommitted update")
        .containsExactly("0", "SYSTEM", Integer.toString(committedBefore));
  }

  private static int committedValue() throws SQLException {
    try (Connection c = db.appConnection()) {
      return scalar(c, "SELECT v FROM " + TABLE + " WHERE id = 1");
    }
  }

  private static int running(String marker) throws SQLException {
    return ServerProbes.running(db, marker);
  }

  private static boolean rowLockFree() throws SQLException {
    return ServerProbes.rowLockFree(db, TABLE);
  }

  private static int scalar(Connection c, String sql) throws SQLException {
    return ServerProbes.scalar(c, sql);
  }

  /** A client of the proxy that can be lost abruptly. */
  private interface LosableClient extends AutoCloseable {
    /**
     * Sets a carried variable, starts a transaction that updates the row (holding its lock) and
     * returns the backend connection's thread id.
     */
    long beginTransaction() throws Exception;

    /** Starts {@code SELECT SLEEP(60) AS marker} and returns without waiting for it. */
    void startSleep(String marker) throws Exception;

    /** Goes away without COM_QUIT. */
    void lose() throws Exception;

    @Override
    void close() throws SQLException;

    static LosableClient connect(Loss loss, ProxyHarness proxy, EmbeddedMariaDb db)
        throws Exception {
      return loss == Loss.SOCKET_CLOSED ? new JdbcClient(proxy) : new CliProcess(proxy, db);
    }
  }

  /** Connector/J; {@code abort} closes the socket without sending COM_QUIT. */
  private static final class JdbcClient implements LosableClient {
    private final Connection c;
    private final ExecutorService runner = Executors.newSingleThreadExecutor();

    JdbcClient(ProxyHarness proxy) throws SQLException {
      c = proxy.mysql("");
    }

    @Override
    public long beginTransaction() throws SQLException {
      try (Statement s = c.createStatement()) {
        s.execute("SET SESSION time_zone = '+05:00'");
        c.setAutoCommit(false);
        s.executeUpdate("UPDATE " + TABLE + " SET v = v + 1 WHERE id = 1");
      }
      return scalar(c, "SELECT CONNECTION_ID()");
    }

    @Override
    public void startSleep(String marker) {
      runner.submit(() -> scalar(c, "SELECT SLEEP(60) AS " + marker));
    }

    @Override
    public void lose() throws SQLException {
      c.abort(Runnable::run);
    }

    @Override
    public void close() throws SQLException {
      runner.shutdownNow();
      c.close();
    }
  }

  /**
   * The mariadb command-line client reading statements from a pipe, so it can sit idle in a
   * transaction; {@link #lose} kills it with SIGKILL, and the kernel closes its socket.
   */
  private static final class CliProcess implements LosableClient {
    private final Process process;
    private final OutputStream stdin;
    private final BufferedReader stdout;

    CliProcess(ProxyHarness proxy, EmbeddedMariaDb db) throws IOException {
      ProcessBuilder pb =
          new ProcessBuilder(
                  List.of(
                      db.cliBinary().toString(),
                      "--no-defaults",
                      "--batch",
                      "--unbuffered",
                      "--skip-column-names",
                      "--skip-ssl",
                      "--protocol=TCP",
                      "--connect-timeout=10",
                      "-h",
                      "127.0.0.1",
                      "-P",
                      Integer.toString(proxy.port()),
                      "-u",
                      EmbeddedMariaDb.APP_USER,
                      "--database=" + EmbeddedMariaDb.APP_DATABASE))
              .redirectError(ProcessBuilder.Redirect.DISCARD);
      pb.environment().put("MYSQL_PWD", EmbeddedMariaDb.APP_PASSWORD);
      process = pb.start();
      stdin = process.getOutputStream();
      stdout =
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    }

    private void send(String sql) throws IOException {
      stdin.write((sql + "\n").getBytes(StandardCharsets.UTF_8));
      stdin.flush();
    }

    @Override
    public long beginTransaction() throws Exception {
      send(
          "SET SESSION time_zone = '+05:00'; BEGIN; UPDATE "
              + TABLE
              + " SET v = v + 1 WHERE id = 1; SELECT CONNECTION_ID();");
      String line =
          CompletableFuture.supplyAsync(
                  () -> {
                    try {
                      return stdout.readLine();
                    } catch (IOException e) {
                      throw new IllegalStateException(e);
                    }
                  })
              .get(20, TimeUnit.SECONDS);
      assertThat(line).as("the mariadb client's CONNECTION_ID() output").matches("\\d+");
      return Long.parseLong(line);
    }

    @Override
    public void startSleep(String marker) throws IOException {
      send("SELECT SLEEP(60) AS " + marker + ";");
    }

    @Override
    public void lose() throws InterruptedException {
      process.destroyForcibly();
      assertThat(process.waitFor(5, TimeUnit.SECONDS)).as("the killed process exited").isTrue();
    }

    @Override
    public void close() {
      process.destroyForcibly();
    }
  }
}
