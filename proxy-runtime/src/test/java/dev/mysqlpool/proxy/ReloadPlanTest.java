package dev.mysqlpool.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mysqlpool.proxy.config.ConfigLoader;
import dev.mysqlpool.proxy.config.ProxyConfig;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Which edits of the config file a running proxy applies, and which wait for a restart. */
class ReloadPlanTest {
  private static final String BASE =
      "listen: {host: 127.0.0.1, port: 6033}\n"
          + "admin: {host: 127.0.0.1, port: 9090}\n"
          + "backends: [{name: primary, host: db, port: 3306}]\n";

  private static ProxyConfig config(String rest) {
    return ConfigLoader.parse(BASE + rest, null);
  }

  @Test
  void anUnchangedFileAppliesNothing() {
    ProxyConfig running = config("users: [{name: app, password: a}]\npool: {maxConnections: 10}\n");
    ReloadPlan plan = ReloadPlan.of(running, running);
    assertThat(plan.applies()).isEmpty();
    assertThat(plan.needsRestart()).isEmpty();
    assertThat(plan.applied()).isEqualTo(running);
  }

  @Test
  void poolSizesAndTimersApplyAndAreListedWithTheirValues() {
    ProxyConfig running =
        config("users: [{name: app, password: a}]\npool: {maxConnections: 10, maxIdle: 10}\n");
    ProxyConfig file =
        config(
            "users: [{name: app, password: a}]\n"
                + "pool: {maxConnections: 4, minIdle: 1, maxIdle: 4, idleTimeout: 1m,"
                + " maxLifetime: 20m, connectTimeout: 2s, acquireTimeout: 3s,"
                + " validationInterval: 10s, maxConcurrentConnects: 3}\n");
    ReloadPlan plan = ReloadPlan.of(running, file);
    assertThat(plan.applies())
        .containsExactly(
            "pool.maxConnections 10 -> 4",
            "pool.minIdle 0 -> 1",
            "pool.maxIdle 10 -> 4",
            "pool.idleTimeout 10m -> 1m",
            "pool.maxLifetime (derived) -> 20m",
            "pool.connectTimeout 5s -> 2s",
            "pool.acquireTimeout 5s -> 3s",
            "pool.validationInterval 30s -> 10s",
            "pool.maxConcurrentConnects 2 -> 3");
    assertThat(plan.needsRestart()).isEmpty();
    assertThat(plan.applied()).isEqualTo(file);
  }

  @Test
  void fieldsThatNeedARestartAreNamedKeepTheirRunningValuesAndHoldUpNothingElse() {
    ProxyConfig running =
        config("users: [{name: app, password: old}]\npool: {maxConnections: 10, maxIdle: 10}\n");
    ProxyConfig file =
        ConfigLoader.parse(
            "listen: {host: 127.0.0.1, port: 6034}\n"
                + "admin: {host: 127.0.0.1, port: 9090}\n"
                + "backends: [{name: primary, host: db2, port: 3306}]\n"
                + "users: [{name: app, password: new}]\n"
                + "pool: {mode: transaction, maxConnections: 10, maxIdle: 5,"
                + " leakDetectionThreshold: 5s}\n"
                + "frontend: {handshakeTimeout: 20s, maxClientConnections: 5}\n"
                + "shutdown: {drainTimeout: 5s}\n",
            null);
    ReloadPlan plan = ReloadPlan.of(running, file);
    assertThat(plan.needsRestart())
        .containsExactly(
            "listen.port",
            "backends",
            "pool.mode",
            "pool.leakDetectionThreshold",
            "frontend.maxClientConnections",
            "frontend.handshakeTimeout",
            "shutdown.drainTimeout");
    assertThat(plan.applies()).containsExactly("pool.maxIdle 10 -> 5", "users");
    ProxyConfig applied = plan.applied();
    assertThat(applied.listen()).isEqualTo(running.listen());
    assertThat(applied.backends()).isEqualTo(running.backends());
    assertThat(applied.frontend()).isEqualTo(running.frontend());
    assertThat(applied.shutdown()).isEqualTo(running.shutdown());
    assertThat(applied.pool().mode()).isEqualTo(running.pool().mode());
    assertThat(applied.pool().leakDetectionThreshold()).isEqualTo(Duration.ZERO);
    assertThat(applied.pool().maxIdle()).isEqualTo(5);
    assertThat(applied.user("app").password()).isEqualTo("new");
  }

  @Test
  void aUserOfABackendTheProxyDoesNotRunYetKeepsItsRunningDefinition() {
    ProxyConfig running = config("users: [{name: app, password: a}]\n");
    ProxyConfig file =
        ConfigLoader.parse(
            BASE.replace(
                    "backends: [{name: primary, host: db, port: 3306}]",
                    "backends: [{name: primary, host: db}, {name: replica, host: db2}]")
                + "users: [{name: app, password: b, backend: replica},"
                + " {name: reports, password: c, backend: replica},"
                + " {name: batch, password: d, backend: primary}]\n",
            null);
    ReloadPlan plan = ReloadPlan.of(running, file);
    assertThat(plan.needsRestart())
        .containsExactly("backends", "users[app].backend", "users[reports].backend");
    assertThat(plan.applied().users())
        .as("app as it runs, reports not yet, batch added")
        .containsExactly(running.user("app"), file.user("batch"));
  }

  @Test
  void aRoutingChangeWaitsForARestartAndTheRunningRoutingStays() {
    String split =
        "backends: [{name: primary, host: db, role: writer}, {name: r, host: db2, role: reader}]\n"
            + "users: [{name: app, password: a}]\n"
            + "pool: {mode: transaction, maxConnections: %d}\n"
            + "routing: {readWriteSplit: true, maxReplicationLag: %s,"
            + " rules: [{match: '^SELECT .* FOR UPDATE', to: writer}]}\n";
    String head = BASE.replaceAll("backends.*\n", "");
    ProxyConfig running = ConfigLoader.parse(head + split.formatted(10, "5s"), null);
    ProxyConfig file = ConfigLoader.parse(head + split.formatted(4, "30s"), null);
    ReloadPlan plan = ReloadPlan.of(running, file);
    assertThat(plan.needsRestart()).containsExactly("routing");
    assertThat(plan.applies()).contains("pool.maxConnections 10 -> 4");
    assertThat(plan.applied().routing())
        .withFailMessage("a reload must keep the routing in force, not drop it")
        .isEqualTo(running.routing());
    ProxyConfig again = ConfigLoader.parse(head + split.formatted(10, "5s"), null);
    assertThat(ReloadPlan.of(running, again).needsRestart())
        .withFailMessage("rules compare by their pattern text, so an unchanged file is no change")
        .isEmpty();
  }

  @Test
  void aStatsChangeWaitsForARestartAndTheRunningStatsStay() {
    ProxyConfig running = config("users: [{name: app, password: a}]\n");
    ProxyConfig file = config("users: [{name: app, password: a}]\nstats: {queryDigests: false}\n");
    ReloadPlan plan = ReloadPlan.of(running, file);
    assertThat(plan.needsRestart()).containsExactly("stats");
    assertThat(plan.applied().stats())
        .withFailMessage("a reload must keep the digest view as it runs")
        .isEqualTo(running.stats());
  }
}
