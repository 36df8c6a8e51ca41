package dev.mysqlpool.operator.api;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.SchemaFrom;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/** {@code spec.backend.tls}: how the proxies secure their own connections to the writer. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription(
    "TLS from the proxies to the writer, in MySQL's ssl-mode terms. Left out: preferred (TLS when the server offers it, no certificate check).")
@ValidationRule(
    value = "!has(self.ca) || self.mode == 'verify-ca' || self.mode == 'verify-identity'",
    message = "ca is used only with mode verify-ca or verify-identity")
@ValidationRule(
    value = "!(self.mode == 'verify-ca' || self.mode == 'verify-identity') || has(self.ca)",
    message = "verify-ca and verify-identity need ca, the bundle to verify the server against")
public class BackendTlsSpec {
  /** Where the CA file appears, relative to the config file's folder. */
  public static final String DIR = "backend-ca";

  /** The key read when {@code ca.key} is left out: cert-manager's and trust-manager's name. */
  public static final String DEFAULT_CA_KEY = "ca.crt";

  @Default("preferred")
  @SchemaFrom(type = SchemaEnums.BackendTlsMode.class)
  @JsonPropertyDescription(
      "disabled: plain TCP. preferred: TLS when the server offers it, certificate not checked. required: TLS or no connection, certificate not checked. verify-ca: the server's certificate must chain to ca. verify-identity: as verify-ca, and it must name spec.backend.host. Use required or stricter for servers with require_secure_transport=ON.")
  public String mode = "preferred";

  @JsonPropertyDescription(
      "The CA bundle the server's certificate must chain to (verify-ca and verify-identity only, where it is required), e.g. the RDS bundle in a ConfigMap. Mounted as a file.")
  public CaSource ca;

  /** A CA bundle in a Secret or a ConfigMap of the pool's namespace. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @JsonClassDescription("A PEM CA bundle in a Secret or a ConfigMap of the pool's namespace.")
  @ValidationRule(
      value = "has(self.secretName) != has(self.configMapName)",
      message = "set secretName or configMapName, exactly one")
  public static class CaSource {
    @Size(min = 1, max = 253)
    @Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    @JsonPropertyDescription(
        "A Secret holding the bundle, e.g. the one a cert-manager CA issuer writes (key ca.crt).")
    public String secretName;

    @Size(min = 1, max = 253)
    @Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    @JsonPropertyDescription(
        "A ConfigMap holding the bundle, e.g. kubectl create configmap rds-ca --from-file=ca.crt=global-bundle.pem, or a trust-manager Bundle's target.")
    public String configMapName;

    @Default(DEFAULT_CA_KEY)
    @Size(min = 1, max = 253)
    @Pattern("^[-._a-zA-Z0-9]+$")
    @JsonPropertyDescription("The key that holds the PEM bundle. Default: ca.crt.")
    public String key = DEFAULT_CA_KEY;
  }
}
