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
    Shutdown shutdown,
    Routing routing,
    Stats stats) {

  /** This configuration with the default {@link Stats}. */
  public ProxyConfig(
      Listen listen,
      Admin admin,
      List<Backend> backends,
      List<User> users,
      Pool pool,
      Frontend frontend,
      Shutdown shutdown,
      Routing routing) {
    this(listen, admin, backends, users, pool, frontend, shutdown, routing, Stats.DEFAULT);
  }

  /** This configuration without a read/write split ({@link Routing#OFF}). */
  public ProxyConfig(
      Listen listen,
      Admin admin,
      List<Backend> backends,
      List<User> users,
      Pool pool,
      Frontend frontend,
      Shutdown shutdown) {
    this(listen, admin, backends, users, pool, frontend, shutdown, Routing.OFF);
  }

  /** Where MySQL clients connect. */
  public record Listen(String host, int port) {}

  /**
   * The HTTP port for /healthz, /readyz, /metrics and /stats.
   *
   * @param maxConnections admin connections kept open at most; a new one closes the least recently
   *     active, so a probe is always served
   * @param idleTimeout an admin connection with no request for this long is closed (0: never)
   */
  public record Admin(String host, int port, int maxConnections, Duration idleTimeout) {
    public static final int DEFAULT_MAX_CONNECTIONS = 100;
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(2);

    /** This address, with the default connection cap and idle timeout. */
    public Admin(String host, int port) {
      this(host, port, DEFAULT_MAX_CONNECTIONS, DEFAULT_IDLE_TIMEOUT);
    }
  }

  /**
   * A MySQL or MariaDB server the proxy pools connections to.
   *
   * @param host a name (resolved again for new connections every {@code pool.dnsTtl}) or an address
   * @param role {@link BackendRole#WRITER}: the pool checks that the server is writable and follows
   *     the writer through a switchover or failover; {@link BackendRole#READER}: a replica that
   *     serves reads when {@link Routing#readWriteSplit()} is on
   * @param tls how the proxy's own connections to this server use TLS
   * @param serverPublicKeyFile a PEM RSA public key of the server, pinned: {@code
   *     caching_sha2_password} full authentication over plain TCP encrypts the password with it;
   *     null: that path needs TLS (or {@code allowPublicKeyRetrieval})
   * @param allowPublicKeyRetrieval whether, over plain TCP with no pinned key, the proxy may ask
   *     the server for its key; off by default because anyone on the path can answer with their own
   * @param weight a reader's share of the reads relative to the other readers, 1 to 1000 ({@link
   *     #DEFAULT_WEIGHT} for every other role, where it means nothing)
   */
  public record Backend(
      String name,
      String host,
      int port,
      BackendRole role,
      BackendTls tls,
      String serverPublicKeyFile,
      boolean allowPublicKeyRetrieval,
      int weight) {
    public static final int DEFAULT_WEIGHT = 1;
    public static final int MAX_WEIGHT = 1000;

    /** A backend whose role the pool does not check, with the default TLS, no pinned key. */
    public Backend(String name, String host, int port) {
      this(name, host, port, BackendRole.ANY);
    }

    /** A backend with the default TLS mode ({@code preferred}), no pinned key. */
    public Backend(String name, String host, int port, BackendRole role) {
      this(name, host, port, role, BackendTls.DEFAULT, null, false);
    }

    /** A backend with the default weight. */
    public Backend(
        String name,
        String host,
        int port,
        BackendRole role,
        BackendTls tls,
        String serverPublicKeyFile,
        boolean allowPublicKeyRetrieval) {
      this(
          name,
          host,
          port,
          role,
          tls,
          serverPublicKeyFile,
          allowPublicKeyRetrieval,
          DEFAULT_WEIGHT);
    }
  }

  /**
   * How the proxy uses TLS toward a backend; the modes are MySQL's {@code ssl-mode} names.
   *
   * @param caFile PEM CA certificates that sign the server's certificate (e.g. the RDS bundle);
   *     null: the JVM's default trust store. Read only by the verifying modes.
   * @param minVersion the oldest protocol accepted, {@code TLSv1.2} or {@code TLSv1.3}
   */
  public record BackendTls(BackendTlsMode mode, String caFile, String minVersion) {
    /** TLS when the server offers it, no verification: MySQL's and PgBouncer's default. */
    public static final BackendTls DEFAULT =
        new BackendTls(BackendTlsMode.PREFERRED, null, Tls.DEFAULT_MIN_VERSION);
  }

  /** MySQL's {@code ssl-mode} values, as the proxy applies them to its backend connections. */
  public enum BackendTlsMode {
    /** Plain TCP even when the server offers TLS. */
    DISABLED("disabled"),
    /** TLS when the server offers it, else plain TCP; the certificate is not checked. */
    PREFERRED("preferred"),
    /** TLS or no connection; the certificate is not checked. */
    REQUIRED("required"),
    /** TLS, and the server's certificate must chain to the CA. */
    VERIFY_CA("verify-ca"),
    /** As verify-ca, and the certificate must name the backend's host. */
    VERIFY_IDENTITY("verify-identity");

    private final String configName;

    BackendTlsMode(String configName) {
      this.configName = configName;
    }

    /** The name in the config file. */
    public String configName() {
      return configName;
    }

    /** Whether a connection without TLS is refused. */
    public boolean requiresTls() {
      return this != DISABLED && this != PREFERRED;
    }

    /** Whether the server's certificate is checked against a CA. */
    public boolean verifiesCertificate() {
      return this == VERIFY_CA || this == VERIFY_IDENTITY;
    }

    /** The mode with this config name, or null. */
    public static BackendTlsMode named(String name) {
      for (BackendTlsMode m : values()) {
        if (m.configName.equals(name)) {
          return m;
        }
      }
      return null;
    }
  }

  /** What the pool expects of a backend server. */
  public enum BackendRole {
    /** Nothing: the pool does not read the server's role (the default). */
    ANY,
    /**
     * A writer: after each login and validation the pool reads {@code @@global.read_only} (and
     * {@code @@innodb_read_only}); a server that is read-only is not used, and a writer that turns
     * read-only starts a switchover.
     */
    WRITER,
    /**
     * A replica: with {@link Routing#readWriteSplit()} on, it serves the statements that are safe
     * to run elsewhere than on the writer, in proportion to its {@link Backend#weight()}.
     */
    READER
  }

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
   * @param tcpKeepAliveIdle silence on a backend socket before TCP keepalive probes start; zero:
   *     the kernel's defaults
   * @param tcpKeepAliveInterval time between probes
   * @param tcpKeepAliveCount unanswered probes before the kernel closes the socket
   * @param switchoverTimeout how long a borrower waits for a writer while the backend's writer
   *     switches (instead of {@code acquireTimeout})
   * @param dnsTtl how long a resolved backend host name is used before it is resolved again
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
      Duration tcpKeepAliveIdle,
      Duration tcpKeepAliveInterval,
      int tcpKeepAliveCount,
      Duration switchoverTimeout,
      Duration dnsTtl,
      int maxPreparedStatementsPerConnection) {
    public static final int DEFAULT_MAX_PREPARED_STATEMENTS_PER_CONNECTION = 100;
    public static final Duration DEFAULT_SWITCHOVER_TIMEOUT = Duration.ofSeconds(30);
    public static final Duration DEFAULT_DNS_TTL = Duration.ofSeconds(5);

    /** Backend TCP keepalive: probes after 30s of silence, every 10s, 3 times: about a minute. */
    public static final Duration DEFAULT_TCP_KEEPALIVE_IDLE = Duration.ofSeconds(30);

    public static final Duration DEFAULT_TCP_KEEPALIVE_INTERVAL = Duration.ofSeconds(10);
    public static final int DEFAULT_TCP_KEEPALIVE_COUNT = 3;

    /**
     * These limits and timers, with the default backend keepalive, switchover, DNS TTL and bound of
     * prepared statements per connection.
     */
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
          DEFAULT_TCP_KEEPALIVE_IDLE,
          DEFAULT_TCP_KEEPALIVE_INTERVAL,
          DEFAULT_TCP_KEEPALIVE_COUNT,
          DEFAULT_SWITCHOVER_TIMEOUT,
          DEFAULT_DNS_TTL,
          DEFAULT_MAX_PREPARED_STATEMENTS_PER_CONNECTION);
    }

    /**
     * How long a backend that stopped answering can go unnoticed: keepalive idle plus interval
     * times count; zero when keepalive is off.
     */
    public Duration keepAliveWindow() {
      return tcpKeepAliveIdle.isZero()
          ? Duration.ZERO
          : tcpKeepAliveIdle.plus(tcpKeepAliveInterval.multipliedBy(tcpKeepAliveCount));
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

  /**
   * What SIGTERM does.
   *
   * @param loadBalancerWait how long the proxy keeps serving, new clients included, after its
   *     readiness turned false, so a load balancer's health checks see it and stop sending before
   *     the listener closes; zero: the listener closes at once
   */
  public record Shutdown(Duration drainTimeout, Duration loadBalancerWait) {
    /** Drain only: the listener closes at once. */
    public Shutdown(Duration drainTimeout) {
      this(drainTimeout, Duration.ZERO);
    }
  }

  /**
   * What the proxy counts for its {@code /stats} views beyond the pool rows.
   *
   * @param queryDigests whether statements are counted per digest (normalised text), backend and
   *     user, like ProxySQL's {@code stats_mysql_query_digest}
   * @param maxQueryDigests distinct digests kept at most; statements beyond count in one {@code
   *     other} row, so a client cannot grow the proxy's memory with statements that never repeat
   */
  public record Stats(boolean queryDigests, int maxQueryDigests) {
    public static final int DEFAULT_MAX_QUERY_DIGESTS = 5000;
    public static final int MAX_QUERY_DIGESTS = 100_000;

    /** Digests on, with the default bound. */
    public static final Stats DEFAULT = new Stats(true, DEFAULT_MAX_QUERY_DIGESTS);
  }

  /**
   * This configuration with other users; used to tell a users-only change from one that needs a
   * restart.
   */
  public ProxyConfig withUsers(List<User> otherUsers) {
    return new ProxyConfig(
        listen, admin, backends, List.copyOf(otherUsers), pool, frontend, shutdown, routing, stats);
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
