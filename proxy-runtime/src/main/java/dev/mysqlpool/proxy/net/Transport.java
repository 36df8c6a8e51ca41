package dev.mysqlpool.proxy.net;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import jdk.net.ExtendedSocketOptions;

/**
 * The proxy's channels and event loops, made in one place so their types always match.
 *
 * <p>NIO, not Netty's native epoll: on the 2-core bench machine epoll (edge-triggered, so every
 * read event ends with a read that returns EAGAIN) spent more system time per statement and reached
 * a lower ratio to a direct connection than NIO in the same runs (bench/results, 2026-11-21).
 */
public final class Transport {
  private Transport() {}

  /** An event loop group. */
  public static EventLoopGroup newGroup(int threads) {
    return new MultiThreadIoEventLoopGroup(threads, NioIoHandler.newFactory());
  }

  /** Sets the client channel type on a bootstrap whose group came from {@link #newGroup}. */
  public static Bootstrap clientChannel(Bootstrap b) {
    return b.channel(NioSocketChannel.class);
  }

  /** Sets the server channel type on a bootstrap whose groups came from {@link #newGroup}. */
  public static ServerBootstrap serverChannel(ServerBootstrap b) {
    return b.channel(NioServerSocketChannel.class);
  }

  /**
   * TCP keepalive on an outgoing socket: probes after {@code idleSeconds} of silence, then every
   * {@code intervalSeconds}, {@code count} times, before the kernel gives up on the peer. Zero
   * {@code idleSeconds} leaves the kernel's defaults (about two hours).
   */
  public static Bootstrap keepAlive(Bootstrap b, int idleSeconds, int intervalSeconds, int count) {
    b.option(ChannelOption.SO_KEEPALIVE, true);
    if (idleSeconds <= 0) {
      return b;
    }
    return b.option(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPIDLE), idleSeconds)
        .option(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPINTERVAL), intervalSeconds)
        .option(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPCOUNT), count);
  }

  /**
   * TCP keepalive probes after {@code idleSeconds} of silence, then every third of that, three
   * times.
   */
  public static ServerBootstrap childKeepAlive(ServerBootstrap b, int idleSeconds) {
    return b.childOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPIDLE), idleSeconds)
        .childOption(
            NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPINTERVAL),
            Math.max(1, idleSeconds / 3))
        .childOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPCOUNT), 3);
  }
}
