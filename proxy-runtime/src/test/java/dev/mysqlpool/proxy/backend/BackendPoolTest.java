package dev.mysqlpool.proxy.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mysqlpool.proxy.backend.BackendPool.Release;
import dev.mysqlpool.proxy.config.ConfigLoader;
import dev.mysqlpool.proxy.config.ProxyConfig;
import dev.mysqlpool.proxy.config.ProxyConfig.Pool;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The pool's rules against {@link StubBackend} (no server): the cap as the server sees it, waiters
 * and the 9001 message, the reset before reuse, idle decay with validation pings, live resize, and
 * KILLs over one bounded side connection.
 */
@ExtendWith(LeakGuard.class)
class BackendPoolTest {
  private StubBackend stub;
  private ProxyConfig config;
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

  private BackendPool start(String poolYaml) {
    config =
        ConfigLoader.parse(
            "backends: [{name: stub, host: stub.invalid, port: 3306}]\n"
                + "users: [{name: app, password: secret}]\n"
                + "pool: "
                + poolYaml
                + "\n",
            null);
    key = new PoolKey(config.users().get(0), StubBackend.CAPABILITIES, 45);
    pool = new BackendPool(config.backends().get(0), config.pool(), stub.group, key, stub.logins());
    pool.start();
    return pool;
  }

  private Pool settings(String poolYaml) {
    return ConfigLoader.parse(
            "backends: [{name: stub, host: stub.invalid}]\nusers: [{name: app, password: x}]\n"
                + "pool: "
                + poolYaml
                + "\n",
            null)
        .pool();
  }

  private EventLoop loop() {
    return stub.group.next();
  }

  private BackendConnection borrow() {
    return borrow(loop());
  }

  private BackendConnection borrow(EventLoop loop) {
    return borrow(loop, key);
  }

  private BackendConnection borrow(EventLoop loop, PoolKey as) {
    Future<BackendConnection> f = pool.acquire(loop, as, false);
    assertThat(f.awaitUninterruptibly(5, TimeUnit.SECONDS))
        .withFailMessage("acquire did not complete within 5s: %s", pool.stats())
        .isTrue();
    assertThat(f.isSuccess()).withFailMessage("acquire failed: %s", f.cause()).isTrue();
    return f.getNow();
  }

