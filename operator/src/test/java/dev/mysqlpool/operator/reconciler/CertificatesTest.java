package dev.mysqlpool.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mysqlpool.operator.api.BackendTlsSpec;
import dev.mysqlpool.operator.api.FrontendTlsSpec;
import dev.mysqlpool.operator.api.MySQLPoolSpec;
import dev.mysqlpool.operator.render.Admission;
import dev.mysqlpool.operator.testing.Fixtures;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import org.junit.jupiter.api.Test;

/** What CertificatesFound says about the objects a pool's TLS settings name. */
class CertificatesTest {
  static final String CERT = CertificatesInClusterTest.PEM_CERT;
  static final String KEY = CertificatesInClusterTest.PEM_KEY;

  private static MySQLPoolSpec spec(boolean frontend, String caSecret) {
    return Fixtures.pool(
            s -> {
              if (frontend) {
                s.tls = new FrontendTlsSpec();
                s.tls.secretName = "orders-pool-tls";
              }
              if (caSecret != null) {
                s.backend.tls = new BackendTlsSpec();
                s.backend.tls.mode = "verify-ca";
                s.backend.tls.ca = new BackendTlsSpec.CaSource();
                s.backend.tls.ca.secretName = caSecret;
              }
            })
        .getSpec()
        .fillOptionalSections();
  }

  @Test
  void aPoolThatNamesNoCertificateHasNoSuchCondition() {
    assertThat(Certificates.check(spec(false, null), null, null, null, "shop")).isNull();
  }

  @Test
  void aKeyThatIsNotPemIsCaughtBeforeTheProxyWouldRefuseToStart() {
    Secret s =
        new SecretBuilder()
            .addToStringData("tls.crt", CERT)
            .addToStringData("tls.key", "not a key")
            .build();
    Admission.Check c = Certificates.check(spec(true, null), s, null, null, "shop");
    assertThat(c.ok()).isFalse();
    assertThat(c.blocks()).isTrue();
    assertThat(c.reason()).isEqualTo("TLSNotPEM");
    assertThat(c.message()).contains("tls.key a PEM private key");
  }

  @Test
  void everyProblemIsNamedAtOnceTheFirstGivesTheReason() {
    Admission.Check c = Certificates.check(spec(true, "db-ca"), null, null, null, "shop");
    assertThat(c.reason()).isEqualTo("TLSSecretNotFound");
    assertThat(c.message())
        .contains("Secret \"orders-pool-tls\" (spec.tls.secretName) not found")
        .contains(
            "Secret \"db-ca\" (spec.backend.tls.ca.secretName) not found in namespace shop;"
                + " e.g. kubectl create secret generic db-ca --from-file=ca.crt=ca.pem");
  }

  @Test
  void aBundleIsFoundInBinaryDataOrData() {
    var spec = spec(false, null);
    spec.backend.tls = new BackendTlsSpec();
    spec.backend.tls.mode = "verify-ca";
    spec.backend.tls.ca = new BackendTlsSpec.CaSource();
    spec.backend.tls.ca.configMapName = "rds-ca";
    var binary =
        new ConfigMapBuilder()
            .addToBinaryData("ca.crt", CertificatesInClusterTest.b64(CERT))
            .build();
    assertThat(Certificates.check(spec, null, null, binary, "shop").ok()).isTrue();
    var notPem = new ConfigMapBuilder().addToData("ca.crt", "hello").build();
    assertThat(Certificates.check(spec, null, null, notPem, "shop").reason()).isEqualTo("CANotPEM");
  }
}
