package dev.mysqlpool.proxy.frontend;

import dev.mysqlpool.proxy.admin.ProxyMetrics;
import dev.mysqlpool.proxy.backend.BackendPool;
import dev.mysqlpool.proxy.config.ProxyConfig;
import io.micrometer.core.instrument.Timer;
import java.security.SecureRandom;
import java.util.Collection;
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
  private final Map<Long, ClientSession> sessions = new ConcurrentHashMap<>();
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

  /** A new client session handler for an accepted connection. */
  public ClientSession newSession() {
    return new ClientSession(this, ids.incrementAndGet());
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
    for (ClientSession s : sessions.values()) {
      s.drain();
    }
    if (open.get() == 0) {
      drained.complete(null);
    }
    return drained;
  }

  /** Closes every session at once. */
  public void closeAll() {
    for (ClientSession s : sessions.values()) {
      s.forceClose();
    }
  }

  Collection<ClientSession> sessions() {
    return sessions.values();
  }

  ClientSession session(long id) {
    return sessions.get(id);
  }

  /** Counts a new client; false when frontend.maxClientConnections is reached. */
  boolean admit(ClientSession s) {
    if (open.incrementAndGet() > config().frontend().maxClientConnections()) {
      open.decrementAndGet();
      return false;
    }
    sessions.put(s.id, s);
    return true;
  }

  void leave(ClientSession s) {
    if (sessions.remove(s.id) != null && open.decrementAndGet() == 0 && draining) {
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
