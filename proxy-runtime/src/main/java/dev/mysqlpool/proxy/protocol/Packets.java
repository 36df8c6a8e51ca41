package dev.mysqlpool.proxy.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;

/**
 * Reading and writing the wire format: a packet is a 3-byte little-endian payload length, a
 * sequence id and the payload. Buffers passed in are never released here; buffers returned belong
 * to the caller.
 *
 * @see <a
 *     href="https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_packets.html">Basic
 *     Packets</a>
 */
public final class Packets {
  public static final int HEADER_SIZE = 4;

  /** A payload of exactly this size is continued by the next packet. */
  public static final int MAX_PAYLOAD = 0xFFFFFF;

  public static final int OK = 0x00;
  public static final int EOF = 0xFE;
  public static final int ERR = 0xFF;
  public static final int LOCAL_INFILE = 0xFB;

  private Packets() {}

  /** Payload length of the packet that starts at the reader index. */
  public static int payloadLength(ByteBuf packet) {
    return packet.getUnsignedMediumLE(packet.readerIndex());
  }

  /** Sequence id of the packet that starts at the reader index. */
  public static int sequenceId(ByteBuf packet) {
    return packet.getUnsignedByte(packet.readerIndex() + 3);
  }

  /** First payload byte (command byte, or OK/ERR/EOF header), or -1 for an empty payload. */
  public static int firstByte(ByteBuf packet) {
    return payloadLength(packet) == 0
        ? -1
        : packet.getUnsignedByte(packet.readerIndex() + HEADER_SIZE);
  }

  /** Rewrites the sequence id in place. */
  public static void setSequenceId(ByteBuf packet, int seq) {
    packet.setByte(packet.readerIndex() + 3, seq);
  }

  /** Starts a packet: reserves the header; finish with {@link #finish}. */
  public static ByteBuf start(ByteBufAllocator alloc, int expectedPayload, int seq) {
    ByteBuf buf = alloc.ioBuffer(HEADER_SIZE + expectedPayload);
    buf.writeMediumLE(0);
    buf.writeByte(seq);
    return buf;
  }

  /** Fills in the payload length reserved by {@link #start}. */
  public static ByteBuf finish(ByteBuf buf) {
    buf.setMediumLE(0, buf.writerIndex() - HEADER_SIZE);
    return buf;
  }

  /**
   * An OK packet. With CLIENT_SESSION_TRACK the info field is length-encoded, so an empty one is a
   * single 0.
   */
  public static ByteBuf ok(ByteBufAllocator alloc, int seq, int status, int clientCapabilities) {
    ByteBuf buf = start(alloc, 8, seq);
    buf.writeByte(OK);
    buf.writeByte(0); // affected rows
    buf.writeByte(0); // last insert id
    buf.writeShortLE(status);
    buf.writeShortLE(0); // warnings
    if ((clientCapabilities & Capabilities.CLIENT_SESSION_TRACK) != 0) {
      buf.writeByte(0);
    }
    return finish(buf);
  }

  /**
   * An OK packet carrying an info string, length-encoded as MariaDB writes it whatever the client's
   * capabilities (its clients read it so): the login's OK with MariaDB's certificate proof.
   */
  public static ByteBuf ok(
      ByteBufAllocator alloc, int seq, int status, int clientCapabilities, byte[] info) {
    if (info == null) {
      return ok(alloc, seq, status, clientCapabilities);
    }
    ByteBuf buf = start(alloc, 16 + info.length, seq);
    buf.writeByte(OK);
    buf.writeByte(0); // affected rows
    buf.writeByte(0); // last insert id
    buf.writeShortLE(status);
    buf.writeShortLE(0); // warnings
    writeLenencInt(buf, info.length);
    buf.writeBytes(info);
    return finish(buf);
  }

  /** A packet around a payload built elsewhere (an authentication step). */
  public static ByteBuf packet(ByteBufAllocator alloc, int seq, byte[] payload) {
    ByteBuf buf = start(alloc, payload.length, seq);
    buf.writeBytes(payload);
    return finish(buf);
  }

  /** An ERR packet as a MySQL server writes it (protocol 4.1 layout). */
  public static ByteBuf err(
      ByteBufAllocator alloc, int seq, int code, String sqlState, String message) {
    byte[] msg = message.getBytes(StandardCharsets.UTF_8);
    ByteBuf buf = start(alloc, 9 + msg.length, seq);
    buf.writeByte(ERR);
    buf.writeShortLE(code);
    buf.writeByte('#');
    buf.writeBytes(sqlState.getBytes(StandardCharsets.US_ASCII), 0, 5);
    buf.writeBytes(msg);
    return finish(buf);
  }

