package dev.mysqlpool.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.mysqlpool.proxy.auth.NativePassword;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The proxy at the wire level, driven by a small MySQL client written here on a plain {@link
 * Socket} (no driver), against the shared embedded MariaDB: the greeting, the commands the proxy
 * answers itself, the commands it relays, multi-packet payloads, pipelining, authentication
 * failures, garbage from a client, and KILL.
 *
 * <p>The client negotiates classic EOF packets and no session tracking, so replies are parsed
 * exactly as the protocol pages lay them out.
 */
@ExtendWith(LeakGuard.class)
class RawProtocolIT {
  private static final int MAX_PAYLOAD = 0xFFFFFF;
  private static final Duration REPLY_TIMEOUT = Duration.ofSeconds(10);
  private static final String FIELDS_TABLE = "raw_protocol_fields";
  private static final String BIG_TABLE = "raw_protocol_big";
  private static final String DENIED =
      "Access denied for user '%s'@'127.0.0.1' (using password: YES)";

  private static EmbeddedMariaDb db;
  private static ProxyHarness proxy;

  @BeforeAll
  static void start() {
    db = EmbeddedMariaDb.shared();
    db.execute(
        "DROP TABLE IF EXISTS app." + FIELDS_TABLE,
        "CREATE TABLE app." + FIELDS_TABLE + " (id INT PRIMARY KEY, name VARCHAR(20))",
        "DROP TABLE IF EXISTS app." + BIG_TABLE,
        "CREATE TABLE app." + BIG_TABLE + " (id INT PRIMARY KEY, body LONGTEXT)");
    proxy = ProxyHarness.start(db, "pool: {maxConnections: 8, acquireTimeout: 10s}\n");
  }

  @AfterAll
  static void stop() {
    if (proxy != null) {
      proxy.close();
    }
  }

  private static RawClient login() throws IOException {
    return RawClient.login(proxy.port(), EmbeddedMariaDb.APP_USER, EmbeddedMariaDb.APP_PASSWORD);
  }

  // --------------------------------------------------------------------------------------------
  // connection phase

  @Test
  void greetingCarriesTheBackendVersionAndTheProxysOwnConnectionId() throws Exception {
    String version;
    long probeId;
    try (Connection c = db.appConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT VERSION(), CONNECTION_ID()")) {
      rs.next();
      version = rs.getString(1);
      probeId = rs.getLong(2);
    }
    // A proxy of its own, started after the probe: its sessions are numbered from 1 by the proxy,
    // while every
    // backend connection it opens gets a server thread id above the probe's. So the two can never
    // coincide here.
    try (ProxyHarness fresh = ProxyHarness.start(db, "");
        RawClient direct = RawClient.open(db.port());
        RawClient first =
            RawClient.login(fresh.port(), EmbeddedMariaDb.APP_USER, EmbeddedMariaDb.APP_PASSWORD);
        RawClient second =
            RawClient.login(fresh.port(), EmbeddedMariaDb.APP_USER, EmbeddedMariaDb.APP_PASSWORD)) {
      assertThat(first.greeting.serverVersion())
          .as("drivers choose SQL by the version string, so it must be the backend's own")
          .isEqualTo(direct.greeting.serverVersion());
      // MariaDB 10.x prefixes its handshake version with "5.5.5-"; 11.x sends VERSION() as is.
      assertThat(first.greeting.serverVersion().replaceFirst("^5\\.5\\.5-", "")).isEqualTo(version);
      assertThat(first.greeting.seed()).hasSize(20);
      assertThat(first.greeting.authPlugin()).isEqualTo(NativePassword.PLUGIN_NAME);
      assertThat(first.greeting.capabilities() & RawClient.CLIENT_SSL)
          .as("the proxy offers TLS by default (frontend.tls.mode: optional)")
          .isNotZero();

      assertThat(first.greeting.connectionId())
          .as("the proxy numbers its own sessions")
          .isEqualTo(1);
      assertThat(second.greeting.connectionId()).isEqualTo(2);
      long backendId = Long.parseLong(first.query("SELECT CONNECTION_ID()").value(0, 0));
      assertThat(db.threadIds(EmbeddedMariaDb.APP_USER))
          .as("CONNECTION_ID() runs on the backend")
          .contains(backendId);
      assertThat(backendId)
          .as("KILL uses the advertised id, so the greeting must not carry the backend's thread id")
          .isGreaterThan(probeId)
          .isNotEqualTo(first.greeting.connectionId());
    }
  }

