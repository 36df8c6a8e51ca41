package dev.mysqlpool.proxy.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;

/**
 * The client's reply to the greeting.
 *
 * @param database null when the client did not ask for one
 * @see <a
 *     href="https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_handshake_response.html">
 *     Protocol::HandshakeResponse41</a>
 */
public record HandshakeResponse41(
    int capabilities,
    int maxPacketSize,
    int collation,
    String user,
    byte[] authResponse,
    String database,
    String authPlugin,
    int mariadbCapabilities) {

  /** A reply without MariaDB's extended capabilities. */
  public HandshakeResponse41(
      int capabilities,
      int maxPacketSize,
      int collation,
      String user,
      byte[] authResponse,
      String database,
      String authPlugin) {
    this(capabilities, maxPacketSize, collation, user, authResponse, database, authPlugin, 0);
  }

  /**
   * Parses the packet (reader index at its header).
   *
   * @throws IllegalArgumentException for a truncated or pre-4.1 packet, naming what is wrong
   */
  public static HandshakeResponse41 parse(ByteBuf packet) {
    ByteBuf p = packet.duplicate();
    p.skipBytes(Packets.HEADER_SIZE);
    if (p.readableBytes() < 32) {
      throw new IllegalArgumentException(
          "handshake response too short (" + p.readableBytes() + " bytes)");
    }
    int caps = p.readIntLE();
    if ((caps & Capabilities.CLIENT_PROTOCOL_41) == 0) {
      throw new IllegalArgumentException("client does not speak protocol 4.1");
    }
    int maxPacket = p.readIntLE();
    int collation = p.readUnsignedByte();
    p.skipBytes(19);
    int mariadbCaps = (caps & Capabilities.CLIENT_LONG_PASSWORD) == 0 ? p.readIntLE() : 0;
    if ((caps & Capabilities.CLIENT_LONG_PASSWORD) != 0) {
      p.skipBytes(4);
    }
    if (!p.isReadable()) {
      // An SSLRequest has this length too; the login recognises it before parsing.
      throw new IllegalArgumentException("handshake response has no user name");
    }
    String user = Packets.readStringNul(p);
    byte[] auth;
    if ((caps & Capabilities.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA) != 0) {
      auth = Packets.readLenencBytes(p);
    } else if ((caps & Capabilities.CLIENT_SECURE_CONNECTION) != 0) {
      int len = p.readUnsignedByte();
      auth = new byte[len];
      p.readBytes(auth);
    } else {
      auth = Packets.readBytesNul(p);
    }
    String db = null;
    if ((caps & Capabilities.CLIENT_CONNECT_WITH_DB) != 0 && p.isReadable()) {
      db = Packets.readStringNul(p);
      if (db.isEmpty()) {
        db = null;
      }
    }
    String plugin = null;
    if ((caps & Capabilities.CLIENT_PLUGIN_AUTH) != 0 && p.isReadable()) {
      plugin = Packets.readStringNul(p);
    }
    return new HandshakeResponse41(
        caps,
        maxPacket,
        collation,
        user,
        auth == null ? new byte[0] : auth,
        db,
        plugin,
        mariadbCaps);
  }

  /**
   * Parses a COM_CHANGE_USER packet (reader index at its header) into the same shape as a login,
   * under the capabilities the client negotiated at login.
   *
   * @param currentCollation kept when the packet names none
   * @throws IndexOutOfBoundsException for a truncated packet
   * @see <a
   *     href="https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_change_user.html">COM_CHANGE_USER</a>
   */
  public static HandshakeResponse41 parseChangeUser(
      ByteBuf packet, int capabilities, int currentCollation) {
    ByteBuf p = packet.duplicate();
    p.skipBytes(Packets.HEADER_SIZE + 1);
    String name = Packets.readStringNul(p);
    byte[] auth;
    if ((capabilities & Capabilities.CLIENT_SECURE_CONNECTION) != 0) {
      auth = new byte[p.readUnsignedByte()];
      p.readBytes(auth);
    } else {
      auth = Packets.readBytesNul(p);
    }
    String db = p.isReadable() ? Packets.readStringNul(p) : "";
    int collation = currentCollation;
    if (p.readableBytes() >= 2) {
      collation = p.readUnsignedShortLE() & 0xff;
    }
    String plugin = null;
    if ((capabilities & Capabilities.CLIENT_PLUGIN_AUTH) != 0 && p.isReadable()) {
      plugin = Packets.readStringNul(p);
    }
    return new HandshakeResponse41(
        capabilities, 0, collation, name, auth, db.isEmpty() ? null : db, plugin);
  }

  /**
   * Writes the reply with sequence id 1, as the proxy logs in to a backend (no database, no
   * attributes).
   */
  public ByteBuf write(ByteBufAllocator alloc) {
    return write(alloc, 1);
  }

  /** Writes the reply with this sequence id: 2 when it follows an SSLRequest (TLS). */
  public ByteBuf write(ByteBufAllocator alloc, int sequenceId) {
    byte[] userBytes = user.getBytes(StandardCharsets.UTF_8);
    ByteBuf buf = Packets.start(alloc, 64 + userBytes.length + authResponse.length, sequenceId);
    buf.writeIntLE(capabilities);
    buf.writeIntLE(maxPacketSize);
    buf.writeByte(collation);
    buf.writeZero(19);
    buf.writeIntLE(mariadbCapabilities);
    buf.writeBytes(userBytes);
    buf.writeByte(0);
    Packets.writeLenencInt(buf, authResponse.length);
    buf.writeBytes(authResponse);
    if (database != null) {
      Packets.writeStringNul(buf, database);
    }
    Packets.writeStringNul(buf, authPlugin);
    return Packets.finish(buf);
  }
}
