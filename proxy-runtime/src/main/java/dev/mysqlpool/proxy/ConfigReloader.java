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
 * mounted Kubernetes Secret (which the kubelet updates in place) takes effect without a restart.
 * Only user changes apply live; any other change is reported once, since the operator rolls the
 * pods when the rendered config changes. An invalid file is reported once and ignored: the running
 * configuration stays.
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
        this::check, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
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
    lastSeen = next;
    if (server.reloadUsers(next)) {
      log.info("reloaded users from {}: {}", file, next.users().size());
    } else {
      log.warn(
          "{} changed in fields other than users; restart the proxy to apply them (the operator rolls the pods"
              + " when the rendered config changes)",
          file);
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
