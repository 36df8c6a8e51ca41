package dev.mysqlpool.proxy.net;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import jdk.net.ExtendedSocketOptions;

/**
 * Netty's native epoll transport where the platform has it (Linux: fewer copies and syscalls per packet than NIO),
 * NIO elsewhere. Every channel of the proxy is created through here so event loops and channel types always match.
 */
public enum Transport {
  EPOLL,
  NIO;

  /** The best transport this process can use. */
  public static Transport best() {
    return Epoll.isAvailable() ? EPOLL : NIO;
  }

  private IoHandlerFactory ioHandlerFactory() {
    return this == EPOLL ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
  }

  /** An event loop group of this transport. */
  public EventLoopGroup newGroup(int threads) {
    return new MultiThreadIoEventLoopGroup(threads, ioHandlerFactory());
  }

  /** Sets the client channel type on a bootstrap whose group is of this transport. */
  public Bootstrap clientChannel(Bootstrap b) {
    return this == EPOLL ? b.channel(EpollSocketChannel.class) : b.channel(NioSocketChannel.class);
  }

  /** Sets the server channel type on a bootstrap whose groups are of this transport. */
  public ServerBootstrap serverChannel(ServerBootstrap b) {
    return this == EPOLL ? b.channel(EpollServerSocketChannel.class) : b.channel(NioServerSocketChannel.class);
  }

  /** TCP keepalive probes after {@code idleSeconds} of silence, then every third of that, three times. */
  public ServerBootstrap childKeepAlive(ServerBootstrap b, int idleSeconds) {
    int interval = Math.max(1, idleSeconds / 3);
    if (this == EPOLL) {
      return b.childOption(EpollChannelOption.TCP_KEEPIDLE, idleSeconds)
          .childOption(EpollChannelOption.TCP_KEEPINTVL, interval)
          .childOption(EpollChannelOption.TCP_KEEPCNT, 3);
    }
    return b.childOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPIDLE), idleSeconds)
        .childOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPINTERVAL), interval)
        .childOption(NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPCOUNT), 3);
  }
}
