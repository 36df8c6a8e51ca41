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
   */
  public record User(
      String name, String password, String backend, String backendUser, String backendPassword) {
    @Override
    public String toString() {
      return "User[name="
          + name
          + ", backend="
          + backend
          + ", backendUser="
          + backendUser
          + ", password=****]";
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
      int maxConcurrentConnects) {}

  /** Limits toward clients. */
  public record Frontend(
      int maxClientConnections,
      Duration clientIdleTimeout,
      Duration handshakeTimeout,
      Duration tcpKeepAliveIdle) {}

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
