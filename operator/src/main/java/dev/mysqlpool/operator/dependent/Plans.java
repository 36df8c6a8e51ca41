package dev.mysqlpool.operator.dependent;

import dev.mysqlpool.operator.api.MySQLPool;
import dev.mysqlpool.operator.render.Plan;
import io.javaoperatorsdk.operator.api.reconciler.Context;

/**
 * Hands the reconciler's {@link Plan} to the dependents: the reconciler validates and derives once,
 * puts the plan into the workflow context, then runs the workflow whose dependents render from it.
 */
public final class Plans {
  private static final String KEY = "mysqlpool.plan";

  private Plans() {}

  /** Stores the plan for this reconciliation; call before running the managed workflow. */
  public static void put(Context<MySQLPool> context, Plan plan) {
    context.managedWorkflowAndDependentResourceContext().put(KEY, plan);
  }

  /** The plan the reconciler stored for this reconciliation. */
  public static Plan from(Context<MySQLPool> context) {
    return context.managedWorkflowAndDependentResourceContext().getMandatory(KEY, Plan.class);
  }
}
