package dev.mysqlpool.operator.render;

import dev.mysqlpool.operator.api.MySQLPool;
import dev.mysqlpool.operator.validation.MySQLPoolValidator;
import dev.mysqlpool.operator.validation.Sizing;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Several MySQLPools in front of one writer (same host and port) share its {@code max_connections}:
 * each pool is sized against the whole budget, so the operator adds them up. Every other pool
 * counts with the larger of what its status says was applied and what its spec asks for now, both
 * at their rolling-update maximum ({@link Sizing#maxDuringRollout()}: every pod's pool and its KILL
 * connection). A pool whose share would push the sum past its own budget is blocked while it would
 * grow (a new pool, more replicas, a bigger workload); a pool that stays the same or shrinks still
 * applies, since that never makes things worse. Either way its SizingValid condition names the
 * other pools and the numbers.
 */
final class WriterBudget {
  private WriterBudget() {}

  /** Null when the writer's budget holds every pool on it; else the failed check. */
  static Admission.Check check(
      MySQLPool pool, Plan plan, List<MySQLPool> others, RenderSettings settings) {
    String writer = Admission.writer(pool);
    long own = plan.sizing().maxDuringRollout();
    long sum = own;
    List<String> parts = new ArrayList<>();
    parts.add(id(pool) + " " + own);
    for (MySQLPool other : others) {
      if (sameObject(pool, other) || !Objects.equals(writer, Admission.writer(other))) {
        continue;
      }
      long theirs = Math.max(Admission.applied(other), wanted(other, settings));
      if (theirs == 0) {
        continue;
      }
      sum += theirs;
      parts.add(id(other) + " " + theirs);
    }
    int budget = plan.sizing().budget();
    if (parts.size() == 1 || sum <= budget) {
      return null;
    }
    boolean grows = pool.getStatus() == null || own > Admission.applied(pool);
    String message =
        "the pools on writer "
            + writer
            + " can open "
            + sum
            + " connections during rolling updates, each pod's KILL connection included ("
            + String.join(" + ", parts)
            + "), above the budget of "
            + budget
            + " (spec.backend.maxConnections "
            + pool.getSpec().backend.maxConnections
            + " - reservedConnections "
            + pool.getSpec().backend.reservedConnections
            + "); "
            + (grows
                ? "this pool is not rolled out until they fit"
                : "this pool does not grow, so it keeps its size")
            + ". Fix: lower spec.replicas, spec.workload or spec.pool.maxConnections of one of"
            + " these pools, or raise the server's max_connections to at least "
            + (sum + pool.getSpec().backend.reservedConnections)
            + ". "
            + plan.sizing().message();
    return new Admission.Check(
        Admission.SIZING_VALID, false, "WriterOversubscribed", message, grows);
  }

  /** What another pool's spec asks for at its rolling-update maximum; 0 when it is invalid. */
  private static long wanted(MySQLPool other, RenderSettings settings) {
    if (other.getSpec() == null || !MySQLPoolValidator.validate(other).isEmpty()) {
      return 0;
    }
    return Plan.of(other, settings).sizing().maxDuringRollout();
  }

  private static boolean sameObject(MySQLPool a, MySQLPool b) {
    return Objects.equals(a.getMetadata().getName(), b.getMetadata().getName())
        && Objects.equals(namespace(a), namespace(b));
  }

  private static String id(MySQLPool p) {
    return namespace(p) + "/" + p.getMetadata().getName();
  }

  private static String namespace(MySQLPool p) {
    String ns = p.getMetadata().getNamespace();
    return ns == null || ns.isBlank() ? "default" : ns;
  }
}
