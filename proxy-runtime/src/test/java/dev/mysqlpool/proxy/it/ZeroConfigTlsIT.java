package dev.mysqlpool.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mysqlpool.proxy.testsupport.CliResult;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A proxy started without certificate files (TLS on by default, a self-signed certificate) is
 * verified by MariaDB's clients with their default options, through the password-based proof of
 * MDEV-31855, and a man in the middle is not.
 *
 * <p>The proxy listens on 127.0.0.2 and the interceptor on 127.0.0.3: Connector/C skips the check
 * on 127.0.0.1 (a "local" connection), so a test there would pass without any proof. The CLI gets
 * the password on its command line: it turns verification off for a login it believes passwordless,
 * and a password from {@code MYSQL_PWD} reaches it only after that decision.
 */
@ExtendWith(LeakGuard.class)
class ZeroConfigTlsIT {
  private static final String HOST = "127.0.0.2";
  private static final String ATTACKER = "127.0.0.3";
  private static final String PASSWORD = EmbeddedMariaDb.APP_PASSWORD;

  private static EmbeddedMariaDb db;
  private static ProxyHarness proxy;
  private static TlsInterceptor interceptor;

  @BeforeAll
  static void start() {
    db = EmbeddedMariaDb.shared();
    proxy = ProxyHarness.start(db.host(), db.port(), HOST, "", "");
    interceptor = TlsInterceptor.start(ATTACKER, HOST, proxy.port());
  }

  @AfterAll
  static void stop() {
    if (interceptor != null) {
      interceptor.close();
    }
    if (proxy != null) {
      proxy.close();
    }
  }

  private static CliResult cli(String host, int port, String password, String... extra) {
    String[] args = new String[extra.length + 1];
    args[0] = "--password=" + password;
    System.arraycopy(extra, 0, args, 1, extra.length);
    return db.runCliWithTlsDefaults(
        host,
        port,
        EmbeddedMariaDb.APP_USER,
        password,
        EmbeddedMariaDb.APP_DATABASE,
        "SELECT CONCAT('through ', 'the proxy')",
        args);
  }

  @Test
  void theMariaDbCliVerifiesTheSelfSignedCertificateByThePasswordWithItsDefaultOptions()
      throws Exception {
    double before = Metrics.value(proxy, "mysqlpool_frontend_logins_total", "tls=\"true\"");
    CliResult r = cli(HOST, proxy.port(), PASSWORD);
    assertThat(r.exitCode()).withFailMessage("the CLI refused the proxy: %s", r.stderr()).isZero();
    assertThat(r.stderr()).as("no warning that verification was turned off").isEmpty();
    assertThat(r.stdout()).contains("through the proxy");
    assertThat(Metrics.value(proxy, "mysqlpool_frontend_logins_total", "tls=\"true\""))
        .as("the login went over TLS")
        .isEqualTo(before + 1);
  }

  @Test
  void aWrongPasswordIsStill1045AndNeverATlsError() {
    CliResult r = cli(HOST, proxy.port(), "not-the-password");
    assertThat(r.exitCode()).isNotZero();
    assertThat(r.stderr())
        .contains("ERROR 1045 (28000): Access denied for user 'app'@")
        .doesNotContainIgnoringCase("certificate")
        .doesNotContainIgnoringCase("SSL")
        .doesNotContainIgnoringCase("TLS");
  }

  @Test
  void aManInTheMiddleWithItsOwnCertificateIsRefusedByTheCliWithItsDefaultOptions() {
    CliResult refused = cli(ATTACKER, interceptor.port(), PASSWORD);
    assertThat(refused.exitCode()).isNotZero();
    assertThat(refused.stderr()).contains("The certificate is NOT trusted");
    CliResult unverified =
        cli(ATTACKER, interceptor.port(), PASSWORD, "--skip-ssl-verify-server-cert");
    assertThat(unverified.exitCode())
        .withFailMessage(
            "control: without verification the interceptor relays the session (%s), so only the"
                + " proof stopped the one above",
            unverified.stderr())
        .isZero();
    assertThat(unverified.stdout()).contains("through the proxy");
  }

  @Test
  void mariadbConnectorJVerifyFullTrustsTheProxyByThePasswordAndRefusesTheManInTheMiddle()
      throws SQLException {
    try (Connection c = mariadb(HOST, proxy.port());
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT 'verified'")) {
      rs.next();
      assertThat(rs.getString(1)).isEqualTo("verified");
    }
    assertThatThrownBy(() -> mariadb(ATTACKER, interceptor.port()).close())
        .isInstanceOf(SQLException.class)
        .hasMessageContaining("Self signed certificates");
  }

  private static Connection mariadb(String host, int port) throws SQLException {
    return DriverManager.getConnection(
        "jdbc:mariadb://" + host + ":" + port + "/app?sslMode=verify-full&connectTimeout=10000",
        EmbeddedMariaDb.APP_USER,
        PASSWORD);
  }
}
