package dev.mysqlpool.proxy.backend;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;

/**
 * Opens logged-in backend connections: {@link BackendConnector} against a server, a stub in the
 * pool's unit tests.
 */
interface Logins {
  /**
   * Opens a connection on {@code loop}. The returned connection's listener is unset; its channel
   * reads continuously. Fails after pool.connectTimeout.
   *
   * @param sideConnection for a KILL only: skips what a pooled connection needs after login (state
   *     tracking, the session's defaults)
   */
  Future<BackendConnection> login(
      EventLoop loop, BackendPool pool, PoolKey key, boolean sideConnection);
}
