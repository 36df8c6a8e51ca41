package dev.mysqlpool.operator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.marcnuri.helm.TemplateCommand;
import dev.mysqlpool.operator.api.MySQLPool;
import dev.mysqlpool.operator.render.Manifests;
import dev.mysqlpool.operator.render.Plan;
import dev.mysqlpool.operator.render.ProxyConfigs;
import dev.mysqlpool.operator.render.RenderSettings;
import dev.mysqlpool.operator.testing.Fixtures;
import dev.mysqlpool.operator.validation.MySQLPoolValidator;
import dev.mysqlpool.proxy.config.ConfigLoader;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every file under examples/ works: each MySQLPool passes the operator's validation, sizing and
 * timeout checks and renders every manifest, and its proxy config parses with the proxy's own
 * loader; the GitOps examples point at the chart that exists here, with values the chart accepts.
 */
class ExamplesTest {
  private static final YAMLMapper YAML = new YAMLMapper();
  private static final Path EXAMPLES = Fixtures.repo().resolve("examples");

  @TempDir Path dir;

  static List<Path> files() {
    try (Stream<Path> s = Files.walk(EXAMPLES)) {
      return s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static List<JsonNode> docs(Path file) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(file.toFile())) {
      while (it.hasNext()) {
        JsonNode d = it.next();
        if (d != null && !d.isNull() && !d.isMissingNode()) {
          out.add(d);
        }
      }
    }
    return out;
  }

  @Test
  void everyPoolExampleIsValidAndRendersLikeTheOperatorWould() throws IOException {
    List<String> pools = new ArrayList<>();
    for (Path file : files()) {
      for (MySQLPool pool : RenderCommand.read(Files.readString(file))) {
        String id = EXAMPLES.relativize(file) + " " + pool.getMetadata().getName();
        pools.add(pool.getMetadata().getName());
        assertThat(MySQLPoolValidator.validate(pool)).as(id + " validation").isEmpty();
        Plan plan = Plan.of(pool, RenderSettings.defaults());
        assertThat(plan.sizing().valid())
            .withFailMessage("%s: %s", id, plan.sizing().message())
            .isTrue();
        assertThat(plan.timeouts().clashes()).as(id + " timeout chain").isEmpty();
        List<HasMetadata> objects = Manifests.all(plan);
        assertThat(objects.stream().map(HasMetadata::getKind))
            .as(id)
            .contains(
                "ConfigMap", "Deployment", "Service", "PodDisruptionBudget", "ServiceAccount");
        assertThat(objects).allMatch(o -> o.getMetadata().getNamespace().equals("shop"));
        Deployment d =
            objects.stream()
                .filter(Deployment.class::isInstance)
                .map(Deployment.class::cast)
                .findFirst()
                .orElseThrow();
        assertThat(d.getSpec().getReplicas()).isEqualTo(pool.getSpec().replicas);
        Path users =
            Files.createDirectories(dir.resolve(pool.getMetadata().getName()).resolve("users"));
        for (var u : pool.getSpec().credentials.users) {
          Files.writeString(users.resolve(u.name), "secret\n");
        }
        // The TLS files the pod would mount (the proxy opens them at start).
        for (String mounted : List.of("tls/tls.crt", "tls/tls.key", "backend-ca/ca.crt")) {
          Files.createDirectories(users.getParent().resolve(mounted).getParent());
          Files.writeString(users.getParent().resolve(mounted), "pem\n");
        }
        var ca = pool.getSpec().backend.tls == null ? null : pool.getSpec().backend.tls.ca;
        if (ca != null) {
          Files.writeString(users.getParent().resolve("backend-ca").resolve(ca.key), "pem\n");
        }
        var proxyPool = ConfigLoader.parse(ProxyConfigs.yaml(plan), users.getParent()).pool();
        assertThat(proxyPool.maxConnections())
            .as(id + ": the proxy reads the sized pool")
            .isEqualTo(plan.sizing().perReplica());
        assertThat(proxyPool.mode().name())
            .as(id + ": the proxy reads the pool mode")
            .isEqualToIgnoringCase(pool.getSpec().pool.mode);
      }
    }
    assertThat(pools)
        .as("the documented examples")
        .contains("orders", "catalog", "reports", "payments", "carts", "checkout", "inventory");
  }

