package dev.mysqlpool.operator.validation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mysqlpool.operator.api.MySQLPoolSpec;
import dev.mysqlpool.operator.testing.Fixtures;
import dev.mysqlpool.proxy.config.Durations;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class TimeoutChainTest {

  /** Effective values as "clientIdle keepAlive idle lifetime drain lbWait preStop grace". */
  static Stream<Arguments> derived() {
    return Stream.of(
        Arguments.of(
            "defaults behind the default NLB: no preStop, wait 25s, drain 30s, inside the 60s delay",
            (Consumer<MySQLPoolSpec>) s -> {},
            "320s 1m 10m 30m 30s 25s 0 65"),
        Arguments.of(
            "a short NLB idle timeout pulls client idle and keepalive below it",
            (Consumer<MySQLPoolSpec>) s -> s.service.nlbIdleTimeoutSeconds = 60,
            "30s 50s 10m 30m 30s 25s 0 65"),
        Arguments.of(
            "a short wait_timeout pulls idle, lifetime and client idle below it",
            (Consumer<MySQLPoolSpec>) s -> s.backend.waitTimeoutSeconds = 120,
            "2m 1m 96s 96s 30s 25s 0 65"),
        Arguments.of(
            "ClusterIP: client idle follows wait_timeout, preStop only a margin, no wait",
            (Consumer<MySQLPoolSpec>) s -> s.service.type = "ClusterIP",
            "8h 1m 10m 30m 30s 0 5 45"),
        Arguments.of(
            "a longer drain and deregistration delay stretch the grace period",
            (Consumer<MySQLPoolSpec>)
                s -> {
                  s.shutdown.drainTimeout = "2m";
                  s.service.deregistrationDelaySeconds = 180;
                },
            "320s 1m 10m 30m 2m 25s 0 155"),
        Arguments.of(
            "a delay stored with the old default (30) shortens the derived drain to what is left",
            (Consumer<MySQLPoolSpec>) s -> s.service.deregistrationDelaySeconds = 30,
            "320s 1m 10m 30m 5s 25s 0 40"),
        Arguments.of(
            "user values that nest are kept",
            (Consumer<MySQLPoolSpec>)
                s -> {
                  s.frontend.clientIdleTimeout = "5m";
                  s.frontend.tcpKeepAliveIdle = "30s";
                  s.pool.idleTimeout = "1h";
                  s.pool.maxLifetime = "4h";
                  s.service.deregistrationDelaySeconds = 120;
                  s.shutdown.preStopDelaySeconds = 30;
                  s.shutdown.terminationGracePeriodSeconds = 90;
                },
            "5m 30s 1h 4h 30s 25s 30 90"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("derived")
  void derives(String name, Consumer<MySQLPoolSpec> mutator, String want) {
    TimeoutChain t = TimeoutChain.derive(Fixtures.pool(mutator).getSpec().fillOptionalSections());
    String got =
        String.join(
            " ",
            Durations.format(t.clientIdleTimeout()),
            Durations.format(t.tcpKeepAliveIdle()),
            Durations.format(t.idleTimeout()),
            Durations.format(t.maxLifetime()),
            Durations.format(t.drainTimeout()),
            Durations.format(t.loadBalancerWait()),
            String.valueOf(t.preStopDelaySeconds()),
            String.valueOf(t.terminationGracePeriodSeconds()));
    assertThat(got).withFailMessage("%s: got %s, want %s", name, got, want).isEqualTo(want);
    assertThat(t.clashes())
        .withFailMessage("%s: derived values must never clash: %s", name, t.clashes())
        .isEmpty();
  }

  static Stream<Arguments> clashes() {
    return Stream.of(
        Arguments.of(
            (Consumer<MySQLPoolSpec>) s -> s.frontend.clientIdleTimeout = "345s",
            new FieldError(
                "spec.frontend.clientIdleTimeout",
                "spec.frontend.clientIdleTimeout (345s) clashes with"
                    + " spec.service.nlbIdleTimeoutSeconds (350): keep it at least 10s below the NLB idle timeout, or the"
                    + " NLB drops idle sessions silently while the proxy keeps their backend connections; leave it out to"
                    + " derive 320s")),
        Arguments.of(
            (Consumer<MySQLPoolSpec>) s -> s.frontend.clientIdleTimeout = "0",
            new FieldError(
                "spec.frontend.clientIdleTimeout",
                "spec.frontend.clientIdleTimeout (0, never) clashes"
                    + " with spec.service.nlbIdleTimeoutSeconds (350): keep it at least 10s below the NLB idle timeout,"
                    + " or the NLB drops idle sessions silently while the proxy keeps their backend connections; leave it"
                    + " out to derive 320s")),
        Arguments.of(
            (Consumer<MySQLPoolSpec>) s -> s.frontend.tcpKeepAliveIdle = "6m",
            new FieldError(
                "spec.frontend.tcpKeepAliveIdle",
                "spec.frontend.tcpKeepAliveIdle (6m) clashes with"
                    + " spec.service.nlbIdleTimeoutSeconds (350): keepalive probes must start at least 10s before the NLB"
                    + " idle timeout, or the NLB drops idle but live connections")),
        Arguments.of(
            (Consumer<MySQLPoolSpec>) s -> s.pool.maxLifetime = "8h",
            new FieldError(
                "spec.pool.maxLifetime",
                "spec.pool.maxLifetime (8h) clashes with"
                    + " spec.backend.waitTimeoutSeconds (28800): recycle connections before the server's wait_timeout"
                    + " closes them; keep it below wait_timeout or leave it out to derive 30m")),
        Arguments.of(
            (Consumer<MySQLPoolSpec>)
                s -> {
                  s.backend.waitTimeoutSeconds = 300;
                  s.pool.idleTimeout = "10m";
                },
            new FieldError(
                "spec.pool.idleTimeout",
                "spec.pool.idleTimeout (10m) clashes with"
                    + " spec.backend.waitTimeoutSeconds (300): the server closes connections idle that long, so the pool"
                    + " would hand out dead ones; keep it below wait_timeout or leave it out to derive 4m")),
        Arguments.of(
            (Consumer<MySQLPoolSpec>) s -> s.shutdown.drainTimeout = "60s",
            new FieldError(
                "spec.service.deregistrationDelaySeconds",
                "spec.service.deregistrationDelaySeconds (60) is shorter than the shutdown it must"
                    + " hold: shutdown.loadBalancerWait (25s, the NLB's 2 failed health checks 10s"
                    + " apart + 5s) + spec.shutdown.drainTimeout (1m) = 85s; the NLB resets every"
                    + " connection still open when the delay ends, so sessions still draining would"
                    + " be cut; use at least 85 or shorten spec.shutdown.drainTimeout")),
        Arguments.of(
            (Consumer<MySQLPoolSpec>)
                s -> {
                  s.shutdown.preStopDelaySeconds = 10;
                  s.shutdown.drainTimeout = "30s";
                },
            new FieldError(
                "spec.service.deregistrationDelaySeconds",
                "spec.service.deregistrationDelaySeconds (60) is shorter than the shutdown it must"
                    + " hold: spec.shutdown.preStopDelaySeconds (10) + shutdown.loadBalancerWait"
                    + " (25s, the NLB's 2 failed health checks 10s apart + 5s) +"
                    + " spec.shutdown.drainTimeout (30s) = 65s; the NLB resets every connection"
                    + " still open when the delay ends, so sessions still draining would be cut; use"
                    + " at least 65 or shorten spec.shutdown.drainTimeout")),
        Arguments.of(
            (Consumer<MySQLPoolSpec>) s -> s.service.deregistrationDelaySeconds = 20,
            new FieldError(
                "spec.service.deregistrationDelaySeconds",
                "spec.service.deregistrationDelaySeconds (20) is shorter than the shutdown it must"
                    + " hold: shutdown.loadBalancerWait (25s, the NLB's 2 failed health checks 10s"
                    + " apart + 5s) + spec.shutdown.drainTimeout (1s) = 26s; the NLB resets every"
                    + " connection still open when the delay ends, so sessions still draining would"
                    + " be cut; use at least 26")),
        Arguments.of(
            (Consumer<MySQLPoolSpec>) s -> s.shutdown.terminationGracePeriodSeconds = 30,
            new FieldError(
                "spec.shutdown.terminationGracePeriodSeconds",
                "spec.shutdown.terminationGracePeriodSeconds (30) clashes with preStop (0s) +"
                    + " shutdown.loadBalancerWait (25s) + spec.shutdown.drainTimeout (30s): the"
                    + " kubelet kills the proxy before it finishes draining; use more than 55 or"
                    + " leave it out to derive 65")));
  }

  @ParameterizedTest
  @MethodSource("clashes")
  void namesTheTwoClashingValues(Consumer<MySQLPoolSpec> mutator, FieldError want) {
    TimeoutChain t = TimeoutChain.derive(Fixtures.pool(mutator).getSpec().fillOptionalSections());
    assertThat(t.clashes()).containsExactly(want);
    assertThat(t.valid()).isFalse();
  }

  @Test
  void nlbRulesDoNotApplyBehindAClusterIp() {
    TimeoutChain t =
        TimeoutChain.derive(
            Fixtures.pool(
                    s -> {
                      s.service.type = "ClusterIP";
                      s.frontend.clientIdleTimeout = "1h";
                      s.shutdown.preStopDelaySeconds = 0;
                    })
                .getSpec()
                .fillOptionalSections());
    assertThat(t.clashes()).isEqualTo(List.of());
  }
}
