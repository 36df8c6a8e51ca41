package dev.mysqlpool.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mysqlpool.proxy.it.SessionScript.Driver;
import dev.mysqlpool.proxy.it.SessionScript.Route;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A client's session means the same through the proxy as on the server: the session-semantics
 * script ({@link SessionScripts}: autocommit, transactions, savepoints, errors in transactions, USE
 * and COM_INIT_DB, carried and non-carried variables, user variables, temporary tables, named
 * locks, server-side prepared statements of both drivers, LAST_INSERT_ID/ROW_COUNT/FOUND_ROWS,
 * warnings, multi-statements, non-ASCII text) runs directly against MariaDB and through a fresh
 * proxy, and every transcript must equal the direct one line for line.
 *
 * <p>The direct run is also done by several concurrent clients, each on its own tables and lock
 * names, which shows the script is deterministic and its clients independent, so a difference
 * through the proxy is the proxy's.
 */
@ExtendWith(LeakGuard.class)
class SessionSemanticsIT {
  /** Concurrent direct clients: enough to show the clients do not disturb each other. */
  private static final int DIRECT_CLIENTS = 8;

  private static EmbeddedMariaDb db;
  private static List<String> direct;

  @BeforeAll
  static void databases() throws Exception {
    db = EmbeddedMariaDb.shared();
    createDatabases(db);
    direct = SessionScripts.runClients(directRoute(db), directRoute(db), 1).get(1);
    TranscriptDiff.write(transcriptDir(), "direct.txt", direct);
    assertDirectTranscriptShowsWhatTheScriptChecks(direct);
  }

  @AfterAll
  static void dropDatabases() {
    if (db != null) {
      db.execute(
          "DROP DATABASE IF EXISTS " + SessionScripts.DB,
          "DROP DATABASE IF EXISTS " + SessionScripts.OTHER_DB);
    }
  }

  /**
   * The direct transcript is complete (every step ran, none threw a non-SQL exception) and shows on
   * the server itself each effect the script relies on. Only then does a proxy transcript that
   * equals it mean something: where both sides fail alike (no connection, a driver exception), the
   * comparison alone would pass. Every variant that compares with a direct run calls this.
   */
  static void assertDirectTranscriptShowsWhatTheScriptChecks(List<String> direct) {
    assertThat(direct)
        .as("the direct transcript is complete: every step ran, none threw a non-SQL exception")
        .noneMatch(
            l ->
                l.contains("=> EXC ")
                    || l.contains("not run: no connection")
                    || l.contains("=> still "));
    // The script demonstrates each semantic on the server itself, so agreeing with it means
    // something.
    assertThat(direct)
        .as("the direct run shows the effects the script relies on")
        .contains(
            "cj-tx / LAST_INSERT_ID after commit => LAST_INSERT_ID():BIGINT UNSIGNED = 5",
            "cj-tx / side does not see f => COUNT(*):BIGINT = 4",
            "cj-tx / only h remains => name:VARCHAR = h",
            "cj-vars / RC sees v1 => s:VARCHAR = v1",
            "cj-vars / RR still sees v1 => s:VARCHAR = v1",
            "cj-vars / next-transaction RC sees v3 => s:VARCHAR = v3",
            "cj-vars / TIMESTAMP at -03:00 => ts:VARCHAR = 2023-12-31 15:30:00",
            "cj-vars / latin1: literal length => chars:INT,hex:VARCHAR = 2,C3BC",
            "cj-pin / still 8 digits => q:DECIMAL = 0.14285714",
            "cj-pin / user variable after commit => @x:BIGINT = 43",
            "cj-pin / lock held in transaction => mine:INT = 1",
            "cj-pin / lock freed after disconnect => 1",
            "mj-main / DATABASE() after COM_INIT_DB => DATABASE():VARCHAR = sem_it",
            "mj-pin / user variable gone => @y:LONGBLOB = NULL");
  }

  /** Creates the script's two databases afresh on {@code db}. */
  static void createDatabases(EmbeddedMariaDb db) {
    db.execute(
        "DROP DATABASE IF EXISTS " + SessionScripts.DB,
        "DROP DATABASE IF EXISTS " + SessionScripts.OTHER_DB,
        "CREATE DATABASE "
            + SessionScripts.DB
            + " CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci",
        "CREATE DATABASE "
            + SessionScripts.OTHER_DB
            + " CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci");
  }

  /** Connections straight to the server. */
  static Route directRoute(EmbeddedMariaDb db) {
    return (driver, database, params) -> url(driver, db.host(), db.port(), database, params);
  }

  /** Connections through the proxy. */
  static Route proxyRoute(ProxyHarness proxy) {
    return (driver, database, params) -> url(driver, "127.0.0.1", proxy.port(), database, params);
  }

  private static String url(Driver driver, String host, int port, String database, String params) {
    // Timeouts so that a proxy that loses a reply fails the step instead of hanging the build.
    String base =
        driver == Driver.MYSQL_CJ
            ? "jdbc:mysql://"
                + host
                + ":"
                + port
                + "/"
                + database
                + "?sslMode=DISABLED&allowPublicKeyRetrieval=true&connectTimeout=60000&socketTimeout=60000"
            : "jdbc:mariadb://"
                + host
                + ":"
                + port
                + "/"
                + database
                + "?sslMode=disable&connectTimeout=60000&socketTimeout=60000";
    return params.isEmpty() ? base : base + "&" + params;
  }

  /** Where differing transcripts are written: a folder in the module's build directory. */
  static Path transcriptDir() {
    String jar = System.getProperty("proxy.jar");
    Path build =
        jar != null
            ? Path.of(jar).toAbsolutePath().getParent()
            : Path.of(System.getProperty("java.io.tmpdir"));
    return build.resolve("session-semantics");
  }

  /**
   * Asserts that every client's transcript equals the direct one, with a readable diff otherwise.
   */
  static void assertSameAsDirect(
      String way, List<String> reference, Map<Integer, List<String>> clients) {
    String diff = TranscriptDiff.explain(way, reference, clients, transcriptDir());
    assertThat(diff)
        .as("differences from the direct transcript")
        .withFailMessage("%s", diff)
        .isNull();
  }

  @Test
  void concurrentDirectClientsGetIdenticalTranscripts() throws Exception {
    Map<Integer, List<String>> clients =
        SessionScripts.runClients(directRoute(db), directRoute(db), DIRECT_CLIENTS);
    assertSameAsDirect("direct-concurrent", direct, clients);
  }

  @Test
  void sessionModeGivesEveryClientTheSameTranscriptAsTheServer() throws Exception {
    try (ProxyHarness proxy = ProxyHarness.start(db, "")) {
      Map<Integer, List<String>> clients =
          SessionScripts.runClients(proxyRoute(proxy), directRoute(db), 1);
      assertSameAsDirect("session", direct, clients);
    }
  }
}
