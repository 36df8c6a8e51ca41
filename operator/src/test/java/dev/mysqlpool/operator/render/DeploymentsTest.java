package dev.mysqlpool.operator.render;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mysqlpool.operator.api.MySQLPoolSpec;
import dev.mysqlpool.operator.testing.Fixtures;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ProbeBuilder;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** The Deployment's safety properties, stated one by one next to the golden files. */
class DeploymentsTest {

  @SafeVarargs
  private static Deployment render(Consumer<MySQLPoolSpec>... mutators) {
    return Deployments.deployment(Plan.of(Fixtures.pool(mutators), RenderSettings.defaults()));
  }

  private static Container proxy(Deployment d) {
    return d.getSpec().getTemplate().getSpec().getContainers().get(0);
  }

  @Test
  void probesHitTheAdminPort() {
    Container c = proxy(render());
    assertThat(c.getReadinessProbe())
        .isEqualTo(
            new ProbeBuilder()
                .withNewHttpGet()
                .withPath("/readyz")
                .withPort(new IntOrString("admin"))
                .withScheme("HTTP")
                .endHttpGet()
                .withPeriodSeconds(5)
                .withTimeoutSeconds(2)
                .withFailureThreshold(2)
                .withSuccessThreshold(1)
                .build());
    assertThat(c.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
    assertThat(c.getStartupProbe().getHttpGet().getPath()).isEqualTo("/healthz");
    assertThat(c.getStartupProbe().getPeriodSeconds() * c.getStartupProbe().getFailureThreshold())
        .withFailMessage("a JVM gets a minute to start before liveness applies")
        .isEqualTo(60);
  }

  @Test
  void runsNonRootReadOnlyWithoutCapabilities() {
    Deployment d = render();
    assertThat(proxy(d).getSecurityContext())
        .isEqualTo(
            new SecurityContextBuilder()
                .withRunAsNonRoot(true)
                .withReadOnlyRootFilesystem(true)
                .withAllowPrivilegeEscalation(false)
                .withNewCapabilities()
                .withDrop("ALL")
                .endCapabilities()
                .build());
    assertThat(d.getSpec().getTemplate().getSpec().getSecurityContext().getRunAsUser())
        .isEqualTo(10001L);
    assertThat(
            d.getSpec().getTemplate().getSpec().getSecurityContext().getSeccompProfile().getType())
        .isEqualTo("RuntimeDefault");
  }

  @Test
  void preStopCoversDeregistrationAndGraceHoldsPreStopPlusDrain() {
    Deployment d =
        render(
            s -> {
              s.service.deregistrationDelaySeconds = 120;
              s.shutdown.drainTimeout = "1m";
            });
    assertThat(proxy(d).getLifecycle().getPreStop().getSleep().getSeconds()).isEqualTo(125L);
    assertThat(d.getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds())
        .isEqualTo(195L);
  }

  @Test
  void aRollingUpdateNeverDropsBelowTheReplicaCount() {
    var rolling = render().getSpec().getStrategy().getRollingUpdate();
    assertThat(rolling.getMaxUnavailable()).isEqualTo(new IntOrString(0));
    assertThat(rolling.getMaxSurge()).isEqualTo(new IntOrString(1));
  }

  @Test
  void aNewOldPodStopsOnlyAfterThePreviousOneHasDrained() {
    assertThat(render().getSpec().getMinReadySeconds())
        .as("minReadySeconds above the grace period (75 s with the defaults)")
        .isEqualTo(77);
  }

  @Test
  void onlyAChangeTheProxyCannotReloadChangesTheHash() {
    String hash =
        render()
            .getSpec()
            .getTemplate()
            .getMetadata()
            .getAnnotations()
            .get("mysqlpool.dev/config-hash");
    assertThat(
            render()
                .getSpec()
                .getTemplate()
                .getMetadata()
                .getAnnotations()
                .get("mysqlpool.dev/config-hash"))
        .isEqualTo(hash);
    assertThat(
            render(
                    s -> {
                      s.workload.peakTps = 2000;
                      s.replicas = 4;
                      s.pool.minIdle = 3;
                      s.pool.acquireTimeout = "2s";
                    })
                .getSpec()
                .getTemplate()
                .getMetadata()
                .getAnnotations()
                .get("mysqlpool.dev/config-hash"))
        .as("a new split, idle limits and pool timers reload live")
        .isEqualTo(hash);
    assertThat(
            render(s -> s.frontend.maxClientConnections = 500)
                .getSpec()
                .getTemplate()
                .getMetadata()
                .getAnnotations()
                .get("mysqlpool.dev/config-hash"))
        .as("frontend settings are read at startup")
        .isNotEqualTo(hash);
    assertThat(
            render(s -> s.pod.priorityClassName = "x")
                .getSpec()
                .getTemplate()
                .getMetadata()
                .getAnnotations()
                .get("mysqlpool.dev/config-hash"))
        .isEqualTo(hash);
  }

  @Test
  void theSecretIsMountedAsFilesNextToTheConfig() {
    var projected = render().getSpec().getTemplate().getSpec().getVolumes().get(0).getProjected();
    assertThat(projected.getSources().get(1).getSecret().getName()).isEqualTo("orders-db-users");
    assertThat(projected.getSources().get(1).getSecret().getItems())
        .extracting(i -> i.getKey() + "->" + i.getPath())
        .containsExactly("app->users/app", "reporting->users/reporting");
    assertThat(projected.getDefaultMode()).isEqualTo(0440);
    assertThat(proxy(render()).getCommand())
        .containsExactly(
            "java", "-jar", "/app/proxy-runtime.jar", "--config", "/etc/mysqlpool/proxy.yaml");
  }
}
