package dev.mysqlpool.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mysqlpool.proxy.ProxyServer;
import dev.mysqlpool.proxy.backend.BackendPool;
import dev.mysqlpool.proxy.config.ConfigLoader;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import dev.mysqlpool.proxy.testsupport.TestPki;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 11, backend side: a real MariaDB 11.4 with a certificate from the test's own CA and {@code
 * require_secure_transport=ON}, as hardened RDS and Azure servers run. The proxy logs in over TLS
 * and checks the certificate as {@code backends[].tls} says; a login it cannot make leaves the
 * backend down in {@code /backendz} (while {@code /readyz} stays 200: the proxy still takes
 * clients) and the reason, naming the backend and what did not match, in the log.
 *
 * <p>The server's certificate names only {@code localhost}, so {@code verify-identity} passes for
 * that name and fails for {@code 127.0.0.1}, the same server.
 */
@ExtendWith(LeakGuard.class)
class BackendTlsIT {
  private static final TestPki CA = TestPki.authority("backend-tls-it-ca");
  private static final HttpClient http = HttpClient.newHttpClient();
  private static Path dir;
  private static Path caFile;
  private static EmbeddedMariaDb db;

  @BeforeAll
  static void start() throws Exception {
    dir = Files.createTempDirectory("backend-tls-it");
    caFile = CA.writeCaPem(dir.resolve("ca.pem"));
    CA.issueServer("mariadb-backend", List.of("localhost")).writeTo(dir);
    db =
        EmbeddedMariaDb.startNew(
            List.of(
                "--ssl",
                "--ssl-cert=" + dir.resolve("tls.crt"),
                "--ssl-key=" + dir.resolve("tls.key")));
    // Set once the accounts exist: from now on the server refuses every login without TLS.
    db.execute("SET GLOBAL require_secure_transport = ON");
  }

  @AfterAll
  static void stop() {
    if (db != null) {
      db.close();
    }
  }

  @Test
  void verifyCaLogsInOverTlsAndClientsQueryThroughIt() throws Exception {
    try (Proxy proxy = Proxy.start("127.0.0.1", "{mode: verify-ca, caFile: " + caFile + "}")) {
      try (Connection c = proxy.client();
          Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SHOW STATUS LIKE 'Ssl_cipher'")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(2))
            .withFailMessage("the backend session the client got must be encrypted")
            .isNotBlank();
      }
      assertThat(proxy.readyz()).isEqualTo("200 ready");
    }
  }

  @Test
  void verifyCaAgainstAnotherCaLeavesTheBackendDownAndSaysWhy() throws Exception {
    Path otherCa = TestPki.authority("not-the-backends-ca").writeCaPem(dir.resolve("other.pem"));
    try (LogCapture log = new LogCapture(BackendPool.class);
        Proxy proxy = Proxy.start("127.0.0.1", "{mode: verify-ca, caFile: " + otherCa + "}")) {
      await()
          .atMost(Duration.ofSeconds(20))
          .untilAsserted(
              () -> {
                assertThat(proxy.get("/backendz")).startsWith("503 primary down: ");
                assertThat(proxy.readyz()).isEqualTo("200 ready");
                assertThat(log.messages())
                    .anySatisfy(
                        m ->
                            assertThat(m)
                                .contains(
                                    "TLS to backend 'primary' (127.0.0.1:"
                                        + db.port()
                                        + ") failed (tls.mode verify-ca, against tls.caFile "
                                        + otherCa
                                        + "): certificate 'CN=mariadb-backend' (issued by"
                                        + " 'CN=backend-tls-it-ca', names [localhost]) is not"
                                        + " trusted by tls.caFile "
                                        + otherCa));
              });
    }
  }