  @Test
  void theExamplesCoverEachServiceShapeAndPoolMode() throws IOException {
    Map<String, MySQLPool> byName = new java.util.HashMap<>();
    for (Path file : files()) {
      RenderCommand.read(Files.readString(file))
          .forEach(p -> byName.put(p.getMetadata().getName(), p));
    }
    assertThat(byName.get("catalog").getSpec().service.sourceRanges).isNotEmpty();
    assertThat(byName.get("catalog").getSpec().service.scheme).isEqualTo("internal");
    assertThat(byName.get("reports").getSpec().service.type).isEqualTo("ClusterIP");
    assertThat(byName.get("payments").getSpec().pool.maxConnections).isNotNull();
    assertThat(byName.get("carts").getSpec().pool.mode)
        .as("an example of transaction mode")
        .isEqualTo("transaction");
    MySQLPool checkout = byName.get("checkout");
    assertThat(checkout.getSpec().service.scheme).isEqualTo("internet-facing");
    assertThat(checkout.getSpec().tls.mode)
        .as("internet-facing and TLS-only")
        .isEqualTo("required");
    assertThat(checkout.getSpec().backend.tls.mode).isEqualTo("verify-identity");
    JsonNode certificate = docs(EXAMPLES.resolve("tls-pool.yaml")).get(0);
    assertThat(certificate.path("kind").asText()).isEqualTo("Certificate");
    assertThat(certificate.at("/spec/secretName").asText())
        .as("the Certificate writes the Secret the pool mounts")
        .isEqualTo(checkout.getSpec().tls.secretName);
    assertThat(Plan.of(byName.get("payments"), RenderSettings.defaults()).sizing().source())
        .isEqualTo("Overridden");
    MySQLPool inventory = byName.get("inventory");
    assertThat(inventory.getSpec().routing.readWriteSplit).as("an example of the split").isTrue();
    assertThat(inventory.getSpec().backend.readers)
        .as("an Aurora reader endpoint is one entry")
        .hasSize(1);
    Plan split = Plan.of(inventory, RenderSettings.defaults());
    assertThat(split.readers().readers().get(0).needed())
        .as("the comment's arithmetic: ceil(60 x 0.8)")
        .isEqualTo(48);
    assertThat(split.sizing().maxDuringRollout()).as("4 x (30 + 1)").isEqualTo(124);
  }

  @Test
  void theHpaScalesAnExamplePoolThroughItsScaleSubresource() throws IOException {
    JsonNode hpa = docs(EXAMPLES.resolve("hpa.yaml")).get(0);
    assertThat(hpa.path("apiVersion").asText()).isEqualTo("autoscaling/v2");
    JsonNode target = hpa.at("/spec/scaleTargetRef");
    assertThat(target.path("apiVersion").asText()).isEqualTo("mysqlpool.dev/v1alpha1");
    assertThat(target.path("kind").asText()).isEqualTo("MySQLPool");
    MySQLPool pool =
        RenderCommand.read(Files.readString(EXAMPLES.resolve("basic-pool.yaml"))).get(0);
    assertThat(target.path("name").asText()).isEqualTo(pool.getMetadata().getName());
    assertThat(hpa.at("/metadata/namespace").asText()).isEqualTo(pool.getMetadata().getNamespace());
    var crd =
        new io.fabric8.kubernetes.client.utils.KubernetesSerialization()
            .unmarshal(
                Fixtures.read("crds/mysqlpools.mysqlpool.dev-v1.yml"),
                io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition.class);
    assertThat(crd.getSpec().getVersions().get(0).getSubresources().getScale()).isNotNull();
    int max = hpa.at("/spec/maxReplicas").asInt();
    pool.getSpec().replicas = max;
    assertThat(Plan.of(pool, RenderSettings.defaults()).sizing().valid())
        .as("the pool still fits its backend at maxReplicas")
        .isTrue();
  }

  @Test
  void theSecretHoldsEveryUserThePoolsName() throws IOException {
    JsonNode secret = docs(EXAMPLES.resolve("basic-secret.yaml")).get(0);
    for (Path file : files()) {
      for (MySQLPool pool : RenderCommand.read(Files.readString(file))) {
        assertThat(pool.getSpec().credentials.secretName)
            .isEqualTo(secret.at("/metadata/name").asText());
        for (var u : pool.getSpec().credentials.users) {
          assertThat(secret.at("/stringData/" + u.name).isTextual())
              .as(file + " user " + u.name)
              .isTrue();
        }
      }
    }
  }