  @Test
  void wrongPasswordIsDeniedWithTheServersMessage() throws Exception {
    try (RawClient c = RawClient.open(proxy.port())) {
      c.sendHandshakeResponse(
          EmbeddedMariaDb.APP_USER, "not-the-password", EmbeddedMariaDb.APP_DATABASE);
      Err err = c.readErr();
      assertThat(err.code()).isEqualTo(1045);
      assertThat(err.sqlState()).isEqualTo("28000");
      assertThat(err.message()).isEqualTo(String.format(DENIED, EmbeddedMariaDb.APP_USER));
      assertThat(c.lastSeq).as("the ERR follows the client's response (seq 1)").isEqualTo(2);
      c.assertClosedByPeer();
    }
  }

  @Test
  void unknownUserGetsTheSameAnswerAsAWrongPassword() throws Exception {
    try (RawClient c = RawClient.open(proxy.port())) {
      c.sendHandshakeResponse("nobody", "whatever", null);
      Err err = c.readErr();
      assertThat(err.code()).isEqualTo(1045);
      assertThat(err.sqlState()).isEqualTo("28000");
      assertThat(err.message())
          .as("no hint whether the user exists")
          .isEqualTo(String.format(DENIED, "nobody"));
      c.assertClosedByPeer();
    }
  }

  @Test
  void garbageInsteadOfAHandshakeResponseGetsHandshakeErrorAndClose() throws Exception {
    try (RawClient c = RawClient.open(proxy.port())) {
      c.writeRaw(new byte[] {5, 0, 0, 1, 1, 2, 3, 4, 5}); // a 5-byte "response"
      Err err = c.readErr();
      assertThat(err.code()).isEqualTo(1043);
      assertThat(err.message()).isEqualTo("Bad handshake: handshake response too short (5 bytes)");
      c.assertClosedByPeer();
    }
  }

  // ------------------------------------------------------------------------------------------
  // local commands

  @Test
  void pingBeforeAnyQueryIsAnsweredWithoutABackend() throws Exception {
    try (RawClient c = login()) {
      long queriesBefore = relayedReplies();
      byte[] reply = c.command(0x0e);
      assertThat(reply[0] & 0xff).as("COM_PING gets OK").isZero();
      assertThat(c.lastSeq).isEqualTo(1);
      assertThat(relayedReplies())
          .as("the proxy answers COM_PING itself while no backend is lent")
          .isEqualTo(queriesBefore);
      assertThat(c.query("SELECT 1").value(0, 0)).isEqualTo("1");
    }
  }

  @Test
  void unsupportedCommandGetsErr1047AndTheSessionGoesOn() throws Exception {
    try (RawClient c = login()) {
      assertThat(c.query("SELECT 1").value(0, 0)).isEqualTo("1");
      // COM_BINLOG_DUMP: binlog position, flags, server id, file name.
      byte[] dump = {0x12, 4, 0, 0, 0, 0, 0, 1, 0, 0, 0};
      c.writeCommand(dump);
      Err err = c.readErr();
      assertThat(err.code()).isEqualTo(1047);
      assertThat(err.message()).isEqualTo("mysqlpool proxy does not support COM_BINLOG_DUMP");
      assertThat(c.query("SELECT 2").value(0, 0)).as("the connection keeps working").isEqualTo("2");
    }
  }

  @Test
  void changeUserWithTheRightScrambleKeepsTheSessionUsable() throws Exception {
    try (RawClient c = login()) {
      c.query("SET @raw_before_change = 1");
      byte[] reply =
          c.changeUser(
              EmbeddedMariaDb.APP_USER, EmbeddedMariaDb.APP_PASSWORD, EmbeddedMariaDb.APP_DATABASE);
      assertThat(reply[0] & 0xff)
          .withFailMessage("COM_CHANGE_USER must get OK, got %s", describe(reply))
          .isZero();
      Results r = c.query("SELECT DATABASE(), @raw_before_change, USER()");
      assertThat(r.value(0, 0)).isEqualTo(EmbeddedMariaDb.APP_DATABASE);
      assertThat(r.value(0, 1)).as("a changed user starts a clean session").isNull();
      assertThat(r.value(0, 2)).startsWith(EmbeddedMariaDb.APP_USER + "@");
    }
  }

