package dev.mysqlpool.operator.validation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mysqlpool.operator.api.BackendTlsSpec;
import dev.mysqlpool.operator.api.FrontendTlsSpec;
import dev.mysqlpool.operator.api.MySQLPoolSpec;
import dev.mysqlpool.operator.render.Plan;
import dev.mysqlpool.operator.render.ProxyConfigs;
import dev.mysqlpool.operator.render.RenderSettings;
import dev.mysqlpool.operator.testing.Fixtures;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** spec.tls, spec.backend.tls and the internet-facing rule: each mistake named by its field. */
class TlsRulesTest {

  @SafeVarargs
  private static List<FieldError> errors(Consumer<MySQLPoolSpec>... mutators) {
    return MySQLPoolValidator.validate(Fixtures.pool(mutators));
  }

  private static Consumer<MySQLPoolSpec> frontend(String mode, String secretName) {
    return s -> {
      s.tls = new FrontendTlsSpec();
      s.tls.mode = mode;
      s.tls.secretName = secretName;
    };
  }

  private static Consumer<MySQLPoolSpec> backend(
      String mode, String secretName, String configMapName) {
    return s -> {
      s.backend.tls = new BackendTlsSpec();
      s.backend.tls.mode = mode;
      if (secretName != null || configMapName != null) {
        s.backend.tls.ca = new BackendTlsSpec.CaSource();
        s.backend.tls.ca.secretName = secretName;
        s.backend.tls.ca.configMapName = configMapName;
      }
    };
  }

  @Test
  void eachFrontendModeWithAndWithoutASecretIsValid() {
    for (String mode : List.of("optional", "required")) {
      assertThat(errors(frontend(mode, "orders-pool-tls"))).as(mode).isEmpty();
      assertThat(errors(frontend(mode, null))).as(mode + " self-signed").isEmpty();
    }
    assertThat(errors(frontend("disabled", null))).isEmpty();
  }

  @Test
  void aWrongFrontendModeNamesTheFieldAndTheModes() {
    assertThat(errors(frontend("on", null)))
        .containsExactly(
            new FieldError(
                "spec.tls.mode", "'on' is not a TLS mode; use disabled, optional or required"));
  }

  @Test
  void aSecretWithTlsDisabledIsRefusedBeforeTheProxyWould() {
    assertThat(errors(frontend("disabled", "orders-pool-tls")))
        .containsExactly(
            new FieldError(
                "spec.tls.secretName",
                "is not used with spec.tls.mode disabled; remove it, or set mode to optional or"
                    + " required"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"disabled", "preferred", "required"})
  void aCaWithAModeThatDoesNotVerifyNamesTheFieldAndBothFixes(String mode) {
    List<FieldError> e = errors(backend(mode, null, "rds-ca"));
    assertThat(e).extracting(FieldError::path).containsExactly("spec.backend.tls.ca");
    assertThat(e.get(0).message())
        .startsWith("is not used with spec.backend.tls.mode " + mode)
        .contains("set mode to verify-ca or verify-identity")
        .contains("or remove ca");
    assertThat(errors(backend(mode, null, null))).as(mode + " without ca").isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"verify-ca", "verify-identity"})
  void verifyingModesNeedACa(String mode) {
    assertThat(errors(backend(mode, null, "rds-ca"))).isEmpty();
    assertThat(errors(backend(mode, "db-ca", null))).isEmpty();
    List<FieldError> e = errors(backend(mode, null, null));
    assertThat(e).extracting(FieldError::path).containsExactly("spec.backend.tls.ca");
    assertThat(e.get(0).message()).startsWith("required with mode " + mode);
  }

  @Test
  void theCaComesFromExactlyOnePlace() {
    assertThat(errors(backend("verify-ca", "db-ca", "rds-ca")))
        .containsExactly(
            new FieldError(
                "spec.backend.tls.ca",
                "set exactly one of secretName and configMapName (where the CA bundle is)"));
  }

  @Test
  void aWrongBackendModeNamesMysqlsSslModes() {
    assertThat(errors(backend("VERIFY_CA", null, null)))
        .extracting(FieldError::toString)
        .containsExactly(
            "spec.backend.tls.mode: 'VERIFY_CA' is not a TLS mode; use disabled, preferred,"
                + " required, verify-ca or verify-identity (MySQL's ssl-mode names)");
  }

  @Test
  void theOperatorSaysWhatTheProxyWouldRefuseFirstAndInItsOwnFieldNames() {
    // Rendered anyway, the proxy's own check refuses caFile with mode required: the validator's
    // message comes first and names spec.backend.tls.ca, not backends[0].tls.caFile.
    var pool = Fixtures.pool(backend("required", null, "rds-ca"));
    assertThat(MySQLPoolValidator.validate(pool))
        .extracting(FieldError::path)
        .containsExactly("spec.backend.tls.ca");
    assertThat(ProxyConfigs.problems(Plan.of(pool, RenderSettings.defaults())))
        .extracting(FieldError::path)
        .as("the proxy's refusal, mapped back to the spec")
        .containsExactly("spec.backend.tls");
  }

  @Test
  void anInternetFacingNlbNeedsTlsRequiredOrSourceRanges() {
    Consumer<MySQLPoolSpec> internet = s -> s.service.scheme = "internet-facing";
    List<FieldError> e = errors(internet);
    assertThat(e).extracting(FieldError::path).containsExactly("spec.service.scheme");
    assertThat(e.get(0).message())
        .as("names both fixes")
        .contains("spec.tls.mode: required")
        .contains("spec.service.sourceRanges");
    assertThat(errors(internet, frontend("optional", "orders-pool-tls")))
        .as("optional TLS still lets clients in clear text")
        .hasSize(1);
    assertThat(errors(internet, frontend("required", "orders-pool-tls"))).isEmpty();
    assertThat(errors(internet, frontend("required", null)))
        .as("required with the self-signed certificate: MariaDB clients verify it by the password")
        .isEmpty();
    assertThat(errors(internet, s -> s.service.sourceRanges.add("203.0.113.0/24"))).isEmpty();
    assertThat(errors(internet, s -> s.service.type = "ClusterIP"))
        .as("a ClusterIP has no NLB scheme")
        .isEmpty();
  }
}
