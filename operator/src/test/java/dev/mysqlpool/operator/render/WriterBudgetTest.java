package dev.mysqlpool.operator.render;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mysqlpool.operator.api.MySQLPool;
import dev.mysqlpool.operator.api.MySQLPoolStatus;
import dev.mysqlpool.operator.testing.Fixtures;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Pools on one writer (same host, case-insensitive, and port) are added up at their rolling-update
 * maximum; a pool that would grow past the writer's budget is blocked, one that does not grow keeps
 * applying, and pools on other writers do not count.
 */
class WriterBudgetTest {
  /**
   * 1000 TPS x 100ms x 2 on 2 replicas: 100 per proxy, 4 pods, 4 x (100 + 1 KILL connection) = 404
   * during a rollout.
   */
  private static MySQLPool big(String name, String host) {
    MySQLPool p = Fixtures.pool(s -> s.workload.holdTime = "100ms", s -> s.backend.host = host);
    p.getMetadata().setName(name);
    return p;
  }

  private static MySQLPool applied(MySQLPool p, int perReplica, long maxDuringRollout) {
    p.setStatus(new MySQLPoolStatus());
    p.getStatus().sizing = new MySQLPoolStatus.Sizing();
    p.getStatus().sizing.perReplica = perReplica;
    p.getStatus().sizing.podsDuringRollout = 4;
    p.getStatus().sizing.maxDuringRollout = maxDuringRollout;
    return p;
  }

  @Test
  void aNewPoolThatWouldOversubscribeItsWriterIsBlockedAndSaysWhy() {
    MySQLPool orders = applied(big("orders", "db.example"), 100, 404);
    MySQLPool billing = big("billing", "DB.example");
    Admission a = Admission.of(billing, RenderSettings.defaults(), List.of(orders), List.of());
    assertThat(a.renders()).isFalse();
    assertThat(a.blocking().reason()).isEqualTo("WriterOversubscribed");
    assertThat(a.blocking().message())
        .startsWith(
            "the pools on writer db.example:3306 can open 808 connections during rolling updates,"
                + " each pod's KILL connection included (shop/billing 404 + shop/orders 404), above"
                + " the budget of 480")
        .contains("this pool is not rolled out until they fit")
        .contains("raise the server's max_connections to at least 828");
  }

  @Test
  void aPoolThatDoesNotGrowKeepsApplyingWithTheConditionFalse() {
    MySQLPool orders = applied(big("orders", "db.example"), 100, 404);
    MySQLPool billing = applied(big("billing", "db.example"), 100, 404);
    Admission a = Admission.of(orders, RenderSettings.defaults(), List.of(billing), List.of());
    assertThat(a.renders()).as("shrinking or staying never makes the sum worse").isTrue();
    Admission.Check sizing =
        a.checks().stream().filter(c -> c.type().equals(Admission.SIZING_VALID)).findFirst().get();
    assertThat(sizing.ok()).isFalse();
    assertThat(sizing.message()).contains("this pool does not grow, so it keeps its size");
  }

  @Test
  void aStatusWrittenBeforeKillConnectionsCountedDoesNotMakeThePoolLookAsIfItGrew() {
    // An older operator wrote 4 pods x 100 = 400; the same proxies hold 404 on the server.
    MySQLPool orders = applied(big("orders", "db.example"), 100, 400);
    MySQLPool billing = applied(big("billing", "db.example"), 100, 400);
    Admission a = Admission.of(orders, RenderSettings.defaults(), List.of(billing), List.of());
    assertThat(a.renders()).isTrue();
    assertThat(a.checks().get(1).message())
        .contains("808 connections")
        .contains("this pool does not grow, so it keeps its size");
  }

  @Test
  void poolsOnOtherWritersOrThatFitTogetherDoNotCount() {
    MySQLPool orders = applied(big("orders", "db.example"), 100, 404);
    assertThat(
            Admission.of(
                    big("billing", "other.example"),
                    RenderSettings.defaults(),
                    List.of(orders),
                    List.of())
                .renders())
        .isTrue();
    MySQLPool small = Fixtures.pool();
    small.getMetadata().setName("small");
    small.getSpec().backend.host = "db.example";
    MySQLPool ordersSmall = applied(Fixtures.pool(s -> s.backend.host = "db.example"), 50, 204);
    Admission a = Admission.of(small, RenderSettings.defaults(), List.of(ordersSmall), List.of());
    assertThat(a.renders()).isTrue();
    assertThat(a.checks().get(1).ok()).as("204 + 204 fit 480").isTrue();
  }
}
