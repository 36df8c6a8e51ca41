package dev.mysqlpool.proxy;

import dev.mysqlpool.proxy.config.ProxyConfig;

/** A running proxy: the MySQL listener, its backend pools and the admin HTTP endpoint. (Being built.) */
public final class ProxyServer implements AutoCloseable {
  private ProxyServer() {}

  /** Binds the listener and admin ports and starts warming the pools; returns once both ports accept. */
  public static ProxyServer start(ProxyConfig config) throws InterruptedException {
    throw new UnsupportedOperationException("being built");
  }

  /** The MySQL port actually bound (useful when the config asked for port 0 in tests). */
  public int listenPort() {
    throw new UnsupportedOperationException("being built");
  }

  /** The admin HTTP port actually bound. */
  public int adminPort() {
    throw new UnsupportedOperationException("being built");
  }

  /** Graceful stop as on SIGTERM: not ready, refuse new clients, drain up to shutdown.drainTimeout, then close. */
  public void shutdown() {
    throw new UnsupportedOperationException("being built");
  }

  /** Immediate stop: closes every client and backend connection. */
  @Override
  public void close() {
    throw new UnsupportedOperationException("being built");
  }
}
