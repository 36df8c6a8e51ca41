package dev.mysqlpool.operator.reconciler;

import dev.mysqlpool.operator.api.BackendTlsSpec;
import dev.mysqlpool.operator.api.FrontendTlsSpec;
import dev.mysqlpool.operator.api.MySQLPoolSpec;
import dev.mysqlpool.operator.render.Admission;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Secret;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Checks the Secret of spec.tls and the CA bundle of spec.backend.tls before a pod mounts them: a
 * pod whose projected volume names a missing Secret or key never starts, and a proxy given a file
 * that is not PEM refuses to start. Either is said here, naming the object, the key and the fix;
 * the running proxies keep their files until it is fixed.
 */
final class Certificates {
  private static final String CERT_MARK = "-----BEGIN CERTIFICATE-----";
  private static final String KEY_MARK = "PRIVATE KEY-----";

  private Certificates() {}

  /**
   * The CertificatesFound check, or null when the spec names no certificate source.
   *
   * @param tlsSecret the Secret named by spec.tls.secretName, null when absent
   * @param caSecret the Secret named by spec.backend.tls.ca.secretName, null when absent
   * @param caConfigMap the ConfigMap named by spec.backend.tls.ca.configMapName, null when absent
   */
  static Admission.Check check(
      MySQLPoolSpec spec,
      Secret tlsSecret,
      Secret caSecret,
      ConfigMap caConfigMap,
      String namespace) {
    String certSecret = spec.tls == null ? null : spec.tls.secretName;
    BackendTlsSpec.CaSource ca = spec.backend.tls == null ? null : spec.backend.tls.ca;
    if (certSecret == null && ca == null) {
      return null;
    }
    List<String> reasons = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    if (certSecret != null) {
      serverCertificate(certSecret, tlsSecret, namespace, reasons, problems);
    }
    if (ca != null) {
      caBundle(ca, caSecret, caConfigMap, namespace, reasons, problems);
    }
    if (problems.isEmpty()) {
      List<String> found = new ArrayList<>();
      if (certSecret != null) {
        found.add("Secret \"" + certSecret + "\" holds tls.crt and tls.key");
      }
      if (ca != null) {
        found.add(source(ca) + " holds the CA bundle " + ca.key);
      }
      return new Admission.Check(
          Admission.CERTIFICATES_FOUND, true, "Found", String.join("; ", found), false);
    }
    return new Admission.Check(
        Admission.CERTIFICATES_FOUND, false, reasons.get(0), String.join("; ", problems), true);
  }

  private static void serverCertificate(
      String name, Secret secret, String namespace, List<String> reasons, List<String> problems) {
    String fix =
        "; point a cert-manager Certificate's spec.secretName at it, or kubectl create secret tls "
            + name
            + " --cert=server.crt --key=server.key";
    if (secret == null) {
      reasons.add("TLSSecretNotFound");
      problems.add(
          "Secret \""
              + name
              + "\" (spec.tls.secretName) not found in namespace "
              + namespace
              + fix);
      return;
    }
    Map<String, String> data = decoded(secret.getData(), secret.getStringData());
    List<String> missing = new ArrayList<>();
    for (String key : List.of(FrontendTlsSpec.CERT_KEY, FrontendTlsSpec.KEY_KEY)) {
      if (data.getOrDefault(key, "").isBlank()) {
        missing.add(key);
      }
    }
    if (!missing.isEmpty()) {
      reasons.add("TLSKeyMissing");
      problems.add(
          "Secret \""
              + name
              + "\" (spec.tls.secretName) has no "
              + String.join(" and no ", missing)
              + "; it must be a kubernetes.io/tls Secret with the PEM certificate chain in tls.crt"
              + " and its private key in tls.key"
              + fix);
      return;
    }
    if (!data.get(FrontendTlsSpec.CERT_KEY).contains(CERT_MARK)
        || !data.get(FrontendTlsSpec.KEY_KEY).contains(KEY_MARK)) {
      reasons.add("TLSNotPEM");
      problems.add(
          "Secret \""
              + name
              + "\" (spec.tls.secretName): tls.crt must hold PEM certificates ("
              + CERT_MARK
              + ") and tls.key a PEM private key (-----BEGIN ... PRIVATE KEY-----)"
              + fix);
    }
  }

  private static void caBundle(
      BackendTlsSpec.CaSource ca,
      Secret secret,
      ConfigMap configMap,
      String namespace,
      List<String> reasons,
      List<String> problems) {
    boolean inSecret = ca.secretName != null;
    String field =
        inSecret ? "spec.backend.tls.ca.secretName" : "spec.backend.tls.ca.configMapName";
    String fix =
        inSecret
            ? "; e.g. kubectl create secret generic "
                + ca.secretName
                + " --from-file="
                + ca.key
                + "=ca.pem"
            : "; e.g. kubectl create configmap "
                + ca.configMapName
                + " --from-file="
                + ca.key
                + "=global-bundle.pem (the RDS bundle)";
    if (inSecret ? secret == null : configMap == null) {
      reasons.add(inSecret ? "CASecretNotFound" : "CAConfigMapNotFound");
      problems.add(source(ca) + " (" + field + ") not found in namespace " + namespace + fix);
      return;
    }
    Map<String, String> data =
        inSecret ? decoded(secret.getData(), secret.getStringData()) : configMapData(configMap);
    String bundle = data.get(ca.key);
    if (bundle == null || bundle.isBlank()) {
      reasons.add("CAKeyMissing");
      problems.add(
          source(ca)
              + " ("
              + field
              + ") has no key "
              + ca.key
              + " (spec.backend.tls.ca.key); add the PEM CA bundle under it, or set"
              + " spec.backend.tls.ca.key to the key that holds it"
              + fix);
    } else if (!bundle.contains(CERT_MARK)) {
      reasons.add("CANotPEM");
      problems.add(
          source(ca)
              + " key "
              + ca.key
              + " holds no PEM certificate ("
              + CERT_MARK
              + "); put the CA bundle there in PEM form"
              + fix);
    }
  }

  private static String source(BackendTlsSpec.CaSource ca) {
    return ca.secretName != null
        ? "Secret \"" + ca.secretName + "\""
        : "ConfigMap \"" + ca.configMapName + "\"";
  }

  /** A Secret's values as text: data decoded, stringData (not yet merged by a mock) on top. */
  private static Map<String, String> decoded(
      Map<String, String> data, Map<String, String> strings) {
    Map<String, String> out = new java.util.HashMap<>();
    if (data != null) {
      data.forEach(
          (k, v) -> {
            try {
              out.put(k, new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
              out.put(k, "");
            }
          });
    }
    if (strings != null) {
      out.putAll(strings);
    }
    return out;
  }

  private static Map<String, String> configMapData(ConfigMap cm) {
    Map<String, String> out = new java.util.HashMap<>();
    if (cm.getBinaryData() != null) {
      out.putAll(decoded(cm.getBinaryData(), null));
    }
    if (cm.getData() != null) {
      out.putAll(cm.getData());
    }
    return out;
  }
}
