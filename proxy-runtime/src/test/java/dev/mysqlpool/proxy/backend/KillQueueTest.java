package dev.mysqlpool.proxy.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mysqlpool.proxy.backend.BackendPool.Release;
import dev.mysqlpool.proxy.config.ConfigLoader;
import dev.mysqlpool.proxy.config.ProxyConfig;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import io.netty.util.concurrent.Future;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * KILLs go over one side connection at a time, from a bounded queue, and a discarded connection
 * keeps its place under maxConnections until the server has closed it: a mass disconnect of clients
 * mid-statement costs one extra session on the server, not one per client.
 */
@ExtendWith(LeakGuard.class)
class KillQueueTest {
  private StubBackend stub;
  private BackendPool pool;
  private PoolKey key;

  @BeforeEach
  void startStub() throws InterruptedException {
    stub = new StubBackend();
  }

  @AfterEach
  void stop() {
    if (pool != null) {
      pool.close();
    }
    stub.close();
  }

  private void start(String poolYaml) {
    ProxyConfig config =
        ConfigLoader.parse(
            "backends: [{name: stub, host: stub.invalid}]\n"
                + "users: [{name: app, password: secret}]\n"
                + "pool: "
                + poolYaml
                + "\n",
            null);
    key = new PoolKey(config.users().get(0), StubBackend.CAPABILITIES, 45);
    pool = new BackendPool(config.backends().get(0), config.pool(), stub.group, key, stub.logins());
    pool.start();
  }

  private BackendConnection borrow() {
    Future<BackendConnection> f = pool.acquire(stub.group.next(), key, false);
    assertThat(f.awaitUninterruptibly(5, TimeUnit.SECONDS) && f.isSuccess())
        .withFailMessage("acquire failed: %s", f.cause())
        .isTrue();
    return f.getNow();
  }

  @Test
  void aMassDisconnectMidStatementCostsOneSideConnectionAndNoExtraLogins() {
    start("{maxConnections: 6, maxConcurrentConnects: 6, acquireTimeout: 10s}");
    stub.killDelayMillis = 50;
    List<BackendConnection> victims = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      victims.add(borrow());
    }
    List<Future<BackendConnection>> waiters = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      waiters.add(pool.acquire(stub.group.next(), key, false));
    }
    List<Future<Void>> kills = new ArrayList<>();
    for (BackendConnection c : victims) {
      // What a session does when its client leaves mid-statement.
      kills.add(pool.kill(stub.group.next(), c.key(), c.threadId(), false));
      pool.release(c, Release.DISCARD);
    }
    assertThat(stub.loginCount())
        .as("no login while the discarded sessions still run on the server")
        .isEqualTo(6);
    assertThat(pool.stats().total()).isEqualTo(6);

    for (Future<Void> k : kills) {
      assertThat(k.awaitUninterruptibly(5, TimeUnit.SECONDS) && k.isSuccess())
          .withFailMessage("KILL failed: %s", k.cause())
          .isTrue();
    }
    for (Future<BackendConnection> w : waiters) {
      assertThat(w.awaitUninterruptibly(5, TimeUnit.SECONDS) && w.isSuccess())
          .withFailMessage("waiter not served: %s", w.cause())
          .isTrue();
    }
    assertThat(stub.peak())
        .as("sessions on the server at once: maxConnections plus the one side connection")
        .isLessThanOrEqualTo(7);
    assertThat(stub.sideLogins()).as("one side connection sent all six KILLs").isEqualTo(1);
    for (BackendConnection c : victims) {
      assertThat(stub.commands()).contains(sideCommand("KILL " + c.threadId()));
    }
    PoolStats stats = pool.stats();
    assertThat(stats.killConnectionsOpened()).isEqualTo(1);
    assertThat(stats.kills()).isEqualTo(6);
    assertThat(stats.killFailures()).isZero();
    assertThat(stats.killsQueued()).isZero();
    await()
        .atMost(Duration.ofSeconds(2))
        .untilAsserted(
            () -> assertThat(stub.open()).as("the side connection is closed again").isEqualTo(6));
    for (Future<BackendConnection> w : waiters) {
      pool.release(w.getNow(), Release.CLEAN);
    }
  }

  @Test
  void theKillQueueIsBoundedByMaxConnections() {
    start("{maxConnections: 2, acquireTimeout: 10s}");
    stub.loginDelayMillis = 300;
    Future<Void> first = pool.kill(stub.group.next(), key, 1001, true);
    Future<Void> second = pool.kill(stub.group.next(), key, 1002, true);
    Future<Void> third = pool.kill(stub.group.next(), key, 1003, true);
    assertThat(third.awaitUninterruptibly(1, TimeUnit.SECONDS)).isTrue();
    assertThat(third.cause())
        .hasMessage(
            "KILL of backend thread 1003: 2 KILLs are queued already (the bound is"
                + " pool.maxConnections)");
    assertThat(first.awaitUninterruptibly(5, TimeUnit.SECONDS) && first.isSuccess()).isTrue();
    assertThat(second.awaitUninterruptibly(5, TimeUnit.SECONDS) && second.isSuccess()).isTrue();
    assertThat(stub.sideLogins()).isEqualTo(1);
    assertThat(pool.stats().killFailures()).isEqualTo(1);
    assertThat(pool.stats().kills()).isEqualTo(2);
  }

  @Test
  void aSecondKillForAQueuedThreadJoinsTheFirstAndKillConnectionWins() {
    start("{maxConnections: 2, acquireTimeout: 10s}");
    stub.loginDelayMillis = 200;
    Future<Void> query = pool.kill(stub.group.next(), key, 2001, true);
    Future<Void> queued = pool.kill(stub.group.next(), key, 2002, true);
    Future<Void> connection = pool.kill(stub.group.next(), key, 2002, false);
    for (Future<Void> f : List.of(query, queued, connection)) {
      assertThat(f.awaitUninterruptibly(5, TimeUnit.SECONDS) && f.isSuccess()).isTrue();
    }
    List<String> kills =
        stub.commands().stream()
            .filter(c -> c.contains(" KILL "))
            .map(c -> c.split(" ", 2)[1])
            .toList();
    assertThat(kills).containsExactly("KILL QUERY 2001", "KILL 2002");
  }

  /** A command as the stub records it from the side connection (its thread id varies). */
  private String sideCommand(String sql) {
    for (String c : stub.commands()) {
      if (c.endsWith(" " + sql)) {
        return c;
      }
    }
    return "(no " + sql + ")";
  }
}
