package dev.mysqlpool.proxy.backend;

import dev.mysqlpool.proxy.codec.MySQLPacketDecoder;
import dev.mysqlpool.proxy.config.ProxyConfig.Backend;
import dev.mysqlpool.proxy.config.ProxyConfig.Pool;
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
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Opens and logs in backend connections (TCP connect, then {@link BackendLogin}) within
 * pool.connectTimeout: the pool's own connections, and the side connections {@link KillQueue} sends
 * KILL over.
 */
final class BackendConnector implements Logins {
  static final String TRACK_STATE_CHANGES = "SET SESSION session_track_state_change = ON";

  private final Backend backend;
  private final Supplier<Pool> settings;
  private final HostResolver resolver;

  /**
   * @param settings the pool settings in force, read at each login (pool.connectTimeout may be
   *     reloaded)
   */
  BackendConnector(Backend backend, Supplier<Pool> settings) {
    this.backend = backend;
    this.settings = settings;
    this.resolver = new HostResolver(backend.host(), () -> settings.get().dnsTtl().toNanos());
  }

  /** Where the backend's host name points now. */
  HostResolver resolver() {
    return resolver;
  }

  long connectTimeoutMillis() {
    return settings.get().connectTimeout().toMillis();
  }

  @Override
  public Future<BackendConnection> login(
      EventLoop loop, BackendPool pool, PoolKey key, boolean sideConnection) {
    Pool s = settings.get();
    long timeoutMillis = s.connectTimeout().toMillis();
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
            .handler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    ch.pipeline().addLast(SocketActivity.NAME, new SocketActivity());
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
    // A server that vanished without a FIN (a failed-over host, a dropped NAT entry) is noticed
    // within idle + interval x count rather than the kernel's two hours.
    Transport.keepAlive(
        b,
        (int) s.tcpKeepAliveIdle().toSeconds(),
        (int) s.tcpKeepAliveInterval().toSeconds(),
        s.tcpKeepAliveCount());
    resolver
        .next(loop)
        .addListener(
            (Future<InetAddress> address) -> {
              if (!address.isSuccess()) {
                promise.tryFailure(
                    new BackendException(
                        "cannot resolve backend " + where() + ": " + rootMessage(address.cause()),
                        address.cause()));
                return;
              }
              if (promise.isDone()) {
                return;
              }
              ChannelFuture cf = b.connect(new InetSocketAddress(address.getNow(), backend.port()));
              cf.addListener(
                  f -> {
                    if (!f.isSuccess()) {
                      promise.tryFailure(
                          new BackendException(
                              "cannot connect to backend "
                                  + where()
                                  + " at "
                                  + address.getNow().getHostAddress()
                                  + ": "
                                  + rootMessage(f.cause()),
                              f.cause()));
                    }
                  });
              promise.addListener(
                  f -> {
                    if (!f.isSuccess()) {
                      cf.channel().close();
                    }
                  });
            });
    promise.addListener(f -> deadline.cancel(false));
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