  @Test
  void changeUserWithAWrongPasswordIsDeniedAndClosed() throws Exception {
    try (RawClient c = login()) {
      c.query("SELECT 1");
      byte[] reply = c.changeUser(EmbeddedMariaDb.APP_USER, "wrong", EmbeddedMariaDb.APP_DATABASE);
      Err err = Err.parse(reply);
      assertThat(err.code()).isEqualTo(1045);
      assertThat(err.message()).isEqualTo(String.format(DENIED, EmbeddedMariaDb.APP_USER));
      c.assertClosedByPeer();
    }
  }

  // ----------------------------------------------------------------------------------------
  // relayed commands

  @Test
  void statisticsReturnsTheServersUptimeString() throws Exception {
    try (RawClient c = login()) {
      String stats = new String(c.command(0x09), StandardCharsets.UTF_8);
      assertThat(stats).startsWith("Uptime: ").contains("Threads: ").contains("Questions: ");
    }
  }

  @Test
  void fieldListReturnsColumnDefinitionsThenATerminator() throws Exception {
    try (RawClient c = login()) {
      c.writeCommand(
          concat(new byte[] {0x04}, (FIELDS_TABLE + "\0").getBytes(StandardCharsets.US_ASCII)));
      List<String> names = new ArrayList<>();
      while (true) {
        byte[] p = c.readPayload();
        if ((p[0] & 0xff) == 0xfe && p.length < 9) {
          break;
        }
        assertThat(p[0] & 0xff)
            .withFailMessage("expected a column definition, got %s", describe(p))
            .isNotEqualTo(0xff);
        names.add(RawClient.columnName(p));
      }
      assertThat(names).containsExactly("id", "name");
      assertThat(c.query("SELECT 'after field list'").value(0, 0)).isEqualTo("after field list");
    }
  }

  @Test
  void setOptionEnablesMultiStatements() throws Exception {
    try (RawClient c = login()) {
      Results before = c.query("SELECT 1; SELECT 2");
      assertThat(before.error()).as("without MULTI_STATEMENTS the server refuses ';'").isNotNull();
      assertThat(before.error().code()).isEqualTo(1064);

      byte[] reply = c.command(0x1b, 0, 0); // MYSQL_OPTION_MULTI_STATEMENTS_ON
      assertThat(reply[0] & 0xff)
          .withFailMessage("COM_SET_OPTION must succeed, got %s", describe(reply))
          .isIn(0x00, 0xfe);

      Results r = c.query("SELECT 1 AS a; SELECT 'two' AS b, NULL AS c");
      assertThat(r.error()).isNull();
      assertThat(r.sets()).hasSize(2);
      assertThat(r.sets().get(0).columns()).containsExactly("a");
      assertThat(r.value(0, 0)).isEqualTo("1");
      assertThat(r.sets().get(1).columns()).containsExactly("b", "c");
      assertThat(r.sets().get(1).string(0, 0)).isEqualTo("two");
      assertThat(r.sets().get(1).string(0, 1)).isNull();
      assertThat(c.query("SELECT 3").value(0, 0)).isEqualTo("3");
    }
  }

  @Test
  void resetConnectionClearsUserVariables() throws Exception {
    try (RawClient c = login()) {
      c.query("SET @raw_v = 42");
      assertThat(c.query("SELECT @raw_v").value(0, 0)).isEqualTo("42");
      byte[] reply = c.command(0x1f);
      assertThat(reply[0] & 0xff)
          .withFailMessage("COM_RESET_CONNECTION must get OK, got %s", describe(reply))
          .isZero();
      assertThat(c.query("SELECT @raw_v").value(0, 0))
          .as("user variables are gone after a reset")
          .isNull();
      assertThat(c.query("SELECT DATABASE()").value(0, 0))
          .as("the database stays")
          .isEqualTo("app");
    }
  }

  @Test
  void pipelinedQueriesAreAnsweredInOrder() throws Exception {
    try (RawClient c = login()) {
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      all.write(RawClient.commandPacket(RawClient.queryPayload("SELECT 'first'")));
      all.write(RawClient.commandPacket(RawClient.queryPayload("SELECT * FROM no_such_table_raw")));
      all.write(RawClient.commandPacket(RawClient.queryPayload("SELECT 'third', SLEEP(0)")));
      c.writeRaw(all.toByteArray()); // all three before reading anything
      assertThat(c.readResults().value(0, 0)).isEqualTo("first");
      Results second = c.readResults();
      assertThat(second.error()).isNotNull();
      assertThat(second.error().code()).isEqualTo(1146);
      assertThat(c.readResults().value(0, 0)).isEqualTo("third");
      assertThat(c.query("SELECT 'fourth'").value(0, 0)).isEqualTo("fourth");
    }
  }

