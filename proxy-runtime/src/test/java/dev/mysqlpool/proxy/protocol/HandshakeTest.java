package dev.mysqlpool.proxy.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Round trips of the connection-phase packets, and the messages a malformed handshake response
 * gets.
 */
class HandshakeTest {
  private static final ByteBufAllocator ALLOC = new UnpooledByteBufAllocator(false);

  /** 20 bytes as a server makes them: 7-bit, never NUL or '$'. */
  private static final byte[] SEED = "abcdefgh1234567890AB".getBytes(StandardCharsets.US_ASCII);

  private static final int CLIENT_CAPS =
      Capabilities.CLIENT_LONG_PASSWORD
          | Capabilities.CLIENT_PROTOCOL_41
          | Capabilities.CLIENT_SECURE_CONNECTION
          | Capabilities.CLIENT_PLUGIN_AUTH
          | Capabilities.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA
          | Capabilities.CLIENT_CONNECT_WITH_DB
          | Capabilities.CLIENT_MULTI_RESULTS
          | Capabilities.CLIENT_DEPRECATE_EOF;

  @Test
  void handshakeV10RoundTrips() {
    int caps = Capabilities.PROXY_SUPPORTED;
    HandshakeV10 sent =
        new HandshakeV10(
            "11.4.5-MariaDB-log",
            0xfedcba98L,
            SEED,
            caps,
            45,
            ServerStatus.AUTOCOMMIT,
            "mysql_native_password");
    ByteBuf packet = sent.write(ALLOC);
    try {
      assertThat(Packets.sequenceId(packet))
          .as("the greeting is the first packet of the connection")
          .isZero();
      assertThat(Packets.payloadLength(packet))
          .isEqualTo(packet.readableBytes() - Packets.HEADER_SIZE);
      HandshakeV10 parsed = HandshakeV10.parse(packet);
      assertThat(parsed.serverVersion()).isEqualTo("11.4.5-MariaDB-log");
      assertThat(parsed.connectionId())
          .as("connection id is an unsigned 32-bit value")
          .isEqualTo(0xfedcba98L);
      assertThat(parsed.seed())
          .as("both parts of the 20-byte seed, without the NUL")
          .isEqualTo(SEED);
      assertThat(parsed.capabilities()).as("upper and lower capability halves").isEqualTo(caps);
      assertThat(parsed.collation()).isEqualTo(45);
      assertThat(parsed.status()).isEqualTo(ServerStatus.AUTOCOMMIT);
      assertThat(parsed.authPlugin()).isEqualTo("mysql_native_password");
      assertThat(packet.readerIndex()).as("parse must not consume the packet").isZero();
    } finally {
      packet.release();
    }
  }

  @Test
  void handshakeV10ParsesAServerGreetingWrittenByHand() {
    // Laid out from the HandshakeV10 page, as MariaDB 11.4 sends it (auth data length 21, then 10
    // reserved bytes,
    // of which MariaDB uses the last 4 for extended capabilities).
    ByteBuf p = Unpooled.buffer();
    p.writeMediumLE(0).writeByte(0);
    p.writeByte(10);
    p.writeBytes("11.4.5-MariaDB".getBytes(StandardCharsets.US_ASCII)).writeByte(0);
    p.writeIntLE(42);
    p.writeBytes(SEED, 0, 8).writeByte(0);
    int caps = 0xf7fe | (0x81bf << 16);
    p.writeShortLE(caps & 0xffff);
    p.writeByte(8);
    p.writeShortLE(ServerStatus.AUTOCOMMIT);
    p.writeShortLE(caps >>> 16);
    p.writeByte(21);
    p.writeZero(6).writeIntLE(0x1d);
    p.writeBytes(SEED, 8, 12).writeByte(0);
    p.writeBytes("mysql_native_password".getBytes(StandardCharsets.US_ASCII)).writeByte(0);
    p.setMediumLE(0, p.writerIndex() - Packets.HEADER_SIZE);
    try {
      HandshakeV10 g = HandshakeV10.parse(p);
      assertThat(g.serverVersion()).isEqualTo("11.4.5-MariaDB");
      assertThat(g.connectionId()).isEqualTo(42);
      assertThat(g.seed()).isEqualTo(SEED);
      assertThat(g.capabilities()).isEqualTo(caps);
      assertThat(g.collation()).isEqualTo(8);
      assertThat(g.authPlugin()).isEqualTo("mysql_native_password");
    } finally {
      p.release();
    }
  }

