package dev.mysqlpool.proxy.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;

/**
 * The session-state changes a server appends to an OK packet on a connection with
 * CLIENT_SESSION_TRACK (status flag SESSION_STATE_CHANGED), and the same OK packet rewritten for a
 * client that did not ask for them.
 *
 * @see <a
 *     href="https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_ok_packet.html">OK_Packet</a>
 */
public final class SessionStateInfo {
  public static final int SYSTEM_VARIABLES = 0;
  public static final int SCHEMA = 1;
  public static final int STATE_CHANGE = 2;

  /** Receives the entries of one OK packet's session-state info, in order. */
  public interface Visitor {
    void variable(String name, String value);

    void schema(String name);

    /**
     * Session state changed in a way the other entries may not describe (user variables, temporary
     * tables...).
     */
    void stateChanged();

    /**
     * An entry type this proxy does not interpret (GTIDs, transaction characteristics or state).
     */
    void other(int type);
  }

  private SessionStateInfo() {}

  /**
   * Reports the session-state entries of an OK packet (header 0x00 or 0xFE) read on a connection
   * with CLIENT_SESSION_TRACK. Does nothing when the packet carries none.
   */
  public static void read(ByteBuf packet, Visitor visitor) {
    int payload = packet.readerIndex() + Packets.HEADER_SIZE;
    int end = payload + Packets.payloadLength(packet);
    int i = afterStatus(packet, payload);
    if (i + 4 > end || (packet.getUnsignedShortLE(i) & ServerStatus.SESSION_STATE_CHANGED) == 0) {
      return;
    }
    i += 4; // status, warnings
    if (i >= end) {
      return;
    }
    i = skipLenencString(packet, i); // info
    if (i >= end) {
      return;
    }
    long total = Packets.getLenencInt(packet, i);
    i += Packets.lenencSize(packet, i);
    int stateEnd = (int) Math.min(end, i + total);
    while (i < stateEnd) {
      int type = packet.getUnsignedByte(i++);
      long length = Packets.getLenencInt(packet, i);
      i += Packets.lenencSize(packet, i);
      int entryEnd = (int) Math.min(stateEnd, i + length);
      switch (type) {
        case SYSTEM_VARIABLES:
          {
            String name = lenencString(packet, i);
            int valueAt = skipLenencString(packet, i);
            visitor.variable(name, valueAt < entryEnd ? lenencString(packet, valueAt) : "");
            break;
          }
        case SCHEMA:
          visitor.schema(lenencString(packet, i));
          break;
        case STATE_CHANGE:
          visitor.stateChanged();
          break;
        default:
          visitor.other(type);
      }
      i = entryEnd;
    }
  }

  /**
   * What an OK's session-state data says changed, for a log line or a pin reason: {@code reported:
   * sql_mode, schema}, or {@code reported by the server} when it names nothing.
   */
  public static String describe(ByteBuf ok) {
    StringBuilder detail = new StringBuilder();
    read(
        ok,
        new Visitor() {
          @Override
          public void variable(String name, String value) {
            detail.append(detail.length() == 0 ? "" : ", ").append(name);
          }

          @Override
          public void schema(String name) {
            detail.append(detail.length() == 0 ? "" : ", ").append("schema");
          }

          @Override
          public void stateChanged() {}

          @Override
          public void other(int type) {}
        });
    return detail.length() == 0 ? "reported by the server" : "reported: " + detail;
  }

