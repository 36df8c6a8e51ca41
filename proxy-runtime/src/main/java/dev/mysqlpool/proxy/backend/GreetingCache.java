package dev.mysqlpool.proxy.backend;

import dev.mysqlpool.proxy.backend.BackendPool.Release;
import dev.mysqlpool.proxy.protocol.HandshakeV10;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;

/**
 * The server's greeting, learned from the latest login. Clients are greeted with its version
 * string, since drivers choose their SQL by it.
 */
final class GreetingCache {
  private volatile HandshakeV10 greeting;

  /** Records the greeting of a connection that just logged in; any thread. */
  void learn(HandshakeV10 g) {
    greeting = g;
  }

  /**
   * The greeting, at once if known; otherwise borrows a connection with {@code key} (which opens
   * one) and gives it straight back.
   */
  Future<HandshakeV10> greeting(EventLoop loop, BackendPool pool, PoolKey key) {
    HandshakeV10 g = greeting;
    if (g != null) {
      return loop.newSucceededFuture(g);
    }
    Promise<HandshakeV10> p = loop.newPromise();
    pool.acquire(loop, key, false)
        .addListener(
            (Future<BackendConnection> f) -> {
              if (f.isSuccess()) {
                pool.release(f.getNow(), Release.CLEAN);
                p.trySuccess(greeting);
              } else {
                p.tryFailure(f.cause());
              }
            });
    return p;
  }
}
