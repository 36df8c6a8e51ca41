package dev.mysqlpool.operator.reconciler;

import dev.mysqlpool.operator.validation.Sizing;
import java.time.Duration;
import java.time.Instant;

/**
 * How far a replica change may go in one step so the writer never sees more than its budget.
 *
 * <p>A new replica count re-splits the pool; running proxies keep their old cap until they reload
 * the ConfigMap, and proxies that stop drain with the old cap. The budget check counts {@link
 * Sizing#podsDuringRollout} pods, two beyond the replicas (one for a single replica), so a step of
 * at most that many pods fits in either direction: growing from r to r + k, the old proxies hold r
 * x old cap and the new ones k x new cap, at most (r + k) x old cap; shrinking to r - k, the
 * remaining proxies hold (r - k) x new cap and the stopping ones k x old cap, at most (r - k + k) x
 * new cap. (Each cap here counts the pod's KILL connection, {@link
 * Sizing#KILL_CONNECTIONS_PER_POD}, as the budget check does: one per pod, whatever its pool.) Each
 * step waits until the previous one has settled (the ConfigMap reloaded everywhere, the stopped
 * proxies gone) before the next.
 *
 * @param replicas the replica count to apply now
 * @param delay how long until the next step, or null when {@code replicas} is the spec's count
 * @param message what is happening, for the Reconciling condition; null when nothing is stepping
 */
record ScaleStep(int replicas, Duration delay, String message) {

  /**
   * The step from the applied count towards {@code wanted}.
   *
   * @param wanted spec.replicas
   * @param applied the count the Deployment was last given, or null for a pool with none
   * @param appliedAt when that count was applied, or null
   * @param now the clock's time
   * @param settle how long a step takes to settle
   */
  static ScaleStep next(
      int wanted, Integer applied, Instant appliedAt, Instant now, Duration settle) {
    if (applied == null || applied == wanted) {
      return new ScaleStep(wanted, null, null);
    }
    if (appliedAt != null && now.isBefore(appliedAt.plus(settle))) {
      return new ScaleStep(
          applied,
          Duration.between(now, appliedAt.plus(settle)),
          message(applied, wanted, applied) + "; waiting for the proxies to apply the last step");
    }
    int next;
    if (wanted > applied) {
      next = Math.min(wanted, applied + Math.min(applied, 2));
    } else {
      next = Math.max(wanted, applied - 2);
      if (applied - next > next) {
        next = Math.max(wanted, applied - 1); // down to a single replica: one pod at a time
      }
    }
    return next == wanted
        ? new ScaleStep(wanted, null, null)
        : new ScaleStep(next, settle, message(applied, wanted, next));
  }

  private static String message(int from, int to, int now) {
    return "scaling "
        + from
        + " -> "
        + to
        + " replicas in steps the backend's budget covers: "
        + now
        + " now";
  }
}
