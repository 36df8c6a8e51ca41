package dev.mysqlpool.proxy.backend;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * How a lag check reads {@code SHOW REPLICA STATUS} (MariaDB and MySQL column names) and Aurora's
 * replica_host_status: unknown is never 0, and says why.
 */
class ReplicaStatusTest {
  /** Columns as MariaDB 11.4 names them (a subset, in its order). */
  private static final List<String> MARIADB =
      List.of(
          "Slave_IO_State",
          "Master_Host",
          "Slave_IO_Running",
          "Slave_SQL_Running",
          "Last_Error",
          "Seconds_Behind_Master",
          "Last_IO_Error",
          "Last_SQL_Error",
          "Gtid_IO_Pos");

  /** Columns as MySQL 8.0.22+ names them (a subset). */
  private static final List<String> MYSQL =
      List.of(
          "Replica_IO_State",
          "Source_Host",
          "Replica_IO_Running",
          "Replica_SQL_Running",
          "Seconds_Behind_Source",
          "Last_IO_Error",
          "Last_SQL_Error");

  @Test
  void aRunningMariaDbReplicaReportsItsSeconds() {
    ReplicaLag lag =
        ReplicaStatus.fromShowStatus(
            MARIADB, row("Waiting", "127.0.0.1", "Yes", "Yes", "", "12", "", "", "0-1-5"));
    assertThat(lag.known()).isTrue();
    assertThat(lag.millis()).isEqualTo(12_000);
    assertThat(lag.text()).isEqualTo("12s");
  }

  @Test
  void aCaughtUpMySqlReplicaReportsZeroUnderItsNewColumnNames() {
    ReplicaLag lag =
        ReplicaStatus.fromShowStatus(MYSQL, row("Waiting", "10.0.0.1", "Yes", "Yes", "0", "", ""));
    assertThat(lag).isEqualTo(ReplicaLag.ofMillis(0));
  }

  @Test
  void aStoppedSqlThreadIsUnknownNeverZero() {
    ReplicaLag lag =
        ReplicaStatus.fromShowStatus(
            MARIADB, row("Waiting", "127.0.0.1", "Yes", "No", "", null, "", "", "0-1-6"));
    assertThat(lag.known()).withFailMessage("NULL lag must not read as caught up").isFalse();
    assertThat(lag.unknownBecause())
        .isEqualTo("replication SQL thread not running (Slave_SQL_Running=No)");
    assertThat(lag.text()).isEqualTo("unknown");
  }

  @Test
  void aSqlErrorIsNamed() {
    ReplicaLag lag =
        ReplicaStatus.fromShowStatus(
            MYSQL, row("", "10.0.0.1", "Yes", "No", null, "", "Error 'Duplicate entry' on query"));
    assertThat(lag.unknownBecause())
        .isEqualTo(
            "replication SQL thread not running (Replica_SQL_Running=No: Error 'Duplicate entry'"
                + " on query)");
  }

  @Test
  void anIoThreadThatCannotReachItsSourceIsUnknown() {
    ReplicaLag lag =
        ReplicaStatus.fromShowStatus(
            MARIADB,
            row(
                "Connecting to master",
                "127.0.0.1",
                "Connecting",
                "Yes",
                "",
                null,
                "error connecting to master",
                "",
                ""));
    assertThat(lag.known()).isFalse();
    assertThat(lag.unknownBecause())
        .isEqualTo(
            "replication IO thread not running (Slave_IO_Running=Connecting: error connecting to"
                + " master)");
  }

  @Test
  void runningThreadsWithANullLagAreStillUnknown() {
    ReplicaLag lag =
        ReplicaStatus.fromShowStatus(
            MARIADB, row("", "127.0.0.1", "Yes", "Yes", "", null, "", "", ""));
    assertThat(lag.unknownBecause()).isEqualTo("Seconds_Behind_Master is NULL");
  }

  @Test
  void aServerThatReplicatesFromNowhereIsNotAReader() {
    ReplicaLag lag = ReplicaStatus.fromShowStatus(MARIADB, null);
    assertThat(lag.known()).isFalse();
    assertThat(lag.unknownBecause()).startsWith("not replicating");
    assertThat(ReplicaStatus.fromShowStatus(null, null).known()).isFalse();
  }

  @Test
  void anUnexpectedLayoutIsUnknownNotACrash() {
    assertThat(ReplicaStatus.fromShowStatus(List.of("Foo"), row("1")).unknownBecause())
        .contains("no Seconds_Behind_Master column");
    assertThat(ReplicaStatus.fromShowStatus(MARIADB, row("1", "2")).unknownBecause())
        .contains("2 values for 9 columns");
    assertThat(
            ReplicaStatus.fromShowStatus(
                    MARIADB, row("", "127.0.0.1", "Yes", "Yes", "", "soon", "", "", ""))
                .unknownBecause())
        .isEqualTo("Seconds_Behind_Master is not a number: soon");
  }

  @Test
  void auroraLagIsReadInMilliseconds() {
    ReplicaLag lag = ReplicaStatus.fromAurora(row("19.6"));
    assertThat(lag.millis()).isEqualTo(20);
    assertThat(lag.text()).isEqualTo("0.02s");
    assertThat(ReplicaStatus.fromAurora(row("1500")).text()).isEqualTo("1.5s");
    assertThat(ReplicaStatus.fromAurora(null).unknownBecause())
        .contains("no row in information_schema.replica_host_status");
    assertThat(ReplicaStatus.fromAurora(row((String) null)).known()).isFalse();
  }

  @Test
  void aMissingPrivilegeIsNamedWithTheGrantThatFixesIt() {
    ReplicaLag lag =
        ReplicaStatus.refused(
            ReplicaStatus.SHOW_REPLICA,
            "1227 (42000): Access denied; you need (at least one of) the SUPER, SLAVE MONITOR"
                + " privilege(s) for this operation");
    assertThat(lag.known()).isFalse();
    assertThat(lag.unknownBecause())
        .startsWith("the server refused SHOW REPLICA STATUS: 1227")
        .endsWith(
            "(the backend account needs REPLICATION CLIENT on MySQL, REPLICA MONITOR on MariaDB)");
  }

  private static List<String> row(String... values) {
    return new ArrayList<>(Arrays.asList(values));
  }
}
