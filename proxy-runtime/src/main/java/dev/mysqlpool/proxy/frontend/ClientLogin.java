package dev.mysqlpool.proxy.frontend;

import dev.mysqlpool.proxy.auth.ClientAuthenticator;
import dev.mysqlpool.proxy.auth.ClientAuthenticator.Step;
import dev.mysqlpool.proxy.auth.Scrambles;
import dev.mysqlpool.proxy.codec.MySQLPacketDecoder;
import dev.mysqlpool.proxy.codec.PacketTooLargeException;
import dev.mysqlpool.proxy.config.ProxyConfig;
import dev.mysqlpool.proxy.config.ProxyConfig.User;
import dev.mysqlpool.proxy.net.Buffers;
import dev.mysqlpool.proxy.protocol.Capabilities;
import dev.mysqlpool.proxy.protocol.ErrorCodes;
import dev.mysqlpool.proxy.protocol.HandshakeResponse41;
import dev.mysqlpool.proxy.protocol.HandshakeV10;
import dev.mysqlpool.proxy.protocol.Packets;
import dev.mysqlpool.proxy.protocol.ServerStatus;
import dev.mysqlpool.proxy.tls.KeyMaterial;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connection phase of one client: admission against {@code frontend.maxClientConnections} and
 * the limits on logins in progress, the greeting (with the backend's own server version), TLS after
 * an SSLRequest, the handshake response, the authentication exchange ({@link ClientAuthenticator}:
 * plugin switch, caching_sha2_password's steps) and {@code frontend.handshakeTimeout}. Once the
 * client is authenticated it answers OK and replaces itself in the pipeline with the client's
 * {@link ClientSession}, which handles commands from then on.
 *
 * <p>Until then the client is a stranger: packets above {@link #MAX_LOGIN_PACKET} bytes close the
 * connection as soon as their header arrives, and errors name no backend, host or server message.
 *
 * <p>Threading: the client channel's event loop. Every packet it reads is released here.
 */
final class ClientLogin extends ChannelInboundHandlerAdapter implements ClientConnection {
  private static final Logger log = LoggerFactory.getLogger(ClientLogin.class);

  /**
   * The largest packet a client may send before it has logged in. A handshake response with
   * connection attributes takes a few hundred bytes, an RSA-encrypted password 512 at most.
   */
  static final int MAX_LOGIN_PACKET = 8 * 1024;

  /** The payload of an SSLRequest: a handshake response cut after its 23-byte filler. */
  private static final int SSL_REQUEST_LENGTH = 32;

  private enum Phase {
    GREETING,
    RESPONSE,
    AUTH,
    DONE
  }

  private final Frontend frontend;
  private final long id;
  private Channel client;
  private String remoteHost = "unknown";
  private Object pendingKey;
  private Phase phase = Phase.GREETING;
  private ClientAuthenticator authenticator;
  private ProxyConfig config;
  private HandshakeV10 greeting;
  private ScheduledFuture<?> handshakeTimer;
  private HandshakeResponse41 response;
  private SslHandler tls;

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
    config = frontend.config();
    if (!frontend.admit(this)) {
      refuse(
          "client_limit",
          "Too many connections (frontend.maxClientConnections="
              + config.frontend().maxClientConnections()
              + " reached on this proxy)");
      return;
    }
    Object key = PendingLogins.key(client.remoteAddress());
    switch (frontend.pendingLogins.tryAcquire(
        key,
        config.frontend().maxPendingLogins(),
        config.frontend().maxPendingLoginsPerAddress())) {
      case TOTAL_LIMIT -> {
        refuse(
            "pending_login_limit",
            "Too many connections still logging in (frontend.maxPendingLogins="
                + config.frontend().maxPendingLogins()
                + " reached on this proxy)");
        return;
      }
      case ADDRESS_LIMIT -> {
        refuse(
            "pending_login_limit",
            "Too many connections still logging in from "
                + remoteHost
                + " (frontend.maxPendingLoginsPerAddress="
                + config.frontend().maxPendingLoginsPerAddress()
                + ")");
        return;
      }
      case ADMITTED -> pendingKey = key;
    }
    long handshakeMillis = config.frontend().handshakeTimeout().toMillis();
    handshakeTimer =
        client
            .eventLoop()
            .schedule(this::handshakeTimedOut, handshakeMillis, TimeUnit.MILLISECONDS);
    frontend.greeting(client.eventLoop()).addListener(this::greet);
  }

  /** Error 1040 before any greeting, then close: the client is over a limit. */
  private void refuse(String kind, String message) {
    frontend.metrics.error(kind);
    phase = Phase.DONE;
    client
        .writeAndFlush(
            Packets.err(client.alloc(), 0, ErrorCodes.TOO_MANY_CONNECTIONS, "08004", message))
        .addListener(ChannelFutureListener.CLOSE);
  }

  private void handshakeTimedOut() {
    if (phase != Phase.DONE) {
      log.info(
          "client #{} from {} did not finish logging in within {}ms (frontend.handshakeTimeout);"
              + " closing",
          id,
          remoteHost,
          config.frontend().handshakeTimeout().toMillis());
      frontend.metrics.error("handshake_timeout");
      close();
    }
  }

  private void greet(Future<? super HandshakeV10> f) {
    if (phase == Phase.DONE) {
      return;
    }
    if (!f.isSuccess()) {
      // The cause names the backend and what it said: for the log, not for a stranger.
      log.warn(
          "client #{} from {}: no backend greeting to answer with: {}",
          id,
          remoteHost,
          f.cause().toString());
      frontend.metrics.error("backend_unavailable");
      sendErrorAndClose(
          0,
          ErrorCodes.POOL_TIMEOUT,
          "HY000",
          "mysqlpool: the database is not reachable right now; try again later");
      return;
    }
    HandshakeV10 server = (HandshakeV10) f.getNow();
    byte[] seed = Scrambles.newSeed(frontend.random);
    authenticator = new ClientAuthenticator(seed, frontend.sha2);
    int capabilities =
        (server.capabilities() & Capabilities.PROXY_SUPPORTED)
            | (frontend.tls() != null ? Capabilities.CLIENT_SSL : 0);
    greeting =
        new HandshakeV10(
            server.serverVersion(),
            id,
            seed,
            capabilities,
            server.collation(),
            ServerStatus.AUTOCOMMIT,
            config.frontend().defaultAuthPlugin().pluginName(),
            server.mariadbCapabilities() & Capabilities.MARIADB_PROXY_SUPPORTED);
    phase = Phase.RESPONSE;
    client.writeAndFlush(greeting.write(client.alloc()), client.voidPromise());
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf packet = (ByteBuf) msg;
    try {
      if (phase == Phase.RESPONSE) {
        onResponse(packet);
      } else if (phase == Phase.AUTH) {
        step(Packets.sequenceId(packet) + 1, authenticator.next(Packets.payload(packet)));
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
    if (isSslRequest(packet)) {
      startTls();
      return;
    }
    if (frontend.tls() != null && frontend.tls().required() && tls == null) {
      frontend.metrics.error("insecure_transport");
      log.info(
          "client #{} from {}: refused without TLS (frontend.tls.mode required)", id, remoteHost);
      sendErrorAndClose(
          seq,
          ErrorCodes.SECURE_TRANSPORT_REQUIRED,
          "HY000",
          ErrorCodes.SECURE_TRANSPORT_REQUIRED_MESSAGE);
      return;
    }
    try {
      response = HandshakeResponse41.parse(packet);
    } catch (RuntimeException e) {
      frontend.metrics.error("protocol_error");
      sendErrorAndClose(
          seq, ErrorCodes.HANDSHAKE_ERROR, "08S01", "Bad handshake: " + e.getMessage());
      return;
    }
    phase = Phase.AUTH;
    step(
        seq,
        authenticator.start(
            config, response.user(), answeredPlugin(response), response.authResponse()));
  }

  /** The plugin the client's first answer is for. */
  private String answeredPlugin(HandshakeResponse41 r) {
    if (r.authPlugin() != null) {
      return r.authPlugin();
    }
    // Without a name, a client that knows plugins answered the greeting's; an older one can only
    // answer with the 4.1 scramble.
    return (r.capabilities() & Capabilities.CLIENT_PLUGIN_AUTH) != 0
        ? greeting.authPlugin()
        : "mysql_native_password";
  }

  private boolean isSslRequest(ByteBuf packet) {
    return Packets.payloadLength(packet) == SSL_REQUEST_LENGTH
        && (packet.getIntLE(packet.readerIndex() + Packets.HEADER_SIZE) & Capabilities.CLIENT_SSL)
            != 0;
  }

  /**
   * The client sent an SSLRequest: TLS goes in front of the packet decoder, and the handshake
   * response follows encrypted.
   */
  private void startTls() {
    if (frontend.tls() == null || tls != null) {
      frontend.metrics.error("protocol_error");
      sendErrorAndClose(
          2,
          ErrorCodes.HANDSHAKE_ERROR,
          "08S01",
          tls != null ? "Bad handshake: a second SSLRequest" : "Bad handshake: TLS is disabled");
      return;
    }
    tls = frontend.tls().newHandler(client.alloc());
    // The client does not wait for an answer to its SSLRequest: the start of its TLS handshake may
    // already sit in the decoder, and belongs to the TLS handler now.
    ByteBuf early = client.pipeline().get(MySQLPacketDecoder.class).takeBuffered();
    client.pipeline().addFirst("tls", tls);
    authenticator.secureTransport();
    tls.handshakeFuture()
        .addListener(
            f -> {
              if (!f.isSuccess() && phase != Phase.DONE) {
                log.info(
                    "client #{} from {}: TLS handshake failed: {}",
                    id,
                    remoteHost,
                    f.cause().toString());
                frontend.metrics.error("tls_handshake");
                close();
              }
            });
    if (early != null) {
      // Into the TLS handler, at the head of the pipeline; only handshake records can be there
      // (the client has not had the server's hello yet), so nothing reaches the decoder again.
      client.pipeline().fireChannelRead(early);
    }
  }

  /** Sends what the authenticator asks for: the next challenge, or the outcome. */
  private void step(int seq, Step step) {
    byte[] message = authenticator.message();
    switch (step) {
      case SEND_AND_WAIT ->
          client.writeAndFlush(Packets.packet(client.alloc(), seq, message), client.voidPromise());
      case ACCEPTED -> {
        if (message != null) {
          client.write(Packets.packet(client.alloc(), seq++, message), client.voidPromise());
        }
        loggedIn(seq);
      }
      case DENIED -> {
        frontend.failedLogin(id, remoteHost, response.user());
        sendErrorAndClose(
            seq,
            ErrorCodes.ACCESS_DENIED,
            "28000",
            accessDenied(response.user(), remoteHost, authenticator.usedPassword()));
      }
    }
  }

  private void loggedIn(int seq) {
    User user = authenticator.user();
    phase = Phase.DONE;
    handshakeTimer.cancel(false);
    releasePendingLogin();
    int capabilities = response.capabilities() & greeting.capabilities();
    frontend.metrics.login(authenticator.plugin().pluginName(), authenticator.path(), tls != null);
    log.debug(
        "client #{} logged in as '{}' from {}{}",
        id,
        user.name(),
        remoteHost,
        tls != null ? " over " + tls.engine().getSession().getProtocol() : "");
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
    client.pipeline().get(MySQLPacketDecoder.class).maxPayload(Integer.MAX_VALUE);
    client.writeAndFlush(
        Packets.ok(client.alloc(), seq, ServerStatus.AUTOCOMMIT, capabilities, certificateProof()),
        client.voidPromise());
    // Commands the client pipelined behind its login reach the session from here on.
    client.pipeline().replace(this, "session", session);
  }

  /** MariaDB's proof that this proxy knows the password and presented this certificate. */
  private byte[] certificateProof() {
    if (tls == null) {
      return null;
    }
    try {
      X509Certificate presented =
          (X509Certificate) tls.engine().getSession().getLocalCertificates()[0];
      return authenticator.certificateProof(KeyMaterial.fingerprint(presented));
    } catch (RuntimeException e) {
      log.debug("client #{}: no certificate to prove: {}", id, e.toString());
      return null;
    }
  }

  /** The text of error 1045, as a server words it. */
  static String accessDenied(String userName, String host, boolean usedPassword) {
    return "Access denied for user '"
        + userName
        + "'@'"
        + host
        + "' (using password: "
        + (usedPassword ? "YES" : "NO")
        + ")";
  }

  private void sendErrorAndClose(int seq, int code, String state, String message) {
    phase = Phase.DONE;
    client
        .writeAndFlush(Packets.err(client.alloc(), seq, code, state, message))
        .addListener(f -> close());
  }

  private void protocolError(Throwable cause) {
    if (phase == Phase.DONE) {
      close();
      return;
    }
    Throwable root = cause.getCause() instanceof PacketTooLargeException ? cause.getCause() : cause;
    if (root instanceof PacketTooLargeException) {
      frontend.metrics.error("login_packet_too_large");
      log.info("client #{} from {}: closing before login: {}", id, remoteHost, root.getMessage());
      // Read nothing more: what the client still sends stays in the kernel, not in the proxy.
      client.config().setAutoRead(false);
      sendErrorAndClose(
          2,
          ErrorCodes.PACKET_TOO_LARGE,
          "08S01",
          "Got a packet bigger than the " + MAX_LOGIN_PACKET + " bytes allowed before login");
      return;
    }
    frontend.metrics.error("protocol_error");
    log.info(
        "client #{} from {}: closing after a protocol error: {}", id, remoteHost, cause.toString());
    close();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    Buffers.FAILURES.recordIfOutOfMemory(cause);
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

  private void releasePendingLogin() {
    if (pendingKey != null) {
      frontend.pendingLogins.release(pendingKey);
      pendingKey = null;
    }
  }

  private void close() {
    if (client.pipeline().get(ClientLogin.class) != this) {
      return; // logged in: the session owns the connection now
    }
    phase = Phase.DONE;
    if (handshakeTimer != null) {
      handshakeTimer.cancel(false);
    }
    releasePendingLogin();
    frontend.leave(this);
    if (client.isActive()) {
      client.close();
    }
  }
}
