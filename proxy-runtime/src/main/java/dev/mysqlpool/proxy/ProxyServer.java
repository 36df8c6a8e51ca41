package dev.mysqlpool.proxy;

import dev.mysqlpool.proxy.admin.AdminEndpoints;
import dev.mysqlpool.proxy.admin.AdminServer;
import dev.mysqlpool.proxy.admin.PoolMeters;
import dev.mysqlpool.proxy.admin.ReaderMeters;
import dev.mysqlpool.proxy.admin.SwitchMeters;
import dev.mysqlpool.proxy.backend.BackendPool;
import dev.mysqlpool.proxy.backend.PoolKey;
import dev.mysqlpool.proxy.backend.PoolStats;
import dev.mysqlpool.proxy.backend.ReaderSet;
import dev.mysqlpool.proxy.backend.SwitchStats;
import dev.mysqlpool.proxy.config.ProxyConfig;
import dev.mysqlpool.proxy.config.ProxyConfig.Backend;
import dev.mysqlpool.proxy.config.ProxyConfig.PoolMode;
import dev.mysqlpool.proxy.config.ProxyConfig.User;
import dev.mysqlpool.proxy.digest.DigestRow;
import dev.mysqlpool.proxy.digest.DigestSort;
import dev.mysqlpool.proxy.digest.QueryDigests;
import dev.mysqlpool.proxy.frontend.ClientChannelInitializer;
import dev.mysqlpool.proxy.frontend.Frontend;
import dev.mysqlpool.proxy.metrics.ProxyMetrics;
import dev.mysqlpool.proxy.net.Buffers;
import dev.mysqlpool.proxy.net.Transport;
import dev.mysqlpool.proxy.protocol.Capabilities;
import dev.mysqlpool.proxy.stmt.StatementCache;
import dev.mysqlpool.proxy.tls.ServerTls;
import io.micrometer.core.instrument.Gauge;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A running proxy: the MySQL listener, its backend pools and the admin HTTP endpoint. */
public final class ProxyServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ProxyServer.class);

  /** Guess for warm-up connections before any client arrived: what the Java drivers ask for. */
  private static final int WARM_CAPABILITIES =
      Capabilities.CLIENT_FOUND_ROWS
          | Capabilities.CLIENT_LONG_FLAG
          | Capabilities.CLIENT_TRANSACTIONS
          | Capabilities.CLIENT_MULTI_RESULTS
          | Capabilities.CLIENT_PS_MULTI_RESULTS;

  private static final int UTF8MB4_GENERAL_CI = 45;

  private final ProxyConfig config;
  private final EventLoopGroup boss;
  private final EventLoopGroup workers;
  private final int workerThreads;

  /** The admin endpoint's own thread: probes are answered however busy the MySQL side is. */
  private final EventLoopGroup adminLoop;

  private final Map<String, BackendPool> pools;

  /** The pools of the {@code role: reader} backends, with their lag checks; empty without any. */
  private final ReaderSet readers;

  private final Frontend frontend;
  private final ProxyMetrics metrics;
  private final Channel listener;

  /** SIGTERM came and the load balancer is given time to stop sending; still serving. */
  private volatile boolean leaving;

  private final AdminServer admin;
  private final ServerTls tls;
  private final AtomicBoolean stopped = new AtomicBoolean();

  private ProxyServer(ProxyConfig config) throws InterruptedException {
    this.config = config;
    // First: unusable certificate files stop the start before any port or connection is opened.
    this.tls = ServerTls.start(config.frontend().tls());
    this.boss = Transport.newGroup(1);
    this.workerThreads = Math.max(1, Runtime.getRuntime().availableProcessors());
    this.workers = Transport.newGroup(workerThreads);
    this.adminLoop = Transport.newGroup(1);
    this.pools = new LinkedHashMap<>();
    for (Backend b : config.backends()) {
      User warmUser = firstUserOf(config, b);
      // Transaction-mode and writer backends always track session state (ClientSession#acquire).
      int warmCapabilities =
          WARM_CAPABILITIES
              | (config.pool().mode() == PoolMode.TRANSACTION
                      || b.role() == ProxyConfig.BackendRole.WRITER
                  ? Capabilities.CLIENT_SESSION_TRACK
                  : 0);
      PoolKey warm =
          warmUser == null ? null : new PoolKey(warmUser, warmCapabilities, UTF8MB4_GENERAL_CI);
      pools.put(b.name(), new BackendPool(b, config.pool(), workers, warm));
    }
    this.readers = ReaderSet.of(config, pools, workers);
    this.metrics = new ProxyMetrics();
    metrics.bindMemory(
        Buffers::usedDirectMemory, Buffers::maxDirectMemory, Buffers.FAILURES::count);
    this.frontend = new Frontend(config, pools, metrics, tls);
    if (config.routing().readWriteSplit()) {
      frontend.readers(readers);
    }
    Gauge.builder("mysqlpool.query.digests", frontend.queryDigests(), QueryDigests::distinct)
        .description(
            "Distinct query digests (statement, backend, user) counted since the start or the last"
                + " reset; stats.maxQueryDigests at most")
        .register(metrics.registry());
    for (BackendPool p : pools.values()) {
      PoolMeters.bind(metrics.registry(), p);
      if (p.backend().role() == ProxyConfig.BackendRole.WRITER) {
        SwitchMeters.bind(metrics.registry(), p);
      }
      p.start();
    }
    ReaderMeters.bind(metrics.registry(), readers);
    readers.start();
    try {
      this.listener = bindListener();
      this.admin = AdminServer.start(config.admin(), adminLoop, new Endpoints());
      Gauge.builder("mysqlpool.admin.connections", admin, AdminServer::openConnections)
          .description("Connections open to the admin HTTP endpoint (at most admin.maxConnections)")
          .register(metrics.registry());
    } catch (RuntimeException | InterruptedException e) {
      closeResources();
      throw e;
    }
    log.info(
        "mysqlpool proxy listening on {}:{} (admin HTTP on port {}), backends {}, {} event loops"
            + " on {}",
        config.listen().host(),
        listenPort(),
        adminPort(),
        pools.keySet(),
        workerThreads,
        Transport.kind().name().toLowerCase(Locale.ROOT));
  }

  /**
   * Binds the listener and admin ports and starts warming the pools; returns once both ports
   * accept.
   */
  public static ProxyServer start(ProxyConfig config) throws InterruptedException {
    return new ProxyServer(config);
  }

  /**
   * The account a backend's pool warms up with (and a reader's lag check logs in with): the first
   * user of the backend; for a reader, which no user names (sessions name the writer, reads are
   * routed), the first user.
   */
  private static User firstUserOf(ProxyConfig config, Backend b) {
    for (User u : config.users()) {
      if (b.name().equals(u.backend())) {
        return u;
      }
    }
    if (b.role() == ProxyConfig.BackendRole.READER && !config.users().isEmpty()) {
      return config.users().get(0);
    }
    return null;
  }

  private Channel bindListener() throws InterruptedException {
    Duration keepAlive = config.frontend().tcpKeepAliveIdle();
    ServerBootstrap b =
        Transport.serverChannel(new ServerBootstrap().group(boss, workers))
            .option(ChannelOption.SO_BACKLOG, 4096)
            .option(ChannelOption.SO_REUSEADDR, true)
            .childOption(ChannelOption.ALLOCATOR, Buffers.ALLOCATOR)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childOption(ChannelOption.SO_KEEPALIVE, !keepAlive.isZero())
            .childHandler(new ClientChannelInitializer(frontend));
    if (!keepAlive.isZero()) {
      // Probes below the load balancer's idle timeout keep a quiet but live client's flow from
      // being dropped.
      Transport.childKeepAlive(b, (int) Math.max(1, keepAlive.toSeconds()));
    }
    return b.bind(config.listen().host(), config.listen().port()).sync().channel();
  }

  /** The MySQL port actually bound (useful when the config asked for port 0 in tests). */
  public int listenPort() {
    return ((InetSocketAddress) listener.localAddress()).getPort();
  }

  /** The admin HTTP port actually bound. */
  public int adminPort() {
    return admin.port();
  }

  /** The pool of the named backend, for tests and diagnostics. */
  public BackendPool pool(String backend) {
    return pools.get(backend);
  }

  /**
   * The readers ({@code role: reader} backends): their pools, lag and the choice of one for a read.
   * Empty when none is configured.
   */
  public ReaderSet readers() {
    return readers;
  }

  /** TLS toward clients (null when disabled), for tests and diagnostics. */
  public ServerTls tls() {
    return tls;
  }

  /** Metrics, for tests and embedding. */
  public ProxyMetrics metrics() {
    return metrics;
  }

  /**
   * Puts a reloaded configuration in force (see {@link ReloadPlan}, which makes {@code applied}):
   * new logins see its users at once, logged-in sessions keep theirs; every pool takes its new
   * sizes and timers. Settings that need a restart must be as running (ReloadPlan holds them so);
   * tests call this directly to rotate a password without a file.
   */
  public void apply(ProxyConfig applied) {
    frontend.config(applied);
    for (BackendPool p : pools.values()) {
      p.reconfigure(applied.pool());
      p.usersChanged(applied::user);
    }
  }

  /** The configuration in force. */
  public ProxyConfig config() {
    return frontend.config();
  }

  /**
   * Whether the proxy reports ready: it can accept and hold clients (listening, not draining). The
   * backends' state is reported apart ({@link #backendsUp()}), so that a database outage never
   * deregisters every proxy from its load balancer at once.
   */
  public boolean ready() {
    return !leaving && !frontend.draining() && !stopped.get() && listener.isActive();
  }

  /** Whether every backend is reachable, as /backendz and mysqlpool_backend_up report it. */
  public boolean backendsUp() {
    for (BackendPool p : pools.values()) {
      if (!p.reachable()) {
        return false;
      }
    }
    return true;
  }

  /**
   * Graceful stop as on SIGTERM, in the order a load balancer needs: /readyz turns false first and
   * the proxy keeps serving, new clients included, for shutdown.loadBalancerWait (the balancer's
   * health checks notice and it stops sending); then the listener closes, idle sessions close, busy
   * ones close when their transaction ends, and whatever remains after shutdown.drainTimeout is
   * closed. Blocks the calling thread (the shutdown hook), never an event loop.
   */
  public void shutdown() {
    if (stopped.get()) {
      return;
    }
    Duration lbWait = config.shutdown().loadBalancerWait();
    if (!lbWait.isZero()) {
      leaving = true;
      log.info(
          "shutting down: /readyz answers 503 now; still serving for {} (shutdown.loadBalancerWait)"
              + " so the load balancer stops sending, then draining",
          lbWait);
      try {
        Thread.sleep(lbWait.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    Duration drain = config.shutdown().drainTimeout();
    log.info(
        "draining: refusing new clients, waiting up to {} for {} client sessions",
        drain,
        frontend.clientConnections());
    CompletableFuture<Void> drained = frontend.drain();
    listener.close().awaitUninterruptibly();
    try {
      drained.get(drain.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      // Reported below with the count of sessions still open.
    }
    if (frontend.clientConnections() > 0) {
      log.warn(
          "drain timeout reached with {} client sessions still open; closing them",
          frontend.clientConnections());
    }
    close();
  }

  /** Immediate stop: closes every client and backend connection. */
  @Override
  public void close() {
    if (!stopped.compareAndSet(false, true)) {
      return;
    }
    frontend.drain();
    listener.close();
    frontend.closeAll();
    closeResources();
    log.info("mysqlpool proxy stopped");
  }

  private void closeResources() {
    if (tls != null) {
      tls.close();
    }
    if (readers != null) {
      readers.close();
    }
    for (BackendPool p : pools.values()) {
      p.close();
    }
    if (admin != null) {
      admin.close();
    }
    workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    adminLoop.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
  }

  /** One row of /stats, like ProxySQL's stats_mysql_connection_pool. */
  public record StatsRow(
      String backend,
      String role,
      String host,
      int port,
      boolean up,
      int used,
      int free,
      int pending,
      int connecting,
      int total,
      int maxUsed,
      long connOk,
      long connErr,
      long acquireTimeouts,
      long queries,
      long queryErrors,
      long bytesSent,
      long bytesReceived,
      double avgLatencyMicros,
      long serverWaitTimeoutSeconds,
      SwitchStats switchover) {}

  /** The /stats document. */
  /**
   * @param pinnedSessions transaction mode: client sessions pinned to one backend connection right
   *     now, by reason
   * @param preparedStatements transaction mode: server-side statements open on all backend
   *     connections, and how often the proxy's statement cache answered a prepare
   * @param routing a read/write split pool's routing decisions, "to/reason" (e.g. {@code
   *     reader/read}, {@code writer/lag_fallback}) to count; empty without the split
   * @param queryDigests the {@link QueryDigests#TOP_IN_STATS} digests with the most total time (all
   *     of them, sorted other ways: {@code /stats/digests})
   */
  public record Stats(
      boolean ready,
      boolean draining,
      String poolMode,
      int clientConnections,
      Map<String, Integer> pinnedSessions,
      StatementCache.Stats preparedStatements,
      List<StatsRow> backends,
      Map<String, Long> routing,
      List<DigestRow> queryDigests) {}

  /** A snapshot of every pool, as served at /stats. */
  public Stats stats() {
    List<StatsRow> rows = new ArrayList<>();
    for (BackendPool p : pools.values()) {
      PoolStats s = p.stats();
      PoolStats.Counters t = s.traffic();
      rows.add(
          new StatsRow(
              s.backend(),
              p.backend().role().name().toLowerCase(Locale.ROOT),
              s.host(),
              s.port(),
              s.reachable(),
              s.used(),
              s.free(),
              s.pending(),
              s.connecting(),
              s.total(),
              s.maxUsed(),
              s.created(),
              s.connectErrors(),
              s.acquireTimeouts(),
              t.queries.sum(),
              t.queryErrors.sum(),
              t.bytesSent.sum(),
              t.bytesReceived.sum(),
              metrics.queryTimer(s.backend()).mean(TimeUnit.MICROSECONDS),
              s.serverWaitTimeoutSeconds(),
              p.switchStats()));
    }
    return new Stats(
        ready(),
        frontend.draining(),
        config.pool().mode().name().toLowerCase(Locale.ROOT),
        frontend.clientConnections(),
        metrics.pinnedSessions(),
        frontend.preparedStatements(),
        rows,
        frontend.routingDecisions(),
        frontend.queryDigests().top(DigestSort.TOTAL_TIME, QueryDigests.TOP_IN_STATS));
  }

  private final class Endpoints implements AdminEndpoints {
    @Override
    public boolean alive() {
      return !stopped.get() && Buffers.FAILURES.recentFailure() == null;
    }

    @Override
    public String livenessDetail() {
      String failure = Buffers.FAILURES.recentFailure();
      return failure != null ? "not alive: " + failure + "\n" : "not alive: stopped\n";
    }

    @Override
    public boolean ready() {
      return ProxyServer.this.ready();
    }

    @Override
    public String readinessDetail() {
      if (leaving && !frontend.draining()) {
        return "shutting down: waiting for the load balancer to stop sending"
            + " (shutdown.loadBalancerWait), then draining\n";
      }
      if (frontend.draining() || stopped.get()) {
        return "draining: shutting down, not taking new clients\n";
      }
      return "not listening for clients\n";
    }

    @Override
    public boolean backendsUp() {
      return ProxyServer.this.backendsUp();
    }

    @Override
    public String backendDetail() {
      StringBuilder sb = new StringBuilder();
      for (BackendPool p : pools.values()) {
        ReaderSet.ReaderStatus reader = readers.status(p.name());
        if (reader != null) {
          sb.append(reader.line()).append('\n');
          continue;
        }
        String why = p.reachable() ? null : p.unreachableBecause();
        sb.append(p.name()).append(p.reachable() ? " up" : " down");
        if (why != null) {
          sb.append(": ").append(why.replace('\n', ' '));
        }
        sb.append('\n');
      }
      return sb.toString();
    }

    @Override
    public String prometheusText() {
      return metrics.scrape();
    }

    @Override
    public Object stats() {
      return ProxyServer.this.stats();
    }

    @Override
    public Object queryDigests(DigestSort sort, int limit) {
      return frontend.queryDigests().report(sort, limit);
    }

    @Override
    public Object resetQueryDigests(DigestSort sort, int limit) {
      log.info("query digests reset through the admin endpoint");
      return frontend.queryDigests().reset(sort, limit);
    }
  }
}