  /** A command packet (sequence id 0) with a string argument, e.g. COM_QUERY or COM_INIT_DB. */
  public static ByteBuf command(ByteBufAllocator alloc, int command, String argument) {
    byte[] arg = argument.getBytes(StandardCharsets.UTF_8);
    ByteBuf buf = start(alloc, 1 + arg.length, 0);
    buf.writeByte(command);
    buf.writeBytes(arg);
    return finish(buf);
  }

  /** A command packet without arguments, e.g. COM_PING. */
  public static ByteBuf command(ByteBufAllocator alloc, int command) {
    ByteBuf buf = start(alloc, 1, 0);
    buf.writeByte(command);
    return finish(buf);
  }

  /** Reads a length-encoded integer; returns -1 for the NULL marker 0xFB. */
  public static long readLenencInt(ByteBuf buf) {
    int first = buf.readUnsignedByte();
    if (first < 0xfb) {
      return first;
    }
    switch (first) {
      case 0xfb:
        return -1;
      case 0xfc:
        return buf.readUnsignedShortLE();
      case 0xfd:
        return buf.readUnsignedMediumLE();
      case 0xfe:
        return buf.readLongLE();
      default:
        throw new IllegalArgumentException("0xff is not a length-encoded integer");
    }
  }

  public static void writeLenencInt(ByteBuf buf, long value) {
    if (value < 0xfb) {
      buf.writeByte((int) value);
    } else if (value < 0x10000) {
      buf.writeByte(0xfc);
      buf.writeShortLE((int) value);
    } else if (value < 0x1000000) {
      buf.writeByte(0xfd);
      buf.writeMediumLE((int) value);
    } else {
      buf.writeByte(0xfe);
      buf.writeLongLE(value);
    }
  }

  /** A copy of the packet's payload (the packet's reader index at its header is left as is). */
  public static byte[] payload(ByteBuf packet) {
    byte[] out = new byte[payloadLength(packet)];
    packet.getBytes(packet.readerIndex() + HEADER_SIZE, out);
    return out;
  }

  /** Reads bytes up to a NUL (consumed) or to the end of the buffer. */
  public static byte[] readBytesNul(ByteBuf buf) {
    int end = buf.indexOf(buf.readerIndex(), buf.writerIndex(), (byte) 0);
    int len = (end < 0 ? buf.writerIndex() : end) - buf.readerIndex();
    byte[] out = new byte[len];
    buf.readBytes(out);
    if (end >= 0) {
      buf.skipBytes(1);
    }
    return out;
  }

  public static String readStringNul(ByteBuf buf) {
    return new String(readBytesNul(buf), StandardCharsets.UTF_8);
  }

  /**
   * Reads a length-encoded string; null for the NULL marker 0xFB.
   *
   * @throws IllegalArgumentException when the length runs past the end of the buffer; checked
   *     before allocating, since the length comes from the peer (a client's handshake can claim up
   *     to 2^64 bytes)
   */
  public static byte[] readLenencBytes(ByteBuf buf) {
    if (buf.isReadable() && buf.getUnsignedByte(buf.readerIndex()) == 0xfb) {
      buf.skipBytes(1);
      return null;
    }
    long len = readLenencInt(buf);
    if (len < 0 || len > buf.readableBytes()) {
      throw new IllegalArgumentException(
          "length-encoded string of "
              + Long.toUnsignedString(len)
              + " bytes runs past the end of the packet ("
              + buf.readableBytes()
              + " bytes left)");
    }
    byte[] out = new byte[(int) len];
    buf.readBytes(out);
    return out;
  }

  public static void writeStringNul(ByteBuf buf, String s) {
    buf.writeBytes(s.getBytes(StandardCharsets.UTF_8));
    buf.writeByte(0);
  }

  /** The length-encoded integer at {@code index}, without moving the reader index. */
  public static long getLenencInt(ByteBuf buf, int index) {
    int first = buf.getUnsignedByte(index);
    if (first < 0xfb) {
      return first;
    }
    switch (first) {
      case 0xfc:
        return buf.getUnsignedShortLE(index + 1);
      case 0xfd:
        return buf.getUnsignedMediumLE(index + 1);
      case 0xfe:
        return buf.getLongLE(index + 1);
      default:
        return 0;
    }
  }