  @Test
  void handshakeV10RejectsOtherProtocolVersions() {
    ByteBuf p = Unpooled.buffer().writeMediumLE(1).writeByte(0).writeByte(9);
    try {
      assertThatThrownBy(() -> HandshakeV10.parse(p))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("unsupported protocol version 9 (expected 10)");
    } finally {
      p.release();
    }
  }

  @Test
  void handshakeResponse41RoundTrips() {
    byte[] auth = new byte[20];
    for (int i = 0; i < auth.length; i++) {
      auth[i] =
          (byte)
              (0xf0 + i); // wraps through 0x00: high bytes and NULs are fine in a length-prefixed
      // field
    }
    HandshakeResponse41 sent =
        new HandshakeResponse41(
            CLIENT_CAPS, 16 * 1024 * 1024, 224, "app", auth, "orders", "mysql_native_password");
    ByteBuf packet = sent.write(ALLOC);
    try {
      assertThat(Packets.sequenceId(packet))
          .as("the reply to the greeting has sequence id 1")
          .isEqualTo(1);
      HandshakeResponse41 parsed = HandshakeResponse41.parse(packet);
      assertThat(parsed.capabilities()).isEqualTo(CLIENT_CAPS);
      assertThat(parsed.maxPacketSize()).isEqualTo(16 * 1024 * 1024);
      assertThat(parsed.collation()).isEqualTo(224);
      assertThat(parsed.user()).isEqualTo("app");
      assertThat(parsed.authResponse()).isEqualTo(auth);
      assertThat(parsed.database()).isEqualTo("orders");
      assertThat(parsed.authPlugin()).isEqualTo("mysql_native_password");
    } finally {
      packet.release();
    }
  }

  @Test
  void handshakeResponse41RoundTripsWithoutDatabaseAndWithEmptyPassword() {
    int caps = CLIENT_CAPS & ~Capabilities.CLIENT_CONNECT_WITH_DB;
    HandshakeResponse41 sent =
        new HandshakeResponse41(
            caps, 0xffffff, 33, "r\u00e9sum\u00e9", new byte[0], null, "mysql_native_password");
    ByteBuf packet = sent.write(ALLOC);
    try {
      HandshakeResponse41 parsed = HandshakeResponse41.parse(packet);
      assertThat(parsed.user()).as("user names are UTF-8").isEqualTo("r\u00e9sum\u00e9");
      assertThat(parsed.authResponse()).isEmpty();
      assertThat(parsed.database()).isNull();
      assertThat(parsed.authPlugin()).isEqualTo("mysql_native_password");
    } finally {
      packet.release();
    }
  }

  @Test
  void handshakeResponse41ParsesOneBytePrefixedAuthWithoutLenencCapability() {
    int caps = Capabilities.CLIENT_PROTOCOL_41 | Capabilities.CLIENT_SECURE_CONNECTION;
    ByteBuf p = Unpooled.buffer();
    p.writeMediumLE(0).writeByte(1);
    p.writeIntLE(caps).writeIntLE(1 << 24).writeByte(8).writeZero(23);
    p.writeBytes("old".getBytes(StandardCharsets.US_ASCII)).writeByte(0);
    p.writeByte(3).writeBytes(new byte[] {1, 0, 2});
    p.setMediumLE(0, p.writerIndex() - Packets.HEADER_SIZE);
    try {
      HandshakeResponse41 r = HandshakeResponse41.parse(p);
      assertThat(r.user()).isEqualTo("old");
      assertThat(r.authResponse())
          .as("a 1-byte length prefix allows NULs in the reply")
          .containsExactly(1, 0, 2);
      assertThat(r.database()).isNull();
      assertThat(r.authPlugin()).isNull();
    } finally {
      p.release();
    }
  }

