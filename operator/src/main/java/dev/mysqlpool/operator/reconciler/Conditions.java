package dev.mysqlpool.operator.reconciler;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds a status's conditions in Kubernetes style from the previous ones: a condition whose status
 * did not change keeps its lastTransitionTime, so an unchanged pool gets a byte-identical status
 * and no write.
 */
final class Conditions {
  static final String READY = "Ready";

  /**
   * kstatus' abnormal-true condition: True while the pool cannot progress without a change by
   * someone (Flux and Argo CD health checks end their wait on it).
   */
  static final String STALLED = "Stalled";

  /** kstatus' abnormal-true condition: True while the proxies roll towards the spec. */
  static final String RECONCILING = "Reconciling";

  /** The kstatus summary conditions, which repeat the detailed ones. */
  static final java.util.Set<String> SUMMARIES = java.util.Set.of(READY, STALLED, RECONCILING);

  private final List<Condition> previous;
  private final List<Condition> next = new ArrayList<>();
  private final List<Condition> turnedFalse = new ArrayList<>();
  private final Long generation;
  private final String now;

  Conditions(List<Condition> previous, Long generation, Instant now) {
    this.previous = previous == null ? List.of() : previous;
    this.generation = generation;
    this.now = now.truncatedTo(ChronoUnit.SECONDS).toString();
  }

  void set(String type, boolean status, String reason, String message) {
    set(type, status ? "True" : "False", reason, message);
  }

  void unknown(String type, String reason, String message) {
    set(type, "Unknown", reason, message);
  }

  private void set(String type, String status, String reason, String message) {
    Condition old = find(previous, type);
    String since =
        old != null && status.equals(old.getStatus()) ? old.getLastTransitionTime() : now;
    Condition c =
        new ConditionBuilder()
            .withType(type)
            .withStatus(status)
            .withReason(reason)
            .withMessage(message)
            .withObservedGeneration(generation)
            .withLastTransitionTime(since)
            .build();
    // Setting a type again (e.g. Reconciling once a rollout turns out to be a scale step) replaces
    // it in place.
    turnedFalse.removeIf(x -> type.equals(x.getType()));
    int at = -1;
    for (int i = 0; i < next.size(); i++) {
      if (type.equals(next.get(i).getType())) {
        at = i;
      }
    }
    if (at >= 0) {
      next.set(at, c);
    } else {
      next.add(c);
    }
    if ("False".equals(status)
        && (old == null || !"False".equals(old.getStatus()) || !reason.equals(old.getReason()))) {
      turnedFalse.add(c);
    }
  }

  /** The conditions in the order they were first set. */
  List<Condition> list() {
    return List.copyOf(next);
  }

  /**
   * Conditions that became False (or changed their False reason) in this round: each deserves one
   * Event.
   */
  List<Condition> turnedFalse() {
    return List.copyOf(turnedFalse);
  }

  static Condition find(List<Condition> conditions, String type) {
    if (conditions == null) {
      return null;
    }
    for (Condition c : conditions) {
      if (type.equals(c.getType())) {
        return c;
      }
    }
    return null;
  }
}
