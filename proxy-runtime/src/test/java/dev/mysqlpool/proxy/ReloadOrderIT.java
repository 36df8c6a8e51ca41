package dev.mysqlpool.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.mysqlpool.proxy.config.ConfigLoader;
import dev.mysqlpool.proxy.config.ProxyConfig.PoolMode;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Every reloadable change applies, in whatever order the edits come: a password rotation after a
 * pool edit, a pool edit after a rotation, a rotation beside fields that need a restart, and a
 * rotated backend password.
 */
@ExtendWith(LeakGuard.class)
class ReloadOrderIT {
  private static final String BACKEND_USER = "rotating_app";

  @TempDir Path dir;
  private EmbeddedMariaDb db;
  private Path file;
  private Path clientPassword;
  private Path backendPassword;
  private ProxyServer server;
  private ConfigReloader reloader;
  private ListAppender<ILoggingEvent> log;

  @BeforeEach
  void setUp() throws Exception {
    db = EmbeddedMariaDb.shared();
    clientPassword = dir.resolve("client-password");
    backendPassword = dir.resolve("backend-password");
    file = dir.resolve("proxy.yaml");
    log = new ListAppender<>();
    log.start();
    ((Logger) LoggerFactory.getLogger(ConfigReloader.class)).addAppender(log);
  }

  @AfterEach
  void tearDown() {
    ((Logger) LoggerFactory.getLogger(ConfigReloader.class)).detachAppender(log);
    if (reloader != null) {
      reloader.close();
    }
    if (server != null) {
      server.close();
    }
  }

  /** Writes the config file: the app user, the given backend account, and extra sections. */
  private void writeConfig(String backendUser, String sections) throws Exception {
    Files.writeString(
        file,
        "listen: {host: 127.0.0.1, port: 0}\nadmin: {host: 127.0.0.1, port: 0}\n"
            + "backends:\n  - {name: primary, host: "
            + db.host()
            + ", port: "
            + db.port()
            + "}\n"
            + "users:\n  - {name: app, passwordFile: client-password, backendUser: "
            + backendUser
            + ", backendPasswordFile: backend-password}\n"
            + sections);
  }

  private void start(String backendUser, String sections) throws Exception {
    writeConfig(backendUser, sections);
    server = ProxyServer.start(ConfigLoader.load(file));
    reloader = new ConfigReloader(file, server, Duration.ofMillis(100));
  }

  private String url() {
    return "jdbc:mariadb://127.0.0.1:" + server.listenPort() + "/app";
  }

  private void awaitLogin(String password) {
    await()
        .atMost(Duration.ofSeconds(5))
        .ignoreExceptions()
        .until(
            () -> {
              try (Connection c = DriverManager.getConnection(url(), "app", password);
                  Statement s = c.createStatement();
                  ResultSet rs = s.executeQuery("SELECT 1")) {
                return rs.next();
              }
            });
  }

  private void assertRefused(String password) {
    assertThatThrownBy(() -> DriverManager.getConnection(url(), "app", password).close())
        .isInstanceOf(SQLException.class)
        .hasMessageContaining("Access denied");
  }

