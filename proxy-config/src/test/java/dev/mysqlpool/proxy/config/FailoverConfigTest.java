package dev.mysqlpool.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 12: the fields that let the pool follow a writer through a failover (backend keepalive,
 * role, DNS TTL, switchover timeout), with the exact message text of every refusal.
 */
class FailoverConfigTest {
  private static final String BASE =
      "backends:\n  - {name: primary, host: db, port: 3306}\n"
          + "users:\n  - {name: app, password: s3cret}\n";

  private static List<String> problems(String yaml) {
    ConfigException e =
        catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(BASE + yaml, null));
    assertThat(e).withFailMessage("expected the config to be rejected:\n%s", yaml).isNotNull();
    return e.problems();
  }

  @Test
  void keepaliveDefaultsNoticeADeadServerInAboutAMinute() {
    ProxyConfig.Pool p = ConfigLoader.parse(BASE, null).pool();
    assertThat(p.tcpKeepAliveIdle()).isEqualTo(Duration.ofSeconds(30));
    assertThat(p.tcpKeepAliveInterval()).isEqualTo(Duration.ofSeconds(10));
    assertThat(p.tcpKeepAliveCount()).isEqualTo(3);
    assertThat(p.keepAliveWindow()).isEqualTo(Duration.ofSeconds(60));
  }

  @Test
  void keepaliveValuesAreRead() {
    ProxyConfig.Pool p =
        ConfigLoader.parse(
                BASE
                    + "pool: {tcpKeepAliveIdle: 5s, tcpKeepAliveInterval: 2s, tcpKeepAliveCount:"
                    + " 4}\n",
                null)
            .pool();
    assertThat(p.keepAliveWindow()).isEqualTo(Duration.ofSeconds(13));
  }

  @Test
  void keepaliveZeroIdleLeavesTheKernelDefaultsAndHasNoWindow() {
    ProxyConfig.Pool p = ConfigLoader.parse(BASE + "pool: {tcpKeepAliveIdle: 0}\n", null).pool();
    assertThat(p.keepAliveWindow()).isEqualTo(Duration.ZERO);
  }

  @Test
  void keepaliveValuesTheKernelCannotTakeAreRefusedNotRounded() {
    assertThat(problems("pool: {tcpKeepAliveIdle: 1500ms}\n"))
        .containsExactly(
            "pool.tcpKeepAliveIdle: 1500ms is not something the kernel can do; use 0 (the kernel's"
                + " defaults) or whole seconds from 1s to 32767s");
    assertThat(problems("pool: {tcpKeepAliveInterval: 10h}\n"))
        .containsExactly(
            "pool.tcpKeepAliveInterval: 10h is not something the kernel can do; use whole seconds"
                + " from 1s to 32767s");
    assertThat(problems("pool: {tcpKeepAliveInterval: 0}\n"))
        .containsExactly("pool.tcpKeepAliveInterval: must be greater than 0, e.g. 5s");
    assertThat(problems("pool: {tcpKeepAliveCount: 0}\n")).hasSize(1);
    assertThat(problems("pool: {tcpKeepAliveCount: 0}\n").get(0))
        .startsWith("pool.tcpKeepAliveCount: 0 is out of range");
  }

  @Test
  void writerFieldsDefaultToNoRoleCheckA5sTtlAndA30sSwitchover() {
    ProxyConfig c = ConfigLoader.parse(BASE, null);
    assertThat(c.backends().get(0).role()).isEqualTo(ProxyConfig.BackendRole.ANY);
    assertThat(c.pool().dnsTtl()).isEqualTo(Duration.ofSeconds(5));
    assertThat(c.pool().switchoverTimeout()).isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void writerFieldsAreRead() {
    ProxyConfig c =
        ConfigLoader.parse(
            "backends:\n  - {name: primary, host: db, role: writer}\n"
                + "users:\n  - {name: app, password: s3cret}\n"
                + "pool: {dnsTtl: 0, switchoverTimeout: 1m}\n",
            null);
    assertThat(c.backends().get(0).role()).isEqualTo(ProxyConfig.BackendRole.WRITER);
    assertThat(c.pool().dnsTtl()).isEqualTo(Duration.ZERO);
    assertThat(c.pool().switchoverTimeout()).isEqualTo(Duration.ofMinutes(1));
  }

  @Test
  void writerFieldsThatCannotWorkAreRefused() {
    assertThat(
            problems2(
                "backends:\n  - {name: primary, host: db, role: primary}\n"
                    + "users:\n  - {name: app, password: s3cret}\n"))
        .containsExactly(
            "backends[0].role: 'primary' is not a backend role; use writer (the pool checks the"
                + " server is writable and follows it through a failover), reader (a replica that"
                + " serves reads with routing.readWriteSplit) or any");
    assertThat(problems("pool: {dnsTtl: 2h}\n"))
        .containsExactly(
            "pool.dnsTtl: 2h would keep a failed-over writer's old address too long; use 0"
                + " (resolve for every new connection) up to 1h, a few seconds is typical");
    assertThat(problems("pool: {switchoverTimeout: 0}\n"))
        .containsExactly("pool.switchoverTimeout: must be greater than 0, e.g. 5s");
  }

  @Test
  void loadBalancerWaitIsOffUnlessSet() {
    assertThat(ConfigLoader.parse(BASE, null).shutdown().loadBalancerWait())
        .isEqualTo(Duration.ZERO);
    assertThat(
            ConfigLoader.parse(BASE + "shutdown: {loadBalancerWait: 25s}\n", null)
                .shutdown()
                .loadBalancerWait())
        .isEqualTo(Duration.ofSeconds(25));
    assertThat(problems("shutdown: {loadBalancerWait: soon}\n"))
        .containsExactly(
            "shutdown.loadBalancerWait: 'soon' is not a duration; write it like 500ms, 30s, 5m or"
                + " 1h");
  }

  private static List<String> problems2(String yaml) {
    ConfigException e =
        catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(yaml, null));
    assertThat(e).withFailMessage("expected the config to be rejected:\n%s", yaml).isNotNull();
    return e.problems();
  }
}
