package dev.mysqlpool.proxy.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mysqlpool.proxy.auth.ClientAuthenticator;
import dev.mysqlpool.proxy.backend.BackendPool;
import dev.mysqlpool.proxy.config.ConfigLoader;
import dev.mysqlpool.proxy.config.ProxyConfig;
import dev.mysqlpool.proxy.metrics.ProxyMetrics;
import dev.mysqlpool.proxy.protocol.Capabilities;
import dev.mysqlpool.proxy.protocol.Commands;
import dev.mysqlpool.proxy.protocol.Packets;
import dev.mysqlpool.proxy.protocol.ServerStatus;
import dev.mysqlpool.proxy.protocol.SessionStateInfo;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The transaction-mode object's decisions without a server: which commands pin and which carry,
 * what a reported state change does, what the client sees of the OK packet, and that pins are
 * counted while they last. The moves between real backend connections are TransactionModeIT's and
 * SessionSemanticsTransactionModeIT's.
 */
@ExtendWith(LeakGuard.class)
class TransactionModeTest {
  private static final UnpooledByteBufAllocator ALLOC = UnpooledByteBufAllocator.DEFAULT;

  @TempDir Path dir;
  private NioEventLoopGroup group;
  private ProxyMetrics metrics;
  private EmbeddedChannel client;

  @BeforeEach
  void setUp() {
    group = new NioEventLoopGroup(1);
    client = new EmbeddedChannel();
  }

  @AfterEach
  void tearDown() {
    client.finishAndReleaseAll();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
  }

  /** A logged-in session of a pool in {@code mode}, whose client asked for these capabilities. */
  private ClientSession session(String mode, int clientCapabilities) {
    ProxyConfig config =
        ConfigLoader.parse(
            """
            backends:
              - {name: primary, host: 127.0.0.1, port: 3306}
            users:
              - {name: app, password: app-secret}
            pool: {mode: %s}
            """
                .formatted(mode),
            dir);
    metrics = new ProxyMetrics();
    BackendPool pool = new BackendPool(config.backends().get(0), config.pool(), group, null);
    Frontend frontend = new Frontend(config, Map.of("primary", pool), metrics, null, null);
    return new ClientSession(
        frontend,
        1,
        client,
        "127.0.0.1",
        new ClientAuthenticator(new byte[20], null),
        config.user("app"),
        clientCapabilities,
        45,
        null);
  }

  private int pinnedNow(String reason) {
    return metrics.pinnedSessions().getOrDefault(reason, 0);
  }

  @Test
  void sessionModeDecidesNothing() {
    ClientSession s = session("session", Capabilities.CLIENT_PROTOCOL_41);
    assertThat(s.mode()).isSameAs(SessionMode.SESSION);
    assertThat(s.mode().onCommand(Commands.COM_STMT_PREPARE)).isZero();
    assertThat(metrics.pinnedSessions()).isEmpty();
  }

  @Test
  void prepareAndSetOptionPinUntilTheSessionEndsAndAreCountedMeanwhile() {
    SessionMode mode = session("transaction", Capabilities.CLIENT_PROTOCOL_41).mode();
    assertThat(mode).isInstanceOf(TransactionMode.class);
    assertThat(mode.holdReason()).contains("a transaction left open");

    mode.onCommand(Commands.COM_STMT_PREPARE);
    assertThat(pinnedNow(StatementScan.PREPARED_STATEMENT)).isEqualTo(1);
    assertThat(mode.holdReason()).contains("pinned to it (prepared_statement)");

    mode.onCommand(Commands.COM_SET_OPTION);
    assertThat(pinnedNow("set_option"))
        .as("a session is pinned once, for its first reason")
        .isZero();

    mode.close();
    assertThat(pinnedNow(StatementScan.PREPARED_STATEMENT)).isZero();
    assertThat(metrics.scrape())
        .contains("mysqlpool_session_pins_total{reason=\"prepared_statement\"} 1.0");
  }

  @Test
  void commandsThatCarryStateAreFlaggedNotPinned() {
    SessionMode mode = session("transaction", Capabilities.CLIENT_PROTOCOL_41).mode();
    assertThat(mode.onCommand(Commands.COM_INIT_DB)).isEqualTo(StatementScan.USE);
    assertThat(mode.onCommand(Commands.COM_STMT_EXECUTE)).isEqualTo(StatementScan.STATEMENT);
    assertThat(mode.onCommand(Commands.COM_RESET_CONNECTION))
        .isEqualTo(StatementScan.RESET_CONNECTION);
    assertThat(mode.onCommand(Commands.COM_PING)).isZero();
    assertThat(metrics.pinnedSessions().values()).allMatch(n -> n == 0);
  }

