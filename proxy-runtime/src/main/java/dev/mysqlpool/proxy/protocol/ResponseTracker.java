package dev.mysqlpool.proxy.protocol;

import io.netty.buffer.ByteBuf;
import java.util.Arrays;

/**
 * Follows the server's replies to a connection's pipelined commands, packet by packet, so the proxy
 * knows when each reply is complete and what the last status flags said (open transaction, more
 * results). It reads at most a few header bytes per packet and never copies or retains a packet.
 *
 * <p>Replies are multi-part: several result sets per statement, ERR after rows, prepared-statement
 * metadata, a cursor that leaves rows behind for COM_STMT_FETCH, and 0xFE packets that are rows
 * rather than terminators when 16 MiB long. Not thread-safe: one instance per connection, used on
 * one thread at a time.
 *
 * @see <a
 *     href="https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_com_query_response.html">COM_QUERY
 *     Response</a>
 */
public final class ResponseTracker {
  private static final int FIRST = 0;
  private static final int COLUMNS = 1;
  private static final int COLUMNS_EOF = 2;
  private static final int ROWS = 3;
  private static final int PARAMS = 4;
  private static final int PARAMS_EOF = 5;
  private static final int SINGLE = 6;
  private static final int UNTIL_TERMINATOR = 7;
  private static final int PREPARED_COLUMNS = 8;
  private static final int PREPARED_COLUMNS_EOF = 9;

  private boolean deprecateEof;

  /** Per pending command, oldest at head: the command byte, the caller's tag and owner. */
  private int[] queue = new int[8];

  private int[] tags = new int[8];
  private Object[] owners = new Object[8];
  private int head;
  private int size;

  private int phase;
  private long remaining;
  private int columnsAfterParams;
  private boolean continuation;
  private int lastStatus = ServerStatus.AUTOCOMMIT;
  private boolean localInfileRequested;
  private boolean lastWasError;
  private boolean okPacket;
  private int lastWarnings;
  private long lastAffectedRows;
  private long lastInsertId;
  private long completedInsertId;
  private long rows;
  private boolean lastWasResultSet;

  /**
   * @param capabilities the capabilities negotiated on the connection (CLIENT_DEPRECATE_EOF
   *     matters)
   */
  public ResponseTracker(int capabilities) {
    reset(capabilities);
  }

  /**
   * Starts over for another connection (nothing pending), so one tracker can serve a client for its
   * whole life even as it moves between backend connections.
   */
  public void reset(int capabilities) {
    this.deprecateEof = (capabilities & Capabilities.CLIENT_DEPRECATE_EOF) != 0;
    Arrays.fill(owners, null);
    head = 0;
    size = 0;
    phase = FIRST;
    remaining = 0;
    columnsAfterParams = 0;
    continuation = false;
    lastStatus = ServerStatus.AUTOCOMMIT;
    localInfileRequested = false;
    lastWasError = false;
    okPacket = false;
    lastWarnings = 0;
    lastAffectedRows = 0;
    lastInsertId = 0;
    completedInsertId = 0;
    rows = 0;
    lastWasResultSet = false;
  }

  /** Records a command sent to the server that it will answer. */
  public void expect(int command) {
    expect(command, 0, null);
  }

  /**
   * Records a command sent to the server that it will answer, with what the caller needs to know
   * about it when its reply arrives ({@link #currentTag()}, {@link #currentOwner()}): so one queue
   * says both where the reply ends and whose it is.
   *
   * @param tag any int of the caller's (e.g. flags of a client statement)
   * @param owner any object of the caller's, or null
   */
  public void expect(int command, int tag, Object owner) {
    if (size == queue.length) {
      grow();
    }
    int slot = (head + size) % queue.length;
    queue[slot] = command;
    tags[slot] = tag;
    owners[slot] = owner;
    if (size == 0) {
      begin(command);
    }
    size++;
  }

  private void grow() {
    int n = queue.length * 2;
    int[] biggerQueue = new int[n];
    int[] biggerTags = new int[n];
    Object[] biggerOwners = new Object[n];
    for (int i = 0; i < size; i++) {
      int from = (head + i) % queue.length;
      biggerQueue[i] = queue[from];
      biggerTags[i] = tags[from];
      biggerOwners[i] = owners[from];
    }
    queue = biggerQueue;
    tags = biggerTags;
    owners = biggerOwners;
    head = 0;
  }

  /** The tag given with the command whose reply is being read; 0 when none is pending. */
  public int currentTag() {
    return size == 0 ? 0 : tags[head];
  }

  /** The owner given with the command whose reply is being read; null when none is pending. */
  public Object currentOwner() {
    return size == 0 ? null : owners[head];
  }