  private void awaitLogged(String text) {
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> log.list.stream().anyMatch(e -> e.getFormattedMessage().contains(text)));
  }

  @Test
  void aPasswordRotationAfterAPoolEditApplies() throws Exception {
    Files.writeString(clientPassword, "first-secret\n");
    Files.writeString(backendPassword, EmbeddedMariaDb.APP_PASSWORD);
    start(EmbeddedMariaDb.APP_USER, "pool: {maxConnections: 5}\n");
    awaitLogin("first-secret");

    writeConfig(EmbeddedMariaDb.APP_USER, "pool: {maxConnections: 3}\n");
    await().atMost(Duration.ofSeconds(5)).until(() -> server.config().pool().maxConnections() == 3);

    Files.writeString(clientPassword, "second-secret\n");
    awaitLogin("second-secret");
    assertRefused("first-secret");
    awaitLogged("applied from " + file + ": users");
  }

  @Test
  void aPoolEditAfterAPasswordRotationAppliesToThePool() throws Exception {
    Files.writeString(clientPassword, "first-secret\n");
    Files.writeString(backendPassword, EmbeddedMariaDb.APP_PASSWORD);
    start(EmbeddedMariaDb.APP_USER, "pool: {maxConnections: 5, acquireTimeout: 500ms}\n");
    Files.writeString(clientPassword, "second-secret\n");
    awaitLogin("second-secret");

    writeConfig(EmbeddedMariaDb.APP_USER, "pool: {maxConnections: 2, acquireTimeout: 500ms}\n");
    awaitLogged("pool.maxConnections 5 -> 2");
    List<Connection> holders = new ArrayList<>();
    try {
      for (int i = 0; i < 2; i++) {
        Connection c = DriverManager.getConnection(url(), "app", "second-secret");
        holders.add(c);
        c.createStatement().executeQuery("SELECT 1").close();
      }
      assertThatThrownBy(
              () -> {
                try (Connection c = DriverManager.getConnection(url(), "app", "second-secret")) {
                  c.createStatement().executeQuery("SELECT 1").close();
                }
              })
          .as("the pool now holds at most 2 backend connections")
          .hasStackTraceContaining("maxConnections=2");
    } finally {
      for (Connection c : holders) {
        c.close();
      }
    }
    assertRefused("first-secret");
  }

  @Test
  void fieldsThatNeedARestartAreNamedAndDoNotHoldUpRotations() throws Exception {
    Files.writeString(clientPassword, "first-secret\n");
    Files.writeString(backendPassword, EmbeddedMariaDb.APP_PASSWORD);
    start(EmbeddedMariaDb.APP_USER, "pool: {maxConnections: 5}\n");

    writeConfig(
        EmbeddedMariaDb.APP_USER,
        "pool: {mode: transaction, maxConnections: 4}\nfrontend: {handshakeTimeout: 20s}\n");
    Files.writeString(clientPassword, "second-secret\n");
    awaitLogged("changed pool.mode, frontend.handshakeTimeout, which only a restart applies");
    awaitLogin("second-secret");
    assertThat(server.config().pool().mode()).isEqualTo(PoolMode.SESSION);
    assertThat(server.config().frontend().handshakeTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(server.config().pool().maxConnections()).isEqualTo(4);

    // Still pending a restart, and a later rotation applies all the same.
    Files.writeString(clientPassword, "third-secret\n");
    awaitLogin("third-secret");
    assertRefused("second-secret");
  }

  @Test
  void aRotatedBackendPasswordIsUsedForNewBackendLogins() throws Exception {
    createBackendAccount("one");
    try {
      Files.writeString(clientPassword, "client-secret\n");
      Files.writeString(backendPassword, "one\n");
      start(BACKEND_USER, "pool: {maxConnections: 5}\n");
      awaitLogin("client-secret");
      // A pool edit first: the reloader once stopped applying rotations after one.
      writeConfig(BACKEND_USER, "pool: {maxConnections: 4}\n");
      await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> server.config().pool().maxConnections() == 4);

      alterBackendPassword("two");
      Files.writeString(backendPassword, "two\n");
      awaitLogged("applied from " + file + ": users");
      // No connection logged in with the old password may serve the next client.
      List<Long> oldSessions = db.threadIds(BACKEND_USER);
      for (long id : oldSessions) {
        db.kill(id);
      }
      // The pool may log in again at once (a probe, a replacement): with the new password only.
      await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> db.threadIds(BACKEND_USER).stream().noneMatch(oldSessions::contains));
      try (Connection c = DriverManager.getConnection(url(), "app", "client-secret");
          Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT CURRENT_USER()")) {
        rs.next();
        assertThat(rs.getString(1)).startsWith(BACKEND_USER + "@");
      }
      assertThat(server.pool("primary").stats().connectErrors())
          .as("no backend login was tried with the old password")
          .isZero();
    } finally {
      dropBackendAccount();
    }
  }

  private void createBackendAccount(String password) {
    for (String host : List.of("%", "localhost")) {
      String account = "'" + BACKEND_USER + "'@'" + host + "'";
      db.execute(
          "DROP USER IF EXISTS " + account,
          "CREATE USER " + account + " IDENTIFIED BY '" + password + "'",
          "GRANT ALL PRIVILEGES ON app.* TO " + account);
    }
  }

  private void alterBackendPassword(String password) {
    for (String host : List.of("%", "localhost")) {
      db.execute(
          "ALTER USER '" + BACKEND_USER + "'@'" + host + "' IDENTIFIED BY '" + password + "'");
    }
  }

  private void dropBackendAccount() {
    if (server != null) {
      server.close();
      server = null;
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> db.threadIds(BACKEND_USER).isEmpty());
    for (String host : List.of("%", "localhost")) {
      db.execute("DROP USER IF EXISTS '" + BACKEND_USER + "'@'" + host + "'");
    }
  }
}
