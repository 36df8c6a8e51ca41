package dev.mysqlpool.proxy.backend;

import dev.mysqlpool.proxy.codec.MySQLPacketDecoder;
import dev.mysqlpool.proxy.protocol.Capabilities;
import dev.mysqlpool.proxy.protocol.Commands;
import dev.mysqlpool.proxy.protocol.HandshakeV10;
import dev.mysqlpool.proxy.protocol.Packets;
import dev.mysqlpool.proxy.protocol.ServerStatus;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.local.LocalAddress;
import io.netty.channel.local.LocalChannel;
import io.netty.channel.local.LocalIoHandler;
import io.netty.channel.local.LocalServerChannel;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A backend reduced to what the pool sends, on Netty's in-VM transport, so the pool's rules can be
 * tested without a server: a "login" is one greeting packet carrying the session's thread id; then
 * COM_PING, COM_RESET_CONNECTION and COM_QUERY get OK, {@code KILL [QUERY] n} closes session n
 * (after {@link #killDelayMillis}), and COM_QUIT closes the session. It counts what a DBA would
 * watch: sessions open now, the peak, logins, and every command received.
 *
 * <p>{@link #logins()} opens connections to it for the pool under test.
 */
final class StubBackend implements AutoCloseable {
  static final int CAPABILITIES =
      Capabilities.CLIENT_PROTOCOL_41
          | Capabilities.CLIENT_TRANSACTIONS
          | Capabilities.CLIENT_SECURE_CONNECTION;
  private static final AtomicInteger SERVERS = new AtomicInteger();

  final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, LocalIoHandler.newFactory());
  private final LocalAddress address =
      new LocalAddress("stub-backend-" + SERVERS.incrementAndGet());
  private final Channel server;
  private final AtomicLong threadIds = new AtomicLong();
  private final Map<Long, Channel> sessions = new ConcurrentHashMap<>();
  private final AtomicInteger open = new AtomicInteger();
  private final AtomicInteger peak = new AtomicInteger();
  private final AtomicInteger logins = new AtomicInteger();
  private final AtomicInteger sideLogins = new AtomicInteger();
  private final List<String> commands = Collections.synchronizedList(new ArrayList<>());

  /** How long a KILL takes before the session closes and the KILL is answered. */
  volatile long killDelayMillis;

  /** How long a login takes. */
  volatile long loginDelayMillis;

  StubBackend() throws InterruptedException {
    server =
        new ServerBootstrap()
            .group(group)
            .channel(LocalServerChannel.class)
            .childHandler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    ch.pipeline().addLast(new MySQLPacketDecoder(), new Session());
                  }
                })
            .bind(address)
            .sync()
            .channel();
  }

  /** Sessions open on the server now. */
  int open() {
    return open.get();
  }

  /** The most sessions open at once. */
  int peak() {
    return peak.get();
  }

  /** Pool connections logged in (side connections not included). */
  int loginCount() {
    return logins.get();
  }

  /** Side connections logged in for KILL. */
  int sideLogins() {
    return sideLogins.get();
  }

  /** Every command received, as {@code "<thread id> <COM_NAME or SQL>"}. */
  List<String> commands() {
    synchronized (commands) {
      return new ArrayList<>(commands);
    }
  }

  /** How the pool under test logs in here. */
  Logins logins() {
    return this::login;
  }

  private Future<BackendConnection> login(
      EventLoop loop, BackendPool pool, PoolKey key, boolean side) {
    Promise<BackendConnection> promise = loop.newPromise();
    new Bootstrap()
        .group(loop)
        .channel(LocalChannel.class)
        .handler(
            new ChannelInitializer<Channel>() {
              @Override
              protected void initChannel(Channel ch) {
                ch.pipeline()
                    .addLast("decoder", new MySQLPacketDecoder())
                    .addLast("login", new Greeting(pool, key, side, promise));
              }
            })
        .connect(address)
        .addListener(
            f -> {
              if (!f.isSuccess()) {
                promise.tryFailure(new BackendException("stub refused: " + f.cause()));
              }
            });
    return promise;
  }

  @Override
  public void close() {
    server.close().syncUninterruptibly();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  /** The client side of a login: reads the greeting, then becomes a pool connection. */
  private final class Greeting extends ChannelInboundHandlerAdapter {
    private final BackendPool pool;
    private final PoolKey key;
    private final boolean side;
    private final Promise<BackendConnection> promise;

    Greeting(BackendPool pool, PoolKey key, boolean side, Promise<BackendConnection> promise) {
      this.pool = pool;
      this.key = key;
      this.side = side;
      this.promise = promise;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf packet = (ByteBuf) msg;
      long threadId;
      try {
        threadId = packet.getLongLE(packet.readerIndex() + Packets.HEADER_SIZE);
      } finally {
        packet.release();
      }
      HandshakeV10 greeting =
          new HandshakeV10(
              "11.4.0-stub",
              threadId,
              new byte[20],
              CAPABILITIES,
              45,
              ServerStatus.AUTOCOMMIT,
              "mysql_native_password");
      BackendConnection c =
          new BackendConnection(pool, ctx.channel(), greeting, key, CAPABILITIES, 28800);
      ctx.pipeline().replace(this, "backend", new BackendConnection.Handler(c));
      ((MySQLPacketDecoder) ctx.pipeline().get("decoder")).batch(true);
      (side ? sideLogins : logins).incrementAndGet();
      if (!promise.trySuccess(c)) {
        ctx.close();
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      promise.tryFailure(new BackendException("stub closed the connection during login"));
    }
  }

  /** The server side of one session. */
  private final class Session extends ChannelInboundHandlerAdapter {
    private long id;

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      id = threadIds.incrementAndGet();
      sessions.put(id, ctx.channel());
      peak.accumulateAndGet(open.incrementAndGet(), Math::max);
      ctx.executor()
          .schedule(
              () -> {
                ByteBuf greeting = Packets.start(ctx.alloc(), 8, 0);
                greeting.writeLongLE(id);
                ctx.writeAndFlush(Packets.finish(greeting));
              },
              loginDelayMillis,
              TimeUnit.MILLISECONDS);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf packet = (ByteBuf) msg;
      int command;
      int seq;
      String sql = null;
      try {
        command = Packets.firstByte(packet);
        seq = Packets.sequenceId(packet);
        if (command == Commands.COM_QUERY) {
          int start = packet.readerIndex() + Packets.HEADER_SIZE + 1;
          sql = packet.toString(start, Packets.payloadLength(packet) - 1, StandardCharsets.UTF_8);
        }
      } finally {
        packet.release();
      }
      commands.add(id + " " + (sql != null ? sql : Commands.name(command)));
      if (command == Commands.COM_QUIT) {
        ctx.close();
        return;
      }
      if (sql != null && sql.startsWith("KILL ")) {
        long target = Long.parseLong(sql.substring(sql.lastIndexOf(' ') + 1));
        ctx.executor()
            .schedule(
                () -> {
                  Channel victim = sessions.get(target);
                  if (victim != null) {
                    victim.close();
                  }
                  ctx.writeAndFlush(ok(ctx, seq));
                },
                killDelayMillis,
                TimeUnit.MILLISECONDS);
        return;
      }
      ctx.writeAndFlush(ok(ctx, seq));
    }

    private ByteBuf ok(ChannelHandlerContext ctx, int seq) {
      return Packets.ok(ctx.alloc(), seq + 1, ServerStatus.AUTOCOMMIT, CAPABILITIES);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      sessions.remove(id);
      open.decrementAndGet();
    }
  }
}
