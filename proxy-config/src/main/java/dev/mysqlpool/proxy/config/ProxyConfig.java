package dev.mysqlpool.proxy.config;

import java.time.Duration;
import java.util.List;

/**
 * The proxy's whole configuration, validated and immutable. Built only by {@link ConfigLoader}; the
 * operator renders the YAML this is read from, so the field names here are a contract (documented
 * in proxy-runtime/README.md).
 */
public record ProxyConfig(
    Listen listen,
    Admin admin,
    List<Backend> backends,
    List<User> users,
    Pool pool,
    Frontend frontend,
    Shutdown shutdown) {

  /** Where MySQL clients connect. */
  public record Listen(String host, int port) {}

  /** The HTTP port for /healthz, /readyz, /metrics and /stats. */
  public record Admin(String host, int port) {}

  /** A MySQL or MariaDB server the proxy pools connections to. */
  public record Backend(String name, String host, int port) {}

  /**
   * A MySQL account clients log in to the proxy with, and the account the proxy uses toward its
   * backend (the same one unless {@code backendUser} says otherwise).
   *
   * @param authPlugin the plugin this account logs in to the proxy with; null: {@code
   *     frontend.defaultAuthPlugin}
   */
  public record User(
      String name,
      String password,
      String backend,
      String backendUser,
      String backendPassword,
      AuthPlugin authPlugin) {

    /** An account that logs in with {@code frontend.defaultAuthPlugin}. */
    public User(
        String name, String password, String backend, String backendUser, String backendPassword) {
      this(name, password, backend, backendUser, backendPassword, null);
    }

    @Override
    public String toString() {
      return "User[name="
          + name
          + ", backend="
          + backend
          + ", backendUser="
          + backendUser
          + (authPlugin == null ? "" : ", authPlugin=" + authPlugin.pluginName())
          + ", password=****]";
    }
  }

  /** The authentication plugins a client can log in to the proxy with, by their MySQL names. */
  public enum AuthPlugin {
    /** SHA-1 challenge-response; what MariaDB accounts use by default. */
    MYSQL_NATIVE_PASSWORD("mysql_native_password"),
    /**
     * SHA-256 with a per-user cache of successful logins (MySQL 8.0+ default): a fast challenge
     * once the account is cached, else the password over TLS or RSA.
     */
    CACHING_SHA2_PASSWORD("caching_sha2_password");

    private final String pluginName;

    AuthPlugin(String pluginName) {
      this.pluginName = pluginName;
    }

    /** The name on the wire and in the config file. */
    public String pluginName() {
      return pluginName;
    }

    /** The plugin of this name, or null. */
    public static AuthPlugin named(String name) {
      for (AuthPlugin p : values()) {
        if (p.pluginName.equals(name)) {
          return p;
        }
      }
      return null;
    }
  }

  /** How a client's commands are mapped onto backend connections. */
  public enum PoolMode {
    /** A client holds one backend connection from its first command until it disconnects. */
    SESSION,
    /**
     * A client holds a backend connection only while a statement or transaction is in flight;
     * carried session state follows it to the next connection, state that cannot move pins it to
     * its connection.
     */
    TRANSACTION
  }

  /**
   * Limits and timers of each backend's pool; every limit holds per backend, per proxy process.
   *
   * @param maxLifetime null when not set: the pool then derives it from the server's {@code
   *     wait_timeout}
   * @param maxPreparedStatementsPerConnection transaction mode: server-side prepared statements
   *     each backend connection keeps (least recently used closed beyond); 0 turns sharing off, and
   *     COM_STMT_PREPARE pins its client as before
   */
  public record Pool(
      PoolMode mode,
      int maxConnections,
      int minIdle,
      int maxIdle,
      Duration idleTimeout,
      Duration maxLifetime,
      Duration connectTimeout,
      Duration acquireTimeout,
      Duration validationInterval,
      Duration leakDetectionThreshold,
      int maxConcurrentConnects,
      int maxPreparedStatementsPerConnection) {
    public static final int DEFAULT_MAX_PREPARED_STATEMENTS_PER_CONNECTION = 100;

    /** These limits, with the default bound of prepared statements per connection. */
    public Pool(
        PoolMode mode,
        int maxConnections,
        int minIdle,
        int maxIdle,
        Duration idleTimeout,
        Duration maxLifetime,
        Duration connectTimeout,
        Duration acquireTimeout,
        Duration validationInterval,
        Duration leakDetectionThreshold,
        int maxConcurrentConnects) {
      this(
          mode,
          maxConnections,
          minIdle,
          maxIdle,
          idleTimeout,
          maxLifetime,
          connectTimeout,
          acquireTimeout,
          validationInterval,
          leakDetectionThreshold,
          maxConcurrentConnects,
          DEFAULT_MAX_PREPARED_STATEMENTS_PER_CONNECTION);
    }
  }

  /**
   * Limits toward clients, their authentication and TLS.
   *
   * @param maxPendingLogins connections still logging in (greeting sent, not yet authenticated),
   *     across all clients
   * @param maxPendingLoginsPerAddress the same, per client IP address (IPv6: per /64 prefix)
   * @param defaultAuthPlugin the plugin the greeting offers, and users without their own {@code
   *     authPlugin} log in with
   */
  public record Frontend(
      int maxClientConnections,
      Duration clientIdleTimeout,
      Duration handshakeTimeout,
      Duration tcpKeepAliveIdle,
      int maxPendingLogins,
      int maxPendingLoginsPerAddress,
      AuthPlugin defaultAuthPlugin,
      Tls tls) {
    public static final int DEFAULT_MAX_PENDING_LOGINS = 1000;
    public static final int DEFAULT_MAX_PENDING_LOGINS_PER_ADDRESS = 100;
    public static final AuthPlugin DEFAULT_AUTH_PLUGIN = AuthPlugin.MYSQL_NATIVE_PASSWORD;

    /** These limits, with the defaults for pending logins, authentication and TLS. */
    public Frontend(
        int maxClientConnections,
        Duration clientIdleTimeout,
        Duration handshakeTimeout,
        Duration tcpKeepAliveIdle) {
      this(
          maxClientConnections,
          clientIdleTimeout,
          handshakeTimeout,
          tcpKeepAliveIdle,
          DEFAULT_MAX_PENDING_LOGINS,
          DEFAULT_MAX_PENDING_LOGINS_PER_ADDRESS,
          DEFAULT_AUTH_PLUGIN,
          Tls.DEFAULT);
    }
  }

  /** Whether clients may, must or cannot use TLS. */
  public enum TlsMode {
    /** No TLS: the greeting does not offer it. */
    DISABLED,
    /** Offered; clients that do not ask for it log in in clear text. */
    OPTIONAL,
    /** Offered; a client that does not ask for it gets error 3159, as from a MySQL server. */
    REQUIRED
  }

  /**
   * TLS toward clients.
   *
   * @param certFile PEM certificate chain, leaf first; null: a self-signed certificate made at
   *     start
   * @param keyFile PEM private key of the leaf (PKCS#8, PKCS#1 or SEC1); null with certFile
   * @param minVersion the oldest protocol accepted, {@code TLSv1.2} or {@code TLSv1.3}
   * @param reloadInterval how often the files are checked for a new certificate (0: never)
   */
  public record Tls(
      TlsMode mode, String certFile, String keyFile, String minVersion, Duration reloadInterval) {
    public static final String DEFAULT_MIN_VERSION = "TLSv1.2";
    public static final Duration DEFAULT_RELOAD_INTERVAL = Duration.ofSeconds(10);

    /** Offered to clients that ask, with a self-signed certificate. */
    public static final Tls DEFAULT =
        new Tls(TlsMode.OPTIONAL, null, null, DEFAULT_MIN_VERSION, DEFAULT_RELOAD_INTERVAL);

    /** Whether the proxy makes its own certificate (no files configured). */
    public boolean selfSigned() {
      return certFile == null;
    }
  }

  /** What SIGTERM does. */
  public record Shutdown(Duration drainTimeout) {}

  /**
   * This configuration with other users; used to tell a users-only change from one that needs a
   * restart.
   */
  public ProxyConfig withUsers(List<User> otherUsers) {
    return new ProxyConfig(
        listen, admin, backends, List.copyOf(otherUsers), pool, frontend, shutdown);
  }

  /** The backend a user's sessions are served by. */
  public Backend backendFor(User user) {
    for (Backend b : backends) {
      if (b.name().equals(user.backend())) {
        return b;
      }
    }
    throw new IllegalStateException("validated config names an unknown backend: " + user.backend());
  }

  /** The plugin this user logs in to the proxy with. */
  public AuthPlugin authPlugin(User user) {
    return user.authPlugin() != null ? user.authPlugin() : frontend.defaultAuthPlugin();
  }

  /** The user with this name, or null. */
  public User user(String name) {
    for (User u : users) {
      if (u.name().equals(name)) {
        return u;
      }
    }
    return null;
  }
}
