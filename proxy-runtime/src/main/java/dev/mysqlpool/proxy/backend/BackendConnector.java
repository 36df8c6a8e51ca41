package dev.mysqlpool.proxy.backend;

import dev.mysqlpool.proxy.codec.MySQLPacketDecoder;
import dev.mysqlpool.proxy.config.ProxyConfig.Backend;
import dev.mysqlpool.proxy.net.Buffers;
import dev.mysqlpool.proxy.net.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Opens and logs in backend connections (TCP connect, then {@link BackendLogin}) within
 * pool.connectTimeout: the pool's own connections, and the side connections {@link KillQueue} sends
 * KILL over.
 */
final class BackendConnector implements Logins {
  static final String TRACK_STATE_CHANGES = "SET SESSION session_track_state_change = ON";

  private final Backend backend;
  private final LongSupplier connectTimeoutMillis;

  /**
   * @param connectTimeoutMillis pool.connectTimeout, read at each login (it may be reloaded)
   */
  BackendConnector(Backend backend, LongSupplier connectTimeoutMillis) {
    this.backend = backend;
    this.connectTimeoutMillis = connectTimeoutMillis;
  }

  long connectTimeoutMillis() {
    return connectTimeoutMillis.getAsLong();
  }

  @Override
  public Future<BackendConnection> login(
      EventLoop loop, BackendPool pool, PoolKey key, boolean sideConnection) {
    long timeoutMillis = connectTimeoutMillis();
    Promise<BackendConnection> promise = loop.newPromise();
    BackendLogin auth = new BackendLogin(this, pool, key, promise, sideConnection);
    Bootstrap b =
        Transport.clientChannel(new Bootstrap())
            .group(loop)
            .option(
                ChannelOption.CONNECT_TIMEOUT_MILLIS,
                (int) Math.min(Integer.MAX_VALUE, timeoutMillis))
            .option(ChannelOption.ALLOCATOR, Buffers.ALLOCATOR)
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.SO_KEEPALIVE, true)
            .handler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    ch.pipeline().addLast("decoder", new MySQLPacketDecoder());
                    ch.pipeline().addLast("auth", auth);
                  }
                });
    ScheduledFuture<?> deadline =
        loop.schedule(
            () -> {
              promise.tryFailure(
                  new BackendException(
                      "backend "
                          + where()
                          + " did not complete the login within "
                          + timeoutMillis
                          + "ms (pool.connectTimeout)"));
            },
            timeoutMillis,
            TimeUnit.MILLISECONDS);
    ChannelFuture cf = b.connect(backend.host(), backend.port());
    cf.addListener(
        f -> {
          if (!f.isSuccess()) {
            promise.tryFailure(
                new BackendException(
                    "cannot connect to backend " + where() + ": " + rootMessage(f.cause()),
                    f.cause()));
          }
        });
    promise.addListener(
        f -> {
          deadline.cancel(false);
          if (!f.isSuccess()) {
            cf.channel().close();
          }
        });
    return promise;
  }

  String where() {
    return "'" + backend.name() + "' (" + backend.host() + ":" + backend.port() + ")";
  }

  static String rootMessage(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return c.getMessage() != null ? c.getMessage() : c.toString();
  }
}
