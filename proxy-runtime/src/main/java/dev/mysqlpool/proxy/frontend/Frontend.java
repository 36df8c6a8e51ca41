package dev.mysqlpool.proxy.frontend;

import dev.mysqlpool.proxy.backend.BackendPool;
import dev.mysqlpool.proxy.config.ProxyConfig;
import dev.mysqlpool.proxy.metrics.ProxyMetrics;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import java.security.SecureRandom;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What every client session shares: the config, the pools, the registry of sessions by the
 * connection id the proxy advertised (KILL uses it), metrics, and the draining flag.
 */
public final class Frontend {
  private volatile ProxyConfig config;
  final Map<String, BackendPool> pools;
  final BackendPool defaultPool;
  final ProxyMetrics metrics;
  final SecureRandom random = new SecureRandom();
  private final Map<Long, ClientConnection> sessions = new ConcurrentHashMap<>();
  private final Map<String, Timer> queryTimers = new ConcurrentHashMap<>();
  private final Map<String, Timer> acquireTimers = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong();
  private final AtomicInteger open = new AtomicInteger();
  private volatile boolean draining;
  private final CompletableFuture<Void> drained = new CompletableFuture<>();

  public Frontend(ProxyConfig config, Map<String, BackendPool> pools, ProxyMetrics metrics) {
    this.config = config;
    this.pools = pools;
    this.defaultPool = pools.get(config.backends().get(0).name());
    this.metrics = metrics;
    Gauge.builder("mysqlpool.frontend.client.connections", this, Frontend::clientConnections)
        .description("Client connections open to the proxy")
        .register(metrics.registry());
    for (String name : pools.keySet()) {
      queryTimers.put(name, metrics.queryTimer(name));
      acquireTimers.put(name, metrics.acquireTimer(name));
    }
  }

  /**
   * The configuration in force; its users may be replaced at run time by {@link
   * #config(ProxyConfig)}.
   */
  public ProxyConfig config() {
    return config;
  }

  /** Swaps the configuration for new logins; sessions already logged in keep their identity. */
  public void config(ProxyConfig next) {
    this.config = next;
  }

  /** The handler of a newly accepted connection's login; it becomes a session once logged in. */
  ClientLogin newLogin() {
    return new ClientLogin(this, ids.incrementAndGet());
  }

  /** Client connections open right now. */
  public int clientConnections() {
    return open.get();
  }

  public boolean draining() {
    return draining;
  }

  /**
   * Stops taking new work: idle sessions close now, busy ones when their transaction ends.
   *
   * @return completes when the last client session has closed
   */
  public CompletableFuture<Void> drain() {
    draining = true;
    for (ClientConnection s : sessions.values()) {
      s.drain();
    }
    if (open.get() == 0) {
      drained.complete(null);
    }
    return drained;
  }

  /** Closes every session at once. */
  public void closeAll() {
    for (ClientConnection s : sessions.values()) {
      s.forceClose();
    }
  }

  /** The connection the proxy advertised this id to, logging in or logged in; null if gone. */
  ClientConnection connection(long id) {
    return sessions.get(id);
  }

  /** Counts a new client; false when frontend.maxClientConnections is reached. */
  boolean admit(ClientConnection c) {
    if (open.incrementAndGet() > config().frontend().maxClientConnections()) {
      open.decrementAndGet();
      return false;
    }
    sessions.put(c.id(), c);
    return true;
  }

  /** The client's login became this session: KILL and drain find the session from now on. */
  void loggedIn(ClientSession s) {
    sessions.replace(s.id, s);
  }

  void leave(ClientConnection c) {
    if (sessions.remove(c.id(), c) && open.decrementAndGet() == 0 && draining) {
      drained.complete(null);
    }
  }

  Timer queryTimer(String backend) {
    return queryTimers.get(backend);
  }

  Timer acquireTimer(String backend) {
    return acquireTimers.get(backend);
  }
}
