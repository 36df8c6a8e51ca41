package dev.mysqlpool.proxy.it;

import dev.mysqlpool.proxy.ProxyServer;
import dev.mysqlpool.proxy.config.ConfigLoader;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

/**
 * A proxy started in the test JVM on free ports in front of a server, with the app user configured.
 * Extra YAML sections (pool:, frontend:, shutdown:) are appended verbatim, so each test states the
 * rules it exercises.
 */
final class ProxyHarness implements AutoCloseable {
  final ProxyServer server;

  private ProxyHarness(ProxyServer server) {
    this.server = server;
  }

  static ProxyHarness start(String host, int port, String extraYaml) {
    return start(host, port, "127.0.0.1", "", extraYaml);
  }

  /**
   * @param listenHost a loopback address to listen on (127.0.0.2 for clients that treat 127.0.0.1
   *     as local and skip checks there)
   * @param extraUsers more items of the users list, each a line " - {name: ..., ...}\n"
   */
  static ProxyHarness start(
      String host, int port, String listenHost, String extraUsers, String extraYaml) {
    return start(host, port, listenHost, "", extraUsers, extraYaml);
  }

  /**
   * @param adminFields more fields of the admin section, each ", name: value"
   */
  static ProxyHarness start(
      String host,
      int port,
      String listenHost,
      String adminFields,
      String extraUsers,
      String extraYaml) {
    String yaml =
        "listen: {host: "
            + listenHost
            + ", port: 0}\n"
            + "admin: {host: 127.0.0.1, port: 0"
            + adminFields
            + "}\n"
            + "backends:\n  - {name: primary, host: "
            + host
            + ", port: "
            + port
            + "}\n"
            + "users:\n  - {name: "
            + EmbeddedMariaDb.APP_USER
            + ", password: "
            + EmbeddedMariaDb.APP_PASSWORD
            + "}\n"
            + extraUsers
            + extraYaml;
    return fromYaml(yaml);
  }

  /** A proxy on the whole config {@code yaml}: e.g. a writer and its readers. */
  static ProxyHarness fromYaml(String yaml) {
    try {
      return new ProxyHarness(ProxyServer.start(ConfigLoader.parse(yaml, null)));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static ProxyHarness start(EmbeddedMariaDb db, String extraYaml) {
    return start(db.host(), db.port(), extraYaml);
  }

  int port() {
    return server.listenPort();
  }

  String adminUrl(String path) {
    return "http://127.0.0.1:" + server.adminPort() + path;
  }

  /** MySQL Connector/J URL through the proxy. */
  String mysqlUrl(String params) {
    return "jdbc:mysql://127.0.0.1:"
        + port()
        + "/"
        + EmbeddedMariaDb.APP_DATABASE
        + "?sslMode=DISABLED&allowPublicKeyRetrieval=true"
        + (params.isEmpty() ? "" : "&" + params);
  }

  /** MariaDB Connector/J URL through the proxy. */
  String mariadbUrl(String params) {
    return "jdbc:mariadb://127.0.0.1:"
        + port()
        + "/"
        + EmbeddedMariaDb.APP_DATABASE
        + (params.isEmpty() ? "" : "?" + params);
  }

  Connection mysql(String params) throws SQLException {
    return DriverManager.getConnection(
        mysqlUrl(params), EmbeddedMariaDb.APP_USER, EmbeddedMariaDb.APP_PASSWORD);
  }

  Connection mariadb(String params) throws SQLException {
    return DriverManager.getConnection(
        mariadbUrl(params), EmbeddedMariaDb.APP_USER, EmbeddedMariaDb.APP_PASSWORD);
  }

  @Override
  public void close() {
    server.close();
  }
}
