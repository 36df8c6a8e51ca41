package dev.mysqlpool.proxy.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mysqlpool.proxy.auth.NativePassword;
import dev.mysqlpool.proxy.backend.BackendPool;
import dev.mysqlpool.proxy.codec.MySQLPacketDecoder;
import dev.mysqlpool.proxy.config.ConfigLoader;
import dev.mysqlpool.proxy.config.ProxyConfig;
import dev.mysqlpool.proxy.metrics.ProxyMetrics;
import dev.mysqlpool.proxy.protocol.Capabilities;
import dev.mysqlpool.proxy.protocol.Commands;
import dev.mysqlpool.proxy.protocol.ErrorCodes;
import dev.mysqlpool.proxy.protocol.HandshakeResponse41;
import dev.mysqlpool.proxy.protocol.HandshakeV10;
import dev.mysqlpool.proxy.protocol.Packets;
import dev.mysqlpool.proxy.protocol.ServerStatus;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The login state machine, without a server: greeting, handshake response, auth switch, the
 * handshake timeout and admission, driven through the real pipeline on an {@link EmbeddedChannel},
 * with the server's greeting given by the test.
 */
@ExtendWith(LeakGuard.class)
class ClientLoginTest {
  private static final String VERSION = "11.4.5-MariaDB-log";
  private static final int CLIENT_CAPS =
      Capabilities.CLIENT_PROTOCOL_41
          | Capabilities.CLIENT_SECURE_CONNECTION
          | Capabilities.CLIENT_PLUGIN_AUTH
          | Capabilities.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA
          | Capabilities.CLIENT_TRANSACTIONS;

  @TempDir Path dir;
  private NioEventLoopGroup group;
  private ProxyMetrics metrics;
  private Frontend frontend;

  @BeforeEach
  void setUp() {
    group = new NioEventLoopGroup(1);
    frontend = frontend(100);
  }

  @AfterEach
  void tearDown() {
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
  }

  private Frontend frontend(int maxClients) {
    return frontend(maxClients, 100);
  }

  private Frontend frontend(int maxClients, int maxPendingPerAddress) {
    ProxyConfig config =
        ConfigLoader.parse(
            """
            backends:
              - {name: primary, host: 127.0.0.1, port: 3306}
            users:
              - {name: app, password: app-secret}
            frontend:
              maxClientConnections: %d
              maxPendingLoginsPerAddress: %d
              handshakeTimeout: 2s
            """
                .formatted(maxClients, maxPendingPerAddress),
            dir);
    metrics = new ProxyMetrics();
    // Never started: a login needs no backend connection, only the greeting given below.
    BackendPool pool = new BackendPool(config.backends().get(0), config.pool(), group, null);
    HandshakeV10 server =
        new HandshakeV10(
            VERSION,
            77,
            new byte[20],
            Capabilities.PROXY_SUPPORTED,
            45,
            ServerStatus.AUTOCOMMIT,
            "mysql_native_password");
    // TLS needs a real socket (the TLS ITs); these logins run in clear text.
    return new Frontend(
        config, Map.of("primary", pool), metrics, null, loop -> loop.newSucceededFuture(server));
  }

  private EmbeddedChannel connect() {
    return new EmbeddedChannel(new MySQLPacketDecoder(), frontend.newLogin());
  }

  private static HandshakeV10 greeting(EmbeddedChannel ch) {
    ByteBuf out = ch.readOutbound();
    try {
      return HandshakeV10.parse(out);
    } finally {
      out.release();
    }
  }

  private static ByteBuf response(String user, byte[] auth, String plugin) {
    return new HandshakeResponse41(CLIENT_CAPS, 1 << 24, 45, user, auth, null, plugin)
        .write(ByteBufAllocator.DEFAULT);
  }

  private static byte[] nativeAnswer(String password, byte[] seed) {
    return NativePassword.scramble(password.getBytes(StandardCharsets.UTF_8), seed);
  }

  /** The next packet the proxy sent: its first payload byte, its error code when an ERR. */
  private static int[] reply(EmbeddedChannel ch) {
    ByteBuf out = ch.readOutbound();
    assertThat(out).withFailMessage("expected a reply from the proxy").isNotNull();
    try {
      int first = Packets.firstByte(out);
      int code =
          first == Packets.ERR
              ? out.getUnsignedShortLE(out.readerIndex() + Packets.HEADER_SIZE + 1)
              : 0;
      return new int[] {first, code, Packets.sequenceId(out)};
    } finally {
      out.release();
    }
  }

