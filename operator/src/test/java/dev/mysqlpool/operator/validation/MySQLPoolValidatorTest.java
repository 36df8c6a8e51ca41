package dev.mysqlpool.operator.validation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mysqlpool.operator.api.MySQLPool;
import dev.mysqlpool.operator.api.MySQLPoolSpec;
import dev.mysqlpool.operator.testing.Fixtures;
import io.fabric8.kubernetes.api.model.IntOrString;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class MySQLPoolValidatorTest {

  @Test
  void theSeedPoolIsValid() {
    assertThat(MySQLPoolValidator.validate(Fixtures.pool())).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"session", "transaction"})
  void bothPoolModesAreValid(String mode) {
    assertThat(MySQLPoolValidator.validate(Fixtures.pool(s -> s.pool.mode = mode)))
        .as("spec.pool.mode %s", mode)
        .isEmpty();
  }

  static Stream<Arguments> bad() {
    return Stream.of(
        Arguments.of(
            (Consumer<MySQLPoolSpec>) s -> s.backend = null,
            new FieldError(
                "spec.backend", "required; name the MySQL writer with host and maxConnections")),
        Arguments.of(
            (Consumer<MySQLPoolSpec>) s -> s.backend.maxConnections = null,
            new FieldError(
                "spec.backend.maxConnections",
                "required; the server's max_connections (SHOW VARIABLES LIKE 'max_connections')")),
        Arguments.of(
            (Consumer<MySQLPoolSpec>) s -> s.backend.reservedConnections = 500,
            new FieldError(
                "spec.backend.reservedConnections",
                "500 is not below spec.backend.maxConnections (500);"
                    + " no connection is left for the proxies")),
        Arguments.of(
            (Consumer<MySQLPoolSpec>) s -> s.credentials.users.add(new MySQLPoolSpec.User("app")),
            new FieldError(
                "spec.credentials.users[2].name",
                "'app' is listed twice; user names must be unique")),
        Arguments.of(
            (Consumer<MySQLPoolSpec>) s -> s.credentials.users.get(0).name = "../etc",
            new FieldError(
                "spec.credentials.users[0].name",
                "'../etc' must be 1 to 32 letters, digits, '_', '.' or"
                    + " '-': it is also the Secret key and the password file's name")),
        Arguments.of(
            (Consumer<MySQLPoolSpec>) s -> s.workload.holdTime = "50",
            new FieldError(
                "spec.workload.holdTime",
                "'50' is not a positive duration; write it like 50ms or 2s")),
        Arguments.of(
            (Consumer<MySQLPoolSpec>) s -> s.workload.safetyFactor = 0.5,
            new FieldError("spec.workload.safetyFactor", "0.5 is out of range; use 1 to 10")),
        Arguments.of(
            (Consumer<MySQLPoolSpec>) s -> s.pool.mode = "statement",
            new FieldError(
                "spec.pool.mode", "'statement' is not a pool mode; use session or transaction")),
        Arguments.of(
            (Consumer<MySQLPoolSpec>)
                s -> {
                  s.pool.maxConnections = 10;
                  s.pool.maxIdle = 20;
                },
            new FieldError(
                "spec.pool.maxIdle",
                "20 is above spec.pool.maxConnections (10); idle connections count"
                    + " toward maxConnections: lower spec.pool.maxIdle or raise"
                    + " spec.pool.maxConnections")),
        Arguments.of(
            (Consumer<MySQLPoolSpec>) s -> s.pool.acquireTimeout = "5 seconds",
            new FieldError(
                "spec.pool.acquireTimeout",
                "'5 seconds' is not a duration; write it like 500ms, 30s, 5m" + " or 1h")),
        Arguments.of(
            (Consumer<MySQLPoolSpec>) s -> s.pool.dnsTtl = "5 s",
            new FieldError(
                "spec.pool.dnsTtl", "'5 s' is not a duration; write it like 500ms, 30s, 5m or 1h")),
        Arguments.of(
            (Consumer<MySQLPoolSpec>) s -> s.pool.switchoverTimeout = "0",
            new FieldError(
                "spec.pool.switchoverTimeout",
                "must be greater than 0, e.g. 30s: clients wait this long for a new writer during a"
                    + " failover")),
        Arguments.of(
            (Consumer<MySQLPoolSpec>) s -> s.pool.connectTimeout = "0",
            new FieldError("spec.pool.connectTimeout", "must be greater than 0, e.g. 5s")),
        Arguments.of(
            (Consumer<MySQLPoolSpec>)
                s ->
                    s.service.annotations.put(
                        "service.beta.kubernetes.io/aws-load-balancer-listener-attributes.TCP-3306",
                        "tcp.idle_timeout.seconds=9"),
            new FieldError(
                "spec.service.annotations[service.beta.kubernetes.io/aws-load-balancer-listener-attributes"
                    + ".TCP-3306]",
                "is managed by the operator from the spec.service fields (type, scheme,"
                    + " nlbIdleTimeoutSeconds, deregistrationDelaySeconds); set those instead")),
        Arguments.of(
            (Consumer<MySQLPoolSpec>) s -> s.service.sourceRanges.add("10.0.0.0"),
            new FieldError("spec.service.sourceRanges[0]", NOT_A_CIDR.formatted("10.0.0.0"))),
        Arguments.of(
            (Consumer<MySQLPoolSpec>) s -> s.service.sourceRanges.add("999.1.1.1/99"),
            new FieldError("spec.service.sourceRanges[0]", NOT_A_CIDR.formatted("999.1.1.1/99"))),
        Arguments.of(
            (Consumer<MySQLPoolSpec>) s -> s.service.sourceRanges.add("2001:db8::/129"),
            new FieldError("spec.service.sourceRanges[0]", NOT_A_CIDR.formatted("2001:db8::/129"))),
        Arguments.of(
            (Consumer<MySQLPoolSpec>) s -> s.pod.labels.put("app.kubernetes.io/instance", "x"),
            new FieldError(
                "spec.pod.labels[app.kubernetes.io/instance]",
                "app.kubernetes.io/ labels are the operator's (they select the proxy pods); use"
                    + " another key, e.g. example.com/team")),
        Arguments.of(
            (Consumer<MySQLPoolSpec>)
                s -> {
                  s.podDisruptionBudget.minAvailable = new IntOrString(1);
                  s.podDisruptionBudget.maxUnavailable = new IntOrString(1);
                },
            new FieldError(
                "spec.podDisruptionBudget",
                "set minAvailable or maxUnavailable, not both (Kubernetes takes only one)")),
        Arguments.of(
            (Consumer<MySQLPoolSpec>)
                s ->
                    s.service.annotations.put(
                        "service.beta.kubernetes.io/aws-load-balancer-attributes",
                        "load_balancing.cross_zone.enabled=false"),
            new FieldError(
                "spec.service.annotations[service.beta.kubernetes.io/aws-load-balancer-attributes]",
                "sets load_balancing.cross_zone.enabled, which the operator manages; set"
                    + " spec.service.crossZoneLoadBalancing instead (its other attributes are kept)")));
  }

  private static final String NOT_A_CIDR =
      "'%s' is not a CIDR: write an IPv4 address (each part 0-255) and a prefix up to 32, e.g."
          + " 203.0.113.0/24, or an IPv6 address and a prefix up to 128";

  @org.junit.jupiter.api.Test
  void validCidrsPass() {
    for (String cidr :
        List.of("203.0.113.0/24", "0.0.0.0/0", "10.0.0.0/8", "2001:db8::/32", "::/0")) {
      assertThat(MySQLPoolValidator.validate(Fixtures.pool(s -> s.service.sourceRanges.add(cidr))))
          .as(cidr)
          .isEmpty();
    }
  }

  @ParameterizedTest
  @MethodSource("bad")
  void reportsTheFieldAndTheFix(Consumer<MySQLPoolSpec> mutator, FieldError want) {
    assertThat(MySQLPoolValidator.validate(Fixtures.pool(mutator))).containsExactly(want);
  }

  @Test
  void reportsEveryProblemAtOnce() {
    MySQLPool pool =
        Fixtures.pool(
            s -> {
              s.workload.peakTps = null;
              s.service.type = "NodePort";
            });
    pool.getMetadata().setName("Orders");
    assertThat(MySQLPoolValidator.validate(pool))
        .extracting(FieldError::path)
        .containsExactly("metadata.name", "spec.workload.peakTps", "spec.service.type");
  }

  @Test
  void aMissingSpecIsOneError() {
    MySQLPool pool = Fixtures.pool();
    pool.setSpec(null);
    assertThat(MySQLPoolValidator.validate(pool))
        .containsExactly(new FieldError("spec", "required"));
  }
}
