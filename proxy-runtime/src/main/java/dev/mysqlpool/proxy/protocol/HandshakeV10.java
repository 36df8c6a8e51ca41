package dev.mysqlpool.proxy.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;

/**
 * The server's greeting.
 *
 * @param capabilities the lower 32 capability bits
 * @param seed the 20-byte scramble (both auth-plugin-data parts, without the trailing NUL)
 * @see <a
 *     href="https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_handshake_v10.html">
 *     Protocol::HandshakeV10</a>
 */
public record HandshakeV10(
    String serverVersion,
    long connectionId,
    byte[] seed,
    int capabilities,
    int collation,
    int status,
    String authPlugin,
    int mariadbCapabilities) {

  /** A greeting without MariaDB's extended capabilities. */
  public HandshakeV10(
      String serverVersion,
      long connectionId,
      byte[] seed,
      int capabilities,
      int collation,
      int status,
      String authPlugin) {
    this(serverVersion, connectionId, seed, capabilities, collation, status, authPlugin, 0);
  }

  /**
   * Whether MariaDB's extended capabilities are in the greeting: a MariaDB server clears
   * CLIENT_LONG_PASSWORD (its CLIENT_MYSQL) and puts them in the last four reserved bytes.
   */
  public boolean mariadb() {
    return (capabilities & Capabilities.CLIENT_LONG_PASSWORD) == 0;
  }

  /** Parses the greeting payload (the packet's reader index at its header). */
  public static HandshakeV10 parse(ByteBuf packet) {
    ByteBuf p = packet.duplicate();
    p.skipBytes(Packets.HEADER_SIZE);
    int protocol = p.readUnsignedByte();
    if (protocol != 10) {
      throw new IllegalArgumentException(
          "unsupported protocol version " + protocol + " (expected 10)");
    }
    String version = Packets.readStringNul(p);
    long connectionId = p.readUnsignedIntLE();
    byte[] part1 = new byte[8];
    p.readBytes(part1);
    p.skipBytes(1);
    int caps = p.readUnsignedShortLE();
    int collation = 0;
    int status = 0;
    int authDataLength = 0;
    int mariadbCaps = 0;
    if (p.isReadable()) {
      collation = p.readUnsignedByte();
      status = p.readUnsignedShortLE();
      caps |= p.readUnsignedShortLE() << 16;
      authDataLength = p.readUnsignedByte();
      p.skipBytes(6);
      mariadbCaps = p.readIntLE();
      if ((caps & Capabilities.CLIENT_LONG_PASSWORD) != 0) {
        mariadbCaps = 0; // a MySQL server: reserved bytes
      }
    }
    byte[] seed = part1;
    if ((caps & Capabilities.CLIENT_SECURE_CONNECTION) != 0) {
      // Part 2 is max(13, length - 8) bytes and ends with the NUL that terminates the scramble:
      // drop only that.
      int len2 = Math.min(Math.max(13, authDataLength - 8), p.readableBytes());
      int used = len2 > 0 && p.getByte(p.readerIndex() + len2 - 1) == 0 ? len2 - 1 : len2;
      seed = new byte[8 + used];
      System.arraycopy(part1, 0, seed, 0, 8);
      p.readBytes(seed, 8, used);
      p.skipBytes(len2 - used);
    }
    String plugin = "mysql_native_password";
    if ((caps & Capabilities.CLIENT_PLUGIN_AUTH) != 0 && p.isReadable()) {
      plugin = Packets.readStringNul(p);
    }
    return new HandshakeV10(
        version, connectionId, seed, caps, collation, status, plugin, mariadbCaps);
  }

  /** Writes this greeting as a packet with sequence id 0. The seed must be 20 bytes. */
  public ByteBuf write(ByteBufAllocator alloc) {
    byte[] version = serverVersion.getBytes(StandardCharsets.UTF_8);
    ByteBuf buf = Packets.start(alloc, 64 + version.length + authPlugin.length(), 0);
    buf.writeByte(10);
    buf.writeBytes(version);
    buf.writeByte(0);
    buf.writeIntLE((int) connectionId);
    buf.writeBytes(seed, 0, 8);
    buf.writeByte(0);
    buf.writeShortLE(capabilities & 0xffff);
    buf.writeByte(collation);
    buf.writeShortLE(status);
    buf.writeShortLE(capabilities >>> 16);
    buf.writeByte(seed.length + 1);
    buf.writeZero(6);
    buf.writeIntLE(mariadb() ? mariadbCapabilities : 0);
    buf.writeBytes(seed, 8, seed.length - 8);
    buf.writeByte(0);
    Packets.writeStringNul(buf, authPlugin);
    return Packets.finish(buf);
  }
}
