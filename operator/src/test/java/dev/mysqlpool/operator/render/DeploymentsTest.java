package dev.mysqlpool.operator.render;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mysqlpool.operator.api.MySQLPoolSpec;
import dev.mysqlpool.operator.testing.Fixtures;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ProbeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

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
  void behindAnNlbNoPreStopAndGraceHoldsTheLoadBalancerWaitPlusDrain() {
    Deployment d =
        render(
            s -> {
              s.service.deregistrationDelaySeconds = 120;
              s.shutdown.drainTimeout = "1m";
            });
    assertThat(proxy(d).getLifecycle())
        .as("the proxy itself keeps serving after SIGTERM (shutdown.loadBalancerWait)")
        .isNull();
    assertThat(d.getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds())
        .as("25s wait + 60s drain + 10s")
        .isEqualTo(95L);
  }

  @Test
  void behindAClusterIpAShortPreStopLetsTheEndpointsUpdate() {
    Deployment d = render(s -> s.service.type = "ClusterIP");
    assertThat(proxy(d).getLifecycle().getPreStop().getSleep().getSeconds()).isEqualTo(5L);
    assertThat(d.getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds())
        .isEqualTo(45L);
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
        .as("minReadySeconds above the grace period (65 s with the defaults)")
        .isEqualTo(67);
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

  @ParameterizedTest(name = "limit {0}: -XX:MaxDirectMemorySize={1}m")
  @CsvSource({"512Mi, 128", "1Gi, 256", "2G, 476", "256Mi, 64", "100Mi, 32"})
  void directMemoryIsAQuarterOfTheMemoryLimitSoHeapAndDirectLeaveRoomForTheRest(
      String limit, long directMib) {
    Container c =
        proxy(
            render(
                s ->
                    s.pod.resources =
                        new ResourceRequirementsBuilder()
                            .addToLimits("memory", new Quantity(limit))
                            .build()));
    String options = c.getEnv().get(0).getValue();
    assertThat(c.getEnv().get(0).getName()).isEqualTo("JAVA_TOOL_OPTIONS");
    assertThat(options)
        .contains("-XX:MaxRAMPercentage=40")
        .contains("-XX:MaxDirectMemorySize=" + directMib + "m");
    long limitMib = new Quantity(limit).getNumericalAmount().longValue() >> 20;
    if (limitMib >= 256) {
      assertThat(limitMib * 40 / 100 + directMib)
          .as("heap + direct leave at least a third of the limit for metaspace, threads, the OS")
          .isLessThanOrEqualTo(limitMib * 2 / 3);
    }
  }

  @Test
  void withoutAMemoryLimitDirectMemoryKeepsTheImagesDefault() {
    Container c =
        proxy(
            render(
                s ->
                    s.pod.resources =
                        new ResourceRequirementsBuilder()
                            .addToRequests("memory", new Quantity("4Gi"))
                            .build()));
    assertThat(c.getEnv().get(0).getValue()).contains("-XX:MaxDirectMemorySize=128m");
    assertThat(Fixtures.read("proxy-runtime/Dockerfile"))
        .as("the image's default is the same figure, for the default 512Mi limit")
        .contains("-XX:MaxDirectMemorySize=128m");
    assertThat(proxy(render()).getEnv().get(0).getValue())
        .as("the default resources: limit 512Mi")
        .contains("-XX:MaxDirectMemorySize=128m");
  }
}
