package dev.mysqlpool.operator.render;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mysqlpool.operator.api.MySQLPoolSpec;
import dev.mysqlpool.operator.testing.Fixtures;
import dev.mysqlpool.proxy.config.ProxyConfig;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.time.Duration;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 12's shutdown order, read off the rendered objects rather than the derivation: the NLB's
 * health-check annotations, its deregistration delay, the proxy's config (read by the proxy's own
 * loader) and the pod's grace period. At SIGTERM the proxy fails its health check and keeps serving
 * until the NLB has seen enough failed checks to stop sending, then drains; the NLB resets whatever
 * is still open when the deregistration delay ends, so the whole sequence must end before it, and
 * before the kubelet's SIGKILL.
 */
class ShutdownOrder12Test {
  private static final Pattern DEREGISTRATION =
      Pattern.compile("deregistration_delay\\.timeout_seconds=(\\d+)");

  static Stream<Arguments> nlbPools() {
    return Stream.of(
        Arguments.of("defaults", (Consumer<MySQLPoolSpec>) s -> {}),
        Arguments.of(
            "a delay stored with the old default (30)",
            (Consumer<MySQLPoolSpec>) s -> s.service.deregistrationDelaySeconds = 30),
        Arguments.of(
            "a long drain in a long delay",
            (Consumer<MySQLPoolSpec>)
                s -> {
                  s.service.deregistrationDelaySeconds = 300;
                  s.shutdown.drainTimeout = "4m";
                }),
        Arguments.of(
            "a preStop delay the user asked for",
            (Consumer<MySQLPoolSpec>)
                s -> {
                  s.service.deregistrationDelaySeconds = 90;
                  s.shutdown.preStopDelaySeconds = 10;
                }));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("nlbPools")
  void healthFailsFirstTheNlbStopsSendingThenTheDrainEndsInsideTheDelay(
      String name, Consumer<MySQLPoolSpec> mutator) {
    Plan plan = Plan.of(Fixtures.pool(mutator), RenderSettings.defaults());
    assertThat(plan.timeouts().clashes()).as(name).isEmpty();
    Map<String, String> nlb = Services.service(plan).getMetadata().getAnnotations();
    Deployment d = Deployments.deployment(plan);
    ProxyConfig.Shutdown proxy = ProxyConfigs.file(plan).check().shutdown();

    long interval = Long.parseLong(nlb.get(Services.AWS + "healthcheck-interval"));
    long unhealthy = Long.parseLong(nlb.get(Services.AWS + "healthcheck-unhealthy-threshold"));
    Matcher m = DEREGISTRATION.matcher(nlb.get(Services.AWS + "target-group-attributes"));
    assertThat(m.find()).isTrue();
    long deregistration = Long.parseLong(m.group(1));
    assertThat(nlb.get(Services.AWS + "target-group-attributes"))
        .contains("deregistration_delay.connection_termination.enabled=true");
    var lifecycle = d.getSpec().getTemplate().getSpec().getContainers().get(0).getLifecycle();
    long preStop = lifecycle == null ? 0 : lifecycle.getPreStop().getSleep().getSeconds();
    long grace = d.getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds();

    assertThat(proxy.loadBalancerWait())
        .as(
            "%s: the proxy serves until the NLB saw %d failed checks %ds apart",
            name, unhealthy, interval)
        .isGreaterThan(Duration.ofSeconds(unhealthy * interval));
    Duration end =
        Duration.ofSeconds(preStop).plus(proxy.loadBalancerWait()).plus(proxy.drainTimeout());
    assertThat(end)
        .as("%s: the drain ends before the NLB resets what is left", name)
        .isLessThanOrEqualTo(Duration.ofSeconds(deregistration));
    assertThat(end)
        .as("%s: and before the kubelet kills the pod", name)
        .isLessThan(Duration.ofSeconds(grace));
    assertThat(proxy.drainTimeout()).as(name).isPositive();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("nlbPools")
  void aClusterIpPoolClosesItsListenerAtSigterm(String name, Consumer<MySQLPoolSpec> mutator) {
    Plan plan =
        Plan.of(
            Fixtures.pool(mutator, s -> s.service.type = "ClusterIP"), RenderSettings.defaults());
    assertThat(ProxyConfigs.yaml(plan)).doesNotContain("loadBalancerWait");
    Service svc = Services.service(plan);
    assertThat(svc.getMetadata().getAnnotations())
        .doesNotContainKey(Services.AWS + "healthcheck-path");
  }
}
