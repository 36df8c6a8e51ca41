package dev.mysqlpool.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import dev.mysqlpool.operator.render.RenderSettings;
import dev.mysqlpool.operator.testing.Fixtures;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentSpec;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The Helm chart as Helm itself renders it (helm-java embeds Helm's Go library, so no CLI is
 * needed): lint, the objects of the default install, RBAC equal to {@link Permissions}, every
 * monitoring toggle on and off, deterministic output, and image names that agree with the
 * operator's defaults and the Maven version.
 */
class ChartTest {
  /** The chart as it is in the repository (lint, files). */
  static final Path SOURCE = Fixtures.repo().resolve("helm/mysqlpool-operator");

  /**
   * The chart as the tests template it: a copy without {@code kubeVersion}, because the Helm that
   * helm-java embeds assumes Kubernetes 1.20 for {@code template} and offers no {@code
   * --kube-version}. {@link #theChartRequiresKubernetes130} checks the constraint itself.
   */
  static final Path CHART = staged();

  static final String NS = "mysqlpool-system";
  private static final KubernetesSerialization K8S = new KubernetesSerialization();
  private static final YAMLMapper YAML = new YAMLMapper();
  private static final Set<String> MONITORING_KINDS =
      Set.of("PodMonitor", "PrometheusRule", "ConfigMap");

  /**
   * {@code helm template mysqlpool-operator helm/mysqlpool-operator -n mysqlpool-system --set ...}.
   */
  static String template(UnaryOperator<TemplateCommand> values) {
    return values
        .apply(new Helm(CHART).template().withName("mysqlpool-operator").withNamespace(NS))
        .call();
  }

  static List<HasMetadata> objects(String rendered) {
    List<HasMetadata> out = new ArrayList<>();
    for (String doc : rendered.split("(?m)^---\\s*$")) {
      if (doc.lines().anyMatch(l -> !l.isBlank() && !l.startsWith("#"))) {
        out.add(K8S.unmarshal(doc));
      }
    }
    return out;
  }

