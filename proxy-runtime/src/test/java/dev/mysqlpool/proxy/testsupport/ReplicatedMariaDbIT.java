package dev.mysqlpool.proxy.testsupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The replicating pair the read/write-split tests run against really replicates, and lags. */
class ReplicatedMariaDbIT {
  private static ReplicatedMariaDb pair;

  @BeforeAll
  static void startPair() {
    pair = ReplicatedMariaDb.start();
  }

  @AfterAll
  static void stopPair() {
    if (pair != null) {
      pair.close();
    }
  }

  @Test
  void aWriteOnThePrimaryIsReadOnTheReplica() throws SQLException {
    pair.primary().execute("CREATE TABLE app.seen (id INT PRIMARY KEY)");
    try (Connection c = pair.primary().appConnection();
        Statement s = c.createStatement()) {
      s.execute("INSERT INTO seen VALUES (1)");
    }
    pair.awaitCaughtUp();

    try (Connection c = pair.replica().appConnection()) {
      assertThat(scalar(c, "SELECT @@server_id")).isEqualTo("2");
      assertThat(scalar(c, "SELECT @@read_only")).isEqualTo("1");
      assertThat(scalar(c, "SELECT COUNT(*) FROM seen"))
          .withFailMessage("the row written on the primary must be on the replica")
          .isEqualTo("1");
    }
    try (Connection c = pair.primary().appConnection()) {
      assertThat(scalar(c, "SELECT @@server_id")).isEqualTo("1");
    }
  }

  @Test
  void theAppAccountCannotWriteOnTheReplica() throws SQLException {
    try (Connection c = pair.replica().appConnection();
        Statement s = c.createStatement()) {
      assertThatThrownBy(() -> s.execute("CREATE TABLE app.diverged (id INT)"))
          .withFailMessage("a write that reaches the replica must fail, not diverge it")
          .isInstanceOf(SQLException.class)
          .hasMessageContaining("read-only");
    }
  }

  @Test
  void aStoppedSqlThreadHoldsWritesBackAndReportsNoLag() throws SQLException {
    pair.primary().execute("CREATE TABLE app.held (id INT PRIMARY KEY)");
    pair.awaitCaughtUp();
    pair.stopSqlThread();
    try {
      pair.primary().execute("INSERT INTO app.held VALUES (1)");
      String target = ReplicatedMariaDb.scalar(pair.primary(), "SELECT @@global.gtid_binlog_pos");
      // Received but not applied: the IO thread has the event, so "not seen" below means held.
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> ReplicatedMariaDb.reached(pair.replicaStatus().get("Gtid_IO_Pos"), target));
      Map<String, String> status = pair.replicaStatus();
      assertThat(status.get("Slave_IO_Running")).isEqualTo("Yes");
      assertThat(status.get("Slave_SQL_Running")).isEqualTo("No");
      assertThat(status.get("Seconds_Behind_Master"))
          .withFailMessage(
              "MariaDB reports no lag (NULL) while the SQL thread is stopped: %s", status)
          .isNull();
      assertThat(count(pair.replica(), "held")).isZero();
    } finally {
      pair.startSqlThread();
    }
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(count(pair.replica(), "held")).isEqualTo(1));
  }

  @Test
  void aDelayedReplicaReportsRealLagWithBothThreadsRunning() throws SQLException {
    pair.primary().execute("CREATE TABLE app.lagged (id INT PRIMARY KEY)");
    pair.awaitCaughtUp();
    pair.delay(Duration.ofSeconds(4));
    try {
      pair.primary().execute("INSERT INTO app.lagged VALUES (1)");
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () -> {
                Map<String, String> status = pair.replicaStatus();
                assertThat(status.get("Slave_SQL_Running")).isEqualTo("Yes");
                assertThat(status.get("Seconds_Behind_Master"))
                    .withFailMessage("a delayed replica's lag must grow above 1s: %s", status)
                    .isNotNull()
                    .matches(v -> Long.parseLong(v) >= 2, ">= 2");
              });
      assertThat(count(pair.replica(), "lagged")).isZero();
      await()
          .atMost(Duration.ofSeconds(15))
          .untilAsserted(() -> assertThat(count(pair.replica(), "lagged")).isEqualTo(1));
      await()
          .atMost(Duration.ofSeconds(5))
          .untilAsserted(
              () -> assertThat(pair.replicaStatus().get("Seconds_Behind_Master")).isEqualTo("0"));
    } finally {
      pair.delay(Duration.ZERO);
    }
  }

  @Test
  void aKilledReplicaCatchesUpAfterARestart() throws SQLException {
    pair.primary().execute("CREATE TABLE app.missed (id INT PRIMARY KEY)");
    pair.awaitCaughtUp();
    pair.killReplica();
    assertThat(pair.replica().isRunning()).isFalse();
    pair.primary().execute("INSERT INTO app.missed VALUES (1), (2)");

    pair.restartReplica();
    pair.awaitCaughtUp();

    assertThat(count(pair.replica(), "missed"))
        .withFailMessage("rows written while the replica was down must arrive after its restart")
        .isEqualTo(2);
    assertThat(pair.replicaStatus().get("Slave_SQL_Running")).isEqualTo("Yes");
  }

  private static long count(EmbeddedMariaDb db, String table) throws SQLException {
    try (Connection c = db.appConnection()) {
      return Long.parseLong(scalar(c, "SELECT COUNT(*) FROM " + table));
    }
  }

  private static String scalar(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      assertThat(rs.next()).withFailMessage("%s returned no row", sql).isTrue();
      return rs.getString(1);
    }
  }
}