  @Test
  void twentyMibQuerySpanningSeveralPacketsRoundTrips() throws Exception {
    try (RawClient c = login()) {
      int bodyLength = 20 * 1024 * 1024;
      byte[] body = new byte[bodyLength];
      for (int i = 0; i < bodyLength; i++) {
        body[i] = (byte) ('a' + (i * 7 + i / 1000) % 26);
      }
      byte[] insert =
          concat(
              RawClient.queryPayload("REPLACE INTO app." + BIG_TABLE + " VALUES (1, '"),
              body,
              "')".getBytes(StandardCharsets.US_ASCII));
      assertThat(insert.length)
          .as("the command spans more than one 16 MiB packet")
          .isGreaterThan(MAX_PAYLOAD);
      Results inserted = c.run(insert);
      assertThat(inserted.error()).as("INSERT of a 20 MiB literal").isNull();

      Results check =
          c.query("SELECT LENGTH(body), SHA2(body, 256) FROM app." + BIG_TABLE + " WHERE id = 1");
      assertThat(check.value(0, 0)).isEqualTo(Integer.toString(bodyLength));
      assertThat(check.value(0, 1)).isEqualTo(sha256(body));

      Results back = c.query("SELECT body FROM app." + BIG_TABLE + " WHERE id = 1");
      byte[] read = back.sets().get(0).rows().get(0).get(0);
      assertThat(read.length)
          .as("the 20 MiB row comes back in several packets, reassembled")
          .isEqualTo(bodyLength);
      assertThat(Arrays.equals(read, body))
          .withFailMessage("the row read back differs from what was written")
          .isTrue();
      assertThat(c.query("SELECT 'after big'").value(0, 0)).isEqualTo("after big");
    }
  }

  @Test
  void commandOfExactlyOneFullPacketIsEndedByAnEmptyPacket() throws Exception {
    try (RawClient c = login()) {
      byte[] prefix = RawClient.queryPayload("REPLACE INTO app." + BIG_TABLE + " VALUES (2, '");
      byte[] suffix = "')".getBytes(StandardCharsets.US_ASCII);
      byte[] body = new byte[MAX_PAYLOAD - prefix.length - suffix.length];
      Arrays.fill(body, (byte) 'x');
      byte[] insert = concat(prefix, body, suffix);
      assertThat(insert.length).isEqualTo(MAX_PAYLOAD);
      Results inserted = c.run(insert); // written as a full packet plus an empty one
      assertThat(inserted.error()).isNull();
      assertThat(c.query("SELECT LENGTH(body) FROM app." + BIG_TABLE + " WHERE id = 2").value(0, 0))
          .isEqualTo(Integer.toString(body.length));
    }
  }

  // ------------------------------------------------------------------------------------------------ failures

  @Test
  void garbageFromOneClientClosesOnlyThatClient() throws Exception {
    try (RawClient healthy = login()) {
      assertThat(healthy.query("SELECT 1").value(0, 0)).isEqualTo("1");

      // A header cut short, then end of stream.
      try (RawClient truncated = login()) {
        truncated.query("SELECT 1");
        truncated.writeRaw(new byte[] {0x05, 0x00});
        truncated.socket.shutdownOutput();
        truncated.assertClosedByPeer();
      }
      // A header announcing a full 16 MiB packet, some junk, then a closed socket.
      try (RawClient junk = login()) {
        junk.query("SELECT 1");
        byte[] bytes = new byte[200];
        bytes[0] = (byte) 0xff;
        bytes[1] = (byte) 0xff;
        bytes[2] = (byte) 0xff;
        for (int i = 4; i < bytes.length; i++) {
          bytes[i] = (byte) (i * 37);
        }
        junk.writeRaw(bytes);
      }
      await()
          .atMost(REPLY_TIMEOUT)
          .untilAsserted(
              () ->
                  assertThat(proxy.server.stats().clientConnections())
                      .as("only the healthy client is left")
                      .isEqualTo(1));
      assertThat(healthy.query("SELECT 'still here'").value(0, 0)).isEqualTo("still here");
    }
  }

