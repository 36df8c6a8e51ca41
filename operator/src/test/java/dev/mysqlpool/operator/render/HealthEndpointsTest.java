package dev.mysqlpool.operator.render;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mysqlpool.operator.api.FrontendTlsSpec;
import dev.mysqlpool.operator.api.MySQLPoolSpec;
import dev.mysqlpool.operator.testing.Fixtures;
import dev.mysqlpool.operator.validation.MySQLPoolValidator;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Probe;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What each health endpoint of the proxy is wired to (issue 12). {@code /readyz} means "this proxy
 * takes clients" and stays 200 through a database outage; {@code /backendz} follows the database.
 * Were {@code /backendz} a readiness probe or the NLB's health check, a database failover would
 * take every proxy out of the Service and deregister every NLB target at once (minutes to come
 * back); were it a liveness probe, the kubelet would restart every proxy. Neither may ever happen.
 */
class HealthEndpointsTest {

  static Stream<Arguments> pools() {
    return Stream.of(
        Arguments.of("NLB", (Consumer<MySQLPoolSpec>) s -> {}),
        Arguments.of("ClusterIP", (Consumer<MySQLPoolSpec>) s -> s.service.type = "ClusterIP"),
        Arguments.of(
            "NLB with TLS toward clients",
            (Consumer<MySQLPoolSpec>) s -> s.tls = new FrontendTlsSpec()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("pools")
  void readinessAndTheNlbHitReadyzLivenessHealthzAndNothingHitsBackendz(
      String name, Consumer<MySQLPoolSpec> mutator) {
    Plan plan = Plan.of(Fixtures.pool(mutator), RenderSettings.defaults());
    List<String> paths = new ArrayList<>();
    for (Container c :
        Deployments.deployment(plan).getSpec().getTemplate().getSpec().getContainers()) {
      assertThat(path(c.getReadinessProbe()))
          .as("%s: readiness of %s", name, c.getName())
          .isEqualTo("/readyz");
      assertThat(path(c.getLivenessProbe()))
          .as("%s: liveness of %s", name, c.getName())
          .isEqualTo("/healthz");
      assertThat(path(c.getStartupProbe()))
          .as("%s: startup of %s", name, c.getName())
          .isEqualTo("/healthz");
      paths.add(path(c.getReadinessProbe()));
      paths.add(path(c.getLivenessProbe()));
      paths.add(path(c.getStartupProbe()));
    }
    String nlbPath =
        Services.service(plan)
            .getMetadata()
            .getAnnotations()
            .get(Services.AWS + "healthcheck-path");
    if (plan.nlb()) {
      assertThat(nlbPath).as("%s: the NLB health check", name).isEqualTo("/readyz");
      paths.add(nlbPath);
    } else {
      assertThat(nlbPath).isNull();
    }
    assertThat(paths)
        .withFailMessage(
            "%s: /backendz follows the database; as a probe or health check a database outage would"
                + " deregister or restart every proxy: %s",
            name, paths)
        .noneMatch(p -> p.contains("backendz"));
  }

  @Test
  void aUserCannotPointTheNlbHealthCheckAtBackendz() {
    var errors =
        MySQLPoolValidator.validate(
            Fixtures.pool(
                s -> s.service.annotations.put(Services.AWS + "healthcheck-path", "/backendz")));
    assertThat(errors)
        .anySatisfy(
            e ->
                assertThat(e.path())
                    .isEqualTo("spec.service.annotations[" + Services.AWS + "healthcheck-path]"));
  }

  private static String path(Probe p) {
    return p == null || p.getHttpGet() == null ? null : p.getHttpGet().getPath();
  }
}