  /**
   * A response of {@code payload} bytes whose first 4 are {@code caps}, the rest zero (no user
   * name).
   */
  private static ByteBuf response(int caps, int payload) {
    ByteBuf p = Unpooled.buffer();
    p.writeMediumLE(payload).writeByte(1);
    p.writeIntLE(caps);
    p.writeZero(payload - 4);
    return p;
  }

  @Test
  void truncatedResponseIsRejected() {
    ByteBuf p = response(CLIENT_CAPS, 20);
    try {
      assertThatThrownBy(() -> HandshakeResponse41.parse(p))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("handshake response too short (20 bytes)");
    } finally {
      p.release();
    }
  }

  @Test
  void preProtocol41ResponseIsRejected() {
    // HandshakeResponse320 starts with 2 capability bytes; read as 4 they never carry
    // CLIENT_PROTOCOL_41.
    ByteBuf p =
        response(Capabilities.CLIENT_LONG_PASSWORD | Capabilities.CLIENT_SECURE_CONNECTION, 40);
    try {
      assertThatThrownBy(() -> HandshakeResponse41.parse(p))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("client does not speak protocol 4.1");
    } finally {
      p.release();
    }
  }

  @Test
  void responseWithoutUserNameIsRejected() {
    ByteBuf p = response(CLIENT_CAPS, 32);
    try {
      assertThatThrownBy(() -> HandshakeResponse41.parse(p))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("handshake response has no user name");
    } finally {
      p.release();
    }
  }

  @Test
  void mariadbExtendedCapabilitiesTravelInTheReservedBytesOnlyWithoutClientMysql() {
    int mariadbCaps = Capabilities.PROXY_SUPPORTED & ~Capabilities.CLIENT_LONG_PASSWORD;
    HandshakeV10 greeting =
        new HandshakeV10(
            "11.4.5-MariaDB",
            7,
            SEED,
            mariadbCaps,
            45,
            ServerStatus.AUTOCOMMIT,
            "mysql_native_password",
            Capabilities.MARIADB_CLIENT_STMT_BULK_OPERATIONS);
    ByteBuf packet = greeting.write(ALLOC);
    try {
      HandshakeV10 parsed = HandshakeV10.parse(packet);
      assertThat(parsed.mariadb()).isTrue();
      assertThat(parsed.mariadbCapabilities())
          .isEqualTo(Capabilities.MARIADB_CLIENT_STMT_BULK_OPERATIONS);
      assertThat(parsed.seed()).isEqualTo(SEED);
    } finally {
      packet.release();
    }
    HandshakeV10 mysql =
        new HandshakeV10(
            "8.4.3", 7, SEED, Capabilities.PROXY_SUPPORTED, 45, 2, "mysql_native_password", 4);
    ByteBuf mysqlPacket = mysql.write(ALLOC);
    try {
      assertThat(HandshakeV10.parse(mysqlPacket).mariadbCapabilities())
          .as("a MySQL greeting (CLIENT_MYSQL set) has reserved bytes there")
          .isZero();
    } finally {
      mysqlPacket.release();
    }
    HandshakeResponse41 reply =
        new HandshakeResponse41(
            CLIENT_CAPS & ~Capabilities.CLIENT_LONG_PASSWORD,
            1 << 24,
            45,
            "app",
            new byte[20],
            "app",
            "mysql_native_password",
            Capabilities.MARIADB_CLIENT_STMT_BULK_OPERATIONS);
    ByteBuf replyPacket = reply.write(ALLOC);
    try {
      HandshakeResponse41 parsed = HandshakeResponse41.parse(replyPacket);
      assertThat(parsed.mariadbCapabilities())
          .isEqualTo(Capabilities.MARIADB_CLIENT_STMT_BULK_OPERATIONS);
      assertThat(parsed.user()).isEqualTo("app");
      assertThat(parsed.database()).isEqualTo("app");
    } finally {
      replyPacket.release();
    }
  }
}
