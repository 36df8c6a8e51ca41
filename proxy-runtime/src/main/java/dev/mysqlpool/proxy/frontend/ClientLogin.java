package dev.mysqlpool.proxy.frontend;

import dev.mysqlpool.proxy.auth.ClientAuthenticator;
import dev.mysqlpool.proxy.auth.Scrambles;
import dev.mysqlpool.proxy.config.ProxyConfig.User;
import dev.mysqlpool.proxy.protocol.Capabilities;
import dev.mysqlpool.proxy.protocol.ErrorCodes;
import dev.mysqlpool.proxy.protocol.HandshakeResponse41;
import dev.mysqlpool.proxy.protocol.HandshakeV10;
import dev.mysqlpool.proxy.protocol.Packets;
import dev.mysqlpool.proxy.protocol.ServerStatus;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connection phase of one client: admission against {@code frontend.maxClientConnections}, the
 * greeting (with the backend's own server version), the handshake response, an AuthSwitchRequest
 * when the client answered with another plugin, and {@code frontend.handshakeTimeout}. Once the
 * client is authenticated it answers OK and replaces itself in the pipeline with the client's
 * {@link ClientSession}, which handles commands from then on.
 *
 * <p>Threading: the client channel's event loop. Every packet it reads is released here.
 */
final class ClientLogin extends ChannelInboundHandlerAdapter implements ClientConnection {
  private static final Logger log = LoggerFactory.getLogger(ClientLogin.class);

  private enum Phase {
    GREETING,
    RESPONSE,
    AUTH_SWITCH,
    DONE
  }

  private final Frontend frontend;
  private final long id;
  private Channel client;
  private String remoteHost = "unknown";
  private Phase phase = Phase.GREETING;
  private ClientAuthenticator authenticator;
  private HandshakeV10 greeting;
  private ScheduledFuture<?> handshakeTimer;
  private HandshakeResponse41 response;

  ClientLogin(Frontend frontend, long id) {
    this.frontend = frontend;
    this.id = id;
  }

  @Override
  public long id() {
    return id;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    client = ctx.channel();
    if (client.remoteAddress() instanceof InetSocketAddress a) {
      remoteHost = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
    }
    if (!frontend.admit(this)) {
      frontend.metrics.error("client_limit");
      phase = Phase.DONE;
      client
          .writeAndFlush(
              Packets.err(
                  ctx.alloc(),
                  0,
                  ErrorCodes.TOO_MANY_CONNECTIONS,
                  "08004",
                  "Too many connections (frontend.maxClientConnections="
                      + frontend.config().frontend().maxClientConnections()
                      + " reached on this proxy)"))
          .addListener(ChannelFutureListener.CLOSE);
      return;
    }
    long handshakeMillis = frontend.config().frontend().handshakeTimeout().toMillis();
    handshakeTimer =
        client
            .eventLoop()
            .schedule(this::handshakeTimedOut, handshakeMillis, TimeUnit.MILLISECONDS);
    frontend.greeting(client.eventLoop()).addListener(this::greet);
  }

  private void handshakeTimedOut() {
    if (phase != Phase.DONE) {
      log.info(
          "client #{} from {} did not finish logging in within {}ms (frontend.handshakeTimeout);"
              + " closing",
          id,
          remoteHost,
          frontend.config().frontend().handshakeTimeout().toMillis());
      frontend.metrics.error("handshake_timeout");
      close();
    }
  }

  private void greet(Future<? super HandshakeV10> f) {
    if (phase == Phase.DONE) {
      return;
    }
    if (!f.isSuccess()) {
      frontend.metrics.error("backend_unavailable");
      sendErrorAndClose(
          0,
          ErrorCodes.POOL_TIMEOUT,
          "HY000",
          "mysqlpool: cannot greet the client: " + f.cause().getMessage());
      return;
    }
    HandshakeV10 server = (HandshakeV10) f.getNow();
    byte[] seed = Scrambles.newSeed(frontend.random);
    authenticator = new ClientAuthenticator(seed);
    greeting =
        new HandshakeV10(
            server.serverVersion(),
            id,
            seed,
            server.capabilities() & Capabilities.PROXY_SUPPORTED,
            server.collation(),
            ServerStatus.AUTOCOMMIT,
            ClientAuthenticator.PLUGIN);
    phase = Phase.RESPONSE;
    client.writeAndFlush(greeting.write(client.alloc()), client.voidPromise());
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf packet = (ByteBuf) msg;
    try {
      if (phase == Phase.RESPONSE) {
        onResponse(packet);
      } else if (phase == Phase.AUTH_SWITCH) {
        onAuthSwitchReply(packet);
      }
      // Anything else (a packet before the greeting, or after failing) is dropped.
    } catch (RuntimeException e) {
      protocolError(e);
    } finally {
      packet.release();
    }
  }

  private void onResponse(ByteBuf packet) {
    int seq = Packets.sequenceId(packet) + 1;
    try {
      response = HandshakeResponse41.parse(packet);
    } catch (RuntimeException e) {
      frontend.metrics.error("protocol_error");
      sendErrorAndClose(
          seq, ErrorCodes.HANDSHAKE_ERROR, "08S01", "Bad handshake: " + e.getMessage());
      return;
    }
    if (authenticator.needsSwitch(response.authPlugin())) {
      phase = Phase.AUTH_SWITCH;
      client.writeAndFlush(authenticator.switchRequest(client.alloc(), seq), client.voidPromise());
      return;
    }
    finish(seq, response.authResponse());
  }

  private void onAuthSwitchReply(ByteBuf packet) {
    finish(Packets.sequenceId(packet) + 1, Packets.payload(packet));
  }

  private void finish(int seq, byte[] reply) {
    User user = authenticator.verify(frontend.config(), response.user(), reply);
    if (user == null) {
      frontend.metrics.error("auth_failed");
      log.info("client #{} from {}: access denied for user '{}'", id, remoteHost, response.user());
      sendErrorAndClose(
          seq, ErrorCodes.ACCESS_DENIED, "28000", accessDenied(response.user(), remoteHost, reply));
      return;
    }
    phase = Phase.DONE;
    handshakeTimer.cancel(false);
    int capabilities = response.capabilities() & greeting.capabilities();
    log.debug("client #{} logged in as '{}' from {}", id, user.name(), remoteHost);
    ClientSession session =
        new ClientSession(
            frontend,
            id,
            client,
            remoteHost,
            authenticator,
            user,
            capabilities,
            response.collation(),
            response.database());
    frontend.loggedIn(session);
    client.writeAndFlush(
        Packets.ok(client.alloc(), seq, ServerStatus.AUTOCOMMIT, capabilities),
        client.voidPromise());
    // Commands the client pipelined behind its login reach the session from here on.
    client.pipeline().replace(this, "session", session);
  }

  /** The text of error 1045, as a server words it. */
  static String accessDenied(String userName, String host, byte[] reply) {
    return "Access denied for user '"
        + userName
        + "'@'"
        + host
        + "' (using password: "
        + (reply.length > 0 ? "YES" : "NO")
        + ")";
  }

  private void sendErrorAndClose(int seq, int code, String state, String message) {
    phase = Phase.DONE;
    client
        .writeAndFlush(Packets.err(client.alloc(), seq, code, state, message))
        .addListener(f -> close());
  }

  private void protocolError(Throwable cause) {
    if (phase != Phase.DONE) {
      frontend.metrics.error("protocol_error");
      log.info(
          "client #{} from {}: closing after a protocol error: {}",
          id,
          remoteHost,
          cause.toString());
    }
    close();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    protocolError(cause);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    close();
  }

  @Override
  public void drain() {
    forceClose();
  }

  @Override
  public void forceClose() {
    client.eventLoop().execute(this::close);
  }

  private void close() {
    if (client.pipeline().get(ClientLogin.class) != this) {
      return; // logged in: the session owns the connection now
    }
    phase = Phase.DONE;
    if (handshakeTimer != null) {
      handshakeTimer.cancel(false);
    }
    frontend.leave(this);
    if (client.isActive()) {
      client.close();
    }
  }
}