  @Test
  void killQueryFromAnotherSessionInterruptsASleep() throws Exception {
    try (RawClient sleeper = login();
        RawClient killer = login()) {
      sleeper.query("SELECT 1"); // holds a backend from here on
      sleeper.writeCommand(RawClient.queryPayload("SELECT SLEEP(20) AS raw_protocol_kill_probe"));
      await()
          .atMost(REPLY_TIMEOUT)
          .untilAsserted(
              () ->
                  assertThat(sleepersRunning())
                      .as("the SLEEP is running on the backend")
                      .isEqualTo(1));

      long started = System.nanoTime();
      Results kill = killer.query("KILL QUERY " + sleeper.greeting.connectionId());
      assertThat(kill.error()).as("KILL QUERY of a session of the same user").isNull();

      sleeper.socket.setSoTimeout(5_000);
      Results interrupted = sleeper.readResults();
      long tookMs = (System.nanoTime() - started) / 1_000_000;
      if (interrupted.error() != null) {
        assertThat(interrupted.error().code()).as("query interrupted").isEqualTo(1317);
      } else {
        assertThat(interrupted.value(0, 0)).as("an interrupted SLEEP returns 1").isEqualTo("1");
      }
      assertThat(tookMs).as("the SLEEP(20) ended soon after the KILL").isLessThan(5_000);
      sleeper.socket.setSoTimeout((int) REPLY_TIMEOUT.toMillis());
      assertThat(sleeper.query("SELECT 'alive'").value(0, 0))
          .as("KILL QUERY ends the statement, not the session")
          .isEqualTo("alive");

      Err unknown = killer.query("KILL 999999").error();
      assertThat(unknown).isNotNull();
      assertThat(unknown.code()).isEqualTo(1094);
      assertThat(unknown.message()).isEqualTo("Unknown thread id: 999999");
      assertThat(killer.query("SELECT 'killer ok'").value(0, 0)).isEqualTo("killer ok");
    }
  }

  private static int sleepersRunning() throws SQLException {
    try (Connection c = db.rootConnection();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST"
                    + " WHERE INFO LIKE 'SELECT SLEEP(20) AS raw_protocol_kill_probe%' AND ID <> CONNECTION_ID()")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  private static long relayedReplies() {
    return proxy.server.stats().backends().get(0).queries();
  }

  // -------------------------------------------------------------------------------------------------- helpers

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  private static String sha256(byte[] data) throws NoSuchAlgorithmException {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
  }

  private static String describe(byte[] payload) {
    if (payload.length > 0 && (payload[0] & 0xff) == 0xff) {
      return Err.parse(payload).toString();
    }
    return HexFormat.of().formatHex(payload, 0, Math.min(payload.length, 32));
  }

  /** An ERR packet's fields. */
  record Err(int code, String sqlState, String message) {
    static Err parse(byte[] p) {
      assertThat(p[0] & 0xff)
          .withFailMessage(
              "expected an ERR packet, got %s",
              HexFormat.of().formatHex(p, 0, Math.min(p.length, 32)))
          .isEqualTo(0xff);
      int code = (p[1] & 0xff) | (p[2] & 0xff) << 8;
      String state = "";
      int msg = 3;
      if (p.length > 3 && p[3] == '#') {
        state = new String(p, 4, 5, StandardCharsets.US_ASCII);
        msg = 9;
      }
      return new Err(code, state, new String(p, msg, p.length - msg, StandardCharsets.UTF_8));
    }
  }

  /** One text result set; values are raw bytes, null for SQL NULL. */
  record ResultSetData(List<String> columns, List<List<byte[]>> rows) {
    String string(int row, int column) {
      byte[] v = rows.get(row).get(column);
      return v == null ? null : new String(v, StandardCharsets.UTF_8);
    }
  }

  /**
   * Everything one command returned: its result sets in order, and the ERR that ended it, if any.
   */
  record Results(List<ResultSetData> sets, Err error) {
    /** A value of the first result set; fails with the ERR when there was one. */
    String value(int row, int column) {
      assertThat(error).withFailMessage("query failed: %s", error).isNull();
      assertThat(sets).withFailMessage("the reply had no result set").isNotEmpty();
      return sets.get(0).string(row, column);
    }
  }

  /** The server's greeting, read by hand from the HandshakeV10 layout. */
  record Greeting(
      String serverVersion, long connectionId, byte[] seed, int capabilities, String authPlugin) {}

  /**
   * A minimal MySQL client: protocol 4.1, mysql_native_password, classic EOF, text protocol, no
   * TLS, no compression. Payloads of 16 MiB and more are split and reassembled as the protocol
   * requires.
   */
  static final class RawClient implements AutoCloseable {
    static final int CLIENT_LONG_PASSWORD = 1;
    static final int CLIENT_LONG_FLAG = 1 << 2;
    static final int CLIENT_CONNECT_WITH_DB = 1 << 3;
    static final int CLIENT_PROTOCOL_41 = 1 << 9;
    static final int CLIENT_SSL = 1 << 11;
    static final int CLIENT_TRANSACTIONS = 1 << 13;
    static final int CLIENT_SECURE_CONNECTION = 1 << 15;
    static final int CLIENT_MULTI_RESULTS = 1 << 17;
    static final int CLIENT_PLUGIN_AUTH = 1 << 19;
    static final int SERVER_MORE_RESULTS_EXISTS = 1 << 3;
    static final int UTF8MB4_GENERAL_CI = 45;

    final Socket socket;
    final Greeting greeting;
    private final DataInputStream in;
    private final OutputStream out;
    private int capabilities;
    int lastSeq;

    private RawClient(Socket socket) throws IOException {
      this.socket = socket;
      this.in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 65536));
      this.out = new BufferedOutputStream(socket.getOutputStream(), 65536);
      this.greeting = readGreeting();
    }

