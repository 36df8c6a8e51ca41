package dev.mysqlpool.proxy.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class SessionVariablesTest {
  private final SessionVariables vars = SessionVariables.forServer("11.4.5-MariaDB");

  @Test
  void transactionVariableNamesFollowTheServerVersion() {
    assertThat(SessionVariables.renamedTransactionVariables("11.4.5-MariaDB")).isTrue();
    assertThat(SessionVariables.renamedTransactionVariables("5.5.5-10.11.9-MariaDB-log")).isFalse();
    assertThat(SessionVariables.renamedTransactionVariables("11.0.2-MariaDB")).isFalse();
    assertThat(SessionVariables.renamedTransactionVariables("8.0.36")).isTrue();
    assertThat(SessionVariables.renamedTransactionVariables("5.7.44-log")).isFalse();
    assertThat(Arrays.asList(SessionVariables.forServer("5.7.44").names()))
        .contains("tx_isolation");
    assertThat(Arrays.asList(vars.names()))
        .contains("transaction_isolation", "transaction_read_only");
  }

  @Test
  void snapshotSelectsTheDatabaseThenEveryVariable() {
    assertThat(vars.snapshotQuery())
        .startsWith("SELECT DATABASE(), @@SESSION.autocommit, @@SESSION.sql_mode");
    assertThat(vars.snapshotQuery()).endsWith(", LAST_INSERT_ID()");
    assertThat(vars.snapshotQuery().split(",")).hasSize(vars.size() + 2);
  }

  @Test
  void restoresOnlyWhatDiffersWithCharsetsBeforeCollation() {
    String[] baseline =
        values(
            vars,
            "autocommit",
            "1",
            "sql_mode",
            "STRICT_TRANS_TABLES",
            "character_set_connection",
            "utf8mb4",
            "collation_connection",
            "utf8mb4_general_ci",
            "character_set_results",
            "utf8mb4");
    assertThat(vars.restoreStatement(baseline, baseline.clone())).isNull();
    String[] client = baseline.clone();
    set(vars, client, "sql_mode", "ANSI_QUOTES,NO_BACKSLASH_ESCAPES");
    set(vars, client, "collation_connection", "utf8mb4_bin");
    set(vars, client, "character_set_connection", "latin1");
    set(vars, client, "autocommit", "0");
    set(vars, client, "character_set_results", null);
    assertThat(vars.restoreStatement(client, baseline))
        .isEqualTo(
            "SET @@SESSION.autocommit = 0,"
                + " @@SESSION.sql_mode = 'ANSI_QUOTES,NO_BACKSLASH_ESCAPES', @@SESSION.character_set_results = NULL,"
                + " @@SESSION.character_set_connection = 'latin1', @@SESSION.collation_connection = 'utf8mb4_bin'");
  }

  @Test
  void quotesAreDoubledAndBackslashesRefused() {
    String[] base = new String[vars.size()];
    String[] tz = base.clone();
    set(vars, tz, "time_zone", "it's");
    assertThat(vars.restoreStatement(tz, base)).isEqualTo("SET @@SESSION.time_zone = 'it''s'");
    set(vars, tz, "time_zone", "a\\b");
    assertThatThrownBy(() -> vars.restoreStatement(tz, base)).hasMessageContaining("backslash");
    String[] n = base.clone();
    set(vars, n, "net_write_timeout", "600; DROP TABLE x");
    assertThatThrownBy(() -> vars.restoreStatement(n, base)).hasMessageContaining("non-numeric");
  }

  @Test
  void carriesTheDocumentedSetAndItsSetForms() {
    for (String name :
        List.of(
            "autocommit",
            "sql_mode",
            "time_zone",
            "character_set_client",
            "character_set_results",
            "character_set_connection",
            "collation_connection",
            "transaction_isolation",
            "tx_isolation",
            "transaction_read_only",
            "tx_read_only",
            "names",
            "character set",
            "transaction")) {
      assertThat(vars.carries(name)).as(name).isTrue();
    }
    assertThat(vars.carries("foreign_key_checks")).isFalse();
    assertThat(vars.carries("session_track_state_change")).isFalse();
  }

  @Test
  void sessionsWithEqualValuesShareOneArrayAndNeedNoSet() {
    // Two clients' snapshots: equal values, read into distinct strings.
    String[] first = values(vars, "autocommit", "1", "time_zone", new String("+01:00"));
    String[] second = values(vars, "autocommit", "1", "time_zone", new String("+01:00"));
    String[] other = values(vars, "autocommit", "1", "time_zone", "+02:00");

    assertThat(vars.canonical(second)).isSameAs(vars.canonical(first));
    assertThat(vars.restoreStatement(vars.canonical(second), vars.canonical(first))).isNull();
    assertThat(vars.restoreStatement(vars.canonical(other), vars.canonical(first)))
        .isEqualTo("SET @@SESSION.time_zone = '+02:00'");
  }

  @Test
  void clientsSettingEverNewValuesAreNotRememberedBeyondTheBound() {
    SessionVariables fresh = new SessionVariables("transaction_isolation", "transaction_read_only");
    for (int i = 0; i < SessionVariables.CANONICAL_SETS + 50; i++) {
      fresh.canonical(values(fresh, "time_zone", "+00:" + i));
    }
    String[] late = values(fresh, "time_zone", "-05:00");
    String[] lateAgain = values(fresh, "time_zone", "-05:00");

    assertThat(fresh.canonical(late)).isSameAs(late);
    assertThat(fresh.canonical(lateAgain)).isSameAs(lateAgain);
    assertThat(fresh.restoreStatement(lateAgain, late)).isNull();
    // The sets kept before the bound are still shared.
    assertThat(fresh.canonical(values(fresh, "time_zone", "+00:0")))
        .isSameAs(fresh.canonical(values(fresh, "time_zone", "+00:0")));
  }

  private static String[] values(SessionVariables vars, String... nameValue) {
    String[] out = new String[vars.size()];
    for (int i = 0; i < nameValue.length; i += 2) {
      set(vars, out, nameValue[i], nameValue[i + 1]);
    }
    return out;
  }

  private static void set(SessionVariables vars, String[] values, String name, String value) {
    values[Arrays.asList(vars.names()).indexOf(name)] = value;
  }
}
