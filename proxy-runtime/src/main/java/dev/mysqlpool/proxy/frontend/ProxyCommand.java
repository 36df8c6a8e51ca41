package dev.mysqlpool.proxy.frontend;

import io.netty.buffer.ByteBuf;
import java.util.List;

/**
 * One of the proxy's own commands sent on a client's backend connection (restoring its database or
 * variables, reading them back, checking warnings): the owner of its reply in the tracker's queue,
 * whose reply is consumed by the proxy rather than forwarded. Each session keeps one instance per
 * kind and reuses it.
 */
abstract class ProxyCommand {
  /** Client commands wait until this command's reply is complete. */
  final boolean blocking;

  /**
   * The server's refusal answers the client command waiting behind it, as a direct connection would
   * have failed at the USE or SET the proxy replays.
   */
  final boolean answersWaitingCommand;

  ProxyCommand(boolean blocking, boolean answersWaitingCommand) {
    this.blocking = blocking;
    this.answersWaitingCommand = answersWaitingCommand;
  }

  /**
   * One packet of the reply, before {@link #done}: read it in place or retain what must outlive the
   * call; the relay releases it.
   */
  void onPacket(ByteBuf packet) {}

  /**
   * The reply is complete.
   *
   * @param error the server's error as "code (state): text", or null
   * @param firstRow the first row of a result set, or null
   */
  abstract void done(String error, List<String> firstRow);
}
