package dev.mysqlpool.operator.render;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mysqlpool.operator.api.BackendTlsSpec;
import dev.mysqlpool.operator.api.MySQLPool;
import dev.mysqlpool.operator.api.ReaderSpec;
import dev.mysqlpool.operator.api.RoutingSpec;
import dev.mysqlpool.operator.testing.Fixtures;
import dev.mysqlpool.operator.validation.FieldError;
import dev.mysqlpool.operator.validation.MySQLPoolValidator;
import dev.mysqlpool.proxy.config.ConfigLoader;
import dev.mysqlpool.proxy.config.ProxyConfig;
import dev.mysqlpool.proxy.config.Routing;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator's rendering read back by proxy-runtime's own parser, so the two can never drift.
 * Password files are written into a temp dir laid out like the pod's projected volume.
 */
class ProxyConfigContractTest {
  @TempDir Path dir;

  private ProxyConfig parse(MySQLPool pool) throws IOException {
    assertThat(MySQLPoolValidator.validate(pool)).isEmpty();
    Plan plan = Plan.of(pool, RenderSettings.defaults());
    Files.createDirectories(dir.resolve("users"));
    for (var u : pool.getSpec().credentials.users) {
      Files.writeString(dir.resolve("users").resolve(u.name), "pw-" + u.name + "\n");
    }
    String yaml = ProxyConfigs.yaml(plan);
    assertThat(yaml)
        .withFailMessage("passwords never enter the ConfigMap:%n%s", yaml)
        .doesNotContain("pw-");
    return ConfigLoader.parse(yaml, dir);
  }

  @Test
  void theSeedPoolReadsBackWithItsSizingAndDerivedTimeouts() throws IOException {
    ProxyConfig c = parse(Fixtures.pool());
    assertThat(c.listen()).isEqualTo(new ProxyConfig.Listen("0.0.0.0", 6033));
    assertThat(c.admin()).isEqualTo(new ProxyConfig.Admin("0.0.0.0", 9090));
    assertThat(c.backends())
        .containsExactly(
            new ProxyConfig.Backend(
                "writer",
                "orders.cluster-abc123.eu-west-1.rds.amazonaws.com",
                3306,
                ProxyConfig.BackendRole.WRITER));
    assertThat(c.users())
        .containsExactly(
            new ProxyConfig.User("app", "pw-app", "writer", "app", "pw-app"),
            new ProxyConfig.User(
                "reporting", "pw-reporting", "writer", "reporting", "pw-reporting"));
    assertThat(c.pool())
        .isEqualTo(
            new ProxyConfig.Pool(
                ProxyConfig.PoolMode.SESSION,
                50,
                0,
                50,
                Duration.ofMinutes(10),
                Duration.ofMinutes(30),
                Duration.ofSeconds(5),
                Duration.ofSeconds(5),
                Duration.ofSeconds(30),
                Duration.ZERO,
                2));
    assertThat(c.frontend())
        .isEqualTo(
            new ProxyConfig.Frontend(
                10_000, Duration.ofSeconds(320), Duration.ofSeconds(10), Duration.ofSeconds(60)));
    assertThat(c.shutdown())
        .as("behind the NLB the proxy serves 25s after SIGTERM with its health check failing")
        .isEqualTo(new ProxyConfig.Shutdown(Duration.ofSeconds(30), Duration.ofSeconds(25)));
  }

