package dev.mysqlpool.operator.e2e;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.testcontainers.DockerClientFactory;

/**
 * Skips the end-to-end tier, saying why and how to run it, where Testcontainers finds no Docker
 * engine.
 */
class RequiresDocker implements ExecutionCondition {
  static final String HOW =
      "./mvnw -Pe2e -pl operator -am -Dsurefire.failIfNoSpecifiedTests=false -Dtest='*E2E'"
          + " verify";

  @Override
  public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
    if (DockerClientFactory.instance().isDockerAvailable()) {
      return ConditionEvaluationResult.enabled("a Docker engine is available for k3s");
    }
    return ConditionEvaluationResult.disabled(
        "skipped: the k3s end-to-end tests need a Docker engine and"
            + " Testcontainers found none; on a machine with Docker run: "
            + HOW);
  }
}