    /** Connects and reads the greeting; nothing is sent. */
    static RawClient open(int port) throws IOException {
      Socket s = new Socket();
      try {
        s.connect(new InetSocketAddress("127.0.0.1", port), (int) REPLY_TIMEOUT.toMillis());
        s.setSoTimeout((int) REPLY_TIMEOUT.toMillis());
        s.setTcpNoDelay(true);
        return new RawClient(s);
      } catch (IOException | RuntimeException e) {
        s.close();
        throw e;
      }
    }

    /** Connects and logs in to database app; fails unless the login is answered with OK. */
    static RawClient login(int port, String user, String password) throws IOException {
      RawClient c = open(port);
      try {
        c.sendHandshakeResponse(user, password, EmbeddedMariaDb.APP_DATABASE);
        byte[] reply = c.readPayload();
        assertThat(reply[0] & 0xff)
            .withFailMessage("login as %s failed: %s", user, describe(reply))
            .isZero();
        return c;
      } catch (IOException | RuntimeException | Error e) {
        c.close();
        throw e;
      }
    }

    private Greeting readGreeting() throws IOException {
      byte[] p = readPayload();
      assertThat(p[0])
          .withFailMessage("expected a HandshakeV10 greeting, got %s", describe(p))
          .isEqualTo((byte) 10);
      int i = 1;
      int nul = indexOf(p, i, (byte) 0);
      String version = new String(p, i, nul - i, StandardCharsets.UTF_8);
      i = nul + 1;
      long id =
          (p[i] & 0xffL)
              | (p[i + 1] & 0xffL) << 8
              | (p[i + 2] & 0xffL) << 16
              | (p[i + 3] & 0xffL) << 24;
      i += 4;
      byte[] seed = new byte[20];
      System.arraycopy(p, i, seed, 0, 8);
      i += 9; // part 1 and its filler
      int caps = (p[i] & 0xff) | (p[i + 1] & 0xff) << 8;
      i += 2;
      i += 1 + 2; // collation, status
      caps |= ((p[i] & 0xff) | (p[i + 1] & 0xff) << 8) << 16;
      i += 2;
      int authLength = p[i] & 0xff;
      i += 1 + 10;
      int part2 = Math.max(13, authLength - 8);
      System.arraycopy(p, i, seed, 8, 12);
      i += part2;
      int end = indexOf(p, i, (byte) 0);
      String plugin = new String(p, i, (end < 0 ? p.length : end) - i, StandardCharsets.UTF_8);
      return new Greeting(version, id, seed, caps, plugin);
    }

    private static int indexOf(byte[] p, int from, byte b) {
      for (int i = from; i < p.length; i++) {
        if (p[i] == b) {
          return i;
        }
      }
      return -1;
    }