  @Test
  void verifyIdentityPassesForTheNameInTheCertificateAndFailsForAnother() throws Exception {
    String tls = "{mode: verify-identity, caFile: " + caFile + "}";
    try (Proxy proxy = Proxy.start("localhost", tls)) {
      try (Connection c = proxy.client();
          Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT 1")) {
        assertThat(rs.next()).isTrue();
      }
    }
    try (LogCapture log = new LogCapture(BackendPool.class);
        Proxy proxy = Proxy.start("127.0.0.1", tls)) {
      await()
          .atMost(Duration.ofSeconds(20))
          .untilAsserted(
              () -> {
                assertThat(proxy.get("/backendz")).startsWith("503 primary down: ");
                assertThat(proxy.readyz()).isEqualTo("200 ready");
                assertThat(log.messages())
                    .anySatisfy(
                        m ->
                            assertThat(m)
                                .contains(
                                    "certificate 'CN=mariadb-backend' (issued by"
                                        + " 'CN=backend-tls-it-ca', names [localhost]) does not"
                                        + " name host '127.0.0.1' (tls.mode verify-identity)"));
              });
    }
  }

  @Test
  void disabledAgainstAServerThatRequiresTlsSaysWhichSettingFixesIt() throws Exception {
    try (LogCapture log = new LogCapture(BackendPool.class);
        Proxy proxy = Proxy.start("127.0.0.1", "{mode: disabled}")) {
      await()
          .atMost(Duration.ofSeconds(20))
          .untilAsserted(
              () -> {
                assertThat(proxy.get("/backendz")).startsWith("503 primary down: ");
                assertThat(proxy.readyz()).isEqualTo("200 ready");
                assertThat(log.messages())
                    .anySatisfy(
                        m ->
                            assertThat(m)
                                .contains("backend 'primary' (127.0.0.1:" + db.port() + ")")
                                .contains("insecure transport")
                                .endsWith(
                                    "; the server requires TLS: set backends[primary].tls.mode"
                                        + " to preferred, required, verify-ca or"
                                        + " verify-identity"));
              });
    }
  }

  @Test
  void preferredTheDefaultUsesTlsWhenTheServerOffersIt() throws Exception {
    try (Proxy proxy = Proxy.start("127.0.0.1", null)) {
      try (Connection c = proxy.client();
          Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SHOW STATUS LIKE 'Ssl_version'")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(2)).startsWith("TLSv1.");
      }
    }
  }

  /** A proxy in this JVM with one backend, {@code primary}, this test's server. */
  private record Proxy(ProxyServer server) implements AutoCloseable {
    /**
     * @param tls the backend's {@code tls:} value in flow style, or null for the default
     */
    static Proxy start(String host, String tls) throws InterruptedException {
      String yaml =
          "listen: {host: 127.0.0.1, port: 0}\n"
              + "admin: {host: 127.0.0.1, port: 0}\n"
              + "backends:\n  - {name: primary, host: "
              + host
              + ", port: "
              + db.port()
              + (tls == null ? "" : ", tls: " + tls)
              + "}\n"
              + "users:\n  - {name: "
              + EmbeddedMariaDb.APP_USER
              + ", password: "
              + EmbeddedMariaDb.APP_PASSWORD
              + "}\n"
              + "pool: {maxConnections: 2, minIdle: 1, connectTimeout: 2s, acquireTimeout: 3s}\n";
      return new Proxy(ProxyServer.start(ConfigLoader.parse(yaml, null)));
    }

    Connection client() throws Exception {
      return DriverManager.getConnection(
          "jdbc:mariadb://127.0.0.1:" + server.listenPort() + "/" + EmbeddedMariaDb.APP_DATABASE,
          EmbeddedMariaDb.APP_USER,
          EmbeddedMariaDb.APP_PASSWORD);
    }

    /** Status code and body of /readyz, e.g. {@code 200 ready}. */
    String readyz() throws Exception {
      return get("/readyz");
    }

    /** Status code and body of an admin path, e.g. {@code 503 primary down: ...}. */
    String get(String path) throws Exception {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.adminPort() + path))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      return r.statusCode() + " " + r.body().strip();
    }

    @Override
    public void close() {
      server.close();
    }
  }
}
