package dev.mysqlpool.proxy.config;

import dev.mysqlpool.proxy.config.ConfigLoader.Obj;
import dev.mysqlpool.proxy.config.ProxyConfig.AuthPlugin;
import dev.mysqlpool.proxy.config.ProxyConfig.Frontend;
import dev.mysqlpool.proxy.config.ProxyConfig.Tls;
import dev.mysqlpool.proxy.config.ProxyConfig.TlsMode;
import java.time.Duration;
import java.util.Set;

/**
 * The {@code frontend} section and the client-facing security fields of {@code users}: limits,
 * logins in progress, authentication plugins and TLS. Part of {@link ConfigLoader}, which collects
 * the problems.
 */
final class FrontendSecurity {
  private final ConfigLoader loader;

  FrontendSecurity(ConfigLoader loader) {
    this.loader = loader;
  }

  Frontend frontend(Obj top) {
    Obj f =
        top.child(
            "frontend",
            Set.of(
                "maxClientConnections",
                "clientIdleTimeout",
                "handshakeTimeout",
                "tcpKeepAliveIdle",
                "maxPendingLogins",
                "maxPendingLoginsPerAddress",
                "defaultAuthPlugin",
                "tls"));
    int maxPending =
        f.integer("maxPendingLogins", Frontend.DEFAULT_MAX_PENDING_LOGINS, 1, 1_000_000);
    int maxPendingPerAddress =
        f.integer(
            "maxPendingLoginsPerAddress",
            Math.min(maxPending, Frontend.DEFAULT_MAX_PENDING_LOGINS_PER_ADDRESS),
            1,
            1_000_000);
    if (maxPendingPerAddress > maxPending) {
      loader.problem(
          f.path("maxPendingLoginsPerAddress")
              + ": "
              + maxPendingPerAddress
              + " is above frontend.maxPendingLogins ("
              + maxPending
              + "); lower it or raise maxPendingLogins");
    }
    return new Frontend(
        f.integer("maxClientConnections", 10_000, 1, Integer.MAX_VALUE),
        f.duration("clientIdleTimeout", Duration.ofHours(8), true),
        f.duration("handshakeTimeout", Duration.ofSeconds(10), false),
        f.duration("tcpKeepAliveIdle", Duration.ofSeconds(60), true),
        maxPending,
        maxPendingPerAddress,
        authPlugin(f, "defaultAuthPlugin", Frontend.DEFAULT_AUTH_PLUGIN),
        readTls(
            f.child("tls", Set.of("mode", "certFile", "keyFile", "minVersion", "reloadInterval"))));
  }

  private Tls readTls(Obj t) {
    String modeText = t.string("mode", "optional");
    TlsMode mode = TlsMode.OPTIONAL;
    switch (modeText) {
      case "disabled" -> mode = TlsMode.DISABLED;
      case "optional" -> mode = TlsMode.OPTIONAL;
      case "required" -> mode = TlsMode.REQUIRED;
      default ->
          loader.problem(
              t.path("mode")
                  + ": '"
                  + modeText
                  + "' is not a TLS mode; use disabled, optional or required");
    }
    String certFile = loader.readableFile(t, "certFile");
    String keyFile = loader.readableFile(t, "keyFile");
    if (mode == TlsMode.DISABLED && (t.has("certFile") || t.has("keyFile"))) {
      loader.problem(
          t.path(t.has("certFile") ? "certFile" : "keyFile")
              + ": set while frontend.tls.mode is disabled; remove it, or set mode to optional or"
              + " required");
    } else if (t.has("certFile") != t.has("keyFile")) {
      String missing = t.has("certFile") ? "keyFile" : "certFile";
      loader.problem(
          t.path(missing)
              + ": required with "
              + (t.has("certFile") ? "certFile" : "keyFile")
              + "; point it at the "
              + (missing.equals("keyFile")
                  ? "PEM private key (tls.key of a kubernetes.io/tls Secret)"
                  : "PEM certificate chain (tls.crt of a kubernetes.io/tls Secret)")
              + ", or leave both out for a self-signed certificate");
    }
    String minVersion = t.string("minVersion", Tls.DEFAULT_MIN_VERSION);
    if (!minVersion.equals("TLSv1.2") && !minVersion.equals("TLSv1.3")) {
      loader.problem(
          t.path("minVersion") + ": '" + minVersion + "' is not supported; use TLSv1.2 or TLSv1.3");
    }
    return new Tls(
        mode,
        certFile,
        keyFile,
        minVersion,
        t.duration("reloadInterval", Tls.DEFAULT_RELOAD_INTERVAL, true));
  }

  AuthPlugin authPlugin(Obj o, String field, AuthPlugin def) {
    String name = o.string(field, null);
    if (name == null) {
      return def;
    }
    AuthPlugin p = AuthPlugin.named(name);
    if (p == null) {
      loader.problem(
          o.path(field)
              + ": '"
              + name
              + "' is not supported; use mysql_native_password or caching_sha2_password");
    }
    return p == null ? def : p;
  }
}
