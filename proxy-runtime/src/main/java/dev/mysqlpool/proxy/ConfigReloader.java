package dev.mysqlpool.proxy;

import dev.mysqlpool.proxy.config.ConfigException;
import dev.mysqlpool.proxy.config.ConfigLoader;
import dev.mysqlpool.proxy.config.ProxyConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Re-reads the config file and its password files periodically, so that a password rotated in a
 * mounted Kubernetes Secret (which the kubelet updates in place) or a pool size the operator
 * rewrote in the ConfigMap takes effect without a restart. Each new version of the file is compared
 * with the configuration in force ({@link ReloadPlan}): the live fields apply at once, in whatever
 * order the edits come, and the fields that need a restart are named in one warning per version. An
 * invalid file is reported once and ignored: the running configuration stays.
 */
final class ConfigReloader implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ConfigReloader.class);

  private final Path file;
  private final ProxyServer server;
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "config-reload");
            t.setDaemon(true);
            return t;
          });
  private ProxyConfig lastSeen;
  private String lastProblem;

  ConfigReloader(Path file, ProxyServer server, Duration interval) {
    this.file = file;
    this.server = server;
    this.lastSeen = server.config();
    timer.scheduleWithFixedDelay(
        this::checkSafely, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** A scheduled task that throws is never run again: report and keep checking. */
  private void checkSafely() {
    try {
      check();
    } catch (RuntimeException e) {
      log.error("reloading {} failed; the running configuration stays", file, e);
    }
  }

  private void check() {
    ProxyConfig next;
    try {
      next = ConfigLoader.load(file);
    } catch (ConfigException e) {
      if (!e.getMessage().equals(lastProblem)) {
        lastProblem = e.getMessage();
        log.error(
            "{} changed but is not valid; keeping the running configuration: {}",
            file,
            e.getMessage());
      }
      return;
    }
    lastProblem = null;
    if (next.equals(lastSeen)) {
      return;
    }
    // Only to report each version once; what applies is decided against the running config.
    lastSeen = next;
    ReloadPlan plan = ReloadPlan.of(server.config(), next);
    if (!plan.applies().isEmpty()) {
      server.apply(plan.applied());
      log.info("applied from {}: {}", file, String.join(", ", plan.applies()));
    }
    if (!plan.needsRestart().isEmpty()) {
      log.warn(
          "{} changed {}, which only a restart applies; the running values stay until then (the"
              + " operator rolls the pods when these change)",
          file,
          String.join(", ", plan.needsRestart()));
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