  @Test
  void theServerNeverSeesMoreThanMaxConnectionsUnderContention() {
    start("{maxConnections: 3, maxConcurrentConnects: 3, acquireTimeout: 10s}");
    List<Future<BackendConnection>> borrowers = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      Future<BackendConnection> f = pool.acquire(loop(), key, false);
      f.addListener(
          (Future<BackendConnection> done) -> {
            if (done.isSuccess()) {
              BackendConnection c = done.getNow();
              c.channel()
                  .eventLoop()
                  .schedule(
                      () -> pool.release(c, Release.CLEAN),
                      ThreadLocalRandom.current().nextInt(1, 5),
                      TimeUnit.MILLISECONDS);
            }
          });
      borrowers.add(f);
    }
    for (Future<BackendConnection> f : borrowers) {
      assertThat(f.awaitUninterruptibly(10, TimeUnit.SECONDS) && f.isSuccess())
          .withFailMessage("every borrower is served in turn: %s", f.cause())
          .isTrue();
    }
    assertThat(stub.peak()).as("sessions open on the server at once").isEqualTo(3);
    assertThat(stub.loginCount()).as("connections are reused, not reopened").isEqualTo(3);
    assertThat(pool.stats().maxUsed()).isEqualTo(3);
  }

  @Test
  void aWaiterThatGetsNothingFailsAfterAcquireTimeoutWithTheCounts() {
    start("{maxConnections: 1, acquireTimeout: 300ms}");
    BackendConnection held = borrow();
    long started = System.nanoTime();
    Future<BackendConnection> f = pool.acquire(loop(), key, false);
    assertThat(f.awaitUninterruptibly(5, TimeUnit.SECONDS)).isTrue();
    long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
    assertThat(f.cause())
        .isInstanceOf(AcquireTimeoutException.class)
        .hasMessageStartingWith(
            "pool 'stub' (stub.invalid:3306): backend connection not available, request timed out"
                + " after ")
        .hasMessageEndingWith(
            "ms (total=1, active=1, idle=0, waiting=0, connecting=0, maxConnections=1)");
    assertThat(waitedMillis).as("the waiter waited acquireTimeout").isBetween(290L, 3000L);
    assertThat(pool.stats().acquireTimeouts()).isEqualTo(1);
    pool.release(held, Release.CLEAN);
  }

  /**
   * The warm-up's connection is opened before any client, with capabilities guessed for it; a
   * driver that asks for others (MariaDB Connector/J against the guess) must not leave it idle
   * while its clients wait for the rest of the pool, until a quarter of acquireTimeout has passed.
   */
  @Test
  void aWarmConnectionNoClientUsedGivesWayAtOnceToAWaiterWithOtherSettings() {
    start("{maxConnections: 2, minIdle: 1, acquireTimeout: 20s}");
    await().atMost(Duration.ofSeconds(5)).until(() -> pool.stats().free() == 1);
    PoolKey otherDriver = new PoolKey(key.user(), key.capabilities() ^ 0x20000, key.collation());
    BackendConnection first = borrow(loop(), otherDriver);
    long started = System.nanoTime();
    BackendConnection second = borrow(loop(), otherDriver);
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started))
        .as("served well before a quarter of acquireTimeout (5 s)")
        .isLessThan(4000);
    assertThat(stub.loginCount()).as("the warm connection and one per borrower").isEqualTo(3);
    // The warm connection was closed for room (the stub counts its end of a closed session a moment
    // after the pool sees it closed, so the server's count is awaited, not its peak).
    await().atMost(Duration.ofSeconds(5)).until(() -> stub.open() == 2);
    assertThat(pool.stats().total()).as("the cap holds").isEqualTo(2);
    pool.release(first, Release.CLEAN);
    pool.release(second, Release.CLEAN);
  }

  @Test
  void aReturnedConnectionGoesToTheWaiterWithoutANewLogin() {
    start("{maxConnections: 1, acquireTimeout: 5s}");
    BackendConnection first = borrow();
    Future<BackendConnection> waiting = pool.acquire(loop(), key, false);
    assertThat(waiting.isDone()).isFalse();
    pool.release(first, Release.CLEAN);
    assertThat(waiting.awaitUninterruptibly(2, TimeUnit.SECONDS) && waiting.isSuccess()).isTrue();
    assertThat(waiting.getNow().threadId()).isEqualTo(first.threadId());
    assertThat(stub.loginCount()).isEqualTo(1);
    pool.release(waiting.getNow(), Release.CLEAN);
  }

  @Test
  void anIdleConnectionOnTheBorrowersOwnLoopIsLentFirstAndLendsAcrossLoopsAreCounted() {
    start("{maxConnections: 2, acquireTimeout: 5s}");
    EventLoop a = loop();
    EventLoop b = loop();
    assertThat(a).as("the stub's group has two loops").isNotSameAs(b);
    BackendConnection onA = borrow(a);
    BackendConnection onB = borrow(b);
    assertThat(onA.channel().eventLoop())
        .as("a new connection is opened on its borrower's loop")
        .isSameAs(a);
    pool.release(onB, Release.CLEAN);
    pool.release(onA, Release.CLEAN);

    BackendConnection again = borrow(b);
    assertThat(again)
        .as("the idle connection on b's loop, although the one on a was used more recently")
        .isSameAs(onB);
    assertThat(pool.stats().lentAcrossLoops()).isZero();

    BackendConnection other = borrow(b);
    assertThat(other).as("the only idle one left, on the other loop").isSameAs(onA);
    assertThat(pool.stats().lentAcrossLoops())
        .as("a lend to a client on another loop is counted")
        .isEqualTo(1);
    assertThat(pool.stats().acquired()).isEqualTo(4);
    pool.release(again, Release.CLEAN);
    pool.release(other, Release.CLEAN);
  }

  @Test
  void acquireIdleLendsAnIdleConnectionAtOnceAndNothingElse() {
    start("{maxConnections: 1, acquireTimeout: 5s}");
    BackendConnection first = borrow();
    assertThat(pool.acquireIdle(loop(), key, false))
        .as("nothing idle: the caller must acquire")
        .isNull();
    assertThat(pool.stats().pending()).as("and it did not queue a waiter").isZero();
    pool.release(first, Release.CLEAN);

    BackendConnection again = pool.acquireIdle(loop(), key, false);
    assertThat(again).as("the idle connection, lent at once").isSameAs(first);
    assertThat(pool.stats().acquired()).isEqualTo(2);
    assertThat(pool.stats().used()).isEqualTo(1);
    Future<BackendConnection> waiting = pool.acquire(loop(), key, false);
    assertThat(waiting.isDone()).as("it is lent, not idle any more").isFalse();
    pool.release(again, Release.CLEAN);
    assertThat(waiting.awaitUninterruptibly(2, TimeUnit.SECONDS) && waiting.isSuccess()).isTrue();
    assertThat(stub.loginCount()).isEqualTo(1);
    pool.release(waiting.getNow(), Release.CLEAN);
  }

  @Test
  void aSessionsConnectionIsResetBeforeTheNextBorrowerGetsIt() {
    start("{maxConnections: 1, acquireTimeout: 5s}");
    BackendConnection first = borrow();
    Future<BackendConnection> waiting = pool.acquire(loop(), key, false);
    pool.release(first, Release.RESET);
    assertThat(waiting.awaitUninterruptibly(2, TimeUnit.SECONDS) && waiting.isSuccess()).isTrue();
    assertThat(stub.commands())
        .as("the server got COM_RESET_CONNECTION before the connection was lent again")
        .containsExactly(first.threadId() + " COM_RESET_CONNECTION");
    pool.release(waiting.getNow(), Release.CLEAN);
  }

  @Test
  void validationPingsDoNotStopIdleConnectionsFromDecayingToMinIdle() {
    start(
        "{maxConnections: 5, minIdle: 1, idleTimeout: 1500ms, validationInterval: 100ms,"
            + " acquireTimeout: 5s}");
    await().atMost(Duration.ofSeconds(2)).until(() -> pool.stats().free() == 1);
    List<BackendConnection> burst = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      burst.add(borrow());
    }
    for (BackendConnection c : burst) {
      pool.release(c, Release.CLEAN);
    }
    long released = System.nanoTime();
    // Before idleTimeout: all four stay, and each is pinged more than once meanwhile.
    await()
        .atMost(Duration.ofSeconds(2))
        .until(
            () ->
                burst.stream()
                    .allMatch(
                        c ->
                            stub.commands().stream()
                                    .filter(s -> s.equals(c.threadId() + " COM_PING"))
                                    .count()
                                >= 2));
    assertThat(System.nanoTime() - released)
        .as("the pings came before idleTimeout")
        .isLessThan(TimeUnit.MILLISECONDS.toNanos(1400));
    // Four were lent and minIdle kept one more idle meanwhile.
    assertThat(stub.open()).as("nothing decays before idleTimeout").isEqualTo(5);
    assertThat(pool.stats().total()).isEqualTo(5);
    await()
        .atMost(Duration.ofMillis(2500))
        .untilAsserted(
            () ->
                assertThat(pool.stats().total())
                    .withFailMessage("%s; server sessions %d", pool.stats(), stub.open())
                    .isEqualTo(1));
    long decayedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - released);
    assertThat(decayedMillis).as("decayed after idleTimeout").isGreaterThanOrEqualTo(1500);
    await().atMost(Duration.ofSeconds(2)).until(() -> stub.open() == 1);
    // The least recently used go first (the warm connection minIdle opened during the burst may
    // have become idle after the last release, so it may be the one kept).
    assertThat(borrow().threadId())
        .as("a connection released early was kept")
        .isNotIn(burst.get(0).threadId(), burst.get(1).threadId(), burst.get(2).threadId());
  }

  @Test
  void aLowerCapClosesIdleConnectionsAtOnceAndLentOnesWhenTheyComeBack() {
    start("{maxConnections: 4, acquireTimeout: 5s}");
    List<BackendConnection> lent = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      lent.add(borrow());
    }
    pool.release(lent.remove(0), Release.CLEAN);
    pool.release(lent.remove(0), Release.CLEAN);
    assertThat(pool.stats().free()).isEqualTo(2);

    pool.reconfigure(settings("{maxConnections: 1, acquireTimeout: 5s}"));
    await().atMost(Duration.ofSeconds(2)).until(() -> stub.open() == 2);
    assertThat(pool.stats().free()).as("idle connections closed at once").isZero();
    Future<BackendConnection> waiting = pool.acquire(loop(), key, false);
    assertThat(waiting.isDone()).as("no login while above the new cap").isFalse();

    pool.release(lent.remove(0), Release.CLEAN);
    await().atMost(Duration.ofSeconds(2)).until(() -> stub.open() == 1);
    assertThat(waiting.isDone()).as("still one lent: the pool is at its cap").isFalse();
    pool.release(lent.remove(0), Release.CLEAN);
    assertThat(waiting.awaitUninterruptibly(2, TimeUnit.SECONDS) && waiting.isSuccess()).isTrue();
    assertThat(stub.loginCount()).as("the waiter got a returned connection").isEqualTo(4);
    assertThat(stub.open()).isEqualTo(1);
    assertThat(stub.peak()).isEqualTo(4);
    pool.release(waiting.getNow(), Release.CLEAN);
  }

  @Test
  void aHigherCapServesWaitersAtOnce() {
    start("{maxConnections: 1, acquireTimeout: 10s}");
    BackendConnection held = borrow();
    Future<BackendConnection> waiting = pool.acquire(loop(), key, false);
    long raised = System.nanoTime();
    pool.reconfigure(settings("{maxConnections: 2, acquireTimeout: 10s}"));
    assertThat(waiting.awaitUninterruptibly(2, TimeUnit.SECONDS) && waiting.isSuccess()).isTrue();
    assertThat(System.nanoTime() - raised).isLessThan(TimeUnit.SECONDS.toNanos(1));
    assertThat(stub.loginCount()).isEqualTo(2);
    pool.release(held, Release.CLEAN);
    pool.release(waiting.getNow(), Release.CLEAN);
  }

  @Test
  void aShorterMaxLifetimeRetiresConnectionsOpenedBeforeTheReload() {
    start("{minIdle: 1, maxIdle: 1, validationInterval: 0}");
    await().atMost(Duration.ofSeconds(2)).until(() -> pool.stats().free() == 1);
    BackendConnection c = borrow();
    long first = c.threadId();
    pool.release(c, Release.CLEAN);
    pool.reconfigure(settings("{minIdle: 1, maxIdle: 1, validationInterval: 0, maxLifetime: 1s}"));
    await()
        .atMost(Duration.ofSeconds(3))
        .until(() -> stub.commands().contains(first + " COM_QUIT") && pool.stats().free() == 1);
    assertThat(borrow().threadId()).as("a new connection replaced it").isNotEqualTo(first);
  }
}