  /**
   * The OK packet as a client without CLIENT_SESSION_TRACK expects it: no state data and no
   * SESSION_STATE_CHANGED flag. The info text stays length-encoded, as servers write it to every
   * client (and as drivers such as Connector/J read it), and is left out when empty. Returns null
   * when the packet carries no state data.
   */
  public static ByteBuf withoutSessionTrack(ByteBufAllocator alloc, ByteBuf packet) {
    int payload = packet.readerIndex() + Packets.HEADER_SIZE;
    int end = payload + Packets.payloadLength(packet);
    int statusAt = afterStatus(packet, payload);
    int infoAt = statusAt + 4;
    if (infoAt > end
        || (packet.getUnsignedShortLE(statusAt) & ServerStatus.SESSION_STATE_CHANGED) == 0) {
      return null;
    }
    int status = packet.getUnsignedShortLE(statusAt);
    int infoEnd = infoAt < end ? Math.min(end, skipLenencString(packet, infoAt)) : infoAt;
    boolean emptyInfo = infoAt >= end || packet.getUnsignedByte(infoAt) == 0;
    ByteBuf out = Packets.start(alloc, infoEnd - payload, Packets.sequenceId(packet));
    out.writeBytes(packet, payload, statusAt - payload);
    out.writeShortLE(status & ~ServerStatus.SESSION_STATE_CHANGED);
    out.writeShortLE(packet.getUnsignedShortLE(statusAt + 2));
    if (!emptyInfo) {
      out.writeBytes(packet, infoAt, infoEnd - infoAt);
    }
    return Packets.finish(out);
  }

  /**
   * The OK packet without its STATE_CHANGE entries, for a client that did not turn on {@code
   * session_track_state_change} (the proxy did, on its backends; MariaDB Connector/J 3.5 misreads
   * such entries). When nothing else remains, the state data and the SESSION_STATE_CHANGED flag go
   * too. Returns null when the packet has no STATE_CHANGE entry.
   */
  public static ByteBuf withoutStateChangeEntries(ByteBufAllocator alloc, ByteBuf packet) {
    int payload = packet.readerIndex() + Packets.HEADER_SIZE;
    int end = payload + Packets.payloadLength(packet);
    int statusAt = afterStatus(packet, payload);
    int infoAt = statusAt + 4;
    if (infoAt >= end
        || (packet.getUnsignedShortLE(statusAt) & ServerStatus.SESSION_STATE_CHANGED) == 0) {
      return null;
    }
    int stateAt = Math.min(end, skipLenencString(packet, infoAt));
    if (stateAt >= end) {
      return null;
    }
    long total = Packets.getLenencInt(packet, stateAt);
    int i = stateAt + Packets.lenencSize(packet, stateAt);
    int stateEnd = (int) Math.min(end, i + total);
    ByteBuf kept = alloc.heapBuffer(stateEnd - i);
    boolean dropped = false;
    try {
      while (i < stateEnd) {
        int entryStart = i;
        int type = packet.getUnsignedByte(i++);
        long length = Packets.getLenencInt(packet, i);
        int entryEnd = (int) Math.min(stateEnd, i + Packets.lenencSize(packet, i) + length);
        if (type == STATE_CHANGE) {
          dropped = true;
        } else {
          kept.writeBytes(packet, entryStart, entryEnd - entryStart);
        }
        i = entryEnd;
      }
      if (!dropped) {
        return null;
      }
      int status = packet.getUnsignedShortLE(statusAt);
      boolean emptyInfo = packet.getUnsignedByte(infoAt) == 0;
      ByteBuf out =
          Packets.start(
              alloc, stateAt - payload + kept.readableBytes() + 9, Packets.sequenceId(packet));
      out.writeBytes(packet, payload, statusAt - payload);
      out.writeShortLE(kept.isReadable() ? status : status & ~ServerStatus.SESSION_STATE_CHANGED);
      out.writeShortLE(packet.getUnsignedShortLE(statusAt + 2));
      if (kept.isReadable() || !emptyInfo) {
        out.writeBytes(packet, infoAt, stateAt - infoAt);
      }
      if (kept.isReadable()) {
        Packets.writeLenencInt(out, kept.readableBytes());
        out.writeBytes(kept);
      }
      return Packets.finish(out);
    } finally {
      kept.release();
    }
  }

  private static int afterStatus(ByteBuf packet, int payload) {
    int i = payload + 1;
    i += Packets.lenencSize(packet, i);
    i += Packets.lenencSize(packet, i);
    return i;
  }

  private static int skipLenencString(ByteBuf packet, int i) {
    long length = Packets.getLenencInt(packet, i);
    return (int) (i + Packets.lenencSize(packet, i) + length);
  }

  private static String lenencString(ByteBuf packet, int i) {
    long length = Packets.getLenencInt(packet, i);
    return packet.toString(i + Packets.lenencSize(packet, i), (int) length, StandardCharsets.UTF_8);
  }
}
