package dev.mysqlpool.proxy.backend;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;

/**
 * Resolves a backend's host name again once its answer is older than {@code pool.dnsTtl}, so a new
 * connection follows a cluster endpoint that moved to another server (a failover, a blue/green
 * switch) within seconds, not after the JVM's cache or a pooled connection's lifetime. The lookups
 * run on one daemon thread of their own: {@link InetAddress} blocks, and an event loop must not.
 * The JVM's own cache (networkaddress.cache.ttl) is bounded at startup to the same TTL ({@link
 * #boundJvmCache}), else it would answer from a stale entry.
 *
 * <p>Threading: any thread.
 */
final class HostResolver implements AutoCloseable {
  /** Resolved addresses and when. */
  private record Answer(List<InetAddress> addresses, long atNanos) {}

  /** Background refreshes run at most this often, even with a TTL of 0. */
  private static final long MIN_REFRESH_NANOS = 1_000_000_000L;

  private final String host;
  private final LongSupplier ttlNanos;
  private final ExecutorService lookups;
  private final AtomicBoolean refreshing = new AtomicBoolean();
  private volatile Answer answer;

  HostResolver(String host, LongSupplier ttlNanos) {
    this.host = host;
    this.ttlNanos = ttlNanos;
    this.lookups =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "mysqlpool-dns-" + host);
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * Bounds the JVM's positive DNS cache to {@code seconds}, unless the operator set it already
   * (java.security or -Dsun.net.inetaddr.ttl). Call before the first lookup of the process: the JVM
   * reads the setting once.
   */
  static void boundJvmCache(long seconds) {
    if (java.security.Security.getProperty("networkaddress.cache.ttl") == null
        && System.getProperty("sun.net.inetaddr.ttl") == null) {
      java.security.Security.setProperty(
          "networkaddress.cache.ttl", Long.toString(Math.max(0, seconds)));
    }
  }

  /**
   * The address for a new connection: the first of the current answer, resolved again first when it
   * is older than the TTL. Completes on {@code loop}.
   */
  Future<InetAddress> next(EventLoop loop) {
    Answer a = answer;
    if (a != null && System.nanoTime() - a.atNanos < ttlNanos.getAsLong()) {
      return loop.newSucceededFuture(a.addresses.get(0));
    }
    Promise<InetAddress> p = loop.newPromise();
    try {
      lookups.execute(
          () -> {
            try {
              Answer fresh = resolve();
              p.trySuccess(fresh.addresses.get(0));
            } catch (UnknownHostException e) {
              p.tryFailure(e);
            }
          });
    } catch (RejectedExecutionException e) {
      p.tryFailure(e);
    }
    return p;
  }

  /**
   * Resolves again in the background when the answer is stale, so connections to an address the
   * name left can be retired even when no new connection is made. Then runs {@code changed}.
   */
  void refreshIfStale(Runnable changed) {
    Answer a = answer;
    long ttl = Math.max(ttlNanos.getAsLong(), MIN_REFRESH_NANOS);
    if (a != null && System.nanoTime() - a.atNanos < ttl
        || !refreshing.compareAndSet(false, true)) {
      return;
    }
    try {
      lookups.execute(
          () -> {
            try {
              Answer before = answer;
              Answer fresh = resolve();
              if (before == null || !before.addresses.equals(fresh.addresses)) {
                changed.run();
              }
            } catch (UnknownHostException e) {
              // The next login reports it, with the name.
            } finally {
              refreshing.set(false);
            }
          });
    } catch (RejectedExecutionException e) {
      refreshing.set(false);
    }
  }

  /** The addresses the name resolved to last; empty before the first answer. */
  List<InetAddress> current() {
    Answer a = answer;
    return a == null ? List.of() : a.addresses;
  }

  private Answer resolve() throws UnknownHostException {
    Answer fresh = new Answer(List.of(InetAddress.getAllByName(host)), System.nanoTime());
    answer = fresh;
    return fresh;
  }

  @Override
  public void close() {
    lookups.shutdownNow();
  }
}
