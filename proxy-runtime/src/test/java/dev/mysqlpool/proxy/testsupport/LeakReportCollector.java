package dev.mysqlpool.proxy.testsupport;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;

/**
 * A logback appender that keeps every ERROR that Netty's {@code ResourceLeakDetector} logs, for
 * {@link LeakGuard}. {@code logback-test.xml} attaches it to logger {@code
 * io.netty.util.ResourceLeakDetector} as {@value #NAME}; {@link LeakGuard} attaches one itself when
 * a different logback configuration left it out.
 *
 * <p>Public only because logback instantiates appenders by reflection. The reports are kept in one
 * JVM-wide list, so every instance of this appender feeds the same list; logback may call {@link
 * #append} from any thread.
 */
public final class LeakReportCollector extends AppenderBase<ILoggingEvent> {
  /** The appender name that {@link LeakGuard} looks for. */
  public static final String NAME = "LEAK_GUARD";

  private static final List<String> REPORTS = new ArrayList<>();

  @Override
  protected void append(ILoggingEvent event) {
    if (event.getLevel().isGreaterOrEqual(Level.ERROR)) {
      synchronized (REPORTS) {
        REPORTS.add(event.getFormattedMessage());
      }
    }
  }

  /** How many reports were collected so far in this JVM; a mark to pass to {@link #since(int)}. */
  static int count() {
    synchronized (REPORTS) {
      return REPORTS.size();
    }
  }

  /** The reports collected after {@code mark}, oldest first. */
  static List<String> since(int mark) {
    synchronized (REPORTS) {
      return List.copyOf(REPORTS.subList(mark, REPORTS.size()));
    }
  }
}
