package dev.mysqlpool.proxy.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mysqlpool.proxy.auth.CertificateProof;
import dev.mysqlpool.proxy.auth.NativePassword;
import dev.mysqlpool.proxy.backend.BackendPool;
import dev.mysqlpool.proxy.codec.MySQLPacketDecoder;
import dev.mysqlpool.proxy.config.ConfigLoader;
import dev.mysqlpool.proxy.config.ProxyConfig;
import dev.mysqlpool.proxy.metrics.ProxyMetrics;
import dev.mysqlpool.proxy.protocol.Capabilities;
import dev.mysqlpool.proxy.protocol.HandshakeResponse41;
import dev.mysqlpool.proxy.protocol.HandshakeV10;
import dev.mysqlpool.proxy.protocol.Packets;
import dev.mysqlpool.proxy.protocol.ServerStatus;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import dev.mysqlpool.proxy.tls.KeyMaterial;
import dev.mysqlpool.proxy.tls.ServerTls;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The login over TLS on an {@link EmbeddedChannel}, with a JDK client engine: the SSLRequest and
 * the first TLS record arriving in one read (the decoder hands the record over to the TLS handler),
 * the handshake response encrypted, and MariaDB's certificate proof in the OK.
 */
@ExtendWith(LeakGuard.class)
class ClientLoginTlsTest {
  private static final int CLIENT_CAPS =
      Capabilities.CLIENT_PROTOCOL_41
          | Capabilities.CLIENT_SECURE_CONNECTION
          | Capabilities.CLIENT_PLUGIN_AUTH
          | Capabilities.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA
          | Capabilities.CLIENT_SSL;

  private final NioEventLoopGroup group = new NioEventLoopGroup(1);
  private final ServerTls tls = ServerTls.start(ProxyConfig.Tls.DEFAULT);
  private ByteBuffer fromServer = ByteBuffer.allocate(1 << 16).flip();

  @AfterEach
  void tearDown() {
    tls.close();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
  }

  @Test
  void anSslRequestWithTheClientHelloInTheSameReadLogsInOverTlsWithTheCertificateProof()
      throws Exception {
    ProxyConfig config =
        ConfigLoader.parse(
            "backends: [{name: primary, host: 127.0.0.1}]\n"
                + "users: [{name: app, password: app-secret}]\n",
            null);
    BackendPool pool = new BackendPool(config.backends().get(0), config.pool(), group, null);
    HandshakeV10 server =
        new HandshakeV10(
            "11.4.5-MariaDB",
            1,
            new byte[20],
            Capabilities.PROXY_SUPPORTED,
            45,
            ServerStatus.AUTOCOMMIT,
            "mysql_native_password");
    Frontend frontend =
        new Frontend(
            config,
            Map.of("primary", pool),
            new ProxyMetrics(),
            tls,
            loop -> loop.newSucceededFuture(server));
    MySQLPacketDecoder decoder = new MySQLPacketDecoder();
    decoder.maxPayload(ClientLogin.MAX_LOGIN_PACKET);
    EmbeddedChannel ch = new EmbeddedChannel(decoder, frontend.newLogin());
    HandshakeV10 greeting;
    ByteBuf g = ch.readOutbound();
    try {
      greeting = HandshakeV10.parse(g);
    } finally {
      g.release();
    }
    assertThat(greeting.capabilities() & Capabilities.CLIENT_SSL).isNotZero();

    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, new TrustManager[] {new TrustEverything()}, null);
    SSLEngine client = ctx.createSSLEngine();
    client.setUseClientMode(true);
    client.beginHandshake();
    ByteBuf first = Unpooled.buffer();
    first.writeMediumLE(32).writeByte(1);
    first.writeIntLE(CLIENT_CAPS).writeIntLE(1 << 24).writeByte(45).writeZero(23);
    first.writeBytes(wrap(client, ByteBuffer.allocate(0)));
    ch.writeInbound(first);

    for (int steps = 0;
        client.getHandshakeStatus() != HandshakeStatus.NOT_HANDSHAKING
            && client.getHandshakeStatus() != HandshakeStatus.FINISHED;
        steps++) {
      assertThat(steps).as("TLS handshake steps").isLessThan(50);
      switch (client.getHandshakeStatus()) {
        case NEED_WRAP ->
            ch.writeInbound(Unpooled.wrappedBuffer(wrap(client, ByteBuffer.allocate(0))));
        case NEED_TASK -> client.getDelegatedTask().run();
        default -> unwrap(ch, client);
      }
    }

    byte[] auth =
        NativePassword.scramble("app-secret".getBytes(StandardCharsets.UTF_8), greeting.seed());
    ByteBuf response =
        new HandshakeResponse41(
                CLIENT_CAPS, 1 << 24, 45, "app", auth, null, "mysql_native_password")
            .write(ByteBufAllocator.DEFAULT);
    Packets.setSequenceId(response, 2);
    byte[] plain = new byte[response.readableBytes()];
    response.readBytes(plain);
    response.release();
    ch.writeInbound(Unpooled.wrappedBuffer(wrap(client, ByteBuffer.wrap(plain))));

    byte[] ok = new byte[0];
    // TLS 1.3 sends session tickets after the handshake: unwrap until the OK comes out.
    for (int records = 0; ok.length == 0 && records < 10; records++) {
      ok = unwrap(ch, client);
    }
    assertThat(ok[4]).as("OK over TLS").isEqualTo((byte) Packets.OK);
    assertThat(ok[3]).as("sequence id after the encrypted response").isEqualTo((byte) 3);
    // Header, 0x00, affected rows, last insert id, status (2), warnings (2), then the info.
    int infoLength = ok[11] & 0xff;
    byte[] info = Arrays.copyOfRange(ok, 12, 12 + infoLength);
    X509Certificate presented = (X509Certificate) client.getSession().getPeerCertificates()[0];
    assertThat(presented).isEqualTo(tls.certificate());
    assertThat(info)
        .as("MariaDB's proof over the password, the scramble and the certificate presented")
        .isEqualTo(
            CertificateProof.nativePassword(
                "app-secret".getBytes(StandardCharsets.UTF_8),
                greeting.seed(),
                KeyMaterial.fingerprint(presented)));
    assertThat(ch.pipeline().get("session")).isInstanceOf(ClientSession.class);
    ch.finishAndReleaseAll();
  }

  private static byte[] wrap(SSLEngine engine, ByteBuffer app) throws Exception {
    ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
    engine.wrap(app, out);
    out.flip();
    byte[] b = new byte[out.remaining()];
    out.get(b);
    return b;
  }

  /** Reads what the proxy sent and unwraps one step of it; returns application data, if any. */
  private byte[] unwrap(EmbeddedChannel ch, SSLEngine engine) throws Exception {
    ByteBuf more;
    ByteBuffer pending = ByteBuffer.allocate(fromServer.remaining() + (1 << 16));
    pending.put(fromServer);
    while ((more = ch.readOutbound()) != null) {
      byte[] b = new byte[more.readableBytes()];
      more.readBytes(b);
      more.release();
      pending.put(b);
    }
    pending.flip();
    ByteBuffer app = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize());
    engine.unwrap(pending, app);
    fromServer = pending;
    app.flip();
    byte[] out = new byte[app.remaining()];
    app.get(out);
    return out;
  }

  private static final class TrustEverything implements X509TrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