  @Test
  void everyOverrideReachesTheProxy() throws IOException {
    ProxyConfig c =
        parse(
            Fixtures.pool(
                s -> {
                  s.credentials.users.get(0).backendUser = "app_rw";
                  s.pool.maxConnections = 40;
                  s.pool.minIdle = 5;
                  s.pool.maxIdle = 20;
                  s.pool.idleTimeout = "5m";
                  s.pool.maxLifetime = "1h";
                  s.pool.connectTimeout = "2500ms";
                  s.pool.acquireTimeout = "3s";
                  s.pool.validationInterval = "15s";
                  s.pool.leakDetectionThreshold = "60s";
                  s.pool.maxConcurrentConnects = 4;
                  s.frontend.maxClientConnections = 2000;
                  s.frontend.clientIdleTimeout = "4m";
                  s.frontend.handshakeTimeout = "5s";
                  s.frontend.tcpKeepAliveIdle = "30s";
                  s.shutdown.drainTimeout = "45s";
                }));
    assertThat(c.users().get(0))
        .isEqualTo(new ProxyConfig.User("app", "pw-app", "writer", "app_rw", "pw-app"));
    assertThat(c.pool())
        .isEqualTo(
            new ProxyConfig.Pool(
                ProxyConfig.PoolMode.SESSION,
                40,
                5,
                20,
                Duration.ofMinutes(5),
                Duration.ofHours(1),
                Duration.ofMillis(2500),
                Duration.ofSeconds(3),
                Duration.ofSeconds(15),
                Duration.ofMinutes(1),
                4));
    assertThat(c.frontend())
        .isEqualTo(
            new ProxyConfig.Frontend(
                2000, Duration.ofMinutes(4), Duration.ofSeconds(5), Duration.ofSeconds(30)));
    assertThat(c.shutdown())
        .isEqualTo(new ProxyConfig.Shutdown(Duration.ofSeconds(45), Duration.ofSeconds(25)));
  }

  @Test
  void theWriterSwitchKeepaliveAndPreparedStatementOverridesReachTheProxy() throws IOException {
    ProxyConfig c =
        parse(
            Fixtures.pool(
                s -> {
                  s.pool.switchoverTimeout = "45s";
                  s.pool.dnsTtl = "0";
                  s.pool.tcpKeepAliveIdle = "20s";
                  s.pool.tcpKeepAliveInterval = "5s";
                  s.pool.tcpKeepAliveCount = 4;
                  s.pool.maxPreparedStatementsPerConnection = 0;
                }));
    assertThat(c.pool().switchoverTimeout()).isEqualTo(Duration.ofSeconds(45));
    assertThat(c.pool().dnsTtl()).as("0: resolve for every new connection").isZero();
    assertThat(c.pool().tcpKeepAliveIdle()).isEqualTo(Duration.ofSeconds(20));
    assertThat(c.pool().tcpKeepAliveInterval()).isEqualTo(Duration.ofSeconds(5));
    assertThat(c.pool().tcpKeepAliveCount()).isEqualTo(4);
    assertThat(c.pool().maxPreparedStatementsPerConnection())
        .as("0: prepared statements pin, as before sharing")
        .isZero();
    assertThat(c.backends().get(0).role()).isEqualTo(ProxyConfig.BackendRole.WRITER);
  }

  @Test
  void aDnsTtlOrKeepaliveTheProxyRefusesIsReportedAtTheSpecFieldWithTheFix() {
    Plan plan =
        Plan.of(
            Fixtures.pool(
                s -> {
                  s.pool.dnsTtl = "2h";
                  s.pool.tcpKeepAliveIdle = "1500ms";
                }),
            RenderSettings.defaults());
    assertThat(ProxyConfigs.problems(plan))
        .extracting(FieldError::path)
        .containsExactlyInAnyOrder("spec.pool.dnsTtl", "spec.pool.tcpKeepAliveIdle");
    assertThat(ProxyConfigs.problems(plan))
        .anySatisfy(
            e ->
                assertThat(e.message())
                    .contains("pool.dnsTtl: 2h would keep a failed-over writer's old address")
                    .contains("use 0 (resolve for every new connection) up to 1h"))
        .anySatisfy(
            e ->
                assertThat(e.message())
                    .contains("pool.tcpKeepAliveIdle: 1500ms is not something the kernel can do")
                    .contains("whole seconds"));
  }

