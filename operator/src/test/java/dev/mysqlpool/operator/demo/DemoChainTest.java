package dev.mysqlpool.operator.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mysqlpool.operator.common.Names;
import dev.mysqlpool.proxy.ProxyServer;
import dev.mysqlpool.proxy.config.ConfigLoader;
import dev.mysqlpool.proxy.config.ProxyConfig;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo's chain, as a test: the demo MySQLPool rendered by the operator, its proxy.yaml and
 * password laid out as the pod mounts them, the proxy started on that file, and a real client
 * (MariaDB Connector/J) querying the embedded MariaDB through it. Only the listen and admin
 * addresses differ from the demo: 127.0.0.1 and free ports, so the test never collides with a
 * running demo.
 */
class DemoChainTest {
  @TempDir Path dir;

  @Test
  void theDemoPoolRendersAndItsProxyServesAClient() throws Exception {
    EmbeddedMariaDb db = EmbeddedMariaDb.shared();
    String text;
    try (InputStream in = getClass().getClassLoader().getResourceAsStream("demo/mysqlpool.yaml")) {
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    Demo.Rendered r = Demo.render(text, db, dir);

    assertThat(r.objects().stream().map(o -> o.getKind()))
        .containsExactly(
            "ServiceAccount",
            "ConfigMap",
            "Service",
            "Deployment",
            "PodDisruptionBudget",
            "Secret");
    assertThat(Files.readString(r.manifests()))
        .contains("kind: Deployment", "name: demo-connection");
    assertThat(r.configFile()).endsWith(Path.of("etc", "mysqlpool", Names.CONFIG_FILE));
    assertThat(Files.readString(r.configFile().resolveSibling("users/app")))
        .isEqualTo(EmbeddedMariaDb.APP_PASSWORD);

    ProxyConfig rendered = ConfigLoader.load(r.configFile());
    assertThat(rendered.backends().get(0).port()).isEqualTo(db.port());
    assertThat(rendered.pool().maxConnections())
        .as("200 TPS x 40ms = 8, x2 = 16, over 2 replicas")
        .isEqualTo(8);
    ProxyConfig local =
        new ProxyConfig(
            new ProxyConfig.Listen("127.0.0.1", EmbeddedMariaDb.freePort()),
            new ProxyConfig.Admin("127.0.0.1", EmbeddedMariaDb.freePort()),
            rendered.backends(),
            rendered.users(),
            rendered.pool(),
            rendered.frontend(),
            rendered.shutdown());
    ProxyServer server = ProxyServer.start(local);
    try (Connection c =
            DriverManager.getConnection(
                EmbeddedMariaDb.jdbcUrl("127.0.0.1", local.listen().port(), "app"),
                "app",
                EmbeddedMariaDb.APP_PASSWORD);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT CURRENT_USER(), 6 * 7")) {
      rs.next();
      assertThat(rs.getString(1)).startsWith("app@");
      assertThat(rs.getInt(2)).isEqualTo(42);
    } finally {
      server.shutdown();
    }
    assertThat(Demo.banner(r, db))
        .contains(
            "required 8 = ceil(200 TPS x 40ms)",
            "Deployment demo/demo",
            "Secret demo/demo-connection",
            "-P6033 -uapp");
  }
}
