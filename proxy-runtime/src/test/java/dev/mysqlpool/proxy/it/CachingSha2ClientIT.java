package dev.mysqlpool.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.mysql.cj.jdbc.JdbcConnection;
import dev.mysqlpool.proxy.config.ProxyConfig.User;
import dev.mysqlpool.proxy.it.RawProtocolIT.RawClient;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Clients log in to the proxy with caching_sha2_password (offered proxy-wide here) without TLS: the
 * first login of an account proves the password in full, RSA-encrypted with the proxy's own key
 * (which Connector/J fetches only with {@code allowPublicKeyRetrieval=true}); the next ones take
 * the fast path, until the password is rotated. Accounts on mysql_native_password keep working for
 * clients that know nothing else.
 */
@ExtendWith(LeakGuard.class)
class CachingSha2ClientIT {
  private static ProxyHarness proxy;

  @BeforeAll
  static void start() {
    EmbeddedMariaDb db = EmbeddedMariaDb.shared();
    String backend = ", backendUser: app, backendPassword: " + EmbeddedMariaDb.APP_PASSWORD;
    proxy =
        ProxyHarness.start(
            db.host(),
            db.port(),
            "127.0.0.1",
            "  - {name: rsa, password: rsa-secret"
                + backend
                + "}\n"
                + "  - {name: rotated, password: before"
                + backend
                + "}\n"
                + "  - {name: changer, password: changer-secret"
                + backend
                + "}\n"
                + "  - {name: legacy, password: legacy-secret, authPlugin: mysql_native_password"
                + backend
                + "}\n",
            "frontend: {defaultAuthPlugin: caching_sha2_password}\n");
  }

  @AfterAll
  static void stop() {
    if (proxy != null) {
      proxy.close();
    }
  }

  private static Connection connect(String user, String password, boolean keyRetrieval)
      throws SQLException {
    return DriverManager.getConnection(
        "jdbc:mysql://127.0.0.1:"
            + proxy.port()
            + "/app?sslMode=DISABLED&defaultAuthenticationPlugin=caching_sha2_password"
            + "&allowPublicKeyRetrieval="
            + keyRetrieval,
        user,
        password);
  }

  private static String one(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  private static double logins(String path) {
    return Metrics.value(
        proxy, "mysqlpool_frontend_logins_total", "path=\"" + path + "\"", "tls=\"false\"");
  }

  @Test
  void theFirstLoginIsAFullAuthenticationOverRsaTheNextOnesTakeTheFastPath() throws Exception {
    assertThatThrownBy(() -> connect("rsa", "rsa-secret", false).close())
        .as("not cached yet: the proxy asks for the password, which needs its public key")
        .hasMessageContaining("Public Key Retrieval is not allowed");

    double fullRsa = logins("full_rsa");
    try (Connection c = connect("rsa", "rsa-secret", true)) {
      assertThat(one(c, "SELECT 'rsa'")).isEqualTo("rsa");
    }
    assertThat(logins("full_rsa")).isEqualTo(fullRsa + 1);

    double fast = logins("fast");
    try (Connection c = connect("rsa", "rsa-secret", false)) {
      assertThat(one(c, "SELECT 'fast'")).as("no key needed: the fast path").isEqualTo("fast");
    }
    assertThat(logins("fast")).isEqualTo(fast + 1);

    assertThatThrownBy(() -> connect("rsa", "wrong", true).close())
        .isInstanceOfSatisfying(
            SQLException.class, e -> assertThat(e.getErrorCode()).isEqualTo(1045));
    assertThatThrownBy(() -> connect("nobody", "rsa-secret", true).close())
        .as("an unknown user goes the same way")
        .isInstanceOfSatisfying(
            SQLException.class, e -> assertThat(e.getErrorCode()).isEqualTo(1045));
  }

  @Test
  void aRotatedPasswordNeedsAFullAuthenticationAgainAndTheOldOneNeverPasses() throws Exception {
    try (Connection c = connect("rotated", "before", true)) {
      assertThat(one(c, "SELECT 1")).isEqualTo("1");
    }
    List<User> users = new ArrayList<>();
    for (User u : proxy.server.config().users()) {
      users.add(
          u.name().equals("rotated")
              ? new User(
                  "rotated", "after", u.backend(), u.backendUser(), u.backendPassword(), null)
              : u);
    }
    proxy.server.apply(proxy.server.config().withUsers(users));

    assertThatThrownBy(() -> connect("rotated", "before", false).close())
        .as("the old password's cache entry does not open the fast path")
        .isInstanceOf(SQLException.class);
    assertThatThrownBy(() -> connect("rotated", "before", true).close())
        .isInstanceOfSatisfying(
            SQLException.class, e -> assertThat(e.getErrorCode()).isEqualTo(1045));
    assertThatThrownBy(() -> connect("rotated", "after", false).close())
        .as("the new password is not cached yet")
        .hasMessageContaining("Public Key Retrieval is not allowed");
    try (Connection c = connect("rotated", "after", true)) {
      assertThat(one(c, "SELECT 'after'")).isEqualTo("after");
    }
  }

  @Test
  void aNativeOnlyClientLogsInToAnAccountOnMysqlNativePassword() throws Exception {
    try (RawClient c = RawClient.login(proxy.port(), "legacy", "legacy-secret")) {
      assertThat(c.greeting.authPlugin())
          .as("the greeting offers frontend.defaultAuthPlugin")
          .isEqualTo("caching_sha2_password");
      assertThat(c.query("SELECT 'native'").value(0, 0)).isEqualTo("native");
    }
    try (Connection c =
        DriverManager.getConnection(
            "jdbc:mariadb://127.0.0.1:" + proxy.port() + "/app", "legacy", "legacy-secret")) {
      assertThat(one(c, "SELECT 'mariadb'")).isEqualTo("mariadb");
    }
  }

  @Test
  void comChangeUserToACachingSha2AccountRunsTheFullAuthenticationToo() throws Exception {
    try (Connection c = connect("legacy", "legacy-secret", true)) {
      ((JdbcConnection) c).changeUser("changer", "changer-secret");
      assertThat(one(c, "SELECT 'changed'")).isEqualTo("changed");
      ((JdbcConnection) c).changeUser("legacy", "legacy-secret");
      assertThat(one(c, "SELECT 'back'")).isEqualTo("back");
    }
    double fast = logins("fast");
    try (Connection c = connect("changer", "changer-secret", false)) {
      assertThat(one(c, "SELECT 'cached'")).isEqualTo("cached");
    }
    assertThat(logins("fast"))
        .as("the full authentication of COM_CHANGE_USER cached the account")
        .isEqualTo(fast + 1);
  }
}
