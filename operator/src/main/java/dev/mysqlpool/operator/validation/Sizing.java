package dev.mysqlpool.operator.validation;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;

/**
 * Little's Law sizing of the proxies' backend pools, checked against the backend's connection
 * budget.
 *
 * <p>required = ceil(peakTps x holdTime); total = ceil(required x safetyFactor); perReplica =
 * ceil(total / replicas), or {@code pool.maxConnections} when set. Everything the proxies can open,
 * (replicas + 1 surge pod of a rolling update) x perReplica, must fit under {@code max_connections
 * - reserved}. When it does not, perReplica is clamped to fit (never exceed the backend) and {@link
 * #valid()} is false with a message that gives the numbers and the fixes; when not even one
 * connection per pod fits, {@link #usable()} is false as well.
 *
 * @param required connections busy at the peak
 * @param total connections wanted across all replicas
 * @param perReplica each pod's pool.maxConnections after override and clamp
 * @param maxDuringRollout (replicas + 1) x perReplica
 * @param budget max_connections minus reserved
 * @param source Computed, Overridden or Clamped
 * @param valid the wanted figure fits the budget
 * @param usable perReplica is at least 1 and fits the budget, so the proxies can be rendered
 * @param reason a CamelCase reason for the SizingValid condition
 * @param message the arithmetic, and the fixes when invalid
 */
public record Sizing(
    int required,
    int total,
    int perReplica,
    int maxDuringRollout,
    int budget,
    String source,
    boolean valid,
    boolean usable,
    String reason,
    String message) {

  /**
   * Pods of one pool that can run at once during a rolling update beyond spec.replicas (maxSurge).
   */
  public static final int SURGE = 1;

  /**
   * Sizes a pool.
   *
   * @param peakTps transactions per second at the peak, at least 1
   * @param holdTime how long a transaction holds a connection, more than 0
   * @param safetyFactor at least 1
   * @param replicas at least 1
   * @param override pool.maxConnections, or null to use the arithmetic
   * @param maxConnections the server's max_connections
   * @param reserved connections kept for admins, monitoring and replication
   */
  public static Sizing compute(
      int peakTps,
      Duration holdTime,
      double safetyFactor,
      int replicas,
      Integer override,
      int maxConnections,
      int reserved) {
    long holdMs = holdTime.toMillis();
    int required = (int) Math.max(1, ceilDiv((long) peakTps * holdMs, 1000));
    int total =
        BigDecimal.valueOf(required)
            .multiply(BigDecimal.valueOf(safetyFactor))
            .setScale(0, RoundingMode.CEILING)
            .intValueExact();
    int computed = (int) ceilDiv(total, replicas);
    int wanted = override != null ? override : computed;
    String source = override != null ? "Overridden" : "Computed";
    int budget = maxConnections - reserved;
    int pods = replicas + SURGE;
    String arithmetic =
        "required "
            + required
            + " = ceil("
            + peakTps
            + " TPS x "
            + holdMs
            + "ms); total "
            + total
            + " = ceil("
            + required
            + " x "
            + plain(safetyFactor)
            + "); per replica "
            + computed
            + " = ceil("
            + total
            + " / "
            + replicas
            + " replicas)"
            + (override != null ? ", overridden by pool.maxConnections=" + override : "");

    if ((long) pods * wanted <= budget) {
      String message =
          arithmetic
              + "; ("
              + replicas
              + " replicas + "
              + SURGE
              + " surge) x "
              + wanted
              + " = "
              + pods * wanted
              + " fits the backend budget of "
              + budget
              + " (max_connections "
              + maxConnections
              + " - reserved "
              + reserved
              + ")";
      if ((long) wanted * replicas < required) {
        message +=
            "; note: "
                + wanted * replicas
                + " connections across replicas are below the "
                + required
                + " the workload needs at its peak";
      }
      return new Sizing(
          required, total, wanted, pods * wanted, budget, source, true, true, source, message);
    }

    int needed = pods * wanted + reserved;
    String fixes =
        "Fix: fewer replicas, a lower workload.safetyFactor"
            + (override != null ? " or pool.maxConnections" : "")
            + ", or raise the server's max_connections to at least "
            + needed
            + " (and spec.backend.maxConnections with it)";
    int clamped = budget / pods;
    if (clamped < 1) {
      String message =
          "the backend budget of "
              + budget
              + " (max_connections "
              + maxConnections
              + " - reserved "
              + reserved
              + ") cannot give "
              + pods
              + " pods ("
              + replicas
              + " replicas + "
              + SURGE
              + " surge) one connection each; "
              + arithmetic
              + ". Fix: fewer replicas, fewer reservedConnections, or raise"
              + " the server's max_connections to at least "
              + (pods + reserved);
      return new Sizing(
          required, total, 0, 0, budget, "Clamped", false, false, "BackendTooSmall", message);
    }
    String message =
        "("
            + replicas
            + " replicas + "
            + SURGE
            + " surge) x "
            + wanted
            + " = "
            + pods * wanted
            + " connections exceed the backend budget of "
            + budget
            + " (max_connections "
            + maxConnections
            + " - reserved "
            + reserved
            + "); clamped to "
            + clamped
            + " per replica ("
            + pods * clamped
            + " during a rollout, "
            + replicas * clamped
            + " steady"
            + ((long) replicas * clamped < required
                ? ", below the " + required + " the workload needs at its peak"
                : "")
            + "); "
            + arithmetic
            + ". "
            + fixes;
    return new Sizing(
        required,
        total,
        clamped,
        pods * clamped,
        budget,
        "Clamped",
        false,
        true,
        "ExceedsBackend",
        message);
  }

  private static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }

  private static String plain(double d) {
    return BigDecimal.valueOf(d).stripTrailingZeros().toPlainString();
  }
}
