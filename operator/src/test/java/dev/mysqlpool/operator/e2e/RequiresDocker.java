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
      "./mvnw -pl operator -am verify -Dtest=NoneX -Dsurefire.failIfNoSpecifiedTests=false"
          + " -Dfailsafe.failIfNoSpecifiedTests=false -Dit.test='*E2E'";

  @Override
  public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
    if (DockerClientFactory.instance().isDockerAvailable()) {
      return ConditionEvaluationResult.enabled("a Docker engine is available for k3s");
    }
    String why =
        "skipped "
            + context.getDisplayName()
            + ": the k3s end-to-end tests need a Docker engine and Testcontainers found none; on a"
            + " machine with Docker run: "
            + HOW;
    // Said on the console too: a skipped class is otherwise only a number in the summary.
    System.err.println(why);
    return ConditionEvaluationResult.disabled(why);
  }
}
