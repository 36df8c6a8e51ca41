package dev.mysqlpool.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.mysqlpool.proxy.testsupport.CliResult;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import dev.mysqlpool.proxy.testsupport.TestPki;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real clients through a proxy with {@code frontend.tls.mode: required} and a certificate from a CA
 * the test makes: each verifies the proxy against that CA (and refuses it against another),
 * caching_sha2_password runs its full and fast paths over TLS, a client without TLS gets MySQL's
 * own error 3159, and a renewed certificate is picked up without dropping a live session.
 */
@ExtendWith(LeakGuard.class)
class ClientTlsIT {
  private static final String SHA2_USER = "sha2tls";
  private static final String SHA2_PASSWORD = "sha2-over-tls";

  @TempDir static Path dir;
  private static EmbeddedMariaDb db;
  private static TestPki ca;
  private static Path caPem;
  private static Path trustStore;
  private static Path otherCaPem;
  private static Path otherTrustStore;
  private static ProxyHarness proxy;

  @BeforeAll
  static void start() {
    db = EmbeddedMariaDb.shared();
    ca = TestPki.authority("mysqlpool test CA");
    ca.issueServer("proxy").writeTo(dir);
    caPem = ca.writeCaPem(dir.resolve("ca.pem"));
    trustStore = ca.writeTrustStore(dir.resolve("ca.p12"));
    TestPki other = TestPki.authority("someone else's CA");
    otherCaPem = other.writeCaPem(dir.resolve("other-ca.pem"));
    otherTrustStore = other.writeTrustStore(dir.resolve("other-ca.p12"));
    proxy =
        ProxyHarness.start(
            db.host(),
            db.port(),
            "127.0.0.1",
            "  - {name: "
                + SHA2_USER
                + ", password: "
                + SHA2_PASSWORD
                + ", backendUser: app, backendPassword: app-secret,"
                + " authPlugin: caching_sha2_password}\n",
            tlsYaml(dir));
  }

  @AfterAll
  static void stop() {
    if (proxy != null) {
      proxy.close();
    }
  }

  private static String tlsYaml(Path certDir) {
    return "frontend:\n  tls:\n    mode: required\n    certFile: "
        + certDir.resolve("tls.crt")
        + "\n    keyFile: "
        + certDir.resolve("tls.key")
        + "\n    reloadInterval: 200ms\n";
  }

  /** MySQL Connector/J verifying the proxy against the CA in {@code store}. */
  private static String verifyCaUrl(int port, Path store, String params) {
    return "jdbc:mysql://127.0.0.1:"
        + port
        + "/app?sslMode=VERIFY_CA&trustCertificateKeyStoreUrl=file:"
        + store
        + "&trustCertificateKeyStoreType=PKCS12&trustCertificateKeyStorePassword="
        + TestPki.STORE_PASSWORD
        + "&connectTimeout=10000"
        + (params.isEmpty() ? "" : "&" + params);
  }