    /** HandshakeResponse41 with a mysql_native_password reply to this greeting's seed. */
    void sendHandshakeResponse(String user, String password, String database) throws IOException {
      capabilities =
          (CLIENT_LONG_PASSWORD
                  | CLIENT_LONG_FLAG
                  | CLIENT_PROTOCOL_41
                  | CLIENT_TRANSACTIONS
                  | CLIENT_SECURE_CONNECTION
                  | CLIENT_MULTI_RESULTS
                  | CLIENT_PLUGIN_AUTH
                  | (database != null ? CLIENT_CONNECT_WITH_DB : 0))
              & greeting.capabilities();
      byte[] auth =
          NativePassword.scramble(password.getBytes(StandardCharsets.UTF_8), greeting.seed());
      ByteArrayOutputStream p = new ByteArrayOutputStream();
      writeIntLE(p, capabilities, 4);
      writeIntLE(p, 64 * 1024 * 1024, 4);
      p.write(UTF8MB4_GENERAL_CI);
      p.writeBytes(new byte[23]);
      writeNul(p, user);
      p.write(auth.length);
      p.writeBytes(auth);
      if (database != null) {
        writeNul(p, database);
      }
      writeNul(p, NativePassword.PLUGIN_NAME);
      writePackets(p.toByteArray(), 1);
    }

    /**
     * COM_CHANGE_USER with a native reply to the greeting's seed; returns the reply payload (OK or
     * ERR).
     */
    byte[] changeUser(String user, String password, String database) throws IOException {
      byte[] auth =
          NativePassword.scramble(password.getBytes(StandardCharsets.UTF_8), greeting.seed());
      ByteArrayOutputStream p = new ByteArrayOutputStream();
      p.write(0x11);
      writeNul(p, user);
      p.write(auth.length);
      p.writeBytes(auth);
      writeNul(p, database);
      writeIntLE(p, UTF8MB4_GENERAL_CI, 2);
      writeNul(p, NativePassword.PLUGIN_NAME);
      writeCommand(p.toByteArray());
      return readPayload();
    }

    private static void writeIntLE(ByteArrayOutputStream p, int v, int bytes) {
      for (int i = 0; i < bytes; i++) {
        p.write(v >>> (8 * i));
      }
    }

    private static void writeNul(ByteArrayOutputStream p, String s) {
      p.writeBytes(s.getBytes(StandardCharsets.UTF_8));
      p.write(0);
    }

