package dev.mysqlpool.proxy.stmt;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Reads and rewrites the statement commands' packets in place: the statement id (the first four
 * bytes after the command byte of COM_STMT_EXECUTE, SEND_LONG_DATA, CLOSE, RESET and FETCH) and the
 * parameter types of COM_STMT_EXECUTE. Never allocates except in {@link #withTypes}.
 *
 * @see <a
 *     href="https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_stmt_execute.html">COM_STMT_EXECUTE</a>
 */
public final class ExecutePacket {
  private static final int HEADER_SIZE = 4;
  private static final int MAX_PAYLOAD = 0xFFFFFF;

  /** Offset of the null bitmap in an execute's payload: command, id, flags, iteration count. */
  private static final int NULL_BITMAP = 10;

  /** MariaDB's "the statement prepared last on this connection". */
  public static final int LAST_PREPARED = -1;

  private ExecutePacket() {}

  /** The statement id of a statement command; 0 (no statement) when the packet is too short. */
  public static int statementId(ByteBuf packet) {
    if (payloadLength(packet) < 5) {
      return 0;
    }
    return packet.getIntLE(packet.readerIndex() + HEADER_SIZE + 1);
  }

  /** Rewrites the statement id of a statement command in place. */
  public static void statementId(ByteBuf packet, int id) {
    if (payloadLength(packet) >= 5) {
      packet.setIntLE(packet.readerIndex() + HEADER_SIZE + 1, id);
    }
  }

  /** Whether a COM_STMT_EXECUTE asks for a cursor (CURSOR_TYPE_READ_ONLY and friends). */
  public static boolean opensCursor(ByteBuf packet) {
    return payloadLength(packet) >= 6
        && (packet.getByte(packet.readerIndex() + HEADER_SIZE + 5) & 0x07) != 0;
  }

  /**
   * The index of new_params_bound_flag in a COM_STMT_EXECUTE of a statement with {@code params}
   * parameters, or -1 when there is none (no parameters, or a packet too short to hold it).
   */
  public static int boundFlagIndex(ByteBuf packet, int params) {
    if (params == 0) {
      return -1;
    }
    int offset = NULL_BITMAP + (params + 7) / 8;
    if (payloadLength(packet) <= offset) {
      return -1;
    }
    return packet.readerIndex() + HEADER_SIZE + offset;
  }

  /**
   * The types an execute with new_params_bound_flag 1 carries: {@code current} when they are the
   * same bytes (so a client that binds the same types again allocates nothing), else a copy; null
   * when the packet is too short to hold them.
   */
  public static byte[] types(ByteBuf packet, int flagIndex, int params, byte[] current) {
    int from = flagIndex + 1;
    int n = 2 * params;
    int end = packet.readerIndex() + HEADER_SIZE + payloadLength(packet);
    if (from + n > end) {
      return null;
    }
    if (current != null && current.length == n) {
      boolean same = true;
      for (int i = 0; i < n; i++) {
        if (packet.getByte(from + i) != current[i]) {
          same = false;
          break;
        }
      }
      if (same) {
        return current;
      }
    }
    byte[] copy = new byte[n];
    packet.getBytes(from, copy);
    return copy;
  }

  /**
   * Whether {@link #withTypes} can rewrite this packet: the types fit without changing how the
   * payload is split into 16 MiB packets.
   */
  public static boolean canAddTypes(ByteBuf packet, int params) {
    return payloadLength(packet) + 2L * params < MAX_PAYLOAD;
  }

  /**
   * A copy of an execute with new_params_bound_flag 0 that carries {@code types} (flag 1), for a
   * backend that last saw other types or none. Releases {@code packet}; the caller owns the result.
   */
  public static ByteBuf withTypes(
      ByteBufAllocator alloc, ByteBuf packet, int flagIndex, byte[] types) {
    int start = packet.readerIndex();
    int end = start + HEADER_SIZE + payloadLength(packet);
    ByteBuf out = alloc.ioBuffer(end - start + types.length);
    out.writeMediumLE(payloadLength(packet) + types.length);
    out.writeBytes(packet, start + 3, flagIndex - start - 3);
    out.writeByte(1);
    out.writeBytes(types);
    out.writeBytes(packet, flagIndex + 1, end - flagIndex - 1);
    packet.release();
    return out;
  }

  private static int payloadLength(ByteBuf packet) {
    return packet.getUnsignedMediumLE(packet.readerIndex());
  }
}
