package dev.mysqlpool.proxy.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import org.junit.jupiter.api.Test;

class TransportTest {
  @Test
  void epollByDefaultOnLinuxAndNioForAnUnknownName() {
    assumeThat(Epoll.isAvailable()).as("epoll needs Linux").isTrue();
    assertThat(Transport.choose(null)).isEqualTo(Transport.Kind.EPOLL);
    assertThat(Transport.choose("IO_uring")).isIn(Transport.Kind.IO_URING, Transport.Kind.NIO);
    assertThat(Transport.choose("kqueue")).isEqualTo(Transport.Kind.NIO);
  }

  @Test
  void channelTypesAndOptionsFollowTheGroupGivenNotTheProcessDefault() throws Exception {
    EventLoopGroup nio = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    EventLoopGroup own = Transport.newGroup(1);
    try {
      Bootstrap onNio =
          Transport.keepAlive(Transport.clientChannel(new Bootstrap().group(nio)), 30, 10, 3);
      assertThat(onNio.config().channelFactory().newChannel()).isInstanceOf(NioSocketChannel.class);
      assertThat(Transport.serverChannelType(nio)).isEqualTo(NioServerSocketChannel.class);
      ServerBootstrap server = Transport.serverChannel(new ServerBootstrap().group(own, own));
      Transport.childKeepAlive(server, 60);
      if (Transport.kind() == Transport.Kind.EPOLL) {
        assertThat(
                Transport.clientChannel(new Bootstrap().group(own))
                    .config()
                    .channelFactory()
                    .newChannel())
            .isInstanceOf(EpollSocketChannel.class);
        assertThat(Transport.serverChannelType(own)).isEqualTo(EpollServerSocketChannel.class);
      }
      // A single loop of a group, as the backend connector binds to, has the group's type.
      assertThat(Transport.kindOf(own.next())).isEqualTo(Transport.kind());
    } finally {
      nio.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS).sync();
      own.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS).sync();
    }
  }
}