  /** How many bytes the length-encoded integer at {@code index} takes. */
  public static int lenencSize(ByteBuf buf, int index) {
    int first = buf.getUnsignedByte(index);
    if (first < 0xfb) {
      return 1;
    }
    switch (first) {
      case 0xfc:
        return 3;
      case 0xfd:
        return 4;
      case 0xfe:
        return 9;
      default:
        return 1;
    }
  }

  /**
   * A one-row, one-column BIGINT result set, as a server sends it for {@code SELECT ROW_COUNT()}:
   * column count, column definition, (EOF,) the row, and the terminator (EOF, or the OK that
   * replaces it under DEPRECATE_EOF).
   */
  public static ByteBuf singleValueResult(
      ByteBufAllocator alloc,
      int seq,
      String columnName,
      long value,
      boolean deprecateEof,
      int status) {
    byte[] name = columnName.getBytes(StandardCharsets.UTF_8);
    byte[] text = Long.toString(value).getBytes(StandardCharsets.US_ASCII);
    ByteBuf out = alloc.ioBuffer(64 + name.length);
    int packetStart = out.writerIndex();
    out.writeMediumLE(0).writeByte(seq++).writeByte(1);
    out.setMediumLE(packetStart, out.writerIndex() - packetStart - HEADER_SIZE);
    packetStart = out.writerIndex();
    out.writeMediumLE(0).writeByte(seq++);
    out.writeByte(3).writeBytes("def".getBytes(StandardCharsets.US_ASCII));
    out.writeByte(0).writeByte(0).writeByte(0); // schema, table, original table
    writeLenencInt(out, name.length);
    out.writeBytes(name);
    out.writeByte(0); // original name
    out.writeByte(0x0c)
        .writeShortLE(63)
        .writeIntLE(21)
        .writeByte(0x08)
        .writeShortLE(0x81)
        .writeByte(0)
        .writeShortLE(
            0); // binary charset, length 21, LONGLONG, NOT_NULL|BINARY, no decimals, filler
    out.setMediumLE(packetStart, out.writerIndex() - packetStart - HEADER_SIZE);
    if (!deprecateEof) {
      out.writeMediumLE(5).writeByte(seq++).writeByte(EOF).writeShortLE(0).writeShortLE(status);
    }
    out.writeMediumLE(1 + text.length).writeByte(seq++).writeByte(text.length).writeBytes(text);
    if (deprecateEof) {
      out.writeMediumLE(7)
          .writeByte(seq)
          .writeByte(EOF)
          .writeByte(0)
          .writeByte(0)
          .writeShortLE(status)
          .writeShortLE(0);
    } else {
      out.writeMediumLE(5).writeByte(seq).writeByte(EOF).writeShortLE(0).writeShortLE(status);
    }
    return out;
  }

  /** The values of a text-protocol result row, SQL NULL as null. */
  public static java.util.List<String> textRow(ByteBuf packet) {
    int start = packet.readerIndex() + HEADER_SIZE;
    ByteBuf row = packet.slice(start, payloadLength(packet));
    java.util.List<String> values = new java.util.ArrayList<>();
    while (row.isReadable()) {
      byte[] v = readLenencBytes(row);
      values.add(v == null ? null : new String(v, StandardCharsets.UTF_8));
    }
    return values;
  }

  /**
   * The name (alias) of a column from its Protocol::ColumnDefinition41 packet: the fifth
   * length-encoded string, after catalog, schema, table and original table.
   *
   * @see <a
   *     href="https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query_response_text_resultset_column_definition.html">Column
   *     Definition</a>
   */
  public static String columnName(ByteBuf packet) {
    ByteBuf def = packet.slice(packet.readerIndex() + HEADER_SIZE, payloadLength(packet));
    for (int i = 0; i < 4; i++) {
      readLenencBytes(def);
    }
    byte[] name = readLenencBytes(def);
    return name == null ? null : new String(name, StandardCharsets.UTF_8);
  }

  /** The message of an ERR packet, as "code (SQLSTATE): text", for logs and exceptions. */
  public static String describeError(ByteBuf packet) {
    int i = packet.readerIndex() + HEADER_SIZE;
    int end = packet.readerIndex() + HEADER_SIZE + payloadLength(packet);
    int code = packet.getUnsignedShortLE(i + 1);
    String state = "";
    int msgStart = i + 3;
    if (packet.getByte(msgStart) == '#') {
      state = packet.toString(msgStart + 1, 5, StandardCharsets.US_ASCII);
      msgStart += 6;
    }
    String msg = packet.toString(msgStart, Math.max(0, end - msgStart), StandardCharsets.UTF_8);
    return code + (state.isEmpty() ? "" : " (" + state + ")") + ": " + msg;
  }
}
