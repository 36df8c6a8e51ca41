package dev.mysqlpool.operator.render;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.mysqlpool.operator.api.MySQLPoolSpec;
import dev.mysqlpool.operator.common.Durations;
import dev.mysqlpool.operator.common.Names;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Renders the proxy's config file, the contract with proxy-runtime ({@code ConfigLoader} reads it).
 * Only values the operator decides or the user overrode are written; everything else keeps the
 * proxy's default. Passwords are never written: each user points at a file of the mounted Secret,
 * relative to the config file's folder.
 */
public final class ProxyConfigs {
  /** The backend's name in the proxy config. */
  public static final String BACKEND_NAME = "writer";

  private static final YAMLMapper YAML =
      new YAMLMapper(
          YAMLFactory.builder()
              .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
              .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
              .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
              .build());

  private ProxyConfigs() {}

  /** The config file's text. */
  public static String yaml(Plan plan) {
    try {
      return YAML.writeValueAsString(tree(plan));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(
          "while rendering the proxy config for mysqlpool/" + plan.name(), e);
    }
  }

  /**
   * A short hash of the config text; a pod template annotation, so a config change rolls the pods.
   */
  public static String hash(String configText) {
    try {
      byte[] d =
          MessageDigest.getInstance("SHA-256").digest(configText.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  static Map<String, Object> tree(Plan plan) {
    MySQLPoolSpec spec = plan.spec();
    Map<String, Object> root = new LinkedHashMap<>();
    // Ordered maps only: the text is hashed into the pod template, so it must not vary between JVMs
    // (Map.of does).
    root.put("listen", ordered("host", "0.0.0.0", "port", Names.MYSQL_PORT));
    root.put("admin", ordered("host", "0.0.0.0", "port", Names.ADMIN_PORT));

    Map<String, Object> backend = new LinkedHashMap<>();
    backend.put("name", BACKEND_NAME);
    backend.put("host", spec.backend.host);
    backend.put("port", spec.backend.port);
    root.put("backends", List.of(backend));

    List<Map<String, Object>> users = new ArrayList<>();
    for (MySQLPoolSpec.User u : spec.credentials.users) {
      Map<String, Object> user = new LinkedHashMap<>();
      user.put("name", u.name);
      user.put("passwordFile", Names.PASSWORD_DIR + "/" + u.name);
      if (u.backendUser != null) {
        user.put("backendUser", u.backendUser);
      }
      users.add(user);
    }
    root.put("users", users);

    MySQLPoolSpec.Pool p = spec.pool;
    Map<String, Object> pool = new LinkedHashMap<>();
    pool.put("mode", p.mode == null ? "session" : p.mode);
    pool.put("maxConnections", plan.sizing().perReplica());
    putIfSet(pool, "minIdle", p.minIdle);
    putIfSet(pool, "maxIdle", p.maxIdle);
    pool.put("idleTimeout", Durations.format(plan.timeouts().idleTimeout()));
    pool.put("maxLifetime", Durations.format(plan.timeouts().maxLifetime()));
    putDuration(pool, "connectTimeout", p.connectTimeout);
    putDuration(pool, "acquireTimeout", p.acquireTimeout);
    putDuration(pool, "validationInterval", p.validationInterval);
    putDuration(pool, "leakDetectionThreshold", p.leakDetectionThreshold);
    putIfSet(pool, "maxConcurrentConnects", p.maxConcurrentConnects);
    root.put("pool", pool);

    MySQLPoolSpec.Frontend f = spec.frontend;
    Map<String, Object> frontend = new LinkedHashMap<>();
    putIfSet(frontend, "maxClientConnections", f.maxClientConnections);
    frontend.put("clientIdleTimeout", Durations.format(plan.timeouts().clientIdleTimeout()));
    putDuration(frontend, "handshakeTimeout", f.handshakeTimeout);
    frontend.put("tcpKeepAliveIdle", Durations.format(plan.timeouts().tcpKeepAliveIdle()));
    root.put("frontend", frontend);

    Map<String, Object> shutdown = new LinkedHashMap<>();
    shutdown.put("drainTimeout", Durations.format(plan.timeouts().drainTimeout()));
    root.put("shutdown", shutdown);
    return root;
  }

  private static Map<String, Object> ordered(String k1, Object v1, String k2, Object v2) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put(k1, v1);
    m.put(k2, v2);
    return m;
  }

  private static void putIfSet(Map<String, Object> m, String key, Object value) {
    if (value != null) {
      m.put(key, value);
    }
  }

  private static void putDuration(Map<String, Object> m, String key, String value) {
    if (value != null) {
      m.put(key, Durations.format(Durations.parse(value)));
    }
  }
}
