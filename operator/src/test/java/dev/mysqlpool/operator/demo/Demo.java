package dev.mysqlpool.operator.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.mysqlpool.operator.RenderCommandAccess;
import dev.mysqlpool.operator.api.MySQLPool;
import dev.mysqlpool.operator.common.Names;
import dev.mysqlpool.operator.render.Admission;
import dev.mysqlpool.operator.render.ConnectionSecrets;
import dev.mysqlpool.operator.render.KubectlYaml;
import dev.mysqlpool.operator.render.Manifests;
import dev.mysqlpool.operator.render.Plan;
import dev.mysqlpool.operator.render.RenderSettings;
import dev.mysqlpool.proxy.ProxyServer;
import dev.mysqlpool.proxy.config.ConfigLoader;
import dev.mysqlpool.proxy.config.ProxyConfig;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * The demo, from a MySQLPool to a running proxy: {@code ./mvnw -Pdemo -pl operator -am verify}.
 *
 * <p>It starts an embedded MariaDB 11.4 (data kept in {@code operator/target/demo-mariadb}), reads
 * the demo MySQLPool and its Secret ({@code src/test/resources/demo/mysqlpool.yaml}), points the
 * pool at that server, renders every object a cluster would get through the operator's own renderer
 * (written to {@code target/demo/manifests.yaml}), then lays out the files the proxy pod would see
 * under {@code /etc/mysqlpool} (the ConfigMap's {@code proxy.yaml}, the Secret's password under
 * {@code users/}) in {@code target/demo/etc/mysqlpool} and runs the proxy with exactly that {@code
 * proxy.yaml}, until Ctrl-C. ("target" is the build folder actually used.)
 */
public final class Demo {
  private Demo() {}

