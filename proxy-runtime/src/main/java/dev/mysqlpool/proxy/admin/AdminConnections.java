package dev.mysqlpool.proxy.admin;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.handler.timeout.IdleStateEvent;
import java.util.Iterator;
import java.util.LinkedHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the admin endpoint's open connections within {@code admin.maxConnections} without ever
 * refusing one: a connection beyond the cap closes the least recently active one (preferring one
 * with no response still being sent), so a kubelet probe or a Prometheus scrape on a new connection
 * is always served, however many idle connections someone opened. Also closes a connection when the
 * {@code idle} handler in front of it reports {@code admin.idleTimeout} without traffic.
 *
 * <p>Sits first in each admin pipeline (it sees raw bytes, so any request bytes count as activity).
 * Shared by all admin connections; its state is guarded by itself, since the group may have several
 * loops.
 */
@Sharable
final class AdminConnections extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(AdminConnections.class);

  private final int max;

  /** Open connections, least recently active first (access order). */
  private final LinkedHashMap<Channel, Boolean> open = new LinkedHashMap<>(16, 0.75f, true);

  AdminConnections(int max) {
    this.max = max;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    Channel evicted = null;
    synchronized (open) {
      if (open.size() >= max) {
        evicted = leastRecentlyActive();
        open.remove(evicted);
      }
      open.put(ctx.channel(), Boolean.TRUE);
    }
    if (evicted != null) {
      log.debug(
          "admin connection from {}: admin.maxConnections ({}) reached, closing the least recently"
              + " active one, from {}",
          ctx.channel().remoteAddress(),
          max,
          evicted.remoteAddress());
      evicted.close();
    }
    ctx.fireChannelActive();
  }

  /** The eldest connection not sending a response, else the eldest. Call holding {@code open}. */
  private Channel leastRecentlyActive() {
    Iterator<Channel> it = open.keySet().iterator();
    Channel eldest = it.next();
    for (Channel c = eldest; ; c = it.next()) {
      ChannelOutboundBuffer out = c.unsafe().outboundBuffer();
      if (out == null || out.totalPendingWriteBytes() == 0) {
        return c;
      }
      if (!it.hasNext()) {
        return eldest;
      }
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    synchronized (open) {
      open.get(ctx.channel()); // moves it to the most recently active end
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    synchronized (open) {
      open.remove(ctx.channel());
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof IdleStateEvent) {
      ctx.close();
    } else {
      ctx.fireUserEventTriggered(evt);
    }
  }

  /** Connections open now. */
  int size() {
    synchronized (open) {
      return open.size();
    }
  }
}
