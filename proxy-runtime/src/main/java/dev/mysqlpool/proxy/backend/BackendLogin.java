package dev.mysqlpool.proxy.backend;

import dev.mysqlpool.proxy.auth.CachingSha2Password;
import dev.mysqlpool.proxy.auth.NativePassword;
import dev.mysqlpool.proxy.codec.MySQLPacketDecoder;
import dev.mysqlpool.proxy.net.Buffers;
import dev.mysqlpool.proxy.protocol.Capabilities;
import dev.mysqlpool.proxy.protocol.Commands;
import dev.mysqlpool.proxy.protocol.HandshakeResponse41;
import dev.mysqlpool.proxy.protocol.HandshakeV10;
import dev.mysqlpool.proxy.protocol.Packets;
import dev.mysqlpool.proxy.tls.ClientTls;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * Drives the connection phase of one backend connection: HandshakeV10, an SSLRequest and the TLS
 * handshake when backends[].tls asks for it and the server offers it, HandshakeResponse41 with the
 * client's behaviour-changing capability flags, mysql_native_password or caching_sha2_password
 * (fast path, or full authentication: the password over TLS, else RSA-encrypted with the pinned
 * key, or with a key fetched from the server only when allowed), AuthSwitchRequest; then, for a
 * pooled connection, turns state tracking on (transaction mode) and reads the session's
 * wait_timeout and defaults. Replaced by the connection's own handler once logged in.
 */
final class BackendLogin extends ChannelInboundHandlerAdapter {
  static final String NATIVE = "mysql_native_password";
  static final String CACHING_SHA2 = "caching_sha2_password";
  private static final int MAX_PACKET = 1 << 24;

  private final BackendConnector connector;
  private final BackendPool pool;
  private final PoolKey key;
  private final Promise<BackendConnection> promise;
  private final boolean sideConnection;
  private HandshakeV10 greeting;
  private int capabilities;
  private String plugin;
  private byte[] seed;
  private boolean publicKeyRequested;

  /** The server sent something: it is there, whatever the outcome of the login. */
  private boolean serverAnswered;

  /** An SSLRequest was sent: everything after it is encrypted. */
  private boolean encrypted;

  BackendLogin(
      BackendConnector connector,
      BackendPool pool,
      PoolKey key,
      Promise<BackendConnection> promise,
      boolean sideConnection) {
    this.connector = connector;
    this.pool = pool;
    this.key = key;
    this.promise = promise;
    this.sideConnection = sideConnection;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf packet = (ByteBuf) msg;
    serverAnswered = true;
    try {
      if (greeting == null) {
        onGreeting(ctx, packet);
      } else {
        onAuthReply(ctx, packet);
      }
    } catch (RuntimeException e) {
      failed(
          new BackendException(
              "login to backend " + connector.where() + " failed: " + e.getMessage(), e));
      ctx.close();
    } finally {
      packet.release();
    }
  }

  private void onGreeting(ChannelHandlerContext ctx, ByteBuf packet) {
    if (Packets.firstByte(packet) == Packets.ERR) {
      fail(
          ctx,
          "backend "
              + connector.where()
              + " refused the connection: "
              + Packets.describeError(packet));
      return;
    }
    greeting = HandshakeV10.parse(packet);
    if ((greeting.capabilities() & Capabilities.CLIENT_PROTOCOL_41) == 0) {
      fail(ctx, "backend " + connector.where() + " does not speak protocol 4.1");
      return;
    }
    capabilities =
        (key.capabilities() & Capabilities.BACKEND_PASSTHROUGH & greeting.capabilities())
            | (Capabilities.BACKEND_REQUIRED & greeting.capabilities());
    seed = greeting.seed();
    plugin = CACHING_SHA2.equals(greeting.authPlugin()) ? CACHING_SHA2 : NATIVE;
    ClientTls tls = connector.tls();
    boolean offered = (greeting.capabilities() & Capabilities.CLIENT_SSL) != 0;
    if (tls != null && offered) {
      startTls(ctx, tls);
      return;
    }
    if (tls != null && tls.mode().requiresTls()) {
      fail(
          ctx,
          "backend "
              + connector.where()
              + " does not offer TLS (no CLIENT_SSL in its greeting), and backends["
              + connector.backend().name()
              + "].tls.mode is "
              + tls.mode().configName()
              + "; give the server a certificate (ssl_cert, ssl_key), or set tls.mode to preferred");
      return;
    }
    sendHandshakeResponse(ctx, 1);
  }