  @Test
  void greetsWithTheBackendsVersionAConnectionIdOfItsOwnAndNativePassword() {
    EmbeddedChannel ch = connect();
    HandshakeV10 g = greeting(ch);
    assertThat(g.serverVersion()).isEqualTo(VERSION);
    assertThat(g.connectionId()).as("the proxy's id, not the backend's 77").isNotEqualTo(77);
    assertThat(g.authPlugin()).isEqualTo("mysql_native_password");
    assertThat(g.seed()).hasSize(20).isNotEqualTo(new byte[20]);
    ch.finishAndReleaseAll();
  }

  @Test
  void theRightPasswordGetsOkAndTheLoginHandsTheConnectionToASession() {
    EmbeddedChannel ch = connect();
    HandshakeV10 g = greeting(ch);
    ch.writeInbound(response("app", nativeAnswer("app-secret", g.seed()), "mysql_native_password"));
    assertThat(reply(ch)).containsExactly(Packets.OK, 0, 2);
    assertThat(ch.pipeline().get(ClientLogin.class)).isNull();
    assertThat(ch.pipeline().get("session")).isInstanceOf(ClientSession.class);
    assertThat(frontend.connection(g.connectionId())).isInstanceOf(ClientSession.class);
    assertThat(frontend.clientConnections()).isEqualTo(1);
    ch.finishAndReleaseAll();
    assertThat(frontend.clientConnections()).isZero();
  }

  @Test
  void aCommandPipelinedBehindTheLoginReachesTheSession() {
    EmbeddedChannel ch = connect();
    HandshakeV10 g = greeting(ch);
    ByteBuf login = response("app", nativeAnswer("app-secret", g.seed()), "mysql_native_password");
    ByteBuf ping = Packets.command(ByteBufAllocator.DEFAULT, Commands.COM_PING, "");
    ch.writeInbound(Unpooled.wrappedBuffer(login, ping));
    assertThat(reply(ch)).as("login OK").containsExactly(Packets.OK, 0, 2);
    assertThat(reply(ch)).as("PING answered without a backend").containsExactly(Packets.OK, 0, 1);
    ch.finishAndReleaseAll();
  }

  @Test
  void aWrongPasswordAndAnUnknownUserGetTheSame1045AndAClose() {
    for (String user : new String[] {"app", "nobody"}) {
      EmbeddedChannel ch = connect();
      HandshakeV10 g = greeting(ch);
      ch.writeInbound(response(user, nativeAnswer("wrong", g.seed()), "mysql_native_password"));
      assertThat(reply(ch)).containsExactly(Packets.ERR, ErrorCodes.ACCESS_DENIED, 2);
      ch.runPendingTasks();
      assertThat(ch.isOpen()).as("closed after 1045 for %s", user).isFalse();
      ch.finishAndReleaseAll();
    }
    assertThat(metrics.scrape()).contains("mysqlpool_errors_total{kind=\"auth_failed\"} 2.0");
    assertThat(frontend.clientConnections()).isZero();
  }

  @Test
  void aClientAnsweringWithAnotherPluginIsSwitchedToNativeWithTheSameSeed() {
    EmbeddedChannel ch = connect();
    HandshakeV10 g = greeting(ch);
    ch.writeInbound(response("app", new byte[32], "caching_sha2_password"));
    ByteBuf request = ch.readOutbound();
    try {
      assertThat(Packets.firstByte(request)).isEqualTo(Packets.EOF);
      ByteBuf p = request.duplicate().skipBytes(Packets.HEADER_SIZE + 1);
      assertThat(Packets.readStringNul(p)).isEqualTo("mysql_native_password");
      byte[] seed = new byte[20];
      p.readBytes(seed);
      assertThat(seed).isEqualTo(g.seed());
    } finally {
      request.release();
    }
    byte[] answer = nativeAnswer("app-secret", g.seed());
    ByteBuf packet = Packets.start(ByteBufAllocator.DEFAULT, answer.length, 3);
    packet.writeBytes(answer);
    ch.writeInbound(Packets.finish(packet));
    assertThat(reply(ch)).containsExactly(Packets.OK, 0, 4);
    ch.finishAndReleaseAll();
  }

