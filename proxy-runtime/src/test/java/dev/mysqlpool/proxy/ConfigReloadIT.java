package dev.mysqlpool.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.mysqlpool.proxy.config.ConfigLoader;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** A password rotated in a mounted Secret takes effect without restarting the proxy. */
@ExtendWith(LeakGuard.class)
class ConfigReloadIT {
  @TempDir Path dir;

  @Test
  void rotatedClientPasswordFileAppliesToNewLoginsAndAnInvalidEditIsIgnored() throws Exception {
    EmbeddedMariaDb db = EmbeddedMariaDb.shared();
    Path clientPassword = dir.resolve("client-password");
    Files.writeString(clientPassword, "first-secret\n");
    Files.writeString(dir.resolve("backend-password"), EmbeddedMariaDb.APP_PASSWORD);
    Path file = dir.resolve("proxy.yaml");
    String users =
        "users:\n  - {name: app, passwordFile: client-password, backendUser: app,"
            + " backendPasswordFile: backend-password}\n";
    String rest =
        "listen: {host: 127.0.0.1, port: 0}\nadmin: {host: 127.0.0.1, port: 0}\n"
            + "backends:\n  - {name: primary, host: "
            + db.host()
            + ", port: "
            + db.port()
            + "}\n";
    Files.writeString(file, rest + users);
    try (ProxyServer server = ProxyServer.start(ConfigLoader.load(file));
        ConfigReloader reloader = new ConfigReloader(file, server, Duration.ofMillis(100))) {
      String url = "jdbc:mariadb://127.0.0.1:" + server.listenPort() + "/app";
      DriverManager.getConnection(url, "app", "first-secret").close();

      Files.writeString(clientPassword, "second-secret\n");
      await()
          .atMost(Duration.ofSeconds(5))
          .ignoreExceptions()
          .until(
              () -> {
                DriverManager.getConnection(url, "app", "second-secret").close();
                return true;
              });
      assertThatThrownBy(() -> DriverManager.getConnection(url, "app", "first-secret").close())
          .isInstanceOf(SQLException.class)
          .hasMessageContaining("Access denied");

      // A broken edit is reported and keeps the running users.
      ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> log =
          new ch.qos.logback.core.read.ListAppender<>();
      log.start();
      ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(ConfigReloader.class))
          .addAppender(log);
      Files.writeString(file, rest + users + "pool: {maxConnections: -1}\n");
      Files.writeString(clientPassword, "third-secret\n");
      await()
          .atMost(Duration.ofSeconds(5))
          .until(
              () ->
                  log.list.stream()
                      .anyMatch(
                          e ->
                              e.getFormattedMessage()
                                  .contains("pool.maxConnections: -1 is out of range")));
      assertThatThrownBy(() -> DriverManager.getConnection(url, "app", "third-secret").close())
          .isInstanceOf(SQLException.class)
          .hasMessageContaining("Access denied");
      try (Connection c = DriverManager.getConnection(url, "app", "second-secret")) {
        assertThat(c.isValid(2)).isTrue();
      }
      assertThat(server.config().pool().maxConnections()).isEqualTo(20);
    }
  }
}
