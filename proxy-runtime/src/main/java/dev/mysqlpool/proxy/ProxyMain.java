package dev.mysqlpool.proxy;

import dev.mysqlpool.proxy.backend.BackendPool;
import dev.mysqlpool.proxy.config.ConfigException;
import dev.mysqlpool.proxy.config.ConfigLoader;
import dev.mysqlpool.proxy.config.ProxyConfig;
import io.netty.util.ResourceLeakDetector;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code java -jar proxy-runtime.jar --config FILE [--check]}. */
public final class ProxyMain {
  private static final Logger log = LoggerFactory.getLogger(ProxyMain.class);

  /**
   * Kubelet refreshes mounted Secrets within about a minute; checking every few seconds adds little
   * to that.
   */
  private static final Duration RELOAD_INTERVAL = Duration.ofSeconds(5);

  private ProxyMain() {}

  public static void main(String[] args) throws InterruptedException {
    if (System.getProperty("io.netty.leakDetection.level") == null) {
      // Sampling with stack traces costs on every 128th buffer; the tests run at PARANOID instead.
      ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
    }
    Path configFile = null;
    boolean checkOnly = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--config":
          if (i + 1 >= args.length) {
            usage("--config needs a file");
          }
          configFile = Path.of(args[++i]);
          break;
        case "--check":
          checkOnly = true;
          break;
        case "--help":
        case "-h":
          usage(null);
          break;
        default:
          usage("unknown argument '" + args[i] + "'");
      }
    }
    if (configFile == null) {
      usage("--config FILE is required");
    }
    ProxyConfig config;
    try {
      config = ConfigLoader.load(configFile);
    } catch (ConfigException e) {
      System.err.println(configFile + ": " + e.getMessage());
      System.exit(2);
      return;
    }
    log.info("effective configuration (passwords masked): {}", config);
    // Before any name is resolved: the JVM reads its cache TTL once, and a longer one would hand a
    // failed-over writer's old address to new backend connections.
    BackendPool.boundJvmDnsCache(config.pool().dnsTtl());
    if (checkOnly) {
      System.out.println(configFile + ": configuration is valid");
      return;
    }
    ProxyServer server;
    try {
      server = ProxyServer.start(config);
    } catch (ConfigException e) {
      // The certificate files, read at start.
      System.err.println(configFile + ": " + e.getMessage());
      System.exit(2);
      return;
    }
    ConfigReloader reloader = new ConfigReloader(configFile, server, RELOAD_INTERVAL);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  reloader.close();
                  server.shutdown();
                  stopped.countDown();
                },
                "shutdown"));
    stopped.await();
  }

  private static void usage(String problem) {
    if (problem != null) {
      System.err.println("error: " + problem);
    }
    System.err.println("usage: java -jar proxy-runtime.jar --config FILE [--check]");
    System.err.println(
        "  --config FILE  the proxy's YAML configuration (see proxy-runtime/README.md)");
    System.err.println("  --check        validate the configuration and exit");
    System.exit(problem == null ? 0 : 2);
  }
}
