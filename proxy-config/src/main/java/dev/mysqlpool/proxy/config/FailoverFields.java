package dev.mysqlpool.proxy.config;

import dev.mysqlpool.proxy.config.ConfigLoader.Obj;
import dev.mysqlpool.proxy.config.ProxyConfig.BackendRole;
import dev.mysqlpool.proxy.config.ProxyConfig.Pool;
import java.time.Duration;

/**
 * The fields that let the pool notice a dead backend and follow a writer: {@code
 * pool.tcpKeepAlive*} (TCP keepalive on backend sockets), {@code pool.dnsTtl} and {@code
 * backends[].role}. Part of {@link ConfigLoader}, which collects the problems. The kernel takes
 * whole seconds, at most 32767 for idle and interval and 127 probes (Linux), so anything else is
 * refused rather than rounded.
 */
record FailoverFields(Duration idle, Duration interval, int count) {
  private static final long MAX_SECONDS = 32_767;

  static FailoverFields read(ConfigLoader loader, Obj p) {
    Duration idle = p.duration("tcpKeepAliveIdle", Pool.DEFAULT_TCP_KEEPALIVE_IDLE, true);
    Duration interval =
        p.duration("tcpKeepAliveInterval", Pool.DEFAULT_TCP_KEEPALIVE_INTERVAL, false);
    int count = p.integer("tcpKeepAliveCount", Pool.DEFAULT_TCP_KEEPALIVE_COUNT, 1, 127);
    seconds(loader, p, "tcpKeepAliveIdle", idle, "0 (the kernel's defaults) or ");
    seconds(loader, p, "tcpKeepAliveInterval", interval, "");
    return new FailoverFields(idle, interval, count);
  }

  /**
   * {@code pool.dnsTtl}: 0 resolves on every new connection; anything above an hour would keep a
   * failed-over writer's old address far too long.
   */
  static Duration dnsTtl(ConfigLoader loader, Obj p) {
    Duration ttl = p.duration("dnsTtl", Pool.DEFAULT_DNS_TTL, true);
    if (ttl.compareTo(Duration.ofHours(1)) > 0) {
      loader.problem(
          p.path("dnsTtl")
              + ": "
              + Durations.format(ttl)
              + " would keep a failed-over writer's old address too long; use 0 (resolve for every"
              + " new connection) up to 1h, a few seconds is typical");
      return Pool.DEFAULT_DNS_TTL;
    }
    return ttl;
  }

  static BackendRole role(ConfigLoader loader, Obj b) {
    String text = b.string("role", "any");
    switch (text) {
      case "any":
        return BackendRole.ANY;
      case "writer":
        return BackendRole.WRITER;
      case "reader":
        return BackendRole.READER;
      default:
        loader.problem(
            b.path("role")
                + ": '"
                + text
                + "' is not a backend role; use writer (the pool checks the server is writable and"
                + " follows it through a failover), reader (a replica that serves reads with"
                + " routing.readWriteSplit) or any");
        return BackendRole.ANY;
    }
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