  /**
   * Sends the SSLRequest (the handshake response cut after its filler) in clear, then puts TLS in
   * front of the decoder; the real handshake response follows once the TLS handshake is done.
   */
  private void startTls(ChannelHandlerContext ctx, ClientTls tls) {
    encrypted = true;
    capabilities |= Capabilities.CLIENT_SSL;
    ByteBuf request = Packets.start(ctx.alloc(), 32, 1);
    request.writeIntLE(capabilities);
    request.writeIntLE(MAX_PACKET);
    request.writeByte(key.collation());
    request.writeZero(23);
    // Flushed into the channel's outbound buffer before the TLS handler exists: it leaves in clear.
    ctx.writeAndFlush(Packets.finish(request), ctx.voidPromise());
    SslHandler handler = tls.newHandler(ctx.alloc());
    ctx.pipeline().addFirst("tls", handler);
    handler
        .handshakeFuture()
        .addListener(
            f -> {
              if (f.isSuccess()) {
                sendHandshakeResponse(ctx, 2);
              } else {
                failed(tlsFailure(tls, f.cause()));
                ctx.close();
              }
            });
  }

  private BackendException tlsFailure(ClientTls tls, Throwable cause) {
    return new BackendException(
        "TLS to backend "
            + connector.where()
            + " failed (tls.mode "
            + tls.mode().configName()
            + (tls.mode().verifiesCertificate() ? ", against " + tls.trustSource() : "")
            + "): "
            + BackendConnector.rootMessage(cause),
        cause);
  }

  private void sendHandshakeResponse(ChannelHandlerContext ctx, int sequenceId) {
    HandshakeResponse41 reply =
        new HandshakeResponse41(
            capabilities,
            MAX_PACKET,
            key.collation(),
            key.user().backendUser(),
            scramble(plugin, seed),
            null,
            plugin,
            // COM_STMT_BULK_EXECUTE needs it on the connection; it changes no packet layout, so
            // every connection to a MariaDB server has it, whatever its clients asked for.
            greeting.mariadb()
                ? greeting.mariadbCapabilities() & Capabilities.MARIADB_PROXY_SUPPORTED
                : 0);
    ctx.writeAndFlush(reply.write(ctx.alloc(), sequenceId), ctx.voidPromise());
  }

  private void onAuthReply(ChannelHandlerContext ctx, ByteBuf packet) {
    int header = Packets.firstByte(packet);
    int nextSeq = Packets.sequenceId(packet) + 1;
    int payload = packet.readerIndex() + Packets.HEADER_SIZE;
    int length = Packets.payloadLength(packet);
    switch (header) {
      case Packets.OK:
        loggedIn(ctx);
        return;
      case Packets.ERR:
        fail(
            ctx,
            "backend "
                + connector.where()
                + " rejected user '"
                + key.user().backendUser()
                + "': "
                + Packets.describeError(packet)
                + insecureTransportHint(packet));
        return;
      case Packets.EOF:
        {
          // AuthSwitchRequest: plugin name, then new auth data.
          ByteBuf p = packet.duplicate();
          p.readerIndex(payload + 1);
          plugin = Packets.readStringNul(p);
          byte[] data = Packets.readBytesNul(p);
          seed = data;
          if (!NATIVE.equals(plugin) && !CACHING_SHA2.equals(plugin)) {
            fail(
                ctx,
                "backend "
                    + connector.where()
                    + " asks for auth plugin '"
                    + plugin
                    + "' for user '"
                    + key.user().backendUser()
                    + "'; the proxy supports mysql_native_password and caching_sha2_password");
            return;
          }
          send(ctx, scramble(plugin, seed), nextSeq);
          return;
        }
      case 0x01:
        {
          int status = length > 1 ? packet.getUnsignedByte(payload + 1) : -1;
          if (CACHING_SHA2.equals(plugin)
              && status == CachingSha2Password.FAST_AUTH_SUCCESS
              && length == 2) {
            return; // the OK packet follows
          }
          if (CACHING_SHA2.equals(plugin)
              && status == CachingSha2Password.PERFORM_FULL_AUTHENTICATION
              && length == 2) {
            fullAuthentication(ctx, nextSeq);
            return;
          }
          if (CACHING_SHA2.equals(plugin) && publicKeyRequested) {
            String pem = packet.toString(payload + 1, length - 1, StandardCharsets.US_ASCII);
            byte[] password = password();
            try {
              send(ctx, CachingSha2Password.encryptPassword(password, seed, pem), nextSeq);
            } finally {
              Arrays.fill(password, (byte) 0);
            }
            return;
          }
          fail(ctx, "backend " + connector.where() + " sent unexpected auth data during login");
          return;
        }
      default:
        fail(
            ctx,
            "backend "
                + connector.where()
                + " sent unexpected packet 0x"
                + Integer.toHexString(header)
                + " during login");
    }
  }