  /** Commands sent whose replies are not complete yet. */
  public int pending() {
    return size;
  }

  /** Status flags of the most recent OK or EOF packet. */
  public int lastStatus() {
    return lastStatus;
  }

  /** Whether the last completed reply was an ERR packet. */
  public boolean lastWasError() {
    return lastWasError;
  }

  /**
   * Whether the packet just passed to {@link #onPacket} was an OK packet (or the OK-shaped
   * terminator that replaces EOF under CLIENT_DEPRECATE_EOF), the only packets that can carry
   * session-state changes.
   */
  public boolean packetWasOk() {
    return okPacket;
  }

  /** Warning count of the most recent OK or EOF packet. */
  public int lastWarnings() {
    return lastWarnings;
  }

  /**
   * Affected rows of the most recent OK packet that answered a statement (not a result-set
   * terminator).
   */
  public long lastAffectedRows() {
    return lastAffectedRows;
  }

  /** The last non-zero last-insert-id of the reply to the most recent command, or 0. */
  public long lastInsertId() {
    return completedInsertId;
  }

  /** Whether the most recent statement result was a result set (rather than an OK). */
  public boolean lastWasResultSet() {
    return lastWasResultSet;
  }

  /** Rows in the most recent result set. */
  public long lastRows() {
    return rows;
  }

  /**
   * True once the server answered a LOAD DATA LOCAL with a file request; the client uploads next.
   */
  public boolean localInfileRequested() {
    return localInfileRequested;
  }

  /** The client's upload ended (empty packet); the server's OK or ERR follows. */
  public void localInfileDone() {
    localInfileRequested = false;
  }

  /** Whether the next packet that is not a terminator or ERR is a result-set row. */
  public boolean readingRows() {
    return size > 0 && phase == ROWS && !continuation;
  }

  /** Whether the next packet that is not an ERR is a result set's column definition. */
  public boolean readingColumns() {
    return size > 0 && phase == COLUMNS && !continuation;
  }

  /** The command whose reply is being read, or -1. */
  public int currentCommand() {
    return size == 0 ? -1 : queue[head];
  }

  /**
   * Accounts for one packet from the server.
   *
   * @return true when this packet completed the reply to the oldest pending command
   * @throws IllegalStateException when the server sends a packet no command asked for
   */
  public boolean onPacket(ByteBuf packet) {
    int length = Packets.payloadLength(packet);
    okPacket = false;
    boolean wasContinuation = continuation;
    continuation = length == Packets.MAX_PAYLOAD;
    if (wasContinuation) {
      return false;
    }
    if (size == 0) {
      throw new IllegalStateException("unexpected packet from server with no command pending");
    }
    int payload = packet.readerIndex() + Packets.HEADER_SIZE;
    int header = length == 0 ? -1 : packet.getUnsignedByte(payload);
    switch (phase) {
      case SINGLE:
        if (header == Packets.OK) {
          readOk(packet, payload, true);
        } else if (header == Packets.EOF && length < 9) {
          readEof(packet, payload);
        }
        return complete(header == Packets.ERR);
      case UNTIL_TERMINATOR:
        if (header == Packets.ERR) {
          return complete(true);
        }
        if (header == Packets.EOF && length < Packets.MAX_PAYLOAD && isTerminator(length)) {
          readTerminator(packet, payload);
          return complete(false);
        }
        return false;
      case FIRST:
        return first(packet, payload, header, length);
      case COLUMNS:
        if (header == Packets.ERR) {
          return complete(true);
        }
        if (--remaining == 0) {
          phase = deprecateEof ? ROWS : COLUMNS_EOF;
        }
        return false;
      case COLUMNS_EOF:
        readEof(packet, payload);
        if ((lastStatus & ServerStatus.CURSOR_EXISTS) != 0
            && currentCommand() == Commands.COM_STMT_EXECUTE) {
          return complete(false);
        }
        phase = ROWS;
        return false;
      case ROWS:
        if (header == Packets.ERR) {
          return complete(true);
        }
        if (header == Packets.EOF && length < Packets.MAX_PAYLOAD && isTerminator(length)) {
          readTerminator(packet, payload);
          if ((lastStatus & ServerStatus.MORE_RESULTS_EXISTS) != 0) {
            phase = FIRST;
            return false;
          }
          return complete(false);
        }
        rows++;
        return false;
      case PARAMS:
        if (--remaining == 0) {
          if (!deprecateEof) {
            phase = PARAMS_EOF;
            return false;
          }
          return preparedColumns();
        }
        return false;
      case PARAMS_EOF:
        return preparedColumns();
      case PREPARED_COLUMNS:
        if (--remaining == 0) {
          if (deprecateEof) {
            return complete(false);
          }
          phase = PREPARED_COLUMNS_EOF;
        }
        return false;
      case PREPARED_COLUMNS_EOF:
        return complete(false);
      default:
        throw new IllegalStateException("phase " + phase);
    }
  }

