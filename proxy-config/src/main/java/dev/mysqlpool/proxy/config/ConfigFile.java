package dev.mysqlpool.proxy.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.mysqlpool.proxy.config.ProxyConfig.PoolMode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The config file as it is written, before the proxy reads it: the same sections and field names as
 * {@link ConfigLoader} reads, with passwords as file paths (a mounted Secret) rather than values. A
 * field left null is not written, so the proxy's own default applies.
 *
 * <p>Whoever renders a config builds one of these, writes it with {@link #toYaml()} and runs {@link
 * #check()}, which is the proxy's own validation of exactly that text: a file that passes starts a
 * proxy, one that does not is refused before anyone writes it to a ConfigMap. Not thread-safe;
 * build it on one thread.
 */
public final class ConfigFile {
  private static final YAMLMapper YAML =
      new YAMLMapper(
          YAMLFactory.builder()
              .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
              .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
              .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
              .build());

  /** Where MySQL clients connect; null fields keep the proxy's defaults. */
  public final Endpoint listen = new Endpoint();

  /** The admin HTTP endpoint; null fields keep the proxy's defaults. */
  public final Endpoint admin = new Endpoint();

  /** The servers the proxy pools connections to, at least one. */
  public final List<Backend> backends = new ArrayList<>();

  /** The accounts clients log in with, at least one. */
  public final List<User> users = new ArrayList<>();

  /** The {@code pool} section. */
  public final Pool pool = new Pool();

  /** The {@code frontend} section. */
  public final Frontend frontend = new Frontend();

  /** The {@code shutdown} section. */
  public final Shutdown shutdown = new Shutdown();

  /** The {@code routing} section (read/write split). */
  public final Routing routing = new Routing();

  /** A host and port; either may be left null. */
  public static final class Endpoint {
    public String host;
    public Integer port;
  }

  /**
   * A backend server.
   *
   * @param name referenced by users; lower-case letters, digits and '-'
   * @param host host name or IP address
   * @param port MySQL port
   * @param role {@code writer} (the pool checks the server is writable and follows the name through
   *     a failover), {@code reader} (a replica for {@code routing.readWriteSplit}) or {@code any};
   *     null keeps the proxy's default ({@code any})
   * @param tls the proxy's TLS toward it; null keeps the proxy's default ({@code preferred})
   * @param serverPublicKeyFile a pinned PEM RSA key of the server, or null
   * @param weight a reader's share of the reads relative to the other readers; null keeps the
   *     proxy's default (1); only for {@code role: reader}
   */
  public record Backend(
      String name,
      String host,
      int port,
      String role,
      BackendTls tls,
      String serverPublicKeyFile,
      Integer weight) {

    /** A backend without a read weight. */
    public Backend(
        String name,
        String host,
        int port,
        String role,
        BackendTls tls,
        String serverPublicKeyFile) {
      this(name, host, port, role, tls, serverPublicKeyFile, null);
    }

    /** A backend with the proxy's default role and TLS and no pinned key. */
    public Backend(String name, String host, int port) {
      this(name, host, port, null, null, null);
    }

    /** A backend with the proxy's default role. */
    public Backend(String name, String host, int port, BackendTls tls, String serverPublicKeyFile) {
      this(name, host, port, null, tls, serverPublicKeyFile);
    }
  }

  /**
   * The {@code tls} of a backend.
   *
   * @param mode one of MySQL's ssl-mode names: disabled, preferred, required, verify-ca,
   *     verify-identity
   * @param caFile a PEM CA bundle file, or null
   */
  public record BackendTls(String mode, String caFile) {}

  /**
   * The {@code frontend.tls} section.
   *
   * @param mode disabled, optional or required
   * @param certFile PEM certificate chain (tls.crt of a kubernetes.io/tls Secret), or null for a
   *     self-signed certificate
   * @param keyFile PEM private key (tls.key), null exactly when certFile is
   */
  public record FrontendTls(String mode, String certFile, String keyFile) {}

  /**
   * A user whose password is read from a file.
   *
   * @param name the user name clients log in with
   * @param passwordFile the file holding the password, relative to the config file's folder
   * @param backendUser the account used toward the backend, or null for {@code name}
   */
  public record User(String name, String passwordFile, String backendUser) {}

  /** The {@code pool} section; null fields keep the proxy's defaults. */
  public static final class Pool {
    public PoolMode mode;
    public Integer maxConnections;
    public Integer minIdle;
    public Integer maxIdle;
    public Duration idleTimeout;
    public Duration maxLifetime;
    public Duration connectTimeout;
    public Duration acquireTimeout;
    public Duration validationInterval;
    public Duration leakDetectionThreshold;
    public Integer maxConcurrentConnects;
    public Duration tcpKeepAliveIdle;
    public Duration tcpKeepAliveInterval;
    public Integer tcpKeepAliveCount;
    public Duration switchoverTimeout;
    public Duration dnsTtl;
    public Integer maxPreparedStatementsPerConnection;
  }

  /** The {@code frontend} section; null fields keep the proxy's defaults. */
  public static final class Frontend {
    public Integer maxClientConnections;
    public Duration clientIdleTimeout;
    public Duration handshakeTimeout;
    public Duration tcpKeepAliveIdle;
    public Integer maxPendingLogins;
    public Integer maxPendingLoginsPerAddress;
    public FrontendTls tls;
  }

  /** The {@code shutdown} section; null fields keep the proxy's defaults. */
  public static final class Shutdown {
    public Duration drainTimeout;
    public Duration loadBalancerWait;
  }

  /**
   * The {@code routing} section; null fields keep the proxy's defaults, and a section with none set
   * is not written.
   */
  public static final class Routing {
    public Boolean readWriteSplit;
    public Duration maxReplicationLag;

    /** {@code none} or {@code session}. */
    public String readYourWrites;

    public Duration readYourWritesWait;

    public final List<Rule> rules = new ArrayList<>();
  }

  /**
   * A routing rule.
   *
   * @param match a Java regular expression searched in the statement text
   * @param to {@code writer} or {@code reader}
   */
  public record Rule(String match, String to) {}

  /**
   * The file's text. Deterministic: the same fields give the same bytes on every JVM, so a hash of
   * it can decide whether pods restart.
   */
  public String toYaml() {
    try {
      return YAML.writeValueAsString(tree());
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write the proxy config as YAML", e);
    }
  }

  /**
   * The {@code pool} fields a running proxy applies when its config file changes, without a
   * restart: the pool grows or shrinks to a new {@code maxConnections} (idle connections retire
   * first), and the idle limits and timers apply to the next connection they touch. {@code users}
   * (names and passwords) reload too. Every other field (listen and admin addresses, backends, the
   * pool mode, connect settings, frontend and shutdown) is read once at startup.
   */
  public static final List<String> RELOADABLE_POOL_FIELDS =
      List.of(
          "maxConnections",
          "minIdle",
          "maxIdle",
          "acquireTimeout",
          "idleTimeout",
          "maxLifetime",
          "validationInterval");

  /**
   * The file's text without what a running proxy reloads ({@link #RELOADABLE_POOL_FIELDS} and
   * {@code users}): when this text is unchanged, a new config file needs no restart. A renderer
   * hashes it into the pod template, so only a change the proxy cannot reload rolls the pods.
   */
  public String restartRelevantYaml() {
    Map<String, Object> root = tree();
    root.remove("users");
    @SuppressWarnings("unchecked")
    Map<String, Object> p = (Map<String, Object>) root.get("pool");
    if (p != null) {
      RELOADABLE_POOL_FIELDS.forEach(p::remove);
    }
    try {
      return YAML.writeValueAsString(root);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write the proxy config as YAML", e);
    }
  }

  /**
   * Runs the proxy's own validation ({@link ConfigLoader#check}) on {@link #toYaml()}'s text.
   *
   * @return the configuration the proxy would run with, defaults filled in (passwords null: the
   *     files are not read)
   * @throws ConfigException naming every field the proxy would refuse, and the fix
   */
  public ProxyConfig check() {
    return ConfigLoader.check(toYaml());
  }

  /** The sections in the order a reader expects them; ordered maps only (Map.of is not). */
  private Map<String, Object> tree() {
    Map<String, Object> root = new LinkedHashMap<>();
    putSection(root, "listen", endpoint(listen));
    putSection(root, "admin", endpoint(admin));
    List<Map<String, Object>> b = new ArrayList<>();
    for (Backend backend : backends) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", backend.name());
      m.put("host", backend.host());
      m.put("port", backend.port());
      put(m, "role", backend.role());
      if (backend.tls() != null) {
        Map<String, Object> t = new LinkedHashMap<>();
        put(t, "mode", backend.tls().mode());
        put(t, "caFile", backend.tls().caFile());
        m.put("tls", t);
      }
      put(m, "serverPublicKeyFile", backend.serverPublicKeyFile());
      put(m, "weight", backend.weight());
      b.add(m);
    }
    root.put("backends", b);
    List<Map<String, Object>> u = new ArrayList<>();
    for (User user : users) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", user.name());
      m.put("passwordFile", user.passwordFile());
      put(m, "backendUser", user.backendUser());
      u.add(m);
    }
    root.put("users", u);

    Map<String, Object> p = new LinkedHashMap<>();
    put(p, "mode", pool.mode == null ? null : pool.mode.name().toLowerCase(Locale.ROOT));
    put(p, "maxConnections", pool.maxConnections);
    put(p, "minIdle", pool.minIdle);
    put(p, "maxIdle", pool.maxIdle);
    put(p, "idleTimeout", pool.idleTimeout);
    put(p, "maxLifetime", pool.maxLifetime);
    put(p, "connectTimeout", pool.connectTimeout);
    put(p, "acquireTimeout", pool.acquireTimeout);
    put(p, "validationInterval", pool.validationInterval);
    put(p, "leakDetectionThreshold", pool.leakDetectionThreshold);
    put(p, "maxConcurrentConnects", pool.maxConcurrentConnects);
    put(p, "tcpKeepAliveIdle", pool.tcpKeepAliveIdle);
    put(p, "tcpKeepAliveInterval", pool.tcpKeepAliveInterval);
    put(p, "tcpKeepAliveCount", pool.tcpKeepAliveCount);
    put(p, "switchoverTimeout", pool.switchoverTimeout);
    put(p, "dnsTtl", pool.dnsTtl);
    put(p, "maxPreparedStatementsPerConnection", pool.maxPreparedStatementsPerConnection);
    putSection(root, "pool", p);

    Map<String, Object> f = new LinkedHashMap<>();
    put(f, "maxClientConnections", frontend.maxClientConnections);
    put(f, "clientIdleTimeout", frontend.clientIdleTimeout);
    put(f, "handshakeTimeout", frontend.handshakeTimeout);
    put(f, "tcpKeepAliveIdle", frontend.tcpKeepAliveIdle);
    put(f, "maxPendingLogins", frontend.maxPendingLogins);
    put(f, "maxPendingLoginsPerAddress", frontend.maxPendingLoginsPerAddress);
    if (frontend.tls != null) {
      Map<String, Object> t = new LinkedHashMap<>();
      put(t, "mode", frontend.tls.mode());
      put(t, "certFile", frontend.tls.certFile());
      put(t, "keyFile", frontend.tls.keyFile());
      f.put("tls", t);
    }
    putSection(root, "frontend", f);

    Map<String, Object> s = new LinkedHashMap<>();
    put(s, "drainTimeout", shutdown.drainTimeout);
    put(s, "loadBalancerWait", shutdown.loadBalancerWait);
    putSection(root, "shutdown", s);

    Map<String, Object> r = new LinkedHashMap<>();
    put(r, "readWriteSplit", routing.readWriteSplit);
    put(r, "maxReplicationLag", routing.maxReplicationLag);
    put(r, "readYourWrites", routing.readYourWrites);
    put(r, "readYourWritesWait", routing.readYourWritesWait);
    if (!routing.rules.isEmpty()) {
      List<Map<String, Object>> rules = new ArrayList<>();
      for (Rule rule : routing.rules) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("match", rule.match());
        m.put("to", rule.to());
        rules.add(m);
      }
      r.put("rules", rules);
    }
    putSection(root, "routing", r);
    return root;
  }

  private static Map<String, Object> endpoint(Endpoint e) {
    Map<String, Object> m = new LinkedHashMap<>();
    put(m, "host", e.host);
    put(m, "port", e.port);
    return m;
  }

  private static void putSection(Map<String, Object> root, String key, Map<String, Object> m) {
    if (!m.isEmpty()) {
      root.put(key, m);
    }
  }

  private static void put(Map<String, Object> m, String key, Object value) {
    if (value instanceof Duration d) {
      m.put(key, Durations.format(d));
    } else if (value != null) {
      m.put(key, value);
    }
  }
}
