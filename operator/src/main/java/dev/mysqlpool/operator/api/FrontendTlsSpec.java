package dev.mysqlpool.operator.api;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.SchemaFrom;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * {@code spec.tls}: TLS between clients and the proxies. Named like cert-manager's {@code
 * Certificate.spec.secretName} and an Ingress's {@code tls[].secretName}, so the Secret a
 * Certificate writes is named here as it is.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription(
    "TLS between clients and the proxies. Left out: mode optional with a self-signed certificate.")
@ValidationRule(
    value = "!(has(self.secretName) && self.mode == 'disabled')",
    message =
        "secretName is not used with mode disabled; remove it or set mode optional or required")
public class FrontendTlsSpec {
  /** Where the Secret's files appear, relative to the config file's folder. */
  public static final String DIR = "tls";

  /** The kubernetes.io/tls Secret keys. */
  public static final String CERT_KEY = "tls.crt";

  public static final String KEY_KEY = "tls.key";

  @Default("optional")
  @SchemaFrom(type = SchemaEnums.FrontendTlsMode.class)
  @JsonPropertyDescription(
      "disabled: no TLS. optional: TLS for clients that ask for it (MariaDB 11.4+ clients do by default), clear text for the rest. required: a client without TLS gets MySQL's error 3159.")
  public String mode = "optional";

  @Size(min = 1, max = 253)
  @Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
  @JsonPropertyDescription(
      "A kubernetes.io/tls Secret in the pool's namespace (keys tls.crt and tls.key, PEM), e.g. the secretName of a cert-manager Certificate. Mounted as files; a renewed certificate reaches the proxies without a restart. Left out: a self-signed certificate generated at start.")
  public String secretName;
}
