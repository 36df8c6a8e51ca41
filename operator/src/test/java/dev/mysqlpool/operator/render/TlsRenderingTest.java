package dev.mysqlpool.operator.render;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mysqlpool.operator.api.BackendTlsSpec;
import dev.mysqlpool.operator.api.FrontendTlsSpec;
import dev.mysqlpool.operator.api.MySQLPool;
import dev.mysqlpool.operator.api.MySQLPoolSpec;
import dev.mysqlpool.operator.common.Names;
import dev.mysqlpool.operator.testing.Fixtures;
import dev.mysqlpool.operator.validation.MySQLPoolValidator;
import dev.mysqlpool.proxy.config.ConfigLoader;
import dev.mysqlpool.proxy.config.ProxyConfig;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeProjection;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * spec.tls and spec.backend.tls as the proxy sees them: the pod's volume is laid out in a temp dir
 * exactly as the Deployment projects it, and the proxy's own parser must find every file the
 * rendered proxy.yaml names there (a path that is not mounted would make the proxy refuse to
 * start).
 */
class TlsRenderingTest {
  @TempDir Path dir;

  @SafeVarargs
  private static MySQLPool pool(Consumer<MySQLPoolSpec>... mutators) {
    MySQLPool pool = Fixtures.pool(mutators);
    assertThat(MySQLPoolValidator.validate(pool)).isEmpty();
    return pool;
  }

  /** The proxy's reading of the rendered config, with the files the pod would have mounted. */
  private ProxyConfig mountedAndParsed(MySQLPool pool) throws IOException {
    Plan plan = Plan.of(pool, RenderSettings.defaults());
    Deployment d = Deployments.deployment(plan);
    VolumeMount mount =
        d.getSpec().getTemplate().getSpec().getContainers().get(0).getVolumeMounts().stream()
            .filter(m -> m.getMountPath().equals(Names.CONFIG_DIR))
            .findFirst()
            .orElseThrow();
    Volume volume =
        d.getSpec().getTemplate().getSpec().getVolumes().stream()
            .filter(v -> v.getName().equals(mount.getName()))
            .findFirst()
            .orElseThrow();
    for (String path : projectedPaths(volume)) {
      Path file = dir.resolve(path);
      Files.createDirectories(file.getParent());
      Files.writeString(file, "mounted " + path + "\n");
    }
    return ConfigLoader.parse(ProxyConfigs.yaml(plan), dir);
  }

  private static List<String> projectedPaths(Volume v) {
    List<String> paths = new ArrayList<>();
    for (VolumeProjection s : v.getProjected().getSources()) {
      List<KeyToPath> items =
          s.getSecret() != null ? s.getSecret().getItems() : s.getConfigMap().getItems();
      items.forEach(i -> paths.add(i.getPath()));
    }
    return paths;
  }

  private static List<VolumeProjection> sources(MySQLPool pool) {
    Deployment d = Deployments.deployment(Plan.of(pool, RenderSettings.defaults()));
    return d.getSpec().getTemplate().getSpec().getVolumes().get(0).getProjected().getSources();
  }

  @Test
  void aCertManagerSecretIsMountedWhereTheProxyReadsItsCertificate() throws IOException {
    ProxyConfig c =
        mountedAndParsed(
            pool(
                s -> {
                  s.tls = new FrontendTlsSpec();
                  s.tls.mode = "required";
                  s.tls.secretName = "orders-pool-tls";
                }));
    assertThat(c.frontend().tls().mode()).isEqualTo(ProxyConfig.TlsMode.REQUIRED);
    assertThat(c.frontend().tls().certFile()).isEqualTo(dir.resolve("tls/tls.crt").toString());
    assertThat(c.frontend().tls().keyFile()).isEqualTo(dir.resolve("tls/tls.key").toString());
    assertThat(Files.readString(Path.of(c.frontend().tls().certFile())))
        .as("the proxy's certFile is the Secret's tls.crt item")
        .isEqualTo("mounted tls/tls.crt\n");
  }

