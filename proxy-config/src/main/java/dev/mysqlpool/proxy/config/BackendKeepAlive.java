package dev.mysqlpool.proxy.config;

import dev.mysqlpool.proxy.config.ConfigLoader.Obj;
import dev.mysqlpool.proxy.config.ProxyConfig.Pool;
import java.time.Duration;

/**
 * The {@code pool.tcpKeepAlive*} fields: TCP keepalive on backend sockets. Part of {@link
 * ConfigLoader}, which collects the problems. The kernel takes whole seconds, at most 32767 for
 * idle and interval and 127 probes (Linux), so anything else is refused rather than rounded.
 */
record BackendKeepAlive(Duration idle, Duration interval, int count) {
  private static final long MAX_SECONDS = 32_767;

  static BackendKeepAlive read(ConfigLoader loader, Obj p) {
    Duration idle = p.duration("tcpKeepAliveIdle", Pool.DEFAULT_TCP_KEEPALIVE_IDLE, true);
    Duration interval =
        p.duration("tcpKeepAliveInterval", Pool.DEFAULT_TCP_KEEPALIVE_INTERVAL, false);
    int count = p.integer("tcpKeepAliveCount", Pool.DEFAULT_TCP_KEEPALIVE_COUNT, 1, 127);
    seconds(loader, p, "tcpKeepAliveIdle", idle, "0 (the kernel's defaults) or ");
    seconds(loader, p, "tcpKeepAliveInterval", interval, "");
    return new BackendKeepAlive(idle, interval, count);
  }

  private static void seconds(
      ConfigLoader loader, Obj p, String field, Duration d, String zeroHint) {
    if (d == null || d.isZero()) {
      return;
    }
    if (d.toMillis() % 1000 != 0 || d.getSeconds() > MAX_SECONDS) {
      loader.problem(
          p.path(field)
              + ": "
              + Durations.format(d)
              + " is not something the kernel can do; use "
              + zeroHint
              + "whole seconds from 1s to "
              + MAX_SECONDS
              + "s");
    }
  }
}
