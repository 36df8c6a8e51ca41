package dev.mysqlpool.proxy.frontend;

import dev.mysqlpool.proxy.protocol.Packets;
import dev.mysqlpool.proxy.stmt.SharedStatement;
import dev.mysqlpool.proxy.stmt.StatementCache;
import io.netty.buffer.ByteBuf;
import java.util.ArrayDeque;

/**
 * Sees the first packet of each shared statement's execute reply, in order: a result with another
 * number of columns than the cached prepare reply (a DDL since, after which the server prepared the
 * statement again by itself) means later prepares must not be answered from the cache; error 1615
 * (the server gave up preparing it again) drops the statement on that connection, so the next
 * execute prepares it anew. One per session, reused: no allocation per execute.
 */
final class ExecuteReplies extends ReplyWatcher {
  private static final int NEED_REPREPARE = 1615;

  private final SharedStatements owner;
  private final StatementCache cache;
  private final ArrayDeque<SharedStatement> inFlight = new ArrayDeque<>(4);
  private boolean first = true;

  ExecuteReplies(SharedStatements owner, StatementCache cache) {
    this.owner = owner;
    this.cache = cache;
  }

  /** An execute of {@code s} was sent with this watcher. */
  void expect(SharedStatement s) {
    inFlight.add(s);
  }

  void clear() {
    inFlight.clear();
    first = true;
  }

  @Override
  void onPacket(ByteBuf packet, boolean last) {
    if (first) {
      SharedStatement s = inFlight.poll();
      if (s != null) {
        check(s, packet);
      }
    }
    first = last;
  }

  private void check(SharedStatement s, ByteBuf packet) {
    int header = Packets.firstByte(packet);
    int payload = packet.readerIndex() + Packets.HEADER_SIZE;
    if (header == Packets.ERR) {
      if (packet.getUnsignedShortLE(payload + 1) == NEED_REPREPARE) {
        cache.invalidate(s);
        owner.dropHere(s);
      }
    } else if (header != Packets.OK
        && header != Packets.LOCAL_INFILE
        && header != Packets.EOF
        && Packets.getLenencInt(packet, payload) != s.columns()) {
      cache.invalidate(s);
    }
  }
}