  @Test
  void withoutASecretTheModeAloneIsRenderedAndTheProxyMakesItsOwnCertificate() throws IOException {
    ProxyConfig c =
        mountedAndParsed(
            pool(
                s -> {
                  s.tls = new FrontendTlsSpec();
                  s.tls.mode = "required";
                }));
    assertThat(c.frontend().tls().mode()).isEqualTo(ProxyConfig.TlsMode.REQUIRED);
    assertThat(c.frontend().tls().selfSigned()).isTrue();
    assertThat(mountedAndParsed(pool()).frontend().tls())
        .as("no spec.tls: the proxy's default, optional and self-signed")
        .isEqualTo(ProxyConfig.Tls.DEFAULT);
  }

  @Test
  void aCaBundleFromAConfigMapIsTheBackendsCaFile() throws IOException {
    ProxyConfig c =
        mountedAndParsed(
            pool(
                s -> {
                  s.backend.tls = new BackendTlsSpec();
                  s.backend.tls.mode = "verify-identity";
                  s.backend.tls.ca = new BackendTlsSpec.CaSource();
                  s.backend.tls.ca.configMapName = "rds-ca";
                  s.backend.tls.ca.key = "global-bundle.pem";
                }));
    ProxyConfig.BackendTls tls = c.backends().get(0).tls();
    assertThat(tls.mode()).isEqualTo(ProxyConfig.BackendTlsMode.VERIFY_IDENTITY);
    assertThat(Files.readString(Path.of(tls.caFile())))
        .isEqualTo("mounted backend-ca/global-bundle.pem\n");
  }

  @Test
  void aCaBundleFromASecretUsesCertManagersKeyByDefault() throws IOException {
    MySQLPool pool =
        pool(
            s -> {
              s.backend.tls = new BackendTlsSpec();
              s.backend.tls.mode = "verify-ca";
              s.backend.tls.ca = new BackendTlsSpec.CaSource();
              s.backend.tls.ca.secretName = "db-ca";
            });
    VolumeProjection ca = sources(pool).get(sources(pool).size() - 1);
    assertThat(ca.getSecret().getName()).isEqualTo("db-ca");
    assertThat(ca.getSecret().getItems())
        .containsExactly(new KeyToPath("ca.crt", null, "backend-ca/ca.crt"));
    assertThat(mountedAndParsed(pool).backends().get(0).tls().mode())
        .isEqualTo(ProxyConfig.BackendTlsMode.VERIFY_CA);
  }

  @Test
  void aBackendModeWithoutCaRendersAndTheProxyAcceptsIt() throws IOException {
    ProxyConfig c =
        mountedAndParsed(
            pool(
                s -> {
                  s.backend.tls = new BackendTlsSpec();
                  s.backend.tls.mode = "required";
                }));
    assertThat(c.backends().get(0).tls().mode()).isEqualTo(ProxyConfig.BackendTlsMode.REQUIRED);
    assertThat(c.backends().get(0).tls().caFile()).isNull();
    assertThat(mountedAndParsed(pool()).backends().get(0).tls())
        .as("no spec.backend.tls: the proxy's default, preferred")
        .isEqualTo(ProxyConfig.BackendTls.DEFAULT);
  }

  @Test
  void turningTlsOnRollsThePodsOnceBecauseTheProxyReadsTheModeAtStart() {
    assertThat(configHash(pool(s -> s.tls = new FrontendTlsSpec())))
        .isNotEqualTo(configHash(pool()));
  }

  private static String configHash(MySQLPool pool) {
    return Deployments.deployment(Plan.of(pool, RenderSettings.defaults()))
        .getSpec()
        .getTemplate()
        .getMetadata()
        .getAnnotations()
        .get(Names.CONFIG_HASH_ANNOTATION);
  }
}
