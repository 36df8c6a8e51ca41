package dev.mysqlpool.proxy.frontend;

import io.netty.buffer.ByteBuf;

/**
 * Sees the packets of one client command's reply as they pass on their way to the client (the owner
 * of that command in the relay's tracker queue): it may read them and rewrite bytes in place (a
 * statement id), never keep or release them. On the session's event loop.
 */
abstract class ReplyWatcher {
  /**
   * One packet of the reply, before it is forwarded.
   *
   * @param last whether it completes the reply
   */
  abstract void onPacket(ByteBuf packet, boolean last);

  /**
   * Asked after {@link #onPacket} saw the packet that completes the reply: true when that reply is
   * not the client's (the relay drops it and does not count the command as answered) because the
   * watcher sends the command again, from {@link #retry}, and that reply answers the client.
   */
  boolean retrying() {
    return false;
  }

  /** Sends the command again; the relay calls it once the batch that held the reply is handled. */
  void retry() {}
}