  private static Path staged() {
    try {
      Path dir = Files.createTempDirectory("mysqlpool-chart").resolve("mysqlpool-operator");
      try (Stream<Path> files = Files.walk(SOURCE)) {
        for (Path f : files.toList()) {
          Path to = dir.resolve(SOURCE.relativize(f).toString());
          if (Files.isDirectory(f)) {
            Files.createDirectories(to);
          } else {
            Files.copy(f, to);
          }
        }
      }
      Path chart = dir.resolve("Chart.yaml");
      Files.writeString(chart, Files.readString(chart).replaceAll("(?m)^kubeVersion:.*\\n", ""));
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static <T extends HasMetadata> T one(List<HasMetadata> objects, Class<T> type) {
    List<T> found = objects.stream().filter(type::isInstance).map(type::cast).toList();
    assertThat(found)
        .withFailMessage("expected one %s, found %s", type.getSimpleName(), found.size())
        .hasSize(1);
    return found.get(0);
  }

  static List<GenericKubernetesResource> kind(List<HasMetadata> objects, String kind) {
    return objects.stream()
        .filter(o -> kind.equals(o.getKind()) && o instanceof GenericKubernetesResource)
        .map(GenericKubernetesResource.class::cast)
        .toList();
  }

  static TemplateCommand allMonitoring(TemplateCommand t) {
    return t.set("monitoring.operatorPodMonitor.enabled", true)
        .set("monitoring.proxyPodMonitor.enabled", true)
        .set("monitoring.prometheusRule.enabled", true)
        .set("monitoring.grafanaDashboard.enabled", true);
  }

  @Test
  void helmLintPassesStrict() {
    LintResult lint = new Helm(SOURCE).lint().strict().call();
    assertThat(lint.isFailed())
        .withFailMessage("helm lint --strict:%n%s", String.join("\n", lint.getMessages()))
        .isFalse();
  }

  @Test
  void theDefaultInstallIsTheOperatorAndItsRbacOnly() {
    List<HasMetadata> objects = objects(template(t -> t));
    assertThat(objects.stream().map(o -> o.getKind() + "/" + o.getMetadata().getName()))
        .withFailMessage(
            "monitoring extras are off by default, so the chart installs without the Prometheus"
                + " Operator's CRDs; got %s",
            objects.stream().map(HasMetadata::getKind).toList())
        .containsExactlyInAnyOrder(
            "ServiceAccount/mysqlpool-operator",
            "ClusterRole/mysqlpool-operator",
            "ClusterRoleBinding/mysqlpool-operator",
            "Role/mysqlpool-operator-leader-election",
            "RoleBinding/mysqlpool-operator-leader-election",
            "Deployment/mysqlpool-operator");
    for (HasMetadata o : objects) {
      if (!(o instanceof ClusterRole) && !(o instanceof ClusterRoleBinding)) {
        assertThat(o.getMetadata().getNamespace()).as(o.getKind() + " namespace").isEqualTo(NS);
      }
    }
  }

  @Test
  void theChartInstallsTheCrdsOfCrdsFolder() throws IOException {
    String crds = new Helm(SOURCE).show().crds().call();
    assertThat(crds).contains("CustomResourceDefinition", "mysqlpools.mysqlpool.dev");
    assertThat(Files.readString(SOURCE.resolve("crds/mysqlpools.mysqlpool.dev-v1.yml")))
        .withFailMessage(
            "copy crds/mysqlpools.mysqlpool.dev-v1.yml to helm/mysqlpool-operator/crds/")
        .isEqualTo(Fixtures.read("crds/mysqlpools.mysqlpool.dev-v1.yml"));
    assertThat(listing(SOURCE.resolve("crds"))).isEqualTo(listing(Fixtures.repo().resolve("crds")));
  }

  @Test
  void theRenderedRbacGrantsExactlyWhatTheOperatorCalls() {
    List<HasMetadata> objects = objects(template(t -> t));
    assertThat(RbacTest.triples(one(objects, ClusterRole.class).getRules()))
        .isEqualTo(Permissions.clusterWide())
        .as("the installed chart grants no cluster-wide list or watch of Secrets")
        .doesNotContain("/secrets:list", "/secrets:watch")
        .contains("/secrets:get");
    Role role = one(objects, Role.class);
    assertThat(RbacTest.triples(role.getRules())).isEqualTo(Permissions.ownNamespace());
    ClusterRoleBinding crb = one(objects, ClusterRoleBinding.class);
    RoleBinding rb = one(objects, RoleBinding.class);
    assertThat(crb.getRoleRef().getName()).isEqualTo("mysqlpool-operator");
    assertThat(rb.getRoleRef().getName()).isEqualTo(role.getMetadata().getName());
    for (var subject : List.of(crb.getSubjects().get(0), rb.getSubjects().get(0))) {
      assertThat(subject.getName()).isEqualTo("mysqlpool-operator");
      assertThat(subject.getNamespace()).isEqualTo(NS);
    }
    Deployment d = one(objects, Deployment.class);
    assertThat(d.getSpec().getTemplate().getSpec().getServiceAccountName())
        .isEqualTo("mysqlpool-operator");
  }

  @Test
  void theDeploymentRunsTheOperatorWithArgumentsItAccepts() {
    Deployment d =
        one(
            objects(
                template(
                    t ->
                        t.set("watchNamespaces[0]", "shop")
                            .set("watchNamespaces[1]", "billing")
                            .set("logLevel", "DEBUG"))),
            Deployment.class);
    DeploymentSpec spec = d.getSpec();
    Container c = spec.getTemplate().getSpec().getContainers().get(0);
    assertThat(spec.getReplicas()).isEqualTo(2);
    assertThat(c.getArgs()).containsSubsequence("--namespaces", "shop,billing");
    OperatorOptions options = OperatorOptions.parse(c.getArgs().toArray(String[]::new), NS);
    assertThat(options.leaderElection()).isTrue();
    assertThat(options.leaseNamespace()).isEqualTo(NS);
    assertThat(options.namespaces()).containsExactlyInAnyOrder("shop", "billing");
    assertThat(options.logLevel()).isEqualTo("DEBUG");
    assertThat(options.httpPort()).isEqualTo(c.getPorts().get(0).getContainerPort());
    assertThat(c.getStartupProbe().getHttpGet().getPath()).isEqualTo("/readyz");
    assertThat(c.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
    assertThat(c.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
    assertThat(c.getEnv())
        .anyMatch(
            e ->
                e.getName().equals("POD_NAMESPACE")
                    && e.getValueFrom().getFieldRef().getFieldPath().equals("metadata.namespace"));
    assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(spec.getTemplate().getSpec().getSecurityContext().getRunAsNonRoot()).isTrue();
  }

  @Test
  void leaderElectionOffNeedsOneReplica() {
    Deployment d =
        one(
            objects(template(t -> t.set("leaderElection.enabled", false).set("replicas", 1))),
            Deployment.class);
    List<String> args = d.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs();
    assertThat(OperatorOptions.parse(args.toArray(String[]::new), null).leaderElection()).isFalse();
    assertThatThrownBy(() -> template(t -> t.set("leaderElection.enabled", false)))
        .hasMessageContaining("set replicas to 1");
  }

  @Test
  void imagesAgreeWithTheOperatorsDefaultsAndTheMavenVersion() throws IOException {
    String version = System.getProperty("project.version", "").replace("-SNAPSHOT", "");
    JsonNode chart = YAML.readTree(SOURCE.resolve("Chart.yaml").toFile());
    assertThat(chart.path("appVersion").asText()).isEqualTo(version);
    assertThat(chart.path("version").asText()).isEqualTo(version);
    Container c =
        one(objects(template(t -> t)), Deployment.class)
            .getSpec()
            .getTemplate()
            .getSpec()
            .getContainers()
            .get(0);
    assertThat(c.getImage()).isEqualTo("ghcr.io/mysqlpool/operator:" + version);
    assertThat(c.getArgs())
        .containsSubsequence("--proxy-image", RenderSettings.DEFAULT_PROXY_IMAGE);
    assertThat(RenderSettings.DEFAULT_PROXY_IMAGE)
        .isEqualTo("ghcr.io/mysqlpool/proxy-runtime:" + version);
  }

  @Test
  void everyMonitoringToggleRendersOnlyItsObject() {
    assertThat(objects(template(t -> t)).stream().map(HasMetadata::getKind))
        .doesNotContainAnyElementsOf(MONITORING_KINDS);
    Map<String, String> toggles =
        Map.of(
            "monitoring.operatorPodMonitor.enabled", "PodMonitor/mysqlpool-operator",
            "monitoring.proxyPodMonitor.enabled", "PodMonitor/mysqlpool-proxies",
            "monitoring.prometheusRule.enabled", "PrometheusRule/mysqlpool",
            "monitoring.grafanaDashboard.enabled", "ConfigMap/mysqlpool-dashboard");
    toggles.forEach(
        (value, object) -> {
          List<String> extras =
              objects(template(t -> t.set(value, true))).stream()
                  .filter(o -> MONITORING_KINDS.contains(o.getKind()))
                  .map(o -> o.getKind() + "/" + o.getMetadata().getName())
                  .toList();
          assertThat(extras).as(value).containsExactly(object);
        });
  }

  @Test
  void thePodMonitorsScrapeTheOperatorAndEveryProxy() {
    List<HasMetadata> objects =
        objects(
            template(
                t ->
                    allMonitoring(t)
                        .set(
                            "monitoring.proxyPodMonitor.labels.release", "kube-prometheus-stack")));
    List<GenericKubernetesResource> monitors = kind(objects, "PodMonitor");
    assertThat(monitors).hasSize(2);
    GenericKubernetesResource proxies =
        monitors.stream()
            .filter(m -> m.getMetadata().getName().equals("mysqlpool-proxies"))
            .findFirst()
            .orElseThrow();
    assertThat(proxies.getMetadata().getLabels()).containsEntry("release", "kube-prometheus-stack");
    JsonNode spec = new ObjectMapper().valueToTree(proxies.getAdditionalProperties().get("spec"));
    assertThat(spec.at("/selector/matchLabels/app.kubernetes.io~1name").asText())
        .isEqualTo(dev.mysqlpool.operator.common.Names.APP_NAME);
    assertThat(spec.at("/selector/matchLabels/app.kubernetes.io~1managed-by").asText())
        .isEqualTo(dev.mysqlpool.operator.common.Names.MANAGED_BY);
    assertThat(spec.at("/podMetricsEndpoints/0/port").asText())
        .isEqualTo(dev.mysqlpool.operator.common.Names.ADMIN_PORT_NAME);
    assertThat(spec.at("/podMetricsEndpoints/0/relabelings/0/targetLabel").asText())
        .isEqualTo("pool");
    assertThat(spec.at("/namespaceSelector/any").asBoolean()).isTrue();

    JsonNode scoped =
        new ObjectMapper()
            .valueToTree(
                kind(
                        objects(
                            template(
                                t ->
                                    t.set("monitoring.proxyPodMonitor.enabled", true)
                                        .set("watchNamespaces[0]", "shop"))),
                        "PodMonitor")
                    .get(0)
                    .getAdditionalProperties()
                    .get("spec"));
    assertThat(scoped.at("/namespaceSelector/matchNames/0").asText()).isEqualTo("shop");
  }

  @Test
  void theAlertsAnswerTheSeedsWithThresholdsFromValues() {
    GenericKubernetesResource rule =
        kind(
                objects(
                    template(
                        t ->
                            t.set("monitoring.prometheusRule.enabled", true)
                                .set("monitoring.prometheusRule.freeConnections.ratio", 0.6)
                                .set("monitoring.prometheusRule.alertLabels.team", "dba"))),
                "PrometheusRule")
            .get(0);
    JsonNode groups =
        new ObjectMapper().valueToTree(rule.getAdditionalProperties().get("spec")).path("groups");
    Map<String, JsonNode> alerts = new java.util.TreeMap<>();
    groups.forEach(g -> g.path("rules").forEach(r -> alerts.put(r.path("alert").asText(), r)));
    assertThat(alerts)
        .containsOnlyKeys(
            "MySQLPoolFreeConnectionsHigh",
            "MySQLPoolClientsWaiting",
            "MySQLPoolAcquireTimeouts",
            "MySQLPoolBackendConnectErrors",
            "MySQLPoolBackendDown",
            "MySQLPoolWriterSwitchStuck",
            "MySQLPoolProxyMemoryHigh",
            "MySQLPoolProxyHeapHigh",
            "MySQLPoolSizingInvalid");
    JsonNode free = alerts.get("MySQLPoolFreeConnectionsHigh");
    assertThat(free.path("expr").asText())
        .contains("mysqlpool_pool_connections{state=\"free\"}", "> 0.6");
    assertThat(free.path("for").asText()).isEqualTo("5m");
    assertThat(free.path("labels").path("team").asText()).isEqualTo("dba");
    assertThat(alerts.get("MySQLPoolAcquireTimeouts").path("expr").asText())
        .contains("mysqlpool_pool_acquire_timeouts_total");
    assertThat(alerts.get("MySQLPoolWriterSwitchStuck").path("expr").asText())
        .contains("mysqlpool_backend_switching");
    assertThat(alerts.get("MySQLPoolSizingInvalid").path("expr").asText())
        .contains("mysqlpool_operator_sizing_valid");
    for (JsonNode a : alerts.values()) {
      assertThat(a.path("annotations").path("summary").asText())
          .as(a.path("alert").asText() + " keeps Prometheus' own template for the alert's labels")
          .contains("{{ $labels.");
      assertThat(a.path("labels").path("severity").asText()).isIn("warning", "critical");
    }
    Set<String> metrics =
        metricNames(
            alerts.values().stream()
                .map(a -> a.path("expr").asText())
                .collect(Collectors.joining("\n")));
    assertThat(knownMetrics())
        .as("every proxy or operator metric an alert reads exists")
        .containsAll(metrics.stream().filter(m -> m.startsWith("mysqlpool_")).toList());
  }

  @Test
  void theDashboardIsValidJsonAndQueriesOnlyExistingMetrics() throws IOException {
    ConfigMap cm =
        one(
            objects(
                template(
                    t ->
                        t.set("monitoring.grafanaDashboard.enabled", true)
                            .set("monitoring.grafanaDashboard.namespace", "monitoring"))),
            ConfigMap.class);
    assertThat(cm.getMetadata().getNamespace()).isEqualTo("monitoring");
    assertThat(cm.getMetadata().getLabels()).containsEntry("grafana_dashboard", "1");
    String json = cm.getData().get("mysqlpool.json");
    JsonNode dashboard = new ObjectMapper().readTree(json);
    assertThat(dashboard.path("uid").asText()).isEqualTo("mysqlpool");
    StringBuilder exprs = new StringBuilder();
    List<String> titles = new ArrayList<>();
    dashboard
        .path("panels")
        .forEach(
            p -> {
              titles.add(p.path("title").asText());
              p.path("targets").forEach(t -> exprs.append(t.path("expr").asText()).append('\n'));
            });
    assertThat(exprs)
        .contains(
            "mysqlpool_pool_acquire_seconds_bucket",
            "mysqlpool_query_seconds_bucket",
            "mysqlpool_frontend_client_connections",
            "mysqlpool_errors_total",
            "state=~\"used|free|pending",
            "mysqlpool_sessions_pinned");
    assertThat(titles).contains("Pinned sessions (transaction mode)", "Writer role and switches");
    assertThat(knownMetrics())
        .containsAll(
            metricNames(exprs.toString()).stream()
                .filter(m -> m.startsWith("mysqlpool_"))
                .toList());
  }

  @Test
  void theOutputIsDeterministicAndHookFree() throws IOException {
    assertThat(template(ChartTest::allMonitoring)).isEqualTo(template(ChartTest::allMonitoring));
    Pattern unstable = Pattern.compile("\\{\\{[^}]*\\b(rand\\w+|uuidv4|now|gen\\w+|lookup)\\b");
    try (Stream<Path> files = Files.walk(SOURCE.resolve("templates"))) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        String text = Files.readString(f);
        assertThat(unstable.matcher(text).find())
            .withFailMessage(
                "%s: Argo CD and Flux re-render the chart; random names, timestamps and cluster"
                    + " lookups make every render differ",
                f)
            .isFalse();
        assertThat(text)
            .as(f + ": hooks are applied outside the GitOps diff")
            .doesNotContain("helm.sh/hook");
      }
    }
  }

  /**
   * The proxy's metrics (proxy-runtime/README.md, "Admin endpoint") and the operator's sizing
   * gauge.
   */
  static Set<String> knownMetrics() {
    Set<String> known = new TreeSet<>();
    String readme = Fixtures.read("proxy-runtime/README.md");
    String admin = readme.substring(readme.indexOf("## Admin endpoint"));
    for (String name : metricNames(admin.substring(0, admin.indexOf("\n## ", 3)))) {
      known.add(name);
      known.add(name + "_bucket"); // histograms are listed by their base name
    }
    known.add("mysqlpool_operator_sizing_valid");
    return known;
  }

  static Set<String> metricNames(String text) {
    Set<String> out = new TreeSet<>();
    Matcher m =
        Pattern.compile("\\b(mysqlpool_[a-z_]+|jvm_[a-z_]+|container_[a-z_]+)").matcher(text);
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }

  private static List<String> listing(Path dir) {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
