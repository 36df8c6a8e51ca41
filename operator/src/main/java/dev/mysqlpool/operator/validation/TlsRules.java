package dev.mysqlpool.operator.validation;

import dev.mysqlpool.operator.api.BackendTlsSpec;
import dev.mysqlpool.operator.api.FrontendTlsSpec;
import dev.mysqlpool.operator.api.MySQLPoolSpec;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The TLS fields of a spec ({@code spec.tls}, {@code spec.backend.tls}) and the rule that an
 * internet-facing NLB is either TLS-only or limited to given addresses. Said here, naming the
 * field, before the proxy would refuse the rendered file with its own field names.
 */
final class TlsRules {
  private static final Set<String> FRONTEND_MODES = Set.of("disabled", "optional", "required");
  private static final Set<String> BACKEND_MODES =
      Set.of("disabled", "preferred", "required", "verify-ca", "verify-identity");
  private static final Pattern OBJECT_NAME = Pattern.compile("[a-z0-9]([-a-z0-9.]*[a-z0-9])?");
  private static final Pattern KEY = Pattern.compile("[-._a-zA-Z0-9]+");

  private TlsRules() {}

  static void check(MySQLPoolSpec spec, List<FieldError> errors) {
    frontend(spec.tls, errors);
    if (spec.backend != null) {
      backend(spec.backend.tls, errors);
    }
    internetFacing(spec, errors);
  }

  private static void frontend(FrontendTlsSpec tls, List<FieldError> errors) {
    if (tls == null) {
      return;
    }
    if (tls.mode == null || !FRONTEND_MODES.contains(tls.mode)) {
      errors.add(
          new FieldError(
              "spec.tls.mode",
              "'" + tls.mode + "' is not a TLS mode; use disabled, optional or required"));
    }
    if (tls.secretName != null) {
      objectName("spec.tls.secretName", tls.secretName, errors);
      if ("disabled".equals(tls.mode)) {
        errors.add(
            new FieldError(
                "spec.tls.secretName",
                "is not used with spec.tls.mode disabled; remove it, or set mode to optional or"
                    + " required"));
      }
    }
  }

  private static void backend(BackendTlsSpec tls, List<FieldError> errors) {
    if (tls == null) {
      return;
    }
    if (tls.mode == null || !BACKEND_MODES.contains(tls.mode)) {
      errors.add(
          new FieldError(
              "spec.backend.tls.mode",
              "'"
                  + tls.mode
                  + "' is not a TLS mode; use disabled, preferred, required, verify-ca or"
                  + " verify-identity (MySQL's ssl-mode names)"));
      return;
    }
    boolean verifies = tls.mode.equals("verify-ca") || tls.mode.equals("verify-identity");
    if (tls.ca != null && !verifies) {
      errors.add(
          new FieldError(
              "spec.backend.tls.ca",
              "is not used with spec.backend.tls.mode "
                  + tls.mode
                  + " (the proxy would refuse caFile); set mode to verify-ca or verify-identity"
                  + " to check the server's certificate against it, or remove ca"));
    }
    if (tls.ca == null && verifies) {
      errors.add(
          new FieldError(
              "spec.backend.tls.ca",
              "required with mode "
                  + tls.mode
                  + "; name the CA bundle the server's certificate chains to, e.g. ca:"
                  + " {configMapName: rds-ca} for the RDS bundle"));
    }
    if (tls.ca != null) {
      BackendTlsSpec.CaSource ca = tls.ca;
      if ((ca.secretName == null) == (ca.configMapName == null)) {
        errors.add(
            new FieldError(
                "spec.backend.tls.ca",
                "set exactly one of secretName and configMapName (where the CA bundle is)"));
      }
      if (ca.secretName != null) {
        objectName("spec.backend.tls.ca.secretName", ca.secretName, errors);
      }
      if (ca.configMapName != null) {
        objectName("spec.backend.tls.ca.configMapName", ca.configMapName, errors);
      }
      if (ca.key == null || ca.key.length() > 253 || !KEY.matcher(ca.key).matches()) {
        errors.add(
            new FieldError(
                "spec.backend.tls.ca.key",
                "'"
                    + ca.key
                    + "' is not a Secret or ConfigMap key; use letters, digits, '-', '_' and"
                    + " '.', e.g. ca.crt"));
      }
    }
  }

  /**
   * An internet-facing NLB without TLS or source ranges would carry queries and the password
   * challenge-response in clear text across the internet, to anyone.
   */
  private static void internetFacing(MySQLPoolSpec spec, List<FieldError> errors) {
    MySQLPoolSpec.Service s = spec.service;
    if (!"LoadBalancer".equals(s.type) || !"internet-facing".equals(s.scheme)) {
      return;
    }
    boolean tlsRequired = spec.tls != null && "required".equals(spec.tls.mode);
    if (!tlsRequired && s.sourceRanges.isEmpty()) {
      errors.add(
          new FieldError(
              "spec.service.scheme",
              "internet-facing with neither TLS required nor source ranges would let anyone on"
                  + " the internet reach the proxies, with queries and logins in clear text; set"
                  + " spec.tls.mode: required (and spec.tls.secretName to a certificate clients"
                  + " can verify), or list the clients' CIDRs in spec.service.sourceRanges"));
    }
  }

  private static void objectName(String path, String name, List<FieldError> errors) {
    if (name.length() > 253 || !OBJECT_NAME.matcher(name).matches()) {
      errors.add(
          new FieldError(
              path,
              "'"
                  + name
                  + "' is not a Kubernetes object name; use lower-case letters, digits, '-' and"
                  + " '.'"));
    }
  }
}