  @Test
  void leftOutTheWriterSwitchFieldsKeepTheProxysDefaults() throws IOException {
    ProxyConfig c = parse(Fixtures.pool());
    assertThat(c.pool().switchoverTimeout()).isEqualTo(ProxyConfig.Pool.DEFAULT_SWITCHOVER_TIMEOUT);
    assertThat(c.pool().dnsTtl()).isEqualTo(ProxyConfig.Pool.DEFAULT_DNS_TTL);
    assertThat(c.pool().tcpKeepAliveIdle()).isEqualTo(ProxyConfig.Pool.DEFAULT_TCP_KEEPALIVE_IDLE);
    assertThat(c.pool().maxPreparedStatementsPerConnection())
        .isEqualTo(ProxyConfig.Pool.DEFAULT_MAX_PREPARED_STATEMENTS_PER_CONNECTION);
  }

  @Test
  void aTransactionModePoolReachesTheProxyWithTheSameSizing() throws IOException {
    ProxyConfig c = parse(Fixtures.pool(s -> s.pool.mode = "transaction"));
    assertThat(c.pool().mode().name())
        .as("the proxy reads pool.mode transaction")
        .isEqualTo("TRANSACTION");
    assertThat(c.pool().maxConnections())
        .as("Little's Law sizing does not depend on the mode")
        .isEqualTo(50);
  }

  @Test
  void aClampedPoolRendersTheClampedSize() throws IOException {
    ProxyConfig c = parse(Fixtures.pool(s -> s.backend.maxConnections = 100));
    // (100 - 20) / 4 pods - 1 KILL connection each: 4 x (19 + 1) = 80.
    assertThat(c.pool().maxConnections()).isEqualTo(19);
  }

  @Test
  void theBasicExampleRendersAndParses() throws IOException {
    List<MySQLPool> pools =
        dev.mysqlpool.operator.RenderCommandAccess.read(Fixtures.read("examples/basic-pool.yaml"));
    assertThat(pools).hasSize(1);
    ProxyConfig c = parse(pools.get(0));
    assertThat(c.pool().maxConnections()).isEqualTo(50);
  }

  @Test
  void aFileTheProxyWouldRefuseIsReportedAtTheSpecFieldWithTheProxysFix() {
    MySQLPool pool = Fixtures.pool(s -> s.pool.maxIdle = 50);
    assertThat(MySQLPoolValidator.validate(pool)).isEmpty();
    Plan honest = Plan.of(pool, RenderSettings.defaults());
    assertThat(ProxyConfigs.problems(honest))
        .as("the operator clamps idle limits itself")
        .isEmpty();
    // A plan that skipped the clamp, as the operator did before issue 14: the proxy's own
    // validation still stops it.
    var s = honest.sizing();
    Plan unclamped =
        new Plan(
            pool,
            new dev.mysqlpool.operator.validation.Sizing(
                s.required(),
                s.total(),
                49,
                s.pods(),
                4 * 49L,
                s.budget(),
                s.source(),
                null,
                50,
                s.valid(),
                s.usable(),
                s.reason(),
                s.message()),
            honest.timeouts(),
            honest.settings());
    assertThat(ProxyConfigs.problems(unclamped))
        .containsExactly(
            new dev.mysqlpool.operator.validation.FieldError(
                "spec.pool.maxIdle",
                "the proxy would refuse the rendered proxy.yaml: pool.maxIdle: 50 is above"
                    + " pool.maxConnections (49); idle connections are part of maxConnections, so"
                    + " lower maxIdle"));
  }