  /**
   * caching_sha2_password without a cached hash on the server: the password itself must go over, so
   * never to a key an interceptor could have handed out (unless the user allowed exactly that).
   */
  private void fullAuthentication(ChannelHandlerContext ctx, int seq) {
    byte[] password = password();
    try {
      if (encrypted) {
        send(ctx, Arrays.copyOf(password, password.length + 1), seq);
      } else if (connector.serverPublicKey() != null) {
        send(
            ctx,
            CachingSha2Password.encryptPassword(password, seed, connector.serverPublicKey()),
            seq);
      } else if (connector.backend().allowPublicKeyRetrieval()) {
        publicKeyRequested = true;
        send(ctx, new byte[] {CachingSha2Password.REQUEST_PUBLIC_KEY}, seq);
      } else {
        String b = "backends[" + connector.backend().name() + "]";
        fail(
            ctx,
            "backend "
                + connector.where()
                + " needs the password of user '"
                + key.user().backendUser()
                + "' (caching_sha2_password full authentication) over a connection without TLS;"
                + " the proxy sends it only encrypted. Fix one of: use TLS ("
                + b
                + ".tls.mode preferred or stronger, with a server that offers TLS); pin the"
                + " server's RSA key ("
                + b
                + ".serverPublicKeyFile); or let the proxy fetch the key from the server ("
                + b
                + ".allowPublicKeyRetrieval: true, which trusts whoever answers)");
      }
    } finally {
      Arrays.fill(password, (byte) 0);
    }
  }

  /** A server that requires TLS says so in its ERR; point at the setting that fixes it. */
  private String insecureTransportHint(ByteBuf err) {
    if (encrypted || !Packets.describeError(err).contains("insecure transport")) {
      return "";
    }
    return "; the server requires TLS: set backends["
        + connector.backend().name()
        + "].tls.mode to preferred, required, verify-ca or verify-identity";
  }

  private byte[] password() {
    String password = key.user().backendPassword();
    return password == null ? new byte[0] : password.getBytes(StandardCharsets.UTF_8);
  }

  private void send(ChannelHandlerContext ctx, byte[] data, int seq) {
    ByteBuf buf = Packets.start(ctx.alloc(), data.length, seq);
    buf.writeBytes(data);
    ctx.writeAndFlush(Packets.finish(buf), ctx.voidPromise());
  }

  private byte[] scramble(String plugin, byte[] seed) {
    byte[] pw = password();
    return CACHING_SHA2.equals(plugin)
        ? CachingSha2Password.scramble(pw, seed)
        : NativePassword.scramble(pw, seed);
  }

  /**
   * Fails the login. A failure after the server sent anything (a greeting, an error such as 1040 or
   * an account lock) says the server is there, which {@link StallProbe} needs to tell apart.
   */
  private void failed(Throwable cause) {
    if (serverAnswered && cause instanceof BackendException e) {
      e.markServerAnswered();
    }
    promise.tryFailure(cause);
  }

