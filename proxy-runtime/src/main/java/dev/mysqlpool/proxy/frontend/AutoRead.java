package dev.mysqlpool.proxy.frontend;

import io.netty.channel.Channel;
import io.netty.channel.ChannelConfig;

/**
 * Turns a channel's reading on or off only when that changes it. Netty's {@code setAutoRead} swaps
 * the flag atomically even when it already has the value, a locked instruction on a cache line the
 * connection's other loop may have touched last; transaction mode sets it on every lend and every
 * hand-back, where it nearly always has the value already.
 */
final class AutoRead {
  private AutoRead() {}

  static void set(Channel channel, boolean on) {
    ChannelConfig config = channel.config();
    if (config.isAutoRead() != on) {
      config.setAutoRead(on);
    }
  }
}
