package dev.mysqlpool.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The session-semantics script of {@link SessionSemanticsIT} through a proxy in {@code pool.mode:
 * transaction} with {@code maxConnections: 2}: 50 clients run the whole script at the same time, so
 * their statements and transactions are spread over the two backends, and each must still see
 * exactly what it sees directly on the server.
 */
@ExtendWith(LeakGuard.class)
class SessionSemanticsTransactionModeIT {
  private static final Logger log =
      LoggerFactory.getLogger(SessionSemanticsTransactionModeIT.class);
  private static final int CLIENTS = 50;

  private static EmbeddedMariaDb db;
  private static List<String> direct;

  @BeforeAll
  static void databases() throws Exception {
    db = EmbeddedMariaDb.shared();
    SessionSemanticsIT.createDatabases(db);
    direct =
        SessionScripts.runClients(
                SessionSemanticsIT.directRoute(db), SessionSemanticsIT.directRoute(db), 1)
            .get(1);
    TranscriptDiff.write(SessionSemanticsIT.transcriptDir(), "direct.txt", direct);
    SessionSemanticsIT.assertDirectTranscriptShowsWhatTheScriptChecks(direct);
  }

  @AfterAll
  static void dropDatabases() {
    if (db != null) {
      db.execute(
          "DROP DATABASE IF EXISTS " + SessionScripts.DB,
          "DROP DATABASE IF EXISTS " + SessionScripts.OTHER_DB);
    }
  }

  @Test
  void transactionModeGivesFiftyClientsOnTwoConnectionsTheSameTranscriptsAsTheServer()
      throws Exception {
    try (ProxyHarness proxy =
        ProxyHarness.start(
            db, "pool: {mode: transaction, maxConnections: 2, acquireTimeout: 30s}\n")) {
      long start = System.nanoTime();
      Map<Integer, List<String>> clients =
          SessionScripts.runClients(
              SessionSemanticsIT.proxyRoute(proxy), SessionSemanticsIT.directRoute(db), CLIENTS);
      log.info(
          "transaction mode: {} clients ran the script in {} ms",
          CLIENTS,
          (System.nanoTime() - start) / 1_000_000);
      for (Map.Entry<Integer, List<String>> e : clients.entrySet()) {
        TranscriptDiff.write(
            SessionSemanticsIT.transcriptDir(),
            "transaction-c" + e.getKey() + ".txt",
            e.getValue());
      }
      assertThat(proxy.server.pool("primary").stats().maxUsed())
          .as("backend connections in use at once never exceed maxConnections")
          .isLessThanOrEqualTo(2);
      SessionSemanticsIT.assertSameAsDirect("transaction", direct, clients);
    }
  }
}