    static byte[] queryPayload(String sql) {
      return concat(new byte[] {0x03}, sql.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * The wire bytes of a command: payload split into packets of at most 0xFFFFFF bytes, sequence
     * ids from 0.
     */
    static byte[] commandPacket(byte[] payload) {
      ByteArrayOutputStream out = new ByteArrayOutputStream(payload.length + 16);
      int seq = 0;
      int off = 0;
      while (true) {
        int len = Math.min(MAX_PAYLOAD, payload.length - off);
        out.write(len);
        out.write(len >>> 8);
        out.write(len >>> 16);
        out.write(seq++);
        out.write(payload, off, len);
        off += len;
        if (len < MAX_PAYLOAD) {
          return out.toByteArray(); // a payload that is an exact multiple ends with an empty packet
        }
      }
    }

    private void writePackets(byte[] payload, int firstSeq) throws IOException {
      byte[] wire = commandPacket(payload);
      if (firstSeq != 0) {
        for (int i = 0; i < wire.length; ) {
          int len = (wire[i] & 0xff) | (wire[i + 1] & 0xff) << 8 | (wire[i + 2] & 0xff) << 16;
          wire[i + 3] += (byte) firstSeq;
          i += 4 + len;
        }
      }
      writeRaw(wire);
    }

    void writeCommand(byte[] payload) throws IOException {
      writePackets(payload, 0);
    }

    void writeRaw(byte[] bytes) throws IOException {
      out.write(bytes);
      out.flush();
    }

    /** Sends a command with a single-packet reply and returns that reply's payload. */
    byte[] command(int command, int... args) throws IOException {
      byte[] p = new byte[1 + args.length];
      p[0] = (byte) command;
      for (int i = 0; i < args.length; i++) {
        p[i + 1] = (byte) args[i];
      }
      writeCommand(p);
      return readPayload();
    }

    Results query(String sql) throws IOException {
      return run(queryPayload(sql));
    }

    Results run(byte[] comQuery) throws IOException {
      writeCommand(comQuery);
      return readResults();
    }

    /** One logical payload: packets of 0xFFFFFF bytes are joined with what follows them. */
    byte[] readPayload() throws IOException {
      byte[] first = readPacket();
      if (first.length < MAX_PAYLOAD) {
        return first;
      }
      ByteArrayOutputStream all = new ByteArrayOutputStream(2 * MAX_PAYLOAD);
      all.writeBytes(first);
      byte[] next;
      do {
        next = readPacket();
        all.writeBytes(next);
      } while (next.length == MAX_PAYLOAD);
      return all.toByteArray();
    }

    private byte[] readPacket() throws IOException {
      int b0 = in.readUnsignedByte();
      int b1 = in.readUnsignedByte();
      int b2 = in.readUnsignedByte();
      int seq = in.readUnsignedByte();
      int len = b0 | b1 << 8 | b2 << 16;
      byte[] p = new byte[len];
      in.readFully(p);
      lastSeq = seq;
      return p;
    }

    /** Reads a reply that must be an ERR packet. */
    Err readErr() throws IOException {
      return Err.parse(readPayload());
    }

    /**
     * Reads a whole COM_QUERY reply: OKs and result sets until one without MORE_RESULTS_EXISTS, or
     * an ERR.
     */
    Results readResults() throws IOException {
      List<ResultSetData> sets = new ArrayList<>();
      while (true) {
        byte[] p = readPayload();
        int header = p[0] & 0xff;
        if (header == 0xff) {
          return new Results(sets, Err.parse(p));
        }
        int status;
        if (header == 0x00) {
          int[] pos = {1};
          readLenenc(p, pos);
          readLenenc(p, pos);
          status = (p[pos[0]] & 0xff) | (p[pos[0] + 1] & 0xff) << 8;
        } else {
          assertThat(header)
              .withFailMessage("unexpected reply %s", describe(p))
              .isNotIn(0xfb, 0xfe);
          int count = (int) readLenenc(p, new int[] {0});
          List<String> columns = new ArrayList<>();
          for (int i = 0; i < count; i++) {
            columns.add(columnName(readPayload()));
          }
          byte[] eof = readPayload();
          assertThat(eof[0] & 0xff)
              .withFailMessage("classic EOF after the columns, got %s", describe(eof))
              .isEqualTo(0xfe);
          List<List<byte[]>> rows = new ArrayList<>();
          while (true) {
            byte[] row = readPayload();
            if ((row[0] & 0xff) == 0xff) {
              return new Results(sets, Err.parse(row));
            }
            if ((row[0] & 0xff) == 0xfe && row.length < 9) {
              status = (row[3] & 0xff) | (row[4] & 0xff) << 8;
              break;
            }
            rows.add(parseRow(row, count));
          }
          sets.add(new ResultSetData(columns, rows));
        }
        if ((status & SERVER_MORE_RESULTS_EXISTS) == 0) {
          return new Results(sets, null);
        }
      }
    }

    private static List<byte[]> parseRow(byte[] row, int count) {
      List<byte[]> values = new ArrayList<>(count);
      int[] pos = {0};
      for (int i = 0; i < count; i++) {
        if ((row[pos[0]] & 0xff) == 0xfb) {
          pos[0]++;
          values.add(null);
          continue;
        }
        int len = (int) readLenenc(row, pos);
        values.add(Arrays.copyOfRange(row, pos[0], pos[0] + len));
        pos[0] += len;
      }
      return values;
    }

    /** The name of a Protocol::ColumnDefinition41: the fifth length-encoded string. */
    static String columnName(byte[] def) {
      int[] pos = {0};
      for (int i = 0; i < 4; i++) {
        int skip = (int) readLenenc(def, pos); // catalog, schema, table, org_table
        pos[0] += skip;
      }
      int len = (int) readLenenc(def, pos);
      return new String(def, pos[0], len, StandardCharsets.UTF_8);
    }

    private static long readLenenc(byte[] p, int[] pos) {
      int first = p[pos[0]++] & 0xff;
      int bytes = first < 0xfb ? 0 : first == 0xfc ? 2 : first == 0xfd ? 3 : 8;
      if (bytes == 0) {
        return first;
      }
      long v = 0;
      for (int i = 0; i < bytes; i++) {
        v |= (p[pos[0]++] & 0xffL) << (8 * i);
      }
      return v;
    }

    /**
     * The proxy closes the connection: the next read sees end of stream (or a reset), well before
     * the timeout.
     */
    void assertClosedByPeer() {
      assertThatThrownBy(
              () -> {
                while (true) {
                  readPacket();
                }
              })
          .as("the proxy must close this connection")
          .isInstanceOfAny(EOFException.class, SocketException.class)
          .isNotInstanceOf(SocketTimeoutException.class);
    }

    @Override
    public void close() {
      try {
        socket.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