  private boolean first(ByteBuf packet, int payload, int header, int length) {
    int command = currentCommand();
    if (header == Packets.ERR) {
      return complete(true);
    }
    if (command == Commands.COM_STMT_PREPARE) {
      if (header != Packets.OK) {
        throw new IllegalStateException(
            "unexpected reply 0x" + Integer.toHexString(header) + " to COM_STMT_PREPARE");
      }
      int columns = packet.getUnsignedShortLE(payload + 5);
      int params = packet.getUnsignedShortLE(payload + 7);
      columnsAfterParams = columns;
      if (params > 0) {
        remaining = params;
        phase = PARAMS;
        return false;
      }
      return preparedColumns();
    }
    if (header == Packets.OK) {
      readOk(packet, payload, true);
      lastWasResultSet = false;
      if ((lastStatus & ServerStatus.MORE_RESULTS_EXISTS) != 0) {
        return false;
      }
      return complete(false);
    }
    if (header == Packets.LOCAL_INFILE) {
      localInfileRequested = true;
      return false;
    }
    if (header == Packets.EOF && length < 9) {
      // COM_SET_OPTION and COM_DEBUG answer with a classic EOF.
      readEof(packet, payload);
      return complete(false);
    }
    if (Packets.lenencSize(packet, payload) > length) {
      throw new IllegalStateException("a column count runs past the end of its packet");
    }
    remaining = Packets.getLenencInt(packet, payload);
    phase = remaining > 0 ? COLUMNS : ROWS;
    rows = 0;
    lastWasResultSet = true;
    return false;
  }

  /** Prepared-statement metadata ends after its column definitions (plus EOF): no rows follow. */
  private boolean preparedColumns() {
    if (columnsAfterParams > 0) {
      remaining = columnsAfterParams;
      columnsAfterParams = 0;
      phase = PREPARED_COLUMNS;
      return false;
    }
    return complete(false);
  }

  private boolean isTerminator(int length) {
    // A classic EOF is at most 5 bytes; a DEPRECATE_EOF terminator is an OK packet with a 0xFE
    // header, which can
    // carry session-state info but stays far below 16 MiB, whereas a row starting with 0xFE is at
    // least 16 MiB.
    return deprecateEof ? length < Packets.MAX_PAYLOAD : length < 9;
  }

  private void readTerminator(ByteBuf packet, int payload) {
    if (deprecateEof) {
      readOk(packet, payload, false);
    } else {
      readEof(packet, payload);
    }
  }

  private void readOk(ByteBuf packet, int payload, boolean statementResult) {
    okPacket = true;
    int end = payload + Packets.payloadLength(packet);
    int i = payload + 1;
    long affected = Packets.getLenencInt(packet, i);
    i += Packets.lenencSize(packet, i);
    long insertId = Packets.getLenencInt(packet, i);
    i += Packets.lenencSize(packet, i);
    if (statementResult) {
      lastAffectedRows = affected;
      if (insertId != 0) {
        // A multi-statement reply ends with the last statement's OK; an INSERT before it still set
        // the id.
        lastInsertId = insertId;
      }
    }
    lastStatus = i + 2 <= end ? packet.getUnsignedShortLE(i) : 0;
    lastWarnings = i + 4 <= end ? packet.getUnsignedShortLE(i + 2) : 0;
  }

  private void readEof(ByteBuf packet, int payload) {
    int end = payload + Packets.payloadLength(packet);
    lastWarnings = payload + 3 <= end ? packet.getUnsignedShortLE(payload + 1) : 0;
    lastStatus = payload + 5 <= end ? packet.getUnsignedShortLE(payload + 3) : 0;
  }

  private boolean complete(boolean error) {
    lastWasError = error;
    completedInsertId = lastInsertId;
    lastInsertId = 0;
    localInfileRequested = false;
    owners[head] = null;
    head = (head + 1) % queue.length;
    size--;
    if (size > 0) {
      begin(queue[head]);
    }
    return true;
  }

  private void begin(int command) {
    switch (command) {
      case Commands.COM_QUERY:
      case Commands.COM_STMT_EXECUTE:
      case Commands.COM_STMT_BULK_EXECUTE:
      case Commands.COM_PROCESS_INFO:
      case Commands.COM_STMT_PREPARE:
        phase = FIRST;
        break;
      case Commands.COM_FIELD_LIST:
      case Commands.COM_STMT_FETCH:
        phase = UNTIL_TERMINATOR;
        break;
      default:
        phase = SINGLE;
    }
  }
}
