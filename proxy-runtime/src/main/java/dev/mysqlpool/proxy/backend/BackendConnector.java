package dev.mysqlpool.proxy.backend;

import dev.mysqlpool.proxy.auth.CachingSha2Password;
import dev.mysqlpool.proxy.codec.MySQLPacketDecoder;
import dev.mysqlpool.proxy.config.ConfigException;
import dev.mysqlpool.proxy.config.ProxyConfig.Backend;
import dev.mysqlpool.proxy.config.ProxyConfig.Pool;
import dev.mysqlpool.proxy.net.Buffers;
import dev.mysqlpool.proxy.net.Transport;
import dev.mysqlpool.proxy.tls.ClientTls;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.interfaces.RSAPublicKey;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Opens and logs in backend connections (TCP connect, then {@link BackendLogin}) within
 * pool.connectTimeout: the pool's own connections, and the side connections {@link KillQueue} sends
 * KILL over. Holds what every login to the backend shares, read once: the TLS context and the
 * pinned RSA key.
 */
final class BackendConnector implements Logins {
  static final String TRACK_STATE_CHANGES = "SET SESSION session_track_state_change = ON";

  private final Backend backend;
  private final Supplier<Pool> settings;
  private final HostResolver resolver;
  private final ClientTls tls;
  private final RSAPublicKey serverPublicKey;

  /**
   * Reads the backend's CA file and pinned key (blocking: call it where the config is applied).
   *
   * @param settings the pool settings in force, read at each login (pool.connectTimeout may be
   *     reloaded)
   * @throws ConfigException when the CA file or the key file is unusable
   */
  BackendConnector(Backend backend, Supplier<Pool> settings) {
    this.backend = backend;
    this.settings = settings;
    this.resolver = new HostResolver(backend.host(), () -> settings.get().dnsTtl().toNanos());
    this.tls = ClientTls.forBackend(backend);
    this.serverPublicKey = readPublicKey(backend);
  }

  private static RSAPublicKey readPublicKey(Backend backend) {
    if (backend.serverPublicKeyFile() == null) {
      return null;
    }
    String field = "backends[" + backend.name() + "].serverPublicKeyFile";
    Path file = Path.of(backend.serverPublicKeyFile());
    try {
      return CachingSha2Password.parsePublicKey(Files.readString(file, StandardCharsets.US_ASCII));
    } catch (IOException e) {
      throw new ConfigException(
          List.of(
              field
                  + ": cannot read "
                  + file
                  + " ("
                  + e.getClass().getSimpleName()
                  + "); mount the server's public_key.pem there or fix the path"));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(
          List.of(
              field
                  + ": "
                  + file
                  + ": "
                  + e.getMessage()
                  + "; copy the server's caching_sha2_password_public_key_path file"));
    }
  }

  /** TLS toward the backend; null when backends[].tls.mode is disabled. */
  ClientTls tls() {
    return tls;
  }

  /** The pinned key for caching_sha2_password over plain TCP, or null. */
  RSAPublicKey serverPublicKey() {
    return serverPublicKey;
  }

  /** Where the backend's host name points now. */
  HostResolver resolver() {
    return resolver;
  }

  Backend backend() {
    return backend;
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
        Transport.clientChannel(new Bootstrap().group(loop))
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
