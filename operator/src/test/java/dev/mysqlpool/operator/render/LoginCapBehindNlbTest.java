package dev.mysqlpool.operator.render;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mysqlpool.operator.testing.Fixtures;
import dev.mysqlpool.proxy.config.ConfigLoader;
import dev.mysqlpool.proxy.config.ProxyConfig;
import org.junit.jupiter.api.Test;

/**
 * The proxy caps logins in progress per client address (frontend.maxPendingLoginsPerAddress, 100 by
 * default). Behind an NLB with IP targets and without client-IP preservation every client would
 * share the NLB's few private addresses, and a connect storm of ordinary clients would hit that
 * cap. The operator keeps client-IP preservation on instead, so the cap counts real clients and
 * keeps the proxy's default; this test ties the two together.
 */
class LoginCapBehindNlbTest {

  @Test
  void theNlbPreservesClientAddressesSoThePerAddressCapKeepsItsDefault() {
    Plan plan = Plan.of(Fixtures.pool(), RenderSettings.defaults());
    assertThat(Services.annotations(plan))
        .hasEntrySatisfying(
            Services.AWS + "target-group-attributes",
            v -> assertThat(v).contains("preserve_client_ip.enabled=true"));
    ProxyConfig.Frontend f = ConfigLoader.check(ProxyConfigs.yaml(plan)).frontend();
    assertThat(f.maxPendingLoginsPerAddress())
        .isEqualTo(ProxyConfig.Frontend.DEFAULT_MAX_PENDING_LOGINS_PER_ADDRESS);
    assertThat(f.maxPendingLoginsPerAddress())
        .as("below the global cap, so one address cannot take every login slot")
        .isLessThan(f.maxPendingLogins());
  }

  @Test
  void theUserCannotTurnClientIpPreservationOff() {
    var pool =
        Fixtures.pool(
            s ->
                s.service.annotations.put(
                    Services.AWS + "target-group-attributes", "preserve_client_ip.enabled=false"));
    assertThat(dev.mysqlpool.operator.validation.MySQLPoolValidator.validate(pool))
        .extracting(e -> e.path())
        .containsExactly(
            "spec.service.annotations[service.beta.kubernetes.io/aws-load-balancer-target-group-attributes]");
  }
}
