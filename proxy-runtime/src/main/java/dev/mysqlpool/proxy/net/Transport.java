package dev.mysqlpool.proxy.net;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringChannelOption;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import java.util.Locale;
import jdk.net.ExtendedSocketOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The proxy's channels and event loops, made in one place so their types always match.
 *
 * <p>Netty's native epoll transport by default, NIO where it is unavailable (not Linux). Measured
 * in the same runs on the 2-core bench machine (bench/README.md, "Transport"), epoll spent about
 * 14% less CPU per statement than NIO and served 8% more; io_uring matched epoll, and can be chosen
 * with the system property {@value #PROPERTY} ({@code epoll}, {@code io_uring}, {@code nio}), but
 * is not the default: container runtimes' default seccomp profiles and hardened kernels refuse it.
 * A transport the kernel refuses falls back to NIO, saying why.
 *
 * <p>Channel types and socket options follow the event loop group a bootstrap was given, so
 * components built on a group of another type (tests use NIO groups) still match.
 */
public final class Transport {
  /** The system property that picks the transport. */
  public static final String PROPERTY = "mysqlpool.transport";

  private static final Logger log = LoggerFactory.getLogger(Transport.class);

  /** The kinds of I/O the proxy can run on. */
  public enum Kind {
    NIO,
    EPOLL,
    IO_URING
  }

  private static final Kind KIND = choose(System.getProperty(PROPERTY));

  private Transport() {}

  /** The transport this process's event loop groups run on. */
  public static Kind kind() {
    return KIND;
  }

  /** The transport for a requested name, or null for the default; NIO where it is unavailable. */
  static Kind choose(String requested) {
    Kind kind;
    try {
      kind =
          requested == null ? Kind.EPOLL : Kind.valueOf(requested.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      log.warn("-D{}={} is not one of epoll, io_uring, nio; using nio", PROPERTY, requested);
      return Kind.NIO;
    }
    Throwable unavailable = unavailabilityCause(kind);
    if (unavailable == null) {
      return kind;
    }
    String name = kind.name().toLowerCase(Locale.ROOT);
    if (requested == null) {
      log.info("transport {} is unavailable here ({}); using nio", name, unavailable.toString());
    } else {
      log.warn("transport {} is unavailable here ({}); using nio", name, unavailable.toString());
    }
    return Kind.NIO;
  }

  /**
   * Why {@code kind} cannot run here, or null. A classpath without Netty's native transport classes
   * (a build that leaves them out) counts as unavailable, not as an error.
   */
  private static Throwable unavailabilityCause(Kind kind) {
    try {
      return switch (kind) {
        case NIO -> null;
        case EPOLL -> Epoll.unavailabilityCause();
        case IO_URING -> IoUring.unavailabilityCause();
      };
    } catch (LinkageError e) {
      return e;
    }
  }

  /** An event loop group of this process's transport. */
  public static EventLoopGroup newGroup(int threads) {
    IoHandlerFactory factory =
        switch (KIND) {
          case NIO -> NioIoHandler.newFactory();
          case EPOLL -> EpollIoHandler.newFactory();
          case IO_URING -> IoUringIoHandler.newFactory();
        };
    return new MultiThreadIoEventLoopGroup(threads, factory);
  }

  /** The transport a group (or a single event loop) runs on; NIO for any other kind of group. */
  static Kind kindOf(EventLoopGroup group) {
    if (!(group instanceof IoEventLoopGroup io) || io.isIoType(NioIoHandler.class)) {
      return Kind.NIO;
    }
    if (io.isIoType(EpollIoHandler.class)) {
      return Kind.EPOLL;
    }
    if (io.isIoType(IoUringIoHandler.class)) {
      return Kind.IO_URING;
    }
    throw new IllegalArgumentException(
        "an NIO, epoll or io_uring event loop group is needed, got "
            + group.getClass().getName()
            + " of another I/O type");
  }

  /** Sets the client channel type matching the group already set on {@code b}. */
  public static Bootstrap clientChannel(Bootstrap b) {
    return switch (kindOf(b.config().group())) {
      case NIO -> b.channel(NioSocketChannel.class);
      case EPOLL -> b.channel(EpollSocketChannel.class);
      case IO_URING -> b.channel(IoUringSocketChannel.class);
    };
  }

  /** Sets the server channel type matching the groups already set on {@code b}. */
  public static ServerBootstrap serverChannel(ServerBootstrap b) {
    return b.channel(serverChannelType(b.config().group()));
  }

  /** The server channel type for a group of any of the three transports. */
  public static Class<? extends ServerChannel> serverChannelType(EventLoopGroup group) {
    return switch (kindOf(group)) {
      case NIO -> NioServerSocketChannel.class;
      case EPOLL -> EpollServerSocketChannel.class;
      case IO_URING -> IoUringServerSocketChannel.class;
    };
  }

  /**
   * TCP keepalive on an outgoing socket: probes after {@code idleSeconds} of silence, then every
   * {@code intervalSeconds}, {@code count} times, before the kernel gives up on the peer. Zero
   * {@code idleSeconds} leaves the kernel's defaults (about two hours). Needs the group set.
   */
  public static Bootstrap keepAlive(Bootstrap b, int idleSeconds, int intervalSeconds, int count) {
    b.option(ChannelOption.SO_KEEPALIVE, true);
    if (idleSeconds <= 0) {
      return b;
    }
    Kind kind = kindOf(b.config().group());
    return b.option(keepIdle(kind), idleSeconds)
        .option(keepInterval(kind), intervalSeconds)
        .option(keepCount(kind), count);
  }

  /**
   * TCP keepalive probes after {@code idleSeconds} of silence, then every third of that, three
   * times. Needs the child group set.
   */
  public static ServerBootstrap childKeepAlive(ServerBootstrap b, int idleSeconds) {
    Kind kind = kindOf(b.config().childGroup());
    return b.childOption(keepIdle(kind), idleSeconds)
        .childOption(keepInterval(kind), Math.max(1, idleSeconds / 3))
        .childOption(keepCount(kind), 3);
  }

  private static ChannelOption<Integer> keepIdle(Kind kind) {
    return switch (kind) {
      case NIO -> NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPIDLE);
      case EPOLL -> EpollChannelOption.TCP_KEEPIDLE;
      case IO_URING -> IoUringChannelOption.TCP_KEEPIDLE;
    };
  }

  private static ChannelOption<Integer> keepInterval(Kind kind) {
    return switch (kind) {
      case NIO -> NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPINTERVAL);
      case EPOLL -> EpollChannelOption.TCP_KEEPINTVL;
      case IO_URING -> IoUringChannelOption.TCP_KEEPINTVL;
    };
  }

  private static ChannelOption<Integer> keepCount(Kind kind) {
    return switch (kind) {
      case NIO -> NioChannelOption.of(ExtendedSocketOptions.TCP_KEEPCOUNT);
      case EPOLL -> EpollChannelOption.TCP_KEEPCNT;
      case IO_URING -> IoUringChannelOption.TCP_KEEPCNT;
    };
  }
}