  @Test
  void theArgoCdApplicationPointsAtTheChartWithValuesItAccepts() throws IOException {
    JsonNode app = docs(EXAMPLES.resolve("gitops/argocd-application.yaml")).get(0);
    assertThat(app.path("apiVersion").asText()).isEqualTo("argoproj.io/v1alpha1");
    assertThat(app.path("kind").asText()).isEqualTo("Application");
    JsonNode source = app.at("/spec/source");
    assertThat(source.path("repoURL").asText()).startsWith("https://");
    assertThat(source.path("targetRevision").asText()).isNotBlank();
    assertThat(
            Files.isRegularFile(
                Fixtures.repo().resolve(source.path("path").asText()).resolve("Chart.yaml")))
        .as("spec.source.path is the chart")
        .isTrue();
    assertThat(app.at("/spec/destination/namespace").asText()).isNotBlank();
    assertThat(app.at("/spec/destination/server").asText()).isNotBlank();
    assertThat(app.at("/spec/syncPolicy/syncOptions").toString()).contains("CreateNamespace=true");
    rendersWith(source.at("/helm/valuesObject"));
  }

  @Test
  void theFluxObjectsPointAtTheChartWithValuesItAccepts() throws IOException {
    Map<String, JsonNode> byKind = new java.util.HashMap<>();
    for (JsonNode d : docs(EXAMPLES.resolve("gitops/flux.yaml"))) {
      assertThat(d.at("/metadata/name").asText()).isNotBlank();
      byKind.put(d.path("kind").asText(), d);
    }
    assertThat(byKind).containsKeys("GitRepository", "HelmRelease", "Kustomization", "Namespace");
    JsonNode git = byKind.get("GitRepository");
    assertThat(git.path("apiVersion").asText()).isEqualTo("source.toolkit.fluxcd.io/v1");
    assertThat(git.at("/spec/url").asText()).startsWith("https://");
    JsonNode release = byKind.get("HelmRelease");
    assertThat(release.path("apiVersion").asText()).isEqualTo("helm.toolkit.fluxcd.io/v2");
    JsonNode chart = release.at("/spec/chart/spec");
    assertThat(chart.at("/sourceRef/kind").asText()).isEqualTo("GitRepository");
    assertThat(chart.at("/sourceRef/name").asText()).isEqualTo(git.at("/metadata/name").asText());
    assertThat(chart.at("/sourceRef/namespace").asText())
        .isEqualTo(git.at("/metadata/namespace").asText());
    assertThat(
            Files.isRegularFile(
                Fixtures.repo().resolve(chart.path("chart").asText()).resolve("Chart.yaml")))
        .as("spec.chart.spec.chart is the chart's path in the GitRepository")
        .isTrue();
    assertThat(release.at("/spec/install/crds").asText()).isEqualTo("CreateReplace");
    JsonNode kustomization = byKind.get("Kustomization");
    assertThat(kustomization.path("apiVersion").asText())
        .isEqualTo("kustomize.toolkit.fluxcd.io/v1");
    assertThat(kustomization.at("/spec/path").asText()).isNotBlank();
    assertThat(kustomization.at("/spec/sourceRef/kind").asText()).isEqualTo("GitRepository");
    rendersWith(release.at("/spec/values"));
  }

  /**
   * The values render, and every key exists in the chart's values.yaml (a typo would be silently
   * ignored).
   */
  private static void rendersWith(JsonNode values) throws IOException {
    JsonNode defaults = YAML.readTree(ChartTest.SOURCE.resolve("values.yaml").toFile());
    List<String[]> sets = new ArrayList<>();
    flatten("", values, defaults, sets);
    assertThat(sets).isNotEmpty();
    String out =
        ChartTest.template(
            t -> {
              TemplateCommand c = t;
              for (String[] kv : sets) {
                c = c.set(kv[0], kv[1]);
              }
              return c;
            });
    assertThat(out).contains("kind: Deployment");
  }

  private static void flatten(String prefix, JsonNode node, JsonNode defaults, List<String[]> out) {
    for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String key = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
      assertThat(defaults.has(e.getKey()))
          .as("values key " + key + " exists in values.yaml")
          .isTrue();
      if (e.getValue().isObject()) {
        flatten(key, e.getValue(), defaults.get(e.getKey()), out);
      } else {
        out.add(new String[] {key, e.getValue().asText()});
      }
    }
  }
}
