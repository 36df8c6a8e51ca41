package dev.mysqlpool.proxy.testsupport;

import dev.mysqlpool.proxy.ProxyServer;
import dev.mysqlpool.proxy.config.ConfigLoader;
import dev.mysqlpool.proxy.config.ProxyConfig;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

/**
 * The demo: a MariaDB with data that survives restarts, and the proxy in front of it, until Ctrl-C.
 *
 * <pre>./mvnw -Pdemo -pl proxy-runtime -am verify</pre>
 *
 * <p>MariaDB keeps its data in {@code proxy-runtime/target/demo-mariadb} and listens on
 * 127.0.0.1:3306 (another free port if 3306 is taken). The proxy config is written to {@code
 * proxy-runtime/target/demo/proxy.yaml}: clients connect to 127.0.0.1:6033 as {@code app}/{@code
 * app-secret}, the admin endpoint is 127.0.0.1:9090. ("target" is the build folder actually used,
 * e.g. {@code target-x} with {@code -Dbuild.dir.name=target-x}.)
 */
public final class Demo {
  private static final int LISTEN_PORT = ConfigLoader.DEFAULT_LISTEN_PORT;
  private static final int ADMIN_PORT = ConfigLoader.DEFAULT_ADMIN_PORT;
  private static final int MARIADB_PORT = 3306;

  private Demo() {}

  /** Starts MariaDB and the proxy, prints how to connect, and blocks until the JVM is stopped. */
  public static void main(String[] args) throws Exception {
    Path buildDir = buildDir();
    for (int port : new int[] {LISTEN_PORT, ADMIN_PORT}) {
      if (!EmbeddedMariaDb.isPortFree(port)) {
        throw new IllegalStateException(
            "port "
                + port
                + " on 127.0.0.1 is in use (is another demo running?); the"
                + " demo needs "
                + LISTEN_PORT
                + " for MySQL clients and "
                + ADMIN_PORT
                + " for the admin endpoint");
      }
    }

    EmbeddedMariaDb db =
        EmbeddedMariaDb.startPersistent(buildDir.resolve("demo-mariadb"), MARIADB_PORT);
    ProxyServer server;
    Path configFile;
    try {
      configFile = writeConfig(buildDir.resolve("demo"), db.port());
      ProxyConfig config = ConfigLoader.load(configFile);
      server = ProxyServer.start(config);
    } catch (Exception | Error e) {
      db.close();
      throw e;
    }

    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  System.out.println("Stopping the proxy (draining clients), then MariaDB ...");
                  try {
                    server.shutdown();
                  } finally {
                    db.close();
                    stopped.countDown();
                  }
                },
                "demo-shutdown"));

    printBanner(db, configFile);
    stopped.await();
  }

  /**
   * The build folder this class was compiled into: {@code <module>/<build dir>/test-classes/..}.
   */
  private static Path buildDir() throws URISyntaxException {
    Path classes = Path.of(Demo.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    return classes.getParent();
  }

  private static Path writeConfig(Path dir, int backendPort) throws IOException {
    Files.createDirectories(dir);
    Path passwordFile = dir.resolve("app.password");
    writeOwnerOnly(passwordFile, EmbeddedMariaDb.APP_PASSWORD + "\n");
    String yaml =
        String.join(
            "\n",
            "# Written by dev.mysqlpool.proxy.testsupport.Demo; rewritten on every run.",
            "listen:",
            "  host: 127.0.0.1",
            "  port: " + LISTEN_PORT,
            "admin:",
            "  host: 127.0.0.1",
            "  port: " + ADMIN_PORT,
            "backends:",
            "  - name: primary",
            "    host: 127.0.0.1",
            "    port: " + backendPort,
            "users:",
            "  - name: " + EmbeddedMariaDb.APP_USER,
            "    passwordFile: " + passwordFile.toAbsolutePath(),
            "pool:",
            "  maxConnections: 10",
            "  minIdle: 2",
            "");
    Path configFile = dir.resolve("proxy.yaml");
    Files.writeString(configFile, yaml, StandardCharsets.UTF_8);
    return configFile;
  }

  /**
   * Writes {@code text} to a file only its owner can read, never readable by others even for a
   * moment.
   */
  private static void writeOwnerOnly(Path file, String text) throws IOException {
    Set<PosixFilePermission> ownerOnly = PosixFilePermissions.fromString("rw-------");
    if (Files.exists(file)) {
      Files.setPosixFilePermissions(file, ownerOnly);
    } else {
      Files.createFile(file, PosixFilePermissions.asFileAttribute(ownerOnly));
    }
    Files.writeString(file, text, StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
  }

  private static void printBanner(EmbeddedMariaDb db, Path configFile) {
    String cli = db.cliBinary().toString();
    String[] lines = {
      "",
      "================================================================================",
      " mysqlpool proxy demo is running",
      "",
      " Connect through the proxy:",
      "   mariadb -h127.0.0.1 -P"
          + LISTEN_PORT
          + " -u"
          + EmbeddedMariaDb.APP_USER
          + " -p"
          + EmbeddedMariaDb.APP_PASSWORD
          + " "
          + EmbeddedMariaDb.APP_DATABASE,
      " or, with nothing installed, the bundled client:",
      "   "
          + cli
          + " --no-defaults -h127.0.0.1 -P"
          + LISTEN_PORT
          + " -u"
          + EmbeddedMariaDb.APP_USER
          + " -p"
          + EmbeddedMariaDb.APP_PASSWORD
          + " "
          + EmbeddedMariaDb.APP_DATABASE,
      "",
      " Admin endpoint:",
      "   http://127.0.0.1:" + ADMIN_PORT + "/metrics",
      "   http://127.0.0.1:" + ADMIN_PORT + "/stats",
      "   http://127.0.0.1:" + ADMIN_PORT + "/readyz",
      "",
      " Proxy config:  " + configFile.toAbsolutePath(),
      " MariaDB:       "
          + db.host()
          + ":"
          + db.port()
          + " (root, no password; data kept across runs in "
          + configFile.getParent().resolveSibling("demo-mariadb")
          + ")",
      "",
      " Ctrl-C to stop.",
      "================================================================================",
      ""
    };
    System.out.println(String.join(System.lineSeparator(), lines));
  }
}
