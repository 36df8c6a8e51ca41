package dev.mysqlpool.proxy.config;

import dev.mysqlpool.proxy.config.ConfigLoader.Obj;
import dev.mysqlpool.proxy.config.ProxyConfig.Backend;
import dev.mysqlpool.proxy.config.ProxyConfig.BackendRole;
import dev.mysqlpool.proxy.config.ProxyConfig.BackendTls;
import dev.mysqlpool.proxy.config.ProxyConfig.BackendTlsMode;
import dev.mysqlpool.proxy.config.ProxyConfig.Tls;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The {@code backends} section: each server's address, role and read weight, and how the proxy
 * secures its own logins to it (TLS mode and CA, a pinned RSA key). Part of {@link ConfigLoader},
 * which collects the problems.
 */
final class BackendSettings {
  private static final Pattern NAME = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  private static final String MODES = "disabled, preferred, required, verify-ca or verify-identity";

  private final ConfigLoader loader;

  BackendSettings(ConfigLoader loader) {
    this.loader = loader;
  }

  List<Backend> backends(Obj top) {
    List<Backend> backends = new ArrayList<>();
    List<Obj> items =
        top.list(
            "backends",
            Set.of(
                "name",
                "host",
                "port",
                "role",
                "tls",
                "serverPublicKeyFile",
                "allowPublicKeyRetrieval",
                "weight"));
    if (items.isEmpty() && !top.has("backends")) {
      loader.problem(
          "backends: required; list at least one server, e.g. backends: [{name: primary, host: db, port: 3306}]");
    } else if (items.isEmpty()) {
      loader.problem("backends: empty; list at least one server with name, host and port");
    }
    Set<String> names = new HashSet<>();
    for (Obj b : items) {
      String name = b.requiredString("name");
      if (name != null) {
        if (!NAME.matcher(name).matches()) {
          loader.problem(
              b.path("name")
                  + ": '"
                  + name
                  + "' is not a valid name; use lower-case letters, digits and '-'");
        } else if (!names.add(name)) {
          loader.problem(
              b.path("name") + ": '" + name + "' is used twice; backend names must be unique");
        }
      }
      String host = b.requiredString("host");
      int port = b.port("port", 3306);
      BackendTls tls = tls(b.child("tls", Set.of("mode", "caFile", "minVersion")));
      String publicKey = loader.readableFile(b, "serverPublicKeyFile");
      boolean retrieval = b.bool("allowPublicKeyRetrieval", false);
      if (tls.mode().requiresTls() && (publicKey != null || retrieval)) {
        loader.problem(
            b.path(publicKey != null ? "serverPublicKeyFile" : "allowPublicKeyRetrieval")
                + ": has no use with tls.mode "
                + tls.mode().configName()
                + " (the password goes over TLS); remove it");
      }
      BackendRole role = FailoverFields.role(loader, b);
      int weight = b.integer("weight", Backend.DEFAULT_WEIGHT, 1, Backend.MAX_WEIGHT);
      if (b.has("weight") && role != BackendRole.READER) {
        loader.problem(
            b.path("weight")
                + ": weight applies to readers (it is their share of the reads); set role: reader"
                + " or remove weight");
        weight = Backend.DEFAULT_WEIGHT;
      }
      backends.add(new Backend(name, host, port, role, tls, publicKey, retrieval, weight));
    }
    return backends;
  }

  private BackendTls tls(Obj t) {
    String modeText = t.string("mode", BackendTls.DEFAULT.mode().configName());
    BackendTlsMode mode = BackendTlsMode.named(modeText);
    if (mode == null) {
      loader.problem(t.path("mode") + ": '" + modeText + "' is not a TLS mode; use " + MODES);
      mode = BackendTls.DEFAULT.mode();
    }
    String caFile = loader.readableFile(t, "caFile");
    if (caFile != null && !mode.verifiesCertificate()) {
      loader.problem(
          t.path("caFile")
              + ": not used with mode "
              + mode.configName()
              + "; set mode to verify-ca or verify-identity to check the server's certificate"
              + " against it, or remove caFile");
    }
    String minVersion = t.string("minVersion", Tls.DEFAULT_MIN_VERSION);
    if (!minVersion.equals("TLSv1.2") && !minVersion.equals("TLSv1.3")) {
      loader.problem(
          t.path("minVersion") + ": '" + minVersion + "' is not supported; use TLSv1.2 or TLSv1.3");
    }
    return new BackendTls(mode, caFile, minVersion);
  }
}
