package dev.mysqlpool.proxy.admin;

import dev.mysqlpool.proxy.config.ProxyConfig.Admin;
import dev.mysqlpool.proxy.net.Transport;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The admin HTTP/1.1 endpoint: {@code /healthz}, {@code /readyz}, {@code /metrics} (Prometheus),
 * {@code /stats} and {@code /stats/digests} (JSON), GET or HEAD; and {@code POST
 * /stats/digests/reset}, the one request that changes something.
 *
 * <p>At most {@code admin.maxConnections} connections stay open (a new one closes the least
 * recently active, so probes are never refused), and one without traffic for {@code
 * admin.idleTimeout} is closed.
 *
 * <p>It runs on an event loop group the caller owns and shuts down (the proxy gives it a thread of
 * its own, so probes are answered however busy the MySQL side is); {@link #close()} closes only
 * this server's listening socket and its open connections. Requests are served on that group's
 * loops by calling {@link AdminEndpoints}, which therefore must not block.
 *
 * <p>{@link #start} and {@link #close} block until the socket is bound or closed, so call them from
 * a main or management thread, never from an event loop (Netty would throw {@code
 * BlockingOperationException}).
 */
public final class AdminServer implements AutoCloseable {
  /** Requests carry no body; anything larger than this is a client bug or abuse and gets a 413. */
  static final int MAX_REQUEST_BODY_BYTES = 1024;

  private static final int MAX_INITIAL_LINE_BYTES = 4096;
  private static final int MAX_HEADER_BYTES = 8192;

  private final ChannelGroup channels;
  private final AtomicBoolean closed;
  private final int port;
  private final AdminConnections connections;

  private AdminServer(
      Channel serverChannel,
      ChannelGroup channels,
      AtomicBoolean closed,
      AdminConnections connections) {
    this.channels = channels;
    this.connections = connections;
    this.closed = closed;
    this.port = ((InetSocketAddress) serverChannel.localAddress()).getPort();
  }

  /**
   * Binds and starts serving; returns once the port accepts connections.
   *
   * @param host the address to bind, such as {@code "0.0.0.0"} in a pod or {@code "127.0.0.1"} in
   *     tests
   * @param port the port, or 0 for any free port (see {@link #port()})
   * @param group an NIO, epoll or io_uring {@link IoEventLoopGroup} (e.g. {@code new
   *     MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory())}); the caller keeps ownership and
   *     shuts it down after {@link #close()}
   * @param endpoints what to serve; called on {@code group}'s event loops
   * @return the running server
   * @throws IllegalArgumentException if the group is of another transport
   * @throws IllegalStateException if the address cannot be bound, with the bind failure as its
   *     cause
   * @throws InterruptedException if interrupted while waiting for the bind
   */
  public static AdminServer start(
      String host, int port, EventLoopGroup group, AdminEndpoints endpoints)
      throws InterruptedException {
    return start(new Admin(host, port), group, endpoints);
  }

  /**
   * {@link #start(String, int, EventLoopGroup, AdminEndpoints)} with the address, the connection
   * cap ({@link AdminConnections}) and the idle timeout of {@code config}.
   */
  public static AdminServer start(Admin config, EventLoopGroup group, AdminEndpoints endpoints)
      throws InterruptedException {
    String host = config.host();
    int port = config.port();
    long idleMillis = config.idleTimeout().toMillis();
    AdminConnections connections = new AdminConnections(config.maxConnections());
    Class<? extends ServerChannel> channelType = Transport.serverChannelType(group);
    ChannelGroup channels = new DefaultChannelGroup("admin-http", GlobalEventExecutor.INSTANCE);
    AtomicBoolean closed = new AtomicBoolean();
    AdminHandler handler = new AdminHandler(endpoints);
    ServerBootstrap bootstrap =
        new ServerBootstrap()
            .group(group)
            .channel(channelType)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    // Tracked so that close() also ends keep-alive connections, which would
                    // otherwise keep
                    // calling the endpoints of a server its owner considers gone.
                    channels.add(ch);
                    if (closed.get()) {
                      // Accepted just before close() and added after it closed the group.
                      ch.close();
                      return;
                    }
                    if (idleMillis > 0) {
                      ch.pipeline()
                          .addLast(
                              "idle",
                              new IdleStateHandler(0, 0, idleMillis, TimeUnit.MILLISECONDS));
                    }
                    ch.pipeline()
                        .addLast("connections", connections)
                        .addLast(
                            "http",
                            new HttpServerCodec(MAX_INITIAL_LINE_BYTES, MAX_HEADER_BYTES, 8192))
                        .addLast("aggregator", new HttpObjectAggregator(MAX_REQUEST_BODY_BYTES))
                        .addLast("admin", handler);
                  }
                });
    ChannelFuture bind = bootstrap.bind(host, port).await();
    if (!bind.isSuccess()) {
      throw new IllegalStateException(
          "admin endpoint could not bind " + host + ":" + port + ": " + bind.cause().getMessage(),
          bind.cause());
    }
    channels.add(bind.channel());
    return new AdminServer(bind.channel(), channels, closed, connections);
  }

  /** Admin connections open now (at most {@code admin.maxConnections}); any thread. */
  public int openConnections() {
    return connections.size();
  }

  /** The port actually bound, useful after asking for port 0. */
  public int port() {
    return port;
  }

  /**
   * Stops listening and closes every open admin connection, waiting for both; idempotent. A request
   * being served may still complete or be cut off. Does not shut down the event loop group.
   */
  @Override
  public void close() {
    closed.set(true);
    channels.close().awaitUninterruptibly();
  }
}
