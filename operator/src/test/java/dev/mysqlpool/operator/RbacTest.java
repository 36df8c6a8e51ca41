package dev.mysqlpool.operator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mysqlpool.operator.testing.Fixtures;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The Helm chart's RBAC lists exactly the verbs the code uses: nothing missing, nothing extra. */
class RbacTest {
  private static final KubernetesSerialization K8S = new KubernetesSerialization();

  static Set<String> triples(List<PolicyRule> rules) {
    Set<String> out = new TreeSet<>();
    for (PolicyRule r : rules) {
      for (String g : r.getApiGroups()) {
        for (String res : r.getResources()) {
          for (String v : r.getVerbs()) {
            out.add(g + "/" + res + ":" + v);
          }
        }
      }
    }
    return out;
  }

  @Test
  void theClusterRoleGrantsExactlyWhatTheOperatorCalls() {
    ClusterRole role =
        K8S.unmarshal(
            Fixtures.read("helm/mysqlpool-operator/templates/clusterrole.yaml"), ClusterRole.class);
    assertThat(triples(role.getRules()))
        .withFailMessage(
            "helm/mysqlpool-operator/templates/clusterrole.yaml must list exactly%n%s%nbut lists%n%s",
            Permissions.clusterWide(), triples(role.getRules()))
        .isEqualTo(Permissions.clusterWide());
  }

  @Test
  void theLeaderElectionRoleGrantsExactlyTheLeaseCalls() {
    Role role =
        K8S.unmarshal(Fixtures.read("helm/mysqlpool-operator/templates/role.yaml"), Role.class);
    assertThat(triples(role.getRules())).isEqualTo(Permissions.ownNamespace());
  }

  @Test
  void theDerivedPermissionsCoverEveryDependent() {
    assertThat(Permissions.clusterWide())
        .contains(
            "apps/deployments:create",
            "apps/deployments:patch",
            "policy/poddisruptionbudgets:watch",
            "/configmaps:patch",
            "/services:create",
            "/serviceaccounts:get",
            "/secrets:get",
            "/events:create",
            "/pods:list",
            "mysqlpool.dev/mysqlpools/status:patch")
        .noneMatch(r -> r.endsWith(":delete") || r.endsWith(":update"))
        .as("Secrets by name only: no cluster-wide list or watch of Secrets")
        .doesNotContain("/secrets:list", "/secrets:watch")
        .as("proxy pods are listed when asked for the writer, never cached")
        .doesNotContain("/pods:watch", "/pods:get");
  }

  @Test
  void theChartShipsTheSameCrd() {
    assertThat(Fixtures.read("helm/mysqlpool-operator/crds/mysqlpools.mysqlpool.dev-v1.yml"))
        .withFailMessage(
            "copy crds/mysqlpools.mysqlpool.dev-v1.yml to helm/mysqlpool-operator/crds/")
        .isEqualTo(Fixtures.read("crds/mysqlpools.mysqlpool.dev-v1.yml"));
  }
}
