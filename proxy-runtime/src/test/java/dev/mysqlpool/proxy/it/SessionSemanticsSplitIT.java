package dev.mysqlpool.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mysqlpool.proxy.testsupport.LeakGuard;
import dev.mysqlpool.proxy.testsupport.ReplicatedMariaDb;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The session-semantics script of {@link SessionSemanticsIT}, unchanged, through a read/write split
 * pool over a real primary and its GTID replica: 30 clients on two connections per server, their
 * reads spread to the replica, each must still see exactly what it sees directly on the primary
 * (its own writes included: {@code readYourWrites: session}).
 */
@ExtendWith(LeakGuard.class)
class SessionSemanticsSplitIT {
  private static final int CLIENTS = 30;

  private static ReplicatedMariaDb pair;
  private static List<String> direct;

  @BeforeAll
  static void databases() throws Exception {
    pair = ReplicatedMariaDb.start();
    SessionSemanticsIT.createDatabases(pair.primary());
    pair.awaitCaughtUp();
    direct =
        SessionScripts.runClients(
                SessionSemanticsIT.directRoute(pair.primary()),
                SessionSemanticsIT.directRoute(pair.primary()),
                1)
            .get(1);
    SessionSemanticsIT.assertDirectTranscriptShowsWhatTheScriptChecks(direct);
  }

  @AfterAll
  static void stopServers() {
    if (pair != null) {
      pair.close();
    }
  }

  @Test
  void aSplitPoolGivesThirtyClientsTheSameTranscriptsAsThePrimary() throws Exception {
    try (ProxyHarness proxy =
        ProxyHarness.fromYaml(
            pair.splitProxyYaml(
                "mode: transaction, maxConnections: 2, acquireTimeout: 30s",
                "readWriteSplit: true, maxReplicationLag: 5s"))) {
      Map<Integer, List<String>> clients =
          SessionScripts.runClients(
              SessionSemanticsIT.proxyRoute(proxy),
              SessionSemanticsIT.directRoute(pair.primary()),
              CLIENTS);
      for (Map.Entry<Integer, List<String>> e : clients.entrySet()) {
        TranscriptDiff.write(
            SessionSemanticsIT.transcriptDir(), "split-c" + e.getKey() + ".txt", e.getValue());
      }
      SessionSemanticsIT.assertSameAsDirect("split", direct, clients);
      assertThat(proxy.server.pool("replica").stats().maxUsed())
          .as("the replica served some of the script's reads")
          .isPositive();
    }
  }
}