  private static String one(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  @Test
  void mysqlConnectorJVerifyCaTrustsTheProxysCaOnly() throws SQLException {
    try (Connection c =
        DriverManager.getConnection(
            verifyCaUrl(proxy.port(), trustStore, ""),
            EmbeddedMariaDb.APP_USER,
            EmbeddedMariaDb.APP_PASSWORD)) {
      assertThat(one(c, "SELECT 'verified by CA'")).isEqualTo("verified by CA");
    }
    assertThatThrownBy(
            () ->
                DriverManager.getConnection(
                        verifyCaUrl(proxy.port(), otherTrustStore, ""),
                        EmbeddedMariaDb.APP_USER,
                        EmbeddedMariaDb.APP_PASSWORD)
                    .close())
        .as("a trust store without the proxy's CA")
        .isInstanceOf(SQLException.class)
        .hasStackTraceContaining("does not chain with any of the trust anchors");
  }

  @Test
  void mariadbConnectorJVerifyFullChecksTheCaAndTheHostName() throws SQLException {
    String url = "jdbc:mariadb://127.0.0.1:" + proxy.port() + "/app?sslMode=verify-full";
    try (Connection c =
        DriverManager.getConnection(
            url + "&serverSslCert=" + caPem,
            EmbeddedMariaDb.APP_USER,
            EmbeddedMariaDb.APP_PASSWORD)) {
      assertThat(one(c, "SELECT 'verify-full'")).isEqualTo("verify-full");
    }
    assertThatThrownBy(
            () ->
                DriverManager.getConnection(
                        url + "&serverSslCert=" + otherCaPem,
                        EmbeddedMariaDb.APP_USER,
                        EmbeddedMariaDb.APP_PASSWORD)
                    .close())
        .isInstanceOf(SQLException.class)
        .hasStackTraceContaining("PKIX path");
  }

  @Test
  void hikariPoolRunsConcurrentWorkOverTls() throws Exception {
    HikariConfig cfg = new HikariConfig();
    cfg.setJdbcUrl(verifyCaUrl(proxy.port(), trustStore, ""));
    cfg.setUsername(EmbeddedMariaDb.APP_USER);
    cfg.setPassword(EmbeddedMariaDb.APP_PASSWORD);
    cfg.setMaximumPoolSize(4);
    cfg.setConnectionTimeout(10_000);
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try (HikariDataSource ds = new HikariDataSource(cfg)) {
      List<Future<Integer>> sums = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int base = t * 1000;
        sums.add(
            pool.submit(
                () -> {
                  int sum = 0;
                  for (int i = 0; i < 25; i++) {
                    try (Connection c = ds.getConnection()) {
                      sum += Integer.parseInt(one(c, "SELECT " + (base + i)));
                    }
                  }
                  return sum;
                }));
      }
      for (int t = 0; t < 8; t++) {
        assertThat(sums.get(t).get(60, TimeUnit.SECONDS))
            .as("thread %d read back its own values", t)
            .isEqualTo(25 * t * 1000 + 300);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void theMariaDbCliConnectsWithItsDefaultOptionsAndVerifiesAgainstTheCaWhenGivenOne() {
    String sql = "SELECT CONCAT('cli ', 'over tls')";
    String pw = "--password=" + EmbeddedMariaDb.APP_PASSWORD;
    CliResult defaults =
        db.runCliWithTlsDefaults(
            "127.0.0.1",
            proxy.port(),
            EmbeddedMariaDb.APP_USER,
            EmbeddedMariaDb.APP_PASSWORD,
            "app",
            sql,
            pw);
    assertThat(defaults.requireSuccess().stdout()).contains("cli over tls");
    CliResult withCa =
        db.runCliWithTlsDefaults(
            "127.0.0.1",
            proxy.port(),
            EmbeddedMariaDb.APP_USER,
            EmbeddedMariaDb.APP_PASSWORD,
            "app",
            sql,
            pw,
            "--ssl-ca=" + caPem);
    assertThat(withCa.requireSuccess().stdout()).contains("cli over tls");
    CliResult wrongCa =
        db.runCliWithTlsDefaults(
            "127.0.0.1",
            proxy.port(),
            EmbeddedMariaDb.APP_USER,
            EmbeddedMariaDb.APP_PASSWORD,
            "app",
            sql,
            pw,
            "--ssl-ca=" + otherCaPem);
    assertThat(wrongCa.exitCode()).isNotZero();
    assertThat(wrongCa.stderr()).contains("ERROR 2026");
  }

  @Test
  void pyMySqlVerifiesTheProxyAgainstTheCa() throws Exception {
    String version = python("import pymysql; print(pymysql.__version__)");
    assumeTrue(
        version != null,
        "PyMySQL is not installed here (Debian: apt-get install python3-pymysql); skipping");
    String out =
        python(
            "import pymysql\n"
                + "c = pymysql.connect(host='127.0.0.1', port="
                + proxy.port()
                + ", user='app', password='"
                + EmbeddedMariaDb.APP_PASSWORD
                + "', database='app', ssl={'ca': '"
                + caPem
                + "'})\n"
                + "cur = c.cursor()\n"
                + "cur.execute(\"SELECT CONCAT('pymysql ', 'over tls')\")\n"
                + "print(cur.fetchone()[0])\n"
                + "c.close()\n");
    assertThat(out).as("PyMySQL %s through the proxy", version).isEqualTo("pymysql over tls");
  }

  /** Runs a python3 script; its stdout trimmed, or null when it failed. */
  /**
   * Runs a Python script with the first interpreter that can: the one on PATH (which may be a pyenv
   * or venv Python without Debian's packages), then the system's, where python3-pymysql installs.
   * Null when none ran it.
   */
  private static String python(String script) throws Exception {
    for (String interpreter : new String[] {"python3", "/usr/bin/python3"}) {
      String out = python(interpreter, script);
      if (out != null) {
        return out;
      }
    }
    return null;
  }

  private static String python(String interpreter, String script) throws Exception {
    Process p;
    try {
      p = new ProcessBuilder(interpreter, "-c", script).redirectErrorStream(true).start();
    } catch (java.io.IOException e) {
      return null; // no such interpreter
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      if (!out.contains("No module named")) {
        System.err.println(interpreter + " failed: " + out);
      }
      return null;
    }
    return out;
  }

  @Test
  void aClientWithoutTlsGetsMysqlsOwnError3159() {
    assertThatThrownBy(
            () ->
                DriverManager.getConnection(
                        "jdbc:mysql://127.0.0.1:" + proxy.port() + "/app?sslMode=DISABLED",
                        EmbeddedMariaDb.APP_USER,
                        EmbeddedMariaDb.APP_PASSWORD)
                    .close())
        .isInstanceOfSatisfying(
            SQLException.class,
            e -> {
              assertThat(e.getErrorCode()).isEqualTo(3159);
              assertThat(e.getMessage())
                  .isEqualTo(
                      "Connections using insecure transport are prohibited while"
                          + " --require_secure_transport=ON.");
            });
    CliResult cli =
        db.runCli(
            "127.0.0.1",
            proxy.port(),
            EmbeddedMariaDb.APP_USER,
            EmbeddedMariaDb.APP_PASSWORD,
            "app",
            "SELECT 1");
    assertThat(cli.stderr())
        .contains(
            "ERROR 3159 (HY000): Connections using insecure transport are prohibited while"
                + " --require_secure_transport=ON.");
  }

  @Test
  void connectorJLogsInWithCachingSha2PasswordFullPathThenFastPathOverTls() throws SQLException {
    String url =
        verifyCaUrl(proxy.port(), trustStore, "defaultAuthenticationPlugin=caching_sha2_password");
    double full = Metrics.value(proxy, "mysqlpool_frontend_logins_total", "path=\"full_tls\"");
    double fast = Metrics.value(proxy, "mysqlpool_frontend_logins_total", "path=\"fast\"");
    try (Connection c = DriverManager.getConnection(url, SHA2_USER, SHA2_PASSWORD)) {
      assertThat(one(c, "SELECT CURRENT_USER()")).startsWith("app@");
    }
    assertThat(Metrics.value(proxy, "mysqlpool_frontend_logins_total", "path=\"full_tls\""))
        .as("the first login proves the password in full, over TLS")
        .isEqualTo(full + 1);
    try (Connection c = DriverManager.getConnection(url, SHA2_USER, SHA2_PASSWORD)) {
      assertThat(one(c, "SELECT 'fast'")).isEqualTo("fast");
    }
    assertThat(Metrics.value(proxy, "mysqlpool_frontend_logins_total", "path=\"fast\""))
        .as("the next one takes the fast path")
        .isEqualTo(fast + 1);
    assertThatThrownBy(() -> DriverManager.getConnection(url, SHA2_USER, "wrong").close())
        .isInstanceOfSatisfying(
            SQLException.class, e -> assertThat(e.getErrorCode()).isEqualTo(1045));
  }

  @Test
  void aRenewedCertificateIsUsedByNewConnectionsWhileALiveSessionKeepsRunning(
      @TempDir Path rotating) throws SQLException {
    TestPki renewedCa = TestPki.authority("renewing CA");
    Path renewedStore = renewedCa.writeTrustStore(rotating.resolve("renewed.p12"));
    ca.issueServer("before rotation").writeTo(rotating);
    try (ProxyHarness p =
            ProxyHarness.start(db.host(), db.port(), "127.0.0.1", "", tlsYaml(rotating));
        Connection live =
            DriverManager.getConnection(
                verifyCaUrl(p.port(), trustStore, ""),
                EmbeddedMariaDb.APP_USER,
                EmbeddedMariaDb.APP_PASSWORD)) {
      assertThat(one(live, "SELECT 'before'")).isEqualTo("before");
      var old = p.server.tls().certificate();

      renewedCa.issueServer("after rotation").writeTo(rotating);
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThat(p.server.tls().certificate())
                      .as("the proxy reloads the files")
                      .isNotEqualTo(old));

      try (Connection fresh =
          DriverManager.getConnection(
              verifyCaUrl(p.port(), renewedStore, ""),
              EmbeddedMariaDb.APP_USER,
              EmbeddedMariaDb.APP_PASSWORD)) {
        assertThat(one(fresh, "SELECT 'new certificate'")).isEqualTo("new certificate");
      }
      assertThatThrownBy(
              () ->
                  DriverManager.getConnection(
                          verifyCaUrl(p.port(), trustStore, ""),
                          EmbeddedMariaDb.APP_USER,
                          EmbeddedMariaDb.APP_PASSWORD)
                      .close())
          .as("new connections no longer get the old certificate")
          .isInstanceOf(SQLException.class);
      assertThat(one(live, "SELECT 'still here'"))
          .as("the session opened before the rotation is not dropped")
          .isEqualTo("still here");
    }
  }
}
