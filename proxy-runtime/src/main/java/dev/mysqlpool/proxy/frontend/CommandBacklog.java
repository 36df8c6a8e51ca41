package dev.mysqlpool.proxy.frontend;

import dev.mysqlpool.proxy.protocol.Packets;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import java.util.ArrayDeque;

/**
 * The client packets a {@link ClientSession} has read but not handled yet (waiting for a backend,
 * for the replies before a local command, or for the client to read its replies), and the rule that
 * holds a client's next commands back: while the client does not read its replies (its channel is
 * not writable) or has {@link #MAX_COMMANDS_IN_FLIGHT} replies owed. While commands wait here the
 * session reads nothing more from the client, except while they wait only for a borrow and hold
 * less than {@link #READ_AHEAD_BYTES}; so what a pipelining client can make the proxy hold is that
 * much plus one read's worth of packets here, and a channel's high-water mark of replies.
 *
 * <p>Threading: the session's event loop. Ownership: packets added here are owned here until {@link
 * #next()} hands them back, or {@link #releaseAll()} or {@link #answerFirst} releases them.
 */
final class CommandBacklog {
  /**
   * Replies owed by the backend beyond which the client's next commands wait unread: a server runs
   * one command at a time, so a longer pipeline would only move the client's backlog from the
   * kernel's socket buffers into the proxy's memory.
   */
  static final int MAX_COMMANDS_IN_FLIGHT = 128;

  /**
   * Waiting commands' bytes below which the client is still read while its borrow waits: a client
   * usually sends one command and waits for its reply, and pausing its reads for the wait and
   * resuming them after costs two epoll_ctl calls per waiting borrow (in transaction mode, one per
   * statement once clients outnumber connections).
   */
  static final int READ_AHEAD_BYTES = 16 * 1024;

  private final ArrayDeque<ByteBuf> queued = new ArrayDeque<>(2);
  private int bytes;
  private final Channel client;
  private final BackendRelay relay;

  CommandBacklog(Channel client, BackendRelay relay) {
    this.client = client;
    this.relay = relay;
  }

  /** Whether the client's next command must wait: it is not reading, or enough are in flight. */
  boolean clientBehind() {
    return !client.isWritable() || relay.pending() >= MAX_COMMANDS_IN_FLIGHT;
  }

  boolean isEmpty() {
    return queued.isEmpty();
  }

  /** Whether the waiting commands fill the read-ahead allowed during a borrow. */
  boolean readAheadFull() {
    return bytes >= READ_AHEAD_BYTES;
  }

  /** Queues a packet behind the others; takes ownership. */
  void add(ByteBuf packet) {
    bytes += packet.readableBytes();
    queued.add(packet);
  }

  /** Puts a packet taken by {@link #next()} back in front; takes ownership. */
  void putBack(ByteBuf packet) {
    bytes += packet.readableBytes();
    queued.addFirst(packet);
  }

  /** The first waiting packet, still owned by the queue, or null. */
  ByteBuf first() {
    return queued.peek();
  }

  /** The first waiting packet, now owned by the caller, or null. */
  ByteBuf next() {
    return taken(queued.poll());
  }

  private ByteBuf taken(ByteBuf packet) {
    if (packet != null) {
      bytes -= packet.readableBytes();
    }
    return packet;
  }

  /**
   * Answers the first waiting command with {@code err} (its sequence id set to follow the
   * command's) and drops the command. Takes ownership of {@code err}; true when it was written.
   */
  boolean answerFirst(ByteBuf err) {
    ByteBuf first = taken(queued.poll());
    if (first == null) {
      err.release();
      return false;
    }
    Packets.setSequenceId(err, Packets.sequenceId(first) + 1);
    first.release();
    client.write(err, client.voidPromise());
    return true;
  }

  /** The session ends: every waiting packet is released. */
  void releaseAll() {
    ByteBuf p;
    while ((p = queued.poll()) != null) {
      p.release();
    }
    bytes = 0;
  }
}
