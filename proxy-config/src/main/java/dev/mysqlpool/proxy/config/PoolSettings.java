package dev.mysqlpool.proxy.config;

import dev.mysqlpool.proxy.config.ConfigLoader.Obj;
import dev.mysqlpool.proxy.config.ProxyConfig.Pool;
import dev.mysqlpool.proxy.config.ProxyConfig.PoolMode;
import java.time.Duration;
import java.util.Set;

/**
 * The {@code pool} section: the mode, the limits and timers of each backend's pool, and how it
 * follows a writer and keeps prepared statements. Part of {@link ConfigLoader}, which collects the
 * problems.
 */
final class PoolSettings {
  private final ConfigLoader loader;

  PoolSettings(ConfigLoader loader) {
    this.loader = loader;
  }

  Pool pool(Obj top) {
    Obj p =
        top.child(
            "pool",
            Set.of(
                "mode",
                "maxConnections",
                "minIdle",
                "maxIdle",
                "idleTimeout",
                "maxLifetime",
                "connectTimeout",
                "acquireTimeout",
                "validationInterval",
                "leakDetectionThreshold",
                "maxConcurrentConnects",
                "tcpKeepAliveIdle",
                "tcpKeepAliveInterval",
                "tcpKeepAliveCount",
                "switchoverTimeout",
                "dnsTtl",
                "maxPreparedStatementsPerConnection"));
    String modeText = p.string("mode", "session");
    PoolMode mode = PoolMode.SESSION;
    if ("transaction".equals(modeText)) {
      mode = PoolMode.TRANSACTION;
    } else if (modeText != null && !modeText.equals("session")) {
      loader.problem(
          p.path("mode")
              + ": '"
              + modeText
              + "' is not a pool mode; use 'session' or 'transaction'");
    }
    int max = p.integer("maxConnections", 20, 1, 100_000);
    int minIdle = p.integer("minIdle", 0, 0, 100_000);
    int maxIdle = p.integer("maxIdle", max, 0, 100_000);
    if (minIdle > maxIdle) {
      loader.problem(
          p.path("minIdle")
              + ": "
              + minIdle
              + " is above pool.maxIdle ("
              + maxIdle
              + "); lower minIdle or raise maxIdle");
    }
    if (maxIdle > max) {
      loader.problem(
          p.path("maxIdle")
              + ": "
              + maxIdle
              + " is above pool.maxConnections ("
              + max
              + "); idle connections are part of maxConnections, so lower maxIdle");
    }
    Duration maxLifetime = p.duration("maxLifetime", null, true);
    if (maxLifetime != null && maxLifetime.isZero()) {
      maxLifetime = null;
    } else if (maxLifetime != null && maxLifetime.toMillis() < 1000) {
      loader.problem(
          p.path("maxLifetime")
              + ": "
              + Durations.format(maxLifetime)
              + " is too short; use at least 1s, or leave it out to derive it from the server's wait_timeout");
    }
    Duration leak = p.duration("leakDetectionThreshold", Duration.ZERO, true);
    if (!leak.isZero() && leak.toMillis() < 1000) {
      loader.problem(
          p.path("leakDetectionThreshold")
              + ": "
              + Durations.format(leak)
              + " would warn about ordinary queries; use 0 (off) or at least 1s");
    }
    FailoverFields keepAlive = FailoverFields.read(loader, p);
    return new Pool(
        mode,
        max,
        minIdle,
        maxIdle,
        p.duration("idleTimeout", Duration.ofMinutes(10), true),
        maxLifetime,
        p.duration("connectTimeout", Duration.ofSeconds(5), false),
        p.duration("acquireTimeout", Duration.ofSeconds(5), false),
        p.duration("validationInterval", Duration.ofSeconds(30), true),
        leak,
        p.integer("maxConcurrentConnects", 2, 1, 1000),
        keepAlive.idle(),
        keepAlive.interval(),
        keepAlive.count(),
        p.duration("switchoverTimeout", Pool.DEFAULT_SWITCHOVER_TIMEOUT, false),
        FailoverFields.dnsTtl(loader, p),
        p.integer(
            "maxPreparedStatementsPerConnection",
            Pool.DEFAULT_MAX_PREPARED_STATEMENTS_PER_CONNECTION,
            0,
            100_000));
  }
}
