package dev.mysqlpool.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mysqlpool.proxy.backend.PoolStats;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Regression test for the decay bug of issue 10: with validationInterval below idleTimeout (as the
 * defaults are, 30s and 10m) free connections left by a burst never decayed to minIdle, because a
 * validation ping handed the connection back as if it had been used. Here the pings run every 500ms
 * and idleTimeout is 4s: the burst's connections stay while pinged, and are gone to minIdle within
 * idleTimeout plus housekeeping slack.
 */
@ExtendWith(LeakGuard.class)
class IdleDecayIT {
  private static final long IDLE_TIMEOUT_MILLIS = 4000;
  private ProxyHarness proxy;
  private final EmbeddedMariaDb db = EmbeddedMariaDb.shared();

  @AfterEach
  void stopProxy() {
    if (proxy != null) {
      proxy.close();
    }
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> db.threadIds(EmbeddedMariaDb.APP_USER).isEmpty());
  }

  private PoolStats stats() {
    return proxy.server.pool("primary").stats();
  }

  /** The longest any app session on the server has gone without a command, in seconds. */
  private int longestSilenceSeconds(int sessions) throws SQLException {
    try (Connection root = db.rootConnection();
        Statement s = root.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT COUNT(*), MAX(TIME) FROM information_schema.PROCESSLIST WHERE USER = 'app'")) {
      rs.next();
      assertThat(rs.getInt(1)).as("app sessions on the server while they idle").isEqualTo(sessions);
      return rs.getInt(2);
    }
  }

  @Test
  void freeConnectionsDecayToMinIdleWhileValidationPingsRunMoreOftenThanIdleTimeout()
      throws Exception {
    proxy =
        ProxyHarness.start(
            db,
            "pool: {maxConnections: 10, minIdle: 1, idleTimeout: 4s, validationInterval: 500ms}\n");
    await().atMost(Duration.ofSeconds(5)).until(() -> stats().free() == 1);
    List<Connection> burst = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      Connection c = proxy.mariadb("");
      try (Statement s = c.createStatement()) {
        s.executeQuery("SELECT 1").close();
      }
      burst.add(c);
    }
    assertThat(stats().used()).isEqualTo(6);
    // Taken before the connections go back, so none has been idle longer than this.
    long released = System.nanoTime();
    for (Connection c : burst) {
      c.close();
    }
    await()
        .atMost(Duration.ofSeconds(2))
        .until(() -> stats().used() == 0 && stats().connecting() == 0);
    // The six, and the one minIdle kept open while they were lent.
    int free = stats().total();
    assertThat(free).isGreaterThanOrEqualTo(6);

    // Before idleTimeout: all six stay, and the pings keep every one of them busy at least once
    // a second (a session's TIME counts seconds since its last command).
    await()
        .atMost(Duration.ofSeconds(4))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              assertThat(longestSilenceSeconds(free))
                  .as("seconds since an idle backend connection was last pinged")
                  .isLessThan(2);
              return System.nanoTime() - released > TimeUnit.MILLISECONDS.toNanos(2500);
            });
    assertThat(stats().total()).as("not trimmed before idleTimeout").isEqualTo(free);

    await().atMost(Duration.ofSeconds(6)).until(() -> stats().total() == 1);
    long decayedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - released);
    assertThat(decayedMillis)
        .as("free connections reach minIdle after idleTimeout, within housekeeping slack")
        .isBetween(IDLE_TIMEOUT_MILLIS, IDLE_TIMEOUT_MILLIS + 1500);
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> db.threadIds(EmbeddedMariaDb.APP_USER).size() == 1);
  }
}
