package dev.mysqlpool.proxy.frontend;

import dev.mysqlpool.proxy.auth.CachingSha2Server;
import dev.mysqlpool.proxy.backend.BackendPool;
import dev.mysqlpool.proxy.backend.ReaderSet;
import dev.mysqlpool.proxy.config.ProxyConfig;
import dev.mysqlpool.proxy.config.ProxyConfig.AuthPlugin;
import dev.mysqlpool.proxy.digest.QueryDigests;
import dev.mysqlpool.proxy.metrics.ProxyMetrics;
import dev.mysqlpool.proxy.protocol.HandshakeV10;
import dev.mysqlpool.proxy.stmt.StatementCache;
import dev.mysqlpool.proxy.tls.ServerTls;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import java.security.SecureRandom;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every client session shares: the config, the pools, the registry of sessions by the
 * connection id the proxy advertised (KILL uses it), metrics, the draining flag, and what logins
 * share: TLS, the caching_sha2_password cache and key, and the count of logins in progress.
 */
public final class Frontend {
  private static final Logger log = LoggerFactory.getLogger(Frontend.class);

  private volatile ProxyConfig config;
  final Map<String, BackendPool> pools;
  private final Function<EventLoop, Future<HandshakeV10>> greetings;
  final ProxyMetrics metrics;
  final SecureRandom random = new SecureRandom();
  private final Map<Long, ClientConnection> sessions = new ConcurrentHashMap<>();
  private final Map<String, Timer> queryTimers = new ConcurrentHashMap<>();
  private final Map<String, Timer> acquireTimers = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong();
  private final AtomicInteger open = new AtomicInteger();
  private final ServerTls tls;
  final CachingSha2Server sha2 = new CachingSha2Server();
  final PendingLogins pendingLogins = new PendingLogins();

  /** The readers of a read/write split pool; null without the split. */
  private volatile ReaderSet readers;

  /** Where a split pool's statements went, by reason. */
  final RoutingDecisions routing;

  /** Transaction mode: the prepared statements clients share. */
  final StatementCache statementCache;

  /** What the statements cost, per digest, backend and user ({@code stats.queryDigests}). */
  final QueryDigests digests;

  private volatile boolean draining;
  private final CompletableFuture<Void> drained = new CompletableFuture<>();

  /**
   * @param tls TLS toward clients, or null when {@code frontend.tls.mode} is disabled
   */
  public Frontend(
      ProxyConfig config, Map<String, BackendPool> pools, ProxyMetrics metrics, ServerTls tls) {
    this(config, pools, metrics, tls, null);
  }

  /**
   * @param greetings where a login gets the server's greeting; null: from the first backend's pool
   *     (tests give a fixed one, so a login runs without a server)
   */
  Frontend(
      ProxyConfig config,
      Map<String, BackendPool> pools,
      ProxyMetrics metrics,
      ServerTls tls,
      Function<EventLoop, Future<HandshakeV10>> greetings) {
    this.config = config;
    this.tls = tls;
    if (usesCachingSha2(config)) {
      sha2.prepare();
    }
    this.pools = pools;
    BackendPool first = pools.get(config.backends().get(0).name());
    this.greetings = greetings != null ? greetings : first::greeting;
    this.metrics = metrics;
    this.statementCache = new StatementCache(metrics.registry());
    this.routing = new RoutingDecisions(metrics.registry());
    this.digests = new QueryDigests(config.stats());
    Gauge.builder("mysqlpool.frontend.client.connections", this, Frontend::clientConnections)
        .description("Client connections open to the proxy")
        .register(metrics.registry());
    Gauge.builder("mysqlpool.frontend.pending.reply.bytes", this, Frontend::pendingReplyBytes)
        .description(
            "Bytes of replies waiting for clients to read them, with Netty's per-buffer overhead")
        .register(metrics.registry());
    Gauge.builder("mysqlpool.frontend.backpressured.clients", this, Frontend::backpressuredClients)
        .description(
            "Client connections not reading their replies: no more of their commands are read"
                + " until they do")
        .register(metrics.registry());
    for (String name : pools.keySet()) {
      queryTimers.put(name, metrics.queryTimer(name));
      acquireTimers.put(name, metrics.acquireTimer(name));
    }
  }

  /**
   * The configuration in force; its users may be replaced at run time by {@link
   * #config(ProxyConfig)}.
   */
  /** Sends reads to these readers ({@code routing.readWriteSplit}); null: everything to writers. */
  public void readers(ReaderSet readers) {
    this.readers = readers;
  }

