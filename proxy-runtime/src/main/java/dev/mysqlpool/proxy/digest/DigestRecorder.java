package dev.mysqlpool.proxy.digest;

import dev.mysqlpool.proxy.protocol.Commands;
import dev.mysqlpool.proxy.protocol.Packets;
import dev.mysqlpool.proxy.protocol.ResponseTracker;
import dev.mysqlpool.proxy.protocol.ServerStatus;
import io.netty.buffer.ByteBuf;

/**
 * One client session's side of the digest view: which digest each command in flight counts under,
 * in the order the replies come back (a client may pipeline), and the reply's figures once it is
 * complete. {@link #NONE} records nothing, for {@code stats.queryDigests: false}.
 *
 * <p>Threading: the session's event loop only. Allocates nothing per statement once the digest is
 * known on that loop; the queue grows only with the number of commands a client pipelines.
 */
public final class DigestRecorder {
  /** Records nothing. */
  public static final DigestRecorder NONE = new DigestRecorder(null);

  private final LoopDigests table;

  /** Per command in flight, oldest at head: its entry, or null for a command not counted. */
  private LoopDigests.Entry[] pending;

  private int head;
  private int size;

  DigestRecorder(LoopDigests table) {
    this.table = table;
  }

  /**
   * A client command that the server answers was sent to {@code backend}: a COM_QUERY is counted
   * under its digest, any other command is only queued, to keep the order of the replies. Call it
   * for each such command, before the packet is handed on; {@code packet} is read, not released.
   *
   * @param serverStatus the session's last server status (NO_BACKSLASH_ESCAPES says how strings
   *     end)
   */
  public void sent(ByteBuf packet, int command, String backend, String user, int serverStatus) {
    if (table == null) {
      return;
    }
    LoopDigests.Entry e = null;
    if (command == Commands.COM_QUERY) {
      int start = packet.readerIndex() + Packets.HEADER_SIZE + 1;
      int end = packet.readerIndex() + Packets.HEADER_SIZE + Packets.payloadLength(packet);
      boolean noBackslashEscapes = (serverStatus & ServerStatus.NO_BACKSLASH_ESCAPES) != 0;
      e = table.entry(packet, start, end, noBackslashEscapes, backend, user);
    }
    push(e);
  }

  /**
   * The reply to the oldest command in flight is complete: {@code tracker} has its outcome, {@code
   * elapsedNanos} is the time since it was sent (or since the reply before it).
   */
  public void done(ResponseTracker tracker, long elapsedNanos, long nowNanos) {
    if (size == 0) {
      return;
    }
    LoopDigests.Entry e = pop();
    if (e != null) {
      boolean error = tracker.lastWasError();
      boolean rows = !error && tracker.lastWasResultSet();
      e.record(
          elapsedNanos,
          nowNanos,
          error,
          rows ? tracker.lastRows() : 0,
          error || rows ? 0 : tracker.lastAffectedRows());
    }
  }

  /** The reply to the oldest command was consumed without reaching the client (it is resent). */
  public void skip() {
    if (size > 0) {
      pop();
    }
  }

  /** Nothing is in flight any more: a new backend connection is lent. */
  public void reset() {
    while (size > 0) {
      pop();
    }
    head = 0;
  }

  private void push(LoopDigests.Entry e) {
    if (pending == null) {
      pending = new LoopDigests.Entry[8];
    } else if (size == pending.length) {
      LoopDigests.Entry[] bigger = new LoopDigests.Entry[size * 2];
      for (int i = 0; i < size; i++) {
        bigger[i] = pending[(head + i) % pending.length];
      }
      pending = bigger;
      head = 0;
    }
    pending[(head + size) % pending.length] = e;
    size++;
  }

  private LoopDigests.Entry pop() {
    LoopDigests.Entry e = pending[head];
    pending[head] = null;
    head = (head + 1) % pending.length;
    size--;
    return e;
  }
}
