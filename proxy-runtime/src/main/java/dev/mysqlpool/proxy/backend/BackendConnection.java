package dev.mysqlpool.proxy.backend;

import dev.mysqlpool.proxy.net.Buffers;
import dev.mysqlpool.proxy.protocol.HandshakeV10;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

/**
 * One authenticated connection to a backend server. Its lifecycle fields are guarded by the owning
 * pool's lock; its packets go to whichever {@link BackendListener} is installed.
 */
public final class BackendConnection {
  static final int IDLE = 0;
  static final int IN_USE = 1;

  /** Busy with one of the pool's own commands (reset, ping). */
  static final int MAINTENANCE = 2;

  static final int DEAD = 3;

  final BackendPool pool;
  final Channel channel;
  final HandshakeV10 greeting;
  final PoolKey key;
  final int capabilities;
  final long createdNanos;

  /** The server's wait_timeout for this session in seconds, or -1 when it could not be read. */
  final long serverWaitTimeoutSeconds;

  // Guarded by the pool's lock (PoolCore).
  /** Set by {@link LifetimePolicy}; recomputed when pool.maxLifetime is reloaded. */
  long retireAtNanos = Long.MAX_VALUE;

  /** This connection's share of the lifetime jitter, from 0 to 2.5%. */
  double lifetimeJitter;

  /** Since when it has been unused; a validation ping does not count as use. */
  long idleSinceNanos;

  long validatedNanos;
  int state = MAINTENANCE;

  /**
   * It has been lent to a client at least once. One that has not was opened by the pool on its own
   * (warm-up, minIdle) with the key of the last borrower or a guess, and gives way at once to a
   * waiter it does not fit (Refill). Guarded by the pool's lock.
   */
  boolean everLent;

  /**
   * Its server is no longer the writer, or its address no longer what the host name resolves to:
   * closed when idle or given back, never lent again (see {@link WriterWatch}).
   */
  volatile boolean retiring;

  /**
   * A KILL for this connection's thread is on its way: once discarded, the connection keeps its
   * place under maxConnections until the KILL is done and the server closed it, and is not cut off
   * before (see {@link Hangup}). Written under the pool's lock.
   */
  volatile boolean killPending;

  /** What the server session holds; see {@link ServerSession} for who writes it when. */
  final ServerSession session = new ServerSession();

  /**
   * When bytes last moved on the socket; null for channels the pool did not connect itself (test
   * stubs).
   */
  final SocketActivity activity;

  /** Why the pool closed this connection under its borrower, for the borrower's error; or null. */
  volatile String closeReason;

  private volatile BackendListener listener;

  BackendConnection(
      BackendPool pool,
      Channel channel,
      HandshakeV10 greeting,
      PoolKey key,
      int capabilities,
      long serverWaitTimeoutSeconds) {
    this.pool = pool;
    this.channel = channel;
    this.greeting = greeting;
    this.key = key;
    this.capabilities = capabilities;
    this.createdNanos = System.nanoTime();
    this.serverWaitTimeoutSeconds = serverWaitTimeoutSeconds;
    this.idleSinceNanos = createdNanos;
    this.validatedNanos = createdNanos;
    this.activity = channel.pipeline().get(SocketActivity.class);
  }

  /** The server's thread id for this connection, as KILL wants it. */
  public long threadId() {
    return greeting.connectionId();
  }

  /** Whether the server is MariaDB (by its greeting), which names GTIDs its own way. */
  public boolean mariaDb() {
    return greeting.serverVersion().contains("MariaDB");
  }

  /** The account, flags and collation this connection was opened with. */
  public PoolKey key() {
    return key;
  }

  /** The capability flags this connection was opened with. */
  public int capabilities() {
    return capabilities;
  }

  public Channel channel() {
    return channel;
  }

  public BackendPool pool() {
    return pool;
  }

  /** What the server session holds: its default database and carried variables. */
  public ServerSession session() {
    return session;
  }

  /**
   * Why the pool closed this connection while it was lent (e.g. the server stopped answering), or
   * null when the server or the network closed it.
   */
  public String closeReason() {
    return closeReason;
  }

  /**
   * Whether the pool retires this connection (its server is no longer the writer, or the host name
   * left its address): a session holding it should move when it can.
   */
  public boolean retiring() {
    return retiring;
  }

  /** Installs who receives this connection's packets from now on. */
  public void listener(BackendListener listener) {
    this.listener = listener;
  }

  BackendListener listener() {
    return listener;
  }

  @Override
  public String toString() {
    return pool.name() + "#" + threadId();
  }

  /**
   * The last handler of a backend channel: hands each event to the current listener on the
   * listener's thread, so a client session and its backend may live on different event loops
   * without sharing mutable state.
   */
  static final class Handler extends ChannelInboundHandlerAdapter {
    private final BackendConnection connection;

    Handler(BackendConnection connection) {
      this.connection = connection;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      BackendListener l = connection.listener;
      if (l == null) {
        ReferenceCountUtil.release(msg);
        return;
      }
      ByteBuf packet = (ByteBuf) msg;
      if (l.executor().inEventLoop()) {
        l.onPacket(connection, packet);
      } else {
        try {
          l.executor().execute(() -> l.onPacket(connection, packet));
        } catch (RuntimeException rejected) {
          packet.release();
          throw rejected;
        }
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      BackendListener l = connection.listener;
      if (l != null) {
        if (l.executor().inEventLoop()) {
          l.onReadComplete(connection);
        } else {
          l.executor().execute(() -> l.onReadComplete(connection));
        }
      }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      BackendListener l = connection.listener;
      if (l != null) {
        if (l.executor().inEventLoop()) {
          l.onWritabilityChanged(connection);
        } else {
          l.executor().execute(() -> l.onWritabilityChanged(connection));
        }
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      connection.session.statements().clear();
      connection.pool.onChannelClosed(connection);
      BackendListener l = connection.listener;
      if (l != null) {
        if (l.executor().inEventLoop()) {
          l.onClosed(connection);
        } else {
          l.executor().execute(() -> l.onClosed(connection));
        }
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      Buffers.FAILURES.recordIfOutOfMemory(cause);
      connection.pool.log().debug("backend {} failed", connection, cause);
      ctx.close();
    }
  }
}
