package dev.mysqlpool.operator.testing;

import dev.mysqlpool.operator.MySQLPoolOperator;
import dev.mysqlpool.operator.reconciler.MySQLPoolReconciler;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.javaoperatorsdk.operator.Operator;
import java.util.Set;

/**
 * The operator started against fabric8's mock API server: the CRD from crds/ installed, server-side
 * apply off (the mock has none; the k3s tier runs with it), the client left open for the test.
 */
public final class MockOperators {
  private MockOperators() {}

  /** Installs the CRD and starts an operator with {@code reconciler}. */
  public static Operator start(KubernetesClient client, MySQLPoolReconciler reconciler) {
    CustomResourceDefinition crd =
        new KubernetesSerialization()
            .unmarshal(
                Fixtures.read("crds/mysqlpools.mysqlpool.dev-v1.yml"),
                CustomResourceDefinition.class);
    client.apiextensions().v1().customResourceDefinitions().resource(crd).create();
    Operator operator =
        MySQLPoolOperator.operator(
            client,
            reconciler,
            Set.of(),
            o ->
                o.withSSABasedCreateUpdateMatchForDependentResources(false)
                    .withUseSSAToPatchPrimaryResource(false)
                    .withCloseClientOnStop(false));
    operator.start();
    return operator;
  }

  static {
    // The mock server logs every request through java.util.logging; the tests say enough.
    java.util.logging.Logger.getLogger("io.fabric8.mockwebserver")
        .setLevel(java.util.logging.Level.WARNING);
  }
}
