package dev.mysqlpool.proxy.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TCP forwarder on 127.0.0.1 for fault injection: put it between the proxy and a backend, then
 * {@link #cutAll()} to make the backend look dead (every live connection is reset, new ones are
 * refused) and {@link #resume()} to bring it back, or {@link #holdNew()} to make new logins hang
 * until {@link #releaseHeld()}, or {@link #freeze()} it (nothing moves, nothing closes), without
 * touching the shared server.
 *
 * <p>Plain {@code java.nio} on one selector thread, deliberately independent of Netty so that it
 * cannot share a bug, an allocator or a leak report with the proxy under test. Bytes are copied as
 * they arrive, in both directions, with back-pressure: a side that cannot keep up stops the other
 * side's reads. A half-close is passed on as a half-close.
 *
 * <p>All public methods are thread-safe; the ones that change state return once the change took
 * effect.
 */
public final class TcpRelay implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TcpRelay.class);
  private static final int BUFFER_BYTES = 64 * 1024;
  private static final long CONTROL_TIMEOUT_SECONDS = 10;

  private final InetSocketAddress target;
  private final String bindHost;
  private final Selector selector;
  private final Thread loop;
  private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
  private final Set<Pair> pairs = new HashSet<>();
  private final AtomicInteger live = new AtomicInteger();
  private final AtomicLong accepted = new AtomicLong();
  private final AtomicInteger heldCount = new AtomicInteger();
  private final List<Pair> held = new ArrayList<>();
  private boolean holding;
  private boolean frozen;
  private final int port;
  private ServerSocketChannel listener;
  private volatile boolean closed;

  private TcpRelay(String bindHost, int bindPort, String targetHost, int targetPort)
      throws IOException {
    this.target = new InetSocketAddress(targetHost, targetPort);
    this.bindHost = bindHost;
    this.selector = Selector.open();
    this.listener = bind(bindPort);
    this.port = ((InetSocketAddress) listener.getLocalAddress()).getPort();
    this.loop = new Thread(this::run, "tcp-relay-" + port);
    this.loop.setDaemon(true);
  }

  /**
   * Starts a relay on a free 127.0.0.1 port that forwards every connection to {@code
   * targetHost:targetPort}.
   */
  public static TcpRelay start(String targetHost, int targetPort) {
    return start("127.0.0.1", 0, targetHost, targetPort);
  }

  /**
   * Starts a relay on {@code bindHost:bindPort} (a loopback address; port 0 for any free one), so
   * that several relays can share one port on different addresses, as servers behind one DNS name
   * on port 3306 do.
   */
  public static TcpRelay start(String bindHost, int bindPort, String targetHost, int targetPort) {
    try {
      TcpRelay relay = new TcpRelay(bindHost, bindPort, targetHost, targetPort);
      relay.loop.start();
      log.info("TCP relay {}:{} -> {}:{}", bindHost, relay.port, targetHost, targetPort);
      return relay;
    } catch (IOException e) {
      throw new UncheckedIOException(
          "while starting a TCP relay to " + targetHost + ":" + targetPort, e);
    }
  }

  /** The address it listens on, {@code 127.0.0.1} unless started on another. */
  public String host() {
    return bindHost;
  }

  /**
   * The port clients connect to; it stays the same across {@link #cutAll()} and {@link #resume()}.
   */
  public int port() {
    return port;
  }

  /** Relayed connections currently open (a client and its upstream count as one). */
  public int connectionCount() {
    return live.get();
  }

  /** Connections accepted since the relay started. */
  public long acceptedCount() {
    return accepted.get();
  }

  /**
   * Resets every relayed connection on both sides (RST, not FIN: to the peers it looks like a
   * crashed host or a dropped NAT entry) and stops listening, so new connections are refused until
   * {@link #resume()}.
   */
  public void cutAll() {
    call(
        () -> {
          if (listener != null) {
            listener.close();
            listener = null;
          }
          for (Pair p : new ArrayList<>(pairs)) {
            p.reset();
          }
        });
  }

  /** Listens again on the same port; does nothing when not cut. */
  public void resume() {
    call(
        () -> {
          if (listener == null) {
            listener = bind(port);
          }
        });
  }

  /**
   * From now on new connections are accepted but not connected upstream until {@link
   * #releaseHeld()}: to the connecting side it looks like a server that accepted the connection and
   * has not greeted yet. Connections already relayed are not affected.
   */
  public void holdNew() {
    call(() -> holding = true);
  }

  /**
   * Stops moving bytes on every relayed connection without closing any, and holds new ones as
   * {@link #holdNew()} does: to the proxy it looks like a server that hangs while the network stays
   * up (the relay's kernel still acknowledges data and keepalive probes). For good: {@link
   * #close()} resets everything.
   */
  public void freeze() {
    call(
        () -> {
          holding = true;
          frozen = true;
          for (Pair p : pairs) {
            if (p.clientKey != null) {
              p.clientKey.interestOps(0);
              p.upstreamKey.interestOps(0);
            }
          }
        });
  }

  /** Connects every held connection upstream, and new ones again as they come. */
  public void releaseHeld() {
    call(
        () -> {
          holding = false;
          for (Pair p : new ArrayList<>(held)) {
            held.remove(p);
            heldCount.decrementAndGet();
            try {
              p.connect();
            } catch (IOException e) {
              log.debug("{}: could not connect a held connection: {}", this, e.toString());
              p.reset();
            }
          }
        });
  }

  /** Connections accepted while holding and not yet connected upstream. */
  public int heldCount() {
    return heldCount.get();
  }

  /** Resets every connection and stops the relay for good. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    cutAll();
    closed = true;
    selector.wakeup();
    try {
      loop.join(TimeUnit.SECONDS.toMillis(CONTROL_TIMEOUT_SECONDS));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    return "TcpRelay["
        + bindHost
        + ":"
        + port
        + " -> "
        + target.getHostString()
        + ":"
        + target.getPort()
        + "]";
  }

  /** Something done on the selector thread. */
  private interface IoTask {
    void run() throws IOException;
  }

  /** Runs {@code task} on the selector thread and waits for it, so the caller sees its effect. */
  private void call(IoTask task) {
    if (closed) {
      throw new IllegalStateException(this + " is closed");
    }
    CompletableFuture<Void> done = new CompletableFuture<>();
    tasks.add(
        () -> {
          try {
            task.run();
            // Channels closed while registered are released at the next select; do it now so the
            // RST has gone out.
            selector.selectNow();
            done.complete(null);
          } catch (IOException | RuntimeException e) {
            done.completeExceptionally(e);
          }
        });
    selector.wakeup();
    try {
      done.get(CONTROL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new IllegalStateException(this + ": " + e.getCause().getMessage(), e.getCause());
    } catch (TimeoutException e) {
      throw new IllegalStateException(
          this + ": the relay thread did not respond within " + CONTROL_TIMEOUT_SECONDS + "s");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private ServerSocketChannel bind(int p) throws IOException {
    // Listening again on the port given up at a kill can find it taken for a moment as the local
    // port of another test's outgoing connection (the kernel hands ephemeral ports out freely):
    // try again for up to 3 s before failing.
    for (int attempt = 1; ; attempt++) {
      try {
        return bindOnce(p);
      } catch (IOException e) {
        if (p == 0 || attempt >= 30 || !(e.getCause() instanceof java.net.BindException)) {
          throw e;
        }
        java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
      }
    }
  }

  private ServerSocketChannel bindOnce(int p) throws IOException {
    ServerSocketChannel ch = ServerSocketChannel.open();
    try {
      ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
      ch.bind(new InetSocketAddress(bindHost, p), 128);
      ch.configureBlocking(false);
      ch.register(selector, SelectionKey.OP_ACCEPT);
      return ch;
    } catch (IOException e) {
      ch.close();
      throw new IOException(
          "cannot listen on " + bindHost + ":" + p + " (" + e.getMessage() + ")", e);
    }
  }

  private void run() {
    try {
      while (!closed) {
        selector.select(1000);
        for (Runnable t; (t = tasks.poll()) != null; ) {
          t.run();
        }
        Set<SelectionKey> keys = selector.selectedKeys();
        for (SelectionKey key : keys) {
          if (!key.isValid()) {
            continue;
          }
          if (key.attachment() == null) {
            accept((ServerSocketChannel) key.channel());
          } else {
            ((Pair) key.attachment()).ready(key);
          }
        }
        keys.clear();
      }
    } catch (IOException | ClosedSelectorException e) {
      log.warn("{} stopped: {}", this, e.toString());
    } finally {
      for (Pair p : new ArrayList<>(pairs)) {
        p.reset();
      }
      try {
        if (listener != null) {
          listener.close();
        }
        selector.close();
      } catch (IOException e) {
        log.debug("closing {}: {}", this, e.toString());
      }
      for (Runnable t; (t = tasks.poll()) != null; ) {
        t.run();
      }
    }
  }

  private void accept(ServerSocketChannel server) throws IOException {
    SocketChannel client;
    while ((client = server.accept()) != null) {
      accepted.incrementAndGet();
      SocketChannel upstream = SocketChannel.open();
      try {
        client.configureBlocking(false);
        client.setOption(StandardSocketOptions.TCP_NODELAY, true);
        upstream.configureBlocking(false);
        upstream.setOption(StandardSocketOptions.TCP_NODELAY, true);
        Pair pair = new Pair(client, upstream);
        pairs.add(pair);
        live.incrementAndGet();
        if (holding) {
          held.add(pair);
          heldCount.incrementAndGet();
        } else {
          pair.connect();
        }
      } catch (IOException e) {
        log.debug("{}: could not set up a connection: {}", this, e.toString());
        resetQuietly(client);
        resetQuietly(upstream);
      }
    }
  }

  private static void resetQuietly(SocketChannel ch) {
    try {
      if (ch.isOpen()) {
        // Linger 0 makes close() send RST instead of FIN.
        ch.setOption(StandardSocketOptions.SO_LINGER, 0);
      }
    } catch (IOException e) {
      // already broken: closing is all that is left
    }
    try {
      ch.close();
    } catch (IOException e) {
      // nothing more to do
    }
  }

  /**
   * One relayed connection: a client, its upstream and a buffer per direction. Selector thread
   * only.
   */
  private final class Pair {
    private final SocketChannel client;
    private final SocketChannel upstream;

    /** Client to upstream bytes, in fill mode. */
    private final ByteBuffer up = ByteBuffer.allocate(BUFFER_BYTES);

    /** Upstream to client bytes, in fill mode. */
    private final ByteBuffer down = ByteBuffer.allocate(BUFFER_BYTES);

    private SelectionKey clientKey;
    private SelectionKey upstreamKey;
    private boolean connected;
    private boolean clientEof;
    private boolean upstreamEof;
    private boolean upShut;
    private boolean downShut;
    private boolean done;

    Pair(SocketChannel client, SocketChannel upstream) {
      this.client = client;
      this.upstream = upstream;
    }

    void connect() throws IOException {
      clientKey = client.register(selector, 0, this);
      upstreamKey = upstream.register(selector, 0, this);
      if (upstream.connect(target)) {
        connected = true;
      }
      update();
    }

    void ready(SelectionKey key) {
      try {
        if (key == upstreamKey && key.isConnectable()) {
          upstream.finishConnect();
          connected = true;
        }
        if (connected) {
          if (key.isReadable()) {
            if (key == clientKey) {
              clientEof |= client.read(up) < 0;
            } else {
              upstreamEof |= upstream.read(down) < 0;
            }
          }
          flush();
        }
        if (!done) {
          update();
        }
      } catch (IOException e) {
        // One side failed (refused, reset, ...): the other side learns it the same abrupt way.
        log.debug("{}: connection failed: {}", TcpRelay.this, e.toString());
        reset();
      }
    }

    /** Writes what is buffered; passes a drained end-of-stream on as a half-close. */
    private void flush() throws IOException {
      write(up, upstream);
      write(down, client);
      if (clientEof && up.position() == 0 && !upShut) {
        upstream.shutdownOutput();
        upShut = true;
      }
      if (upstreamEof && down.position() == 0 && !downShut) {
        client.shutdownOutput();
        downShut = true;
      }
      if (upShut && downShut) {
        finish(false);
      }
    }

    private void write(ByteBuffer buf, SocketChannel to) throws IOException {
      if (buf.position() > 0) {
        buf.flip();
        to.write(buf);
        buf.compact();
      }
    }

    private void update() {
      if (frozen) {
        clientKey.interestOps(0);
        upstreamKey.interestOps(0);
        return;
      }
      if (!connected) {
        upstreamKey.interestOps(SelectionKey.OP_CONNECT);
        return;
      }
      int c = 0;
      int u = 0;
      if (!clientEof && up.hasRemaining()) {
        c |= SelectionKey.OP_READ;
      }
      if (!upstreamEof && down.hasRemaining()) {
        u |= SelectionKey.OP_READ;
      }
      if (up.position() > 0) {
        u |= SelectionKey.OP_WRITE;
      }
      if (down.position() > 0) {
        c |= SelectionKey.OP_WRITE;
      }
      clientKey.interestOps(c);
      upstreamKey.interestOps(u);
    }

    void reset() {
      finish(true);
    }

    private void finish(boolean abrupt) {
      if (done) {
        return;
      }
      done = true;
      pairs.remove(this);
      if (held.remove(this)) {
        heldCount.decrementAndGet();
      }
      live.decrementAndGet();
      if (abrupt) {
        resetQuietly(client);
        resetQuietly(upstream);
      } else {
        try {
          client.close();
          upstream.close();
        } catch (IOException e) {
          log.debug("{}: closing: {}", TcpRelay.this, e.toString());
        }
      }
    }
  }
}