  @Test
  void aTruncatedHandshakeGetsBadHandshakeAndAClose() {
    EmbeddedChannel ch = connect();
    greeting(ch);
    ByteBuf packet = Packets.start(ByteBufAllocator.DEFAULT, 4, 1);
    packet.writeIntLE(CLIENT_CAPS);
    ch.writeInbound(Packets.finish(packet));
    assertThat(reply(ch)).containsExactly(Packets.ERR, ErrorCodes.HANDSHAKE_ERROR, 2);
    ch.runPendingTasks();
    assertThat(ch.isOpen()).isFalse();
    ch.finishAndReleaseAll();
  }

  @Test
  void aClientThatNeverAnswersIsClosedAfterTheHandshakeTimeout() {
    EmbeddedChannel ch = connect();
    greeting(ch);
    ch.advanceTimeBy(1900, TimeUnit.MILLISECONDS);
    ch.runScheduledPendingTasks();
    assertThat(ch.isOpen()).as("still within handshakeTimeout 2s").isTrue();
    ch.advanceTimeBy(200, TimeUnit.MILLISECONDS);
    ch.runScheduledPendingTasks();
    assertThat(ch.isOpen()).as("past handshakeTimeout").isFalse();
    assertThat(frontend.clientConnections()).isZero();
    ch.finishAndReleaseAll();
  }

  @Test
  void pastMaxClientConnectionsANewClientGets1040Instead() {
    frontend = frontend(1);
    EmbeddedChannel first = connect();
    greeting(first);
    EmbeddedChannel second = connect();
    assertThat(reply(second)).containsExactly(Packets.ERR, ErrorCodes.TOO_MANY_CONNECTIONS, 0);
    second.runPendingTasks();
    assertThat(second.isOpen()).isFalse();
    assertThat(frontend.clientConnections()).as("the refused client is not counted").isEqualTo(1);
    first.finishAndReleaseAll();
    second.finishAndReleaseAll();
    assertThat(frontend.clientConnections()).isZero();
  }

  @Test
  void aPacketAnnouncingMoreThan8KiBBeforeLoginIsRefusedFromItsHeader() {
    EmbeddedChannel ch = new EmbeddedChannel(limitedDecoder(), frontend.newLogin());
    greeting(ch);
    ByteBuf huge = Unpooled.buffer();
    huge.writeMediumLE(ClientLogin.MAX_LOGIN_PACKET + 1).writeByte(1).writeZero(100);
    ch.writeInbound(huge);
    assertThat(reply(ch)).containsExactly(Packets.ERR, ErrorCodes.PACKET_TOO_LARGE, 2);
    ch.runPendingTasks();
    assertThat(ch.isOpen()).isFalse();
    assertThat(metrics.scrape())
        .contains("mysqlpool_errors_total{kind=\"login_packet_too_large\"} 1.0");
    ch.finishAndReleaseAll();
  }

  private static MySQLPacketDecoder limitedDecoder() {
    MySQLPacketDecoder d = new MySQLPacketDecoder();
    d.maxPayload(ClientLogin.MAX_LOGIN_PACKET);
    return d;
  }

  @Test
  void pastMaxPendingLoginsPerAddressANewClientGets1040AndALoggedInOneFreesItsPlace() {
    frontend = frontend(100, 1);
    EmbeddedChannel first = connect();
    HandshakeV10 g = greeting(first);
    EmbeddedChannel second = connect();
    assertThat(reply(second)).containsExactly(Packets.ERR, ErrorCodes.TOO_MANY_CONNECTIONS, 0);
    second.runPendingTasks();
    assertThat(second.isOpen()).isFalse();
    first.writeInbound(
        response("app", nativeAnswer("app-secret", g.seed()), "mysql_native_password"));
    assertThat(reply(first)).containsExactly(Packets.OK, 0, 2);
    EmbeddedChannel third = connect();
    greeting(third);
    assertThat(third.isOpen()).as("the first one is no longer logging in").isTrue();
    first.finishAndReleaseAll();
    second.finishAndReleaseAll();
    third.finishAndReleaseAll();
  }

  @Test
  void anSslRequestWhileTlsIsDisabledIsABadHandshake() {
    EmbeddedChannel ch = connect();
    greeting(ch);
    ByteBuf request = Packets.start(ByteBufAllocator.DEFAULT, 32, 1);
    request.writeIntLE(CLIENT_CAPS | Capabilities.CLIENT_SSL).writeIntLE(1 << 24).writeByte(45);
    request.writeZero(23);
    ch.writeInbound(Packets.finish(request));
    assertThat(reply(ch)).containsExactly(Packets.ERR, ErrorCodes.HANDSHAKE_ERROR, 2);
    ch.finishAndReleaseAll();
  }
}