  /** Runs the demo; blocks until the JVM is stopped. */
  public static void main(String[] args) throws Exception {
    // Before the first logger: proxy-runtime's test-jar brings a logback-test.xml of its own.
    System.setProperty("logback.configurationFile", "demo/logback-demo.xml");
    Path build = buildDir();
    for (int port : new int[] {Names.MYSQL_PORT, Names.ADMIN_PORT}) {
      if (!EmbeddedMariaDb.isPortFree(port)) {
        throw new IllegalStateException(
            "port "
                + port
                + " is in use (is another demo running?); the rendered proxy.yaml listens on "
                + Names.MYSQL_PORT
                + " for MySQL clients and "
                + Names.ADMIN_PORT
                + " for the admin endpoint, as in a pod");
      }
    }
    String text = resource("demo/mysqlpool.yaml");
    EmbeddedMariaDb db = EmbeddedMariaDb.startPersistent(build.resolve("demo-mariadb"), 3306);
    ProxyServer server;
    Rendered rendered;
    try {
      rendered = render(text, db, build.resolve("demo"));
      ProxyConfig config = ConfigLoader.load(rendered.configFile());
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
    System.out.println(banner(rendered, db));
    stopped.await();
  }

  /**
   * What the demo rendered.
   *
   * @param plan the pool's plan
   * @param objects every object a cluster would get, in apply order
   * @param manifests the file they were written to
   * @param configFile proxy.yaml, where the pod mounts it (relative to the demo folder)
   */
  record Rendered(Plan plan, List<HasMetadata> objects, Path manifests, Path configFile) {}

  /**
   * Renders the pool in {@code text} for the running {@code db} and lays out the pod's files under
   * {@code dir}; fails with the operator's own message when the operator would refuse the pool.
   */
  static Rendered render(String text, EmbeddedMariaDb db, Path dir) throws Exception {
    MySQLPool pool = RenderCommandAccess.read(text).get(0);
    pool.getSpec().backend.host = db.host();
    pool.getSpec().backend.port = db.port();
    pool.getSpec().backend.maxConnections = maxConnections(db);
    Admission admission = Admission.of(pool, RenderSettings.defaults(), List.of(), List.of());
    if (!admission.renders()) {
      throw new IllegalStateException(
          "the operator would refuse the demo pool: "
              + admission.blocking().type()
              + "="
              + admission.blocking().reason()
              + ": "
              + admission.blocking().message());
    }
    Plan plan = admission.plan();
    Map<String, String> passwords = secretStringData(text);
    List<HasMetadata> objects = new ArrayList<>(Manifests.all(plan));
    objects.add(ConnectionSecrets.secret(plan, passwords));
    Files.createDirectories(dir);
    Path manifests = dir.resolve("manifests.yaml");
    Files.writeString(manifests, KubectlYaml.print(objects), StandardCharsets.UTF_8);

    // The pod's projected volume: the ConfigMap's proxy.yaml next to users/<name> from the Secret.
    Path etc = Files.createDirectories(dir.resolve("etc/mysqlpool"));
    Path users = Files.createDirectories(etc.resolve(Names.PASSWORD_DIR));
    ConfigMap cm =
        objects.stream()
            .filter(ConfigMap.class::isInstance)
            .map(ConfigMap.class::cast)
            .findFirst()
            .orElseThrow();
    Path configFile = etc.resolve(Names.CONFIG_FILE);
    Files.writeString(configFile, cm.getData().get(Names.CONFIG_FILE), StandardCharsets.UTF_8);
    for (var u : plan.spec().credentials.users) {
      OwnerOnlyFiles.write(users.resolve(u.name), passwords.get(u.name));
    }
    return new Rendered(plan, objects, manifests, configFile);
  }

  /** The server's max_connections, so the demo sizes against the real limit. */
  private static int maxConnections(EmbeddedMariaDb db) throws Exception {
    try (Connection c = db.rootConnection();
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT @@max_connections")) {
      r.next();
      return r.getInt(1);
    }
  }

  /** The stringData of the Secret in the demo file: what the kubelet would mount. */
  private static Map<String, String> secretStringData(String text) throws IOException {
    Map<String, String> out = new LinkedHashMap<>();
    try (MappingIterator<JsonNode> docs =
        new YAMLMapper().readerFor(JsonNode.class).readValues(text)) {
      while (docs.hasNext()) {
        JsonNode d = docs.next();
        if (d != null && "Secret".equals(d.path("kind").asText())) {
          d.path("stringData")
              .fields()
              .forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
        }
      }
    }
    return out;
  }

  static String banner(Rendered r, EmbeddedMariaDb db) {
    Plan plan = r.plan();
    StringBuilder objects = new StringBuilder();
    for (HasMetadata o : r.objects()) {
      objects
          .append("   ")
          .append(o.getKind())
          .append(' ')
          .append(o.getMetadata().getNamespace())
          .append('/')
          .append(o.getMetadata().getName())
          .append('\n');
    }
    String user = plan.spec().credentials.users.get(0).name;
    String db0 = EmbeddedMariaDb.APP_DATABASE;
    return String.join(
        System.lineSeparator(),
        "",
        "================================================================================",
        " mysqlpool demo: MySQLPool "
            + plan.namespace()
            + "/"
            + plan.name()
            + " -> a running proxy",
        "",
        " Sizing (status.sizing and the SizingValid condition in a cluster):",
        "   " + plan.sizing().message(),
        "",
        " Objects a cluster would get (" + r.manifests().toAbsolutePath() + "):",
        objects.toString().stripTrailing(),
        "",
        " This process is one of the "
            + plan.spec().replicas
            + " proxies, run with exactly the rendered",
        "   " + r.configFile().toAbsolutePath(),
        " (pool.maxConnections "
            + plan.sizing().perReplica()
            + "; the password under users/, as the pod mounts it).",
        " Like the pod it listens on all interfaces.",
        "",
        " Connect through the proxy:",
        "   mariadb -h127.0.0.1 -P"
            + Names.MYSQL_PORT
            + " -u"
            + user
            + " -p"
            + EmbeddedMariaDb.APP_PASSWORD
            + " "
            + db0,
        " or, with nothing installed, the bundled client:",
        "   "
            + db.cliBinary()
            + " --no-defaults -h127.0.0.1 -P"
            + Names.MYSQL_PORT
            + " -u"
            + user
            + " -p"
            + EmbeddedMariaDb.APP_PASSWORD
            + " "
            + db0,
        "",
        " Admin endpoint: http://127.0.0.1:" + Names.ADMIN_PORT + "/stats, /metrics, /readyz",
        " MariaDB:        "
            + db.host()
            + ":"
            + db.port()
            + " (root, no password; data kept in "
            + r.manifests().getParent().resolveSibling("demo-mariadb")
            + ")",
        "",
        " Ctrl-C to stop.",
        "================================================================================",
        "");
  }

  private static String resource(String name) throws IOException {
    try (InputStream in = Demo.class.getClassLoader().getResourceAsStream(name)) {
      if (in == null) {
        throw new IOException("missing test resource " + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** The build folder: {@code <module>/<build dir>/test-classes/..}. */
  private static Path buildDir() throws URISyntaxException {
    return Path.of(Demo.class.getProtectionDomain().getCodeSource().getLocation().toURI())
        .getParent();
  }
}