  ReaderSet readers() {
    return readers;
  }

  /** For /stats: the split pool's routing decisions, "to/reason" to count. */
  public Map<String, Long> routingDecisions() {
    return routing.snapshot();
  }

  public ProxyConfig config() {
    return config;
  }

  /** Swaps the configuration for new logins; sessions already logged in keep their identity. */
  public void config(ProxyConfig next) {
    this.config = next;
    if (usesCachingSha2(next)) {
      sha2.prepare();
    }
  }

  private static boolean usesCachingSha2(ProxyConfig c) {
    for (var u : c.users()) {
      if (c.authPlugin(u) == AuthPlugin.CACHING_SHA2_PASSWORD) {
        return true;
      }
    }
    return c.frontend().defaultAuthPlugin() == AuthPlugin.CACHING_SHA2_PASSWORD;
  }

  /** What /stats shows of the prepared statements clients share (transaction mode). */
  public StatementCache.Stats preparedStatements() {
    return statementCache.stats();
  }

  /** The query digest view of /stats (counting nothing when {@code stats.queryDigests} is off). */
  public QueryDigests queryDigests() {
    return digests;
  }

  /** TLS toward clients; null when disabled. */
  ServerTls tls() {
    return tls;
  }

  /**
   * A login or COM_CHANGE_USER failed: counted per client address and logged with the user name
   * escaped, so a client cannot forge log lines through it.
   */
  void failedLogin(long clientId, String address, String userName) {
    metrics.error("auth_failed");
    metrics.failedLogin(address);
    log.info(
        "client #{} from {}: access denied for user '{}'",
        clientId,
        address,
        LogText.escape(userName));
  }

  /** The handler of a newly accepted connection's login; it becomes a session once logged in. */
  ClientLogin newLogin() {
    return new ClientLogin(this, ids.incrementAndGet());
  }

  /** The server's greeting a login answers with (its version string, capabilities, collation). */
  Future<HandshakeV10> greeting(EventLoop loop) {
    return greetings.apply(loop);
  }

  /**
   * Bytes of replies written for logged-in clients and not yet taken by their sockets; bounded per
   * client by the channel's high-water mark, since a client that does not read gets no more of its
   * commands read (see CommandBacklog). Any thread; O(clients), for a scrape.
   */
  long pendingReplyBytes() {
    long sum = 0;
    for (ClientConnection c : sessions.values()) {
      if (c instanceof ClientSession s) {
        ChannelOutboundBuffer out = s.client.unsafe().outboundBuffer();
        if (out != null) {
          sum += out.totalPendingWriteBytes();
        }
      }
    }
    return sum;
  }

  /** Logged-in clients whose replies are piling up (channel not writable). Any thread. */
  int backpressuredClients() {
    int n = 0;
    for (ClientConnection c : sessions.values()) {
      if (c instanceof ClientSession s && s.client.isActive() && !s.client.isWritable()) {
        n++;
      }
    }
    return n;
  }

  /** Client connections open right now. */
  public int clientConnections() {
    return open.get();
  }

  public boolean draining() {
    return draining;
  }

  /**
   * Stops taking new work: idle sessions close now, busy ones when their transaction ends.
   *
   * @return completes when the last client session has closed
   */
  public CompletableFuture<Void> drain() {
    draining = true;
    for (ClientConnection s : sessions.values()) {
      s.drain();
    }
    if (open.get() == 0) {
      drained.complete(null);
    }
    return drained;
  }

  /** Closes every session at once. */
  public void closeAll() {
    for (ClientConnection s : sessions.values()) {
      s.forceClose();
    }
  }

  /** The connection the proxy advertised this id to, logging in or logged in; null if gone. */
  ClientConnection connection(long id) {
    return sessions.get(id);
  }

  /** Counts a new client; false when frontend.maxClientConnections is reached. */
  boolean admit(ClientConnection c) {
    if (open.incrementAndGet() > config().frontend().maxClientConnections()) {
      open.decrementAndGet();
      return false;
    }
    sessions.put(c.id(), c);
    return true;
  }

  /** The client's login became this session: KILL and drain find the session from now on. */
  void loggedIn(ClientSession s) {
    sessions.replace(s.id, s);
  }

  void leave(ClientConnection c) {
    if (sessions.remove(c.id(), c) && open.decrementAndGet() == 0 && draining) {
      drained.complete(null);
    }
  }

  Timer queryTimer(String backend) {
    return queryTimers.get(backend);
  }

  Timer acquireTimer(String backend) {
    return acquireTimers.get(backend);
  }
}