  @Test
  void aReportedChangeOfACarriedSetIsFollowedAndAnyOtherPins() {
    SessionMode mode = session("transaction", Capabilities.CLIENT_PROTOCOL_41).mode();
    ByteBuf carried = stateChangeOk("sql_mode", "ANSI");
    try {
      ByteBuf seen = mode.onStateChange(StatementScan.CARRIED_SET, carried);
      seen.release();
      assertThat(metrics.pinnedSessions().values()).allMatch(n -> n == 0);
    } finally {
      carried.release();
    }
    ByteBuf other = stateChangeOk("sql_mode", "ANSI");
    try {
      ByteBuf seen = mode.onStateChange(StatementScan.STATEMENT, other);
      seen.release();
      assertThat(pinnedNow("session_state")).isEqualTo(1);
    } finally {
      other.release();
    }
    ByteBuf multi = stateChangeOk("time_zone", "+01:00");
    try {
      ByteBuf seen = mode.onStateChange(StatementScan.CARRIED_SET | StatementScan.MULTI, multi);
      seen.release();
      assertThat(pinnedNow("session_state")).as("already pinned: still one").isEqualTo(1);
    } finally {
      multi.release();
    }
  }

  @Test
  void aClientWithoutSessionTrackSeesTheOkWithoutStateData() {
    SessionMode mode = session("transaction", Capabilities.CLIENT_PROTOCOL_41).mode();
    ByteBuf ok = stateChangeOk("sql_mode", "ANSI");
    ByteBuf seen = mode.onStateChange(StatementScan.CARRIED_SET, ok);
    try {
      assertThat(seen).isNotNull();
      int status = statusOf(seen);
      assertThat(status & ServerStatus.SESSION_STATE_CHANGED).isZero();
      assertThat(status & ServerStatus.AUTOCOMMIT).isNotZero();
      assertThat(variables(seen)).isEmpty();
    } finally {
      seen.release();
      ok.release();
    }
  }

  @Test
  void aClientWithSessionTrackKeepsWhatItAskedForButNotTheProxysStateChangeEntry() {
    SessionMode mode =
        session("transaction", Capabilities.CLIENT_PROTOCOL_41 | Capabilities.CLIENT_SESSION_TRACK)
            .mode();
    ByteBuf ok = stateChangeOk("autocommit", "OFF");
    ByteBuf seen = mode.onStateChange(StatementScan.CARRIED_SET, ok);
    try {
      assertThat(seen).isNotNull();
      assertThat(variables(seen)).containsExactly("autocommit=OFF");
      assertThat(stateChangedEntries(seen)).isZero();
    } finally {
      seen.release();
      ok.release();
    }
  }

  /** An OK packet reporting one variable and the state-change flag, as the backend sends it. */
  private static ByteBuf stateChangeOk(String name, String value) {
    ByteBuf state = Unpooled.buffer();
    entry(state, 0, name, value);
    entry(state, 2, "1");
    ByteBuf p = Packets.start(ALLOC, 64, 1);
    p.writeByte(Packets.OK);
    Packets.writeLenencInt(p, 0);
    Packets.writeLenencInt(p, 0);
    p.writeShortLE(ServerStatus.AUTOCOMMIT | ServerStatus.SESSION_STATE_CHANGED);
    p.writeShortLE(0);
    Packets.writeLenencInt(p, 0);
    Packets.writeLenencInt(p, state.readableBytes());
    p.writeBytes(state);
    state.release();
    return Packets.finish(p);
  }

  private static void entry(ByteBuf out, int type, String... values) {
    ByteBuf data = Unpooled.buffer();
    for (String v : values) {
      byte[] bytes = v.getBytes(StandardCharsets.UTF_8);
      Packets.writeLenencInt(data, bytes.length);
      data.writeBytes(bytes);
    }
    out.writeByte(type);
    Packets.writeLenencInt(out, data.readableBytes());
    out.writeBytes(data);
    data.release();
  }

  private static int statusOf(ByteBuf ok) {
    int i = ok.readerIndex() + Packets.HEADER_SIZE + 1;
    i += Packets.lenencSize(ok, i);
    i += Packets.lenencSize(ok, i);
    return ok.getUnsignedShortLE(i);
  }

  private static List<String> variables(ByteBuf ok) {
    List<String> out = new ArrayList<>();
    SessionStateInfo.read(ok, visitor(out, new int[1]));
    return out;
  }

  private static int stateChangedEntries(ByteBuf ok) {
    int[] count = new int[1];
    SessionStateInfo.read(ok, visitor(new ArrayList<>(), count));
    return count[0];
  }

  private static SessionStateInfo.Visitor visitor(List<String> vars, int[] stateChanged) {
    return new SessionStateInfo.Visitor() {
      @Override
      public void variable(String name, String value) {
        vars.add(name + "=" + value);
      }

      @Override
      public void schema(String name) {}

      @Override
      public void stateChanged() {
        stateChanged[0]++;
      }

      @Override
      public void other(int type) {}
    };
  }
}
