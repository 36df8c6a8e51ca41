package dev.mysqlpool.proxy.testsupport;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.internal.logging.InternalLoggerFactory;
import io.netty.util.internal.logging.Slf4JLoggerFactory;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.ILoggerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fails a test class when Netty's {@link ResourceLeakDetector} reported a leaked buffer while the
 * class ran: {@code @ExtendWith(LeakGuard.class)}.
 *
 * <p>Netty reports a leak only after the leaked buffer was garbage-collected, and only from a later
 * allocation. So {@code afterAll} forces a few GC cycles and allocates and releases buffers from
 * every allocator, then fails with the full reports (with {@code paranoid} detection they say where
 * the buffer was allocated and last touched). {@code beforeAll} does the same first; a report found
 * then was caused by code that ran before this class, and the failure message says so.
 *
 * <p>The build runs tests with {@code -Dio.netty.leakDetection.level=paranoid}; when the level is
 * lower (an IDE run), this extension raises it to {@code PARANOID} for the rest of the JVM. Reports
 * are collected by {@link LeakReportCollector}, which {@code logback-test.xml} attaches to logger
 * {@code io.netty.util.ResourceLeakDetector}; this extension attaches it itself if missing. Test
 * classes must not run in parallel with each other, or one class's leak may be blamed on another.
 */
public final class LeakGuard implements BeforeAllCallback, AfterAllCallback {
  /** The logger Netty's leak detector reports through. */
  static final String DETECTOR_LOGGER = "io.netty.util.ResourceLeakDetector";

  private static final Logger log = LoggerFactory.getLogger(LeakGuard.class);
  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(LeakGuard.class);
  private static final int GC_ROUNDS = 3;
  private static final long GC_WAIT_MILLIS = 5_000;

  /** Called by JUnit. */
  public LeakGuard() {}

  @Override
  public void beforeAll(ExtensionContext context) {
    install();
    ExtensionContext.Store store = context.getStore(NAMESPACE);
    store.put("mark", LeakReportCollector.count());
    provokeReports();
    store.put("started", LeakReportCollector.count());
  }

  @Override
  public void afterAll(ExtensionContext context) {
    provokeReports();
    ExtensionContext.Store store = context.getStore(NAMESPACE);
    int mark = store.get("mark", Integer.class);
    int started = store.get("started", Integer.class);
    List<String> reports = LeakReportCollector.since(mark);
    if (reports.isEmpty()) {
      return;
    }
    StringBuilder sb = new StringBuilder();
    sb.append(context.getRequiredTestClass().getName())
        .append(": Netty reported ")
        .append(reports.size())
        .append(
            " leak(s); every ByteBuf must be released exactly once (forwarded, or released in finally)");
    for (int i = 0; i < reports.size(); i++) {
      sb.append("\n\n--- leak ").append(i + 1);
      if (mark + i < started) {
        sb.append(" (reported before the first test: caused by code that ran before this class)");
      }
      sb.append(" ---\n").append(reports.get(i));
    }
    throw new AssertionError(sb.toString());
  }

  /** Attaches the collector and makes sure Netty's reports reach it at all. */
  static synchronized void install() {
    if (!(InternalLoggerFactory.getDefaultFactory() instanceof Slf4JLoggerFactory)) {
      throw new IllegalStateException(
          "Netty logs through "
              + InternalLoggerFactory.getDefaultFactory().getClass().getName()
              + ", not SLF4J, so LeakGuard would never see a leak report");
    }
    ILoggerFactory factory = LoggerFactory.getILoggerFactory();
    if (!(factory instanceof LoggerContext)) {
      throw new IllegalStateException(
          "SLF4J is bound to "
              + factory.getClass().getName()
              + ", not logback; LeakGuard collects Netty's leak reports with a logback appender");
    }
    LoggerContext ctx = (LoggerContext) factory;
    ch.qos.logback.classic.Logger detector = ctx.getLogger(DETECTOR_LOGGER);
    if (!(detector.getAppender(LeakReportCollector.NAME) instanceof LeakReportCollector)) {
      LeakReportCollector collector = new LeakReportCollector();
      collector.setContext(ctx);
      collector.setName(LeakReportCollector.NAME);
      collector.start();
      detector.addAppender(collector);
    }
    // The detector skips reporting altogether when its logger has ERROR disabled.
    if (!detector.isErrorEnabled()) {
      detector.setLevel(Level.ERROR);
    }
    if (ResourceLeakDetector.getLevel().ordinal() < ResourceLeakDetector.Level.PARANOID.ordinal()) {
      log.info(
          "Raising Netty leak detection from {} to PARANOID (the build sets"
              + " -Dio.netty.leakDetection.level=paranoid)",
          ResourceLeakDetector.getLevel());
      ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
    }
  }

  /**
   * Makes Netty report the leaks of buffers that are already unreachable: waits for a few GC cycles
   * to finish processing references, each followed by allocations that run the detector.
   */
  static void provokeReports() {
    for (int round = 0; round < GC_ROUNDS; round++) {
      awaitGcCycle();
      for (ByteBufAllocator alloc :
          List.of(
              ByteBufAllocator.DEFAULT,
              PooledByteBufAllocator.DEFAULT,
              UnpooledByteBufAllocator.DEFAULT)) {
        for (int i = 0; i < 8; i++) {
          ByteBuf heap = alloc.heapBuffer(64);
          heap.release();
          ByteBuf direct = alloc.directBuffer(64);
          direct.release();
        }
      }
    }
  }

  /**
   * Requests a GC and waits (bounded) until a weakly reachable sentinel has been enqueued, i.e.
   * refs were processed.
   */
  private static void awaitGcCycle() {
    ReferenceQueue<Object> queue = new ReferenceQueue<>();
    WeakReference<Object> sentinel = new WeakReference<>(new Object(), queue);
    long deadline = System.currentTimeMillis() + GC_WAIT_MILLIS;
    try {
      while (System.currentTimeMillis() < deadline) {
        System.gc();
        if (queue.remove(100) != null) {
          return;
        }
      }
      log.warn("no GC cycle completed within {} ms; leak reports may be missed", GC_WAIT_MILLIS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      Reference.reachabilityFence(sentinel);
    }
  }
}
