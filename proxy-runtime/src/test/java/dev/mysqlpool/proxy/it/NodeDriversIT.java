package dev.mysqlpool.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The Node.js drivers through the proxy: mysql2's {@code execute()} (binary protocol, its own
 * statement cache) and the {@code mariadb} connector's {@code execute()} and {@code batch()} give
 * the same JSON directly, through session mode and through transaction mode with one backend
 * connection for four client connections. Runs the machine's {@code node}; the drivers are
 * installed from the npm registry into {@code target/node-drivers} once. Skips, saying why, when
 * node or npm is missing or the registry cannot be reached; never downloads Node itself.
 *
 * <p>{@code batch()} runs twice: with {@code bulk: false} (one execute per row) and with bulk (one
 * COM_STMT_BULK_EXECUTE and one aggregated result, which needs MariaDB's STMT_BULK_OPERATIONS
 * offered through the proxy).
 */
@ExtendWith(LeakGuard.class)
class NodeDriversIT {
  private static final String DRIVERS = "mysql2@3.11.5 mariadb@3.4.0";
  private static final Path DIR = Path.of("target", "node-drivers");
  private static final String TABLE = "app.node_prepared";

  private static EmbeddedMariaDb db;
  private ProxyHarness proxy;

  @BeforeAll
  static void drivers() throws Exception {
    assumeTrue(
        run(List.of("node", "--version"), Path.of("."), 20) != null,
        "node is not installed here; skipping the Node.js driver tests (nothing downloads Node)");
    Files.createDirectories(DIR);
    if (!Files.isDirectory(DIR.resolve("node_modules/mysql2"))
        || !Files.isDirectory(DIR.resolve("node_modules/mariadb"))) {
      List<String> install =
          new java.util.ArrayList<>(
              List.of(
                  "npm",
                  "install",
                  "--no-audit",
                  "--no-fund",
                  "--no-save",
                  "--loglevel=error",
                  "--prefix",
                  DIR.toAbsolutePath().toString()));
      install.addAll(List.of(DRIVERS.split(" ")));
      assumeTrue(
          run(install, DIR, 300) != null,
          "npm could not install " + DRIVERS + " from the registry; skipping the Node.js tests");
    }
    try (InputStream in = NodeDriversIT.class.getResourceAsStream("/node/prepared.js")) {
      Files.write(DIR.resolve("prepared.js"), in.readAllBytes());
    }
    db = EmbeddedMariaDb.shared();
  }

  @AfterEach
  void stopProxy() {
    if (proxy != null) {
      proxy.close();
    }
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> db.threadIds(EmbeddedMariaDb.APP_USER).isEmpty());
  }

  /** Runs a command; its stdout, or null when it could not start, failed or timed out. */
  private static String run(List<String> command, Path dir, int timeoutSeconds) {
    Process p;
    try {
      p =
          new ProcessBuilder(command)
              .directory(dir.toFile())
              .redirectError(ProcessBuilder.Redirect.INHERIT)
              .start();
    } catch (IOException e) {
      return null;
    }
    try {
      byte[] out = p.getInputStream().readAllBytes();
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return null;
      }
      return p.exitValue() == 0 ? new String(out, StandardCharsets.UTF_8) : null;
    } catch (IOException e) {
      p.destroyForcibly();
      return null;
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      return null;
    }
  }

  /** The script's JSON against host:port, on a fresh table (so insert ids match between runs). */
  private static String script(String name, String host, int port) throws IOException {
    db.execute(
        "DROP TABLE IF EXISTS " + TABLE,
        "CREATE TABLE "
            + TABLE
            + " (id INT AUTO_INCREMENT PRIMARY KEY, k VARCHAR(10), s VARCHAR(20) CHARACTER SET"
            + " utf8mb4, b VARBINARY(10), d DOUBLE, t DATETIME)");
    String out =
        run(
            List.of(
                "node",
                "prepared.js",
                DIR.resolve("node_modules").toAbsolutePath().toString(),
                host,
                Integer.toString(port),
                EmbeddedMariaDb.APP_USER,
                EmbeddedMariaDb.APP_PASSWORD,
                EmbeddedMariaDb.APP_DATABASE,
                TABLE),
            DIR,
            120);
    assertThat(out)
        .as("the Node.js script against %s:%d ran (its errors are above)", host, port)
        .isNotNull();
    // Kept for reading a difference: target/node-drivers/<name>.json.
    Files.writeString(DIR.resolve(name + ".json"), out);
    return out;
  }

  @Test
  void mysql2AndMariadbGetTheSameResultsThroughBothModesAsDirectly() throws IOException {
    String direct = script("direct", db.host(), db.port());
    assertThat(direct).contains("\"mysql2 rows\"").contains("\"mariadb batch\"");
    proxy = ProxyHarness.start(db, "pool: {mode: session, maxConnections: 4}\n");
    assertThat(script("session", "127.0.0.1", proxy.port())).as("session mode").isEqualTo(direct);
    proxy.close();
    proxy =
        ProxyHarness.start(
            db, "pool: {mode: transaction, maxConnections: 1, acquireTimeout: 20s}\n");
    assertThat(script("transaction", "127.0.0.1", proxy.port()))
        .as("transaction mode")
        .isEqualTo(direct);
    assertThat(Metrics.value(proxy, "mysqlpool_session_pins_total"))
        .as("no Node.js client was pinned")
        .isZero();
    assertThat(proxy.server.stats().preparedStatements().cacheHits())
        .as("prepares answered by the proxy")
        .isPositive();
  }
}
