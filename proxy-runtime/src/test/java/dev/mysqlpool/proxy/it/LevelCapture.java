package dev.mysqlpool.proxy.it;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.slf4j.LoggerFactory;

/**
 * Collects the events at or above a level that a logger and its children write during a test, e.g.
 * every WARN from {@code io.netty} (where "An exceptionCaught() event was fired, and it reached at
 * the tail of the pipeline" and "Failed to release a message" come from). Events that {@code
 * ignore} matches are dropped.
 */
final class LevelCapture extends AppenderBase<ILoggingEvent> implements AutoCloseable {
  private final Logger logger;
  private final Level threshold;
  private final Predicate<ILoggingEvent> ignore;
  private final List<String> events = new ArrayList<>();

  LevelCapture(String loggerName, Level threshold, Predicate<ILoggingEvent> ignore) {
    this.logger = (Logger) LoggerFactory.getLogger(loggerName);
    this.threshold = threshold;
    this.ignore = ignore;
    setContext(logger.getLoggerContext());
    setName("level-capture-" + loggerName);
    start();
    logger.addAppender(this);
  }

  @Override
  protected void append(ILoggingEvent e) {
    if (e.getLevel().isGreaterOrEqual(threshold) && !ignore.test(e)) {
      String text =
          e.getLevel()
              + " "
              + e.getLoggerName()
              + ": "
              + e.getFormattedMessage()
              + (e.getThrowableProxy() != null
                  ? " ("
                      + e.getThrowableProxy().getClassName()
                      + ": "
                      + e.getThrowableProxy().getMessage()
                      + ")"
                  : "");
      synchronized (events) {
        events.add(text);
      }
    }
  }

  /** What was collected so far. */
  List<String> events() {
    synchronized (events) {
      return new ArrayList<>(events);
    }
  }

  @Override
  public void close() {
    logger.detachAppender(this);
    stop();
  }
}