  @Test
  void proxyFieldsMapToTheSpecFieldsTheyAreRenderedFrom() {
    assertThat(ProxyConfigs.specField("pool.minIdle: 3 is above")).isEqualTo("spec.pool.minIdle");
    assertThat(ProxyConfigs.specField("frontend.handshakeTimeout: must"))
        .isEqualTo("spec.frontend.handshakeTimeout");
    assertThat(ProxyConfigs.specField("backends[0].host: required")).isEqualTo("spec.backend.host");
    assertThat(ProxyConfigs.specField("users[1].backendUser: x"))
        .isEqualTo("spec.credentials.users[1].backendUser");
    assertThat(ProxyConfigs.specField("(file): not valid YAML")).isEqualTo("spec");
    assertThat(ProxyConfigs.specField("backends[2].host: required"))
        .as("the writer is rendered first, the readers after it")
        .isEqualTo("spec.backend.readers[1].host");
    assertThat(ProxyConfigs.specField("routing.rules[3].match: 'x(' is not valid"))
        .isEqualTo("spec.routing.rules[3].match");
    assertThat(ProxyConfigs.specField("routing.readWriteSplit: needs pool.mode"))
        .isEqualTo("spec.routing.readWriteSplit");
  }

  @Test
  void aSplitPoolReachesTheProxyWithItsReadersAndRoutingRulesVerbatim() throws IOException {
    List<String> patterns =
        List.of("/\\* *mysqlpool:writer *\\*/", "(?i)^SELECT .* FROM \"audit\" # 'x': y");
    ProxyConfig c =
        parse(
            Fixtures.pool(
                s -> {
                  s.pool.mode = "transaction";
                  s.backend.port = 3307;
                  s.backend.tls = new BackendTlsSpec();
                  s.backend.tls.mode = "required";
                  s.backend.readers.add(new ReaderSpec("orders.cluster-ro-abc123.example"));
                  ReaderSpec analytics = new ReaderSpec("analytics-replica.example");
                  analytics.name = "analytics";
                  analytics.port = 3310;
                  analytics.weight = 3;
                  s.backend.readers.add(analytics);
                  s.routing = new RoutingSpec();
                  s.routing.readWriteSplit = true;
                  s.routing.maxReplicationLag = "10s";
                  s.routing.readYourWrites = "none";
                  s.routing.rules.add(new RoutingSpec.Rule(patterns.get(0), "writer"));
                  s.routing.rules.add(new RoutingSpec.Rule(patterns.get(1), "reader"));
                }));
    assertThat(c.backends())
        .extracting(
            b -> b.name() + " " + b.host() + ":" + b.port() + " " + b.role() + " w" + b.weight())
        .containsExactly(
            "writer orders.cluster-abc123.eu-west-1.rds.amazonaws.com:3307 WRITER w1",
            "reader-1 orders.cluster-ro-abc123.example:3307 READER w1",
            "analytics analytics-replica.example:3310 READER w3");
    assertThat(c.backends())
        .as("the readers are reached with the writer's TLS settings")
        .allMatch(b -> b.tls().equals(c.backends().get(0).tls()));
    assertThat(c.backends().get(0).tls().mode()).isEqualTo(ProxyConfig.BackendTlsMode.REQUIRED);
    assertThat(c.users()).allMatch(u -> u.backend().equals("writer"));
    assertThat(c.routing().readWriteSplit()).isTrue();
    assertThat(c.routing().maxReplicationLag()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.routing().readYourWrites()).isEqualTo(Routing.ReadYourWrites.NONE);
    assertThat(c.routing().rules())
        .extracting(r -> r.match().pattern() + " -> " + r.to().configName())
        .containsExactly(patterns.get(0) + " -> writer", patterns.get(1) + " -> reader");
    assertThat(c.pool().maxConnections())
        .as("every backend's pool is the Little's Law size")
        .isEqualTo(50);
  }

  @Test
  void aPoolWithoutTheSplitRendersNoRoutingAndNoReaders() throws IOException {
    ProxyConfig c = parse(Fixtures.pool());
    assertThat(c.routing()).isEqualTo(Routing.OFF);
    assertThat(c.backends()).hasSize(1);
    assertThat(ProxyConfigs.yaml(Plan.of(Fixtures.pool(), RenderSettings.defaults())))
        .doesNotContain("routing", "reader");
  }
}