  private void fail(ChannelHandlerContext ctx, String message) {
    failed(new BackendException(message));
    ctx.close();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    failed(
        new BackendException(
            "backend " + connector.where() + " closed the connection during login"));
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    Buffers.FAILURES.recordIfOutOfMemory(cause);
    SslHandler tls = ctx.pipeline().get(SslHandler.class);
    if (tls != null && !tls.handshakeFuture().isSuccess()) {
      failed(tlsFailure(connector.tls(), cause));
      ctx.close();
      return;
    }
    failed(
        new BackendException(
            "login to backend "
                + connector.where()
                + " failed: "
                + BackendConnector.rootMessage(cause),
            cause));
    ctx.close();
  }

  private void loggedIn(ChannelHandlerContext ctx) {
    Channel ch = ctx.channel();
    BackendConnection probe = new BackendConnection(pool, ch, greeting, key, capabilities, -1);
    ch.pipeline().replace(this, "backend", new BackendConnection.Handler(probe));
    ((MySQLPacketDecoder) ch.pipeline().get("decoder")).batch(true);
    if (sideConnection) {
      // A KILL needs nothing from the session: no defaults to read, no state tracking.
      if (!promise.trySuccess(probe)) {
        ch.close();
      }
      return;
    }
    if (!pool.tracksSessionState()) {
      readSessionDefaults(ch, probe, null);
      return;
    }
    // Transaction mode learns of session changes from the server's state tracking, which must be
    // on.
    InternalCommand.run(
            probe,
            Packets.command(ch.alloc(), Commands.COM_QUERY, BackendConnector.TRACK_STATE_CHANGES),
            connector.connectTimeoutMillis())
        .addListener(
            (Future<InternalCommand.Result> f) -> {
              if (!f.isSuccess() || !f.getNow().ok()) {
                failed(
                    new BackendException(
                        "backend "
                            + connector.where()
                            + " refused "
                            + BackendConnector.TRACK_STATE_CHANGES
                            + ": "
                            + (f.isSuccess()
                                ? f.getNow().error()
                                : BackendConnector.rootMessage(f.cause()))
                            + "; pool.mode transaction needs session state tracking (MySQL 5.7+, MariaDB 10.2+)"));
                ch.close();
                return;
              }
              readSessionDefaults(ch, probe, SessionVariables.forServer(greeting.serverVersion()));
            });
  }

  /**
   * Reads wait_timeout and, in transaction mode, the carried variables as a fresh login has them.
   */
  private void readSessionDefaults(Channel ch, BackendConnection probe, SessionVariables vars) {
    String sql =
        vars == null
            ? "SELECT @@SESSION.wait_timeout"
            : vars.snapshotQuery() + ", @@SESSION.wait_timeout";
    ByteBuf query = Packets.command(ch.alloc(), Commands.COM_QUERY, sql);
    InternalCommand.run(probe, query, connector.connectTimeoutMillis())
        .addListener(
            (Future<InternalCommand.Result> f) -> {
              if (!f.isSuccess()) {
                failed(
                    new BackendException(
                        "backend "
                            + connector.where()
                            + " did not answer after login: "
                            + BackendConnector.rootMessage(f.cause()),
                        f.cause()));
                return;
              }
              InternalCommand.Result r = f.getNow();
              List<String> row = r.ok() ? r.firstRow() : null;
              if (vars != null && (row == null || row.size() != vars.size() + 3)) {
                failed(
                    new BackendException(
                        "backend "
                            + connector.where()
                            + " did not report its session variables"
                            + (r.ok() ? "" : ": " + r.error())));
                ch.close();
                return;
              }
              long waitTimeout = -1;
              String waitTimeoutText =
                  row == null || row.isEmpty() ? null : row.get(row.size() - 1);
              if (waitTimeoutText != null) {
                try {
                  waitTimeout = Long.parseLong(waitTimeoutText.trim());
                } catch (NumberFormatException ignored) {
                  waitTimeout = -1;
                }
              }
              BackendConnection c =
                  new BackendConnection(pool, ch, greeting, key, capabilities, waitTimeout);
              if (vars != null) {
                c.session.recordSnapshot(vars, row.subList(0, vars.size() + 2), true);
              }
              ch.pipeline().replace("backend", "backend", new BackendConnection.Handler(c));
              if (!promise.trySuccess(c)) {
                ch.close();
              }
            });
  }
}
