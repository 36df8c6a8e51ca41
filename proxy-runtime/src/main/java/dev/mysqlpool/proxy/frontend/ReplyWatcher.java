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
}
