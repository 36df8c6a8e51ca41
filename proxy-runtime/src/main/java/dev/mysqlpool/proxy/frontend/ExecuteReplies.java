package dev.mysqlpool.proxy.frontend;

import dev.mysqlpool.proxy.protocol.Packets;
import dev.mysqlpool.proxy.stmt.ClientStatement;
import dev.mysqlpool.proxy.stmt.SharedStatement;
import dev.mysqlpool.proxy.stmt.StatementCache;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.ArrayDeque;

/**
 * Sees the first packet of each shared statement's execute reply, in order: a result with another
 * number of columns than the cached prepare reply (a DDL since, after which the server prepared the
 * statement again by itself) means later prepares must not be answered from the cache; error 1615
 * (the server gave up preparing it again) drops the statement on that connection and, when that
 * error is the whole reply and nothing else is in flight, prepares it anew and sends the execute
 * again, once, so the client sees only the second reply. One per session, reused.
 *
 * <p>Ownership: each execute in flight may come with a retained duplicate of the packet sent (the
 * statement's server id in it), released when its reply starts, or handed to {@link
 * SharedStatements#retry} (which takes ownership), or at {@link #clear}.
 */
final class ExecuteReplies extends ReplyWatcher {
  private static final int NEED_REPREPARE = 1615;

  private final SharedStatements owner;
  private final StatementCache cache;
  private final ArrayDeque<ClientStatement> inFlight = new ArrayDeque<>(4);

  /** Per execute in flight: what may be sent again, or the empty buffer when it may not. */
  private final ArrayDeque<ByteBuf> resendable = new ArrayDeque<>(4);

  private boolean first = true;
  private ClientStatement retryFor;
  private ByteBuf retry;

  ExecuteReplies(SharedStatements owner, StatementCache cache) {
    this.owner = owner;
    this.cache = cache;
  }

  /**
   * An execute of {@code s} was sent with this watcher.
   *
   * @param again a retained duplicate of the packet sent, to send again after error 1615 (ownership
   *     passes here), or null when it may not be sent again
   */
  void expect(ClientStatement s, ByteBuf again) {
    inFlight.add(s);
    resendable.add(again == null ? Unpooled.EMPTY_BUFFER : again);
  }

  /** The session ends or starts over: what is held is released. */
  void clear() {
    inFlight.clear();
    for (ByteBuf b = resendable.poll(); b != null; b = resendable.poll()) {
      b.release();
    }
    if (retry != null) {
      retry.release();
      retry = null;
      retryFor = null;
    }
    first = true;
  }

  @Override
  void onPacket(ByteBuf packet, boolean last) {
    if (first) {
      ClientStatement s = inFlight.poll();
      ByteBuf again = resendable.poll();
      if (s != null && !check(s, packet, last, again)) {
        again.release();
      }
    }
    first = last;
  }

  /** Whether {@code again} is kept to be sent once more. */
  private boolean check(ClientStatement client, ByteBuf packet, boolean last, ByteBuf again) {
    SharedStatement s = client.shared;
    int header = Packets.firstByte(packet);
    int payload = packet.readerIndex() + Packets.HEADER_SIZE;
    if (header == Packets.ERR) {
      if (packet.getUnsignedShortLE(payload + 1) == NEED_REPREPARE) {
        cache.invalidate(s);
        owner.dropHere(s);
        if (last && again.isReadable() && owner.nothingElseInFlight()) {
          retryFor = client;
          retry = again;
          return true;
        }
      }
    } else if (header != Packets.OK
        && header != Packets.LOCAL_INFILE
        && header != Packets.EOF
        && Packets.getLenencInt(packet, payload) != s.columns()) {
      cache.invalidate(s);
    }
    return false;
  }

  @Override
  boolean retrying() {
    return retry != null;
  }

  @Override
  void retry() {
    ByteBuf packet = retry;
    ClientStatement s = retryFor;
    retry = null;
    retryFor = null;
    if (packet != null) {
      owner.retry(s, packet);
    }
  }
}
