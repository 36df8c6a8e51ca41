package dev.mysqlpool.operator.validation;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.time.Duration;

/**
 * Little's Law sizing of the proxies' backend pools, checked against the backend's connection
 * budget, in exact arithmetic: no workload, however large, overflows or throws.
 *
 * <p>required = ceil(peakTps x holdTime); total = ceil(required x safetyFactor); perReplica =
 * ceil(total / replicas), or {@code pool.maxConnections} when set. Everything the proxies can open
 * during a rolling update, {@link #podsDuringRollout(int)} x (perReplica + {@link
 * #KILL_CONNECTIONS_PER_POD}), must fit under {@code max_connections - reserved}. When it does not,
 * perReplica is clamped to fit (never exceed the backend) and {@link #valid()} is false with a
 * message that gives the numbers and the fixes; when not even one pool connection per pod fits
 * beside its KILL connection, {@link #usable()} is false as well. Idle limits are clamped to the
 * per-replica size, since the proxy refuses {@code maxIdle > maxConnections}.
 *
 * @param required connections busy at the peak (exact, however large)
 * @param total connections wanted across all replicas (exact, however large)
 * @param perReplica each pod's pool.maxConnections after override and clamp
 * @param pods pods that can hold a pool at once during a rolling update
 * @param maxDuringRollout pods x (perReplica + KILL_CONNECTIONS_PER_POD): the most sessions the
 *     proxies can hold on the server during a rolling update
 * @param budget max_connections minus reserved
 * @param source Computed, Overridden or Clamped
 * @param minIdle the pool.minIdle to render (clamped), or null for the proxy's default
 * @param maxIdle the pool.maxIdle to render (clamped), or null for the proxy's default
 * @param valid the wanted figure fits the budget
 * @param usable perReplica is at least 1 and fits the budget, so the proxies can be rendered
 * @param reason a CamelCase reason for the SizingValid condition
 * @param message the arithmetic, and the fixes when invalid
 */
public record Sizing(
    long required,
    long total,
    int perReplica,
    int pods,
    long maxDuringRollout,
    int budget,
    String source,
    Integer minIdle,
    Integer maxIdle,
    boolean valid,
    boolean usable,
    String reason,
    String message) {

  /**
   * New pods a rolling update starts beyond spec.replicas (the Deployment's maxSurge, rendered as
   * this).
   */
  public static final int SURGE = 1;

  /**
   * Sessions a proxy pod holds on the server beyond its pool's {@code pool.maxConnections}: the
   * proxy sends {@code KILL QUERY} (query timeouts, clients' KILL QUERY) and the {@code KILL}s of
   * clients that left mid-statement over at most one side connection per backend at a time, outside
   * the pool (proxy-runtime/README.md, "What the server sees, at most"). A mass client disconnect
   * opens it on every pod at once, so every pod counts it against the server's max_connections.
   */
  public static final int KILL_CONNECTIONS_PER_POD = 1;

  /** The largest pool one proxy accepts (the proxy's own range for pool.maxConnections). */
  public static final int PROXY_MAX = 100_000;

  /**
   * Pods that hold a pool at once while a Deployment of {@code replicas} rolls: the replicas, the
   * surge pod, and the old pod that is still draining after it was told to stop. Kubernetes does
   * not count terminating pods against maxSurge, so without pacing every old pod could drain while
   * all new ones run (2 x replicas). The Deployment is rendered with minReadySeconds above the
   * grace period, so an old pod is stopped only after the previous one has exited: at most one
   * drains per surge slot. Never more than 2 x replicas (every old pod beside every new one).
   */
  public static int podsDuringRollout(int replicas) {
    return replicas + Math.min(replicas, 2 * SURGE);
  }

  /**
   * Sizes a pool.
   *
   * @param peakTps transactions per second at the peak, at least 1
   * @param holdTime how long a transaction holds a connection, more than 0
   * @param safetyFactor at least 1
   * @param replicas at least 1
   * @param override pool.maxConnections, or null to use the arithmetic
   * @param minIdle pool.minIdle, or null
   * @param maxIdle pool.maxIdle, or null
   * @param maxConnections the server's max_connections
   * @param reserved connections kept for admins, monitoring and replication
   */
  public static Sizing compute(
      long peakTps,
      Duration holdTime,
      double safetyFactor,
      int replicas,
      Integer override,
      Integer minIdle,
      Integer maxIdle,
      int maxConnections,
      int reserved) {
    long holdMs = holdTime.toMillis();
    BigInteger exactRequired =
        ceilDiv(BigInteger.valueOf(peakTps).multiply(BigInteger.valueOf(holdMs)), 1000)
            .max(BigInteger.ONE);
    BigInteger exactTotal =
        new BigDecimal(exactRequired)
            .multiply(BigDecimal.valueOf(safetyFactor))
            .setScale(0, RoundingMode.CEILING)
            .toBigInteger();
    long required = saturated(exactRequired);
    long total = saturated(exactTotal);
    BigInteger computedExact = ceilDiv(exactTotal, replicas);
    long computed = saturated(computedExact);
    long wanted = override != null ? override : computed;
    String source = override != null ? "Overridden" : "Computed";
    int budget = maxConnections - reserved;
    int pods = podsDuringRollout(replicas);
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
    String podsText =
        pods + " pods (" + replicas + " replicas + " + (pods - replicas) + " rolling)";

    if (wanted <= PROXY_MAX && onServer(pods, wanted) <= budget) {
      int per = (int) wanted;
      String message =
          arithmetic
              + "; "
              + podsText
              + " x "
              + perPod(per)
              + " = "
              + onServer(pods, per)
              + " fits the backend budget of "
              + budget
              + " (max_connections "
              + maxConnections
              + " - reserved "
              + reserved
              + ")";
      if ((long) per * replicas < required) {
        message +=
            "; note: "
                + (long) per * replicas
                + " connections across replicas are below the "
                + required
                + " the workload needs at its peak";
      }
      Idle idle = Idle.clamp(minIdle, maxIdle, per);
      return new Sizing(
          required,
          total,
          per,
          pods,
          onServer(pods, per),
          budget,
          source,
          idle.minIdle,
          idle.maxIdle,
          true,
          true,
          source,
          message + idle.note);
    }

    long needed =
        saturated(
            BigInteger.valueOf(pods)
                .multiply(
                    BigInteger.valueOf(wanted).add(BigInteger.valueOf(KILL_CONNECTIONS_PER_POD))));
    int clamped = (int) Math.min(PROXY_MAX, budget / pods - KILL_CONNECTIONS_PER_POD);
    if (clamped < 1) {
      String message =
          "the backend budget of "
              + budget
              + " (max_connections "
              + maxConnections
              + " - reserved "
              + reserved
              + ") cannot give "
              + podsText
              + " one connection each beside its KILL connection ("
              + pods
              + " x "
              + perPod(1)
              + " = "
              + onServer(pods, 1)
              + "); "
              + arithmetic
              + ". Fix: fewer replicas (spec.replicas), fewer spec.backend.reservedConnections, or raise"
              + " the server's max_connections to at least "
              + (onServer(pods, 1) + reserved);
      return new Sizing(
          required,
          total,
          0,
          pods,
          0,
          budget,
          "Clamped",
          null,
          null,
          false,
          false,
          "BackendTooSmall",
          message);
    }
    long steady = (long) replicas * clamped;
    // Even every connection of the budget, busy at once, is fewer than the peak needs.
    boolean unservable = required > budget;
    String fixes =
        unservable
            ? "Fix: the workload needs "
                + required
                + " connections busy at its peak, more than this backend can ever give;"
                + " check spec.workload.peakTps and spec.workload.holdTime, or use a larger server"
            : "Fix: fewer replicas (spec.replicas), a lower spec.workload.safetyFactor"
                + (override != null ? " or spec.pool.maxConnections" : "")
                + ", or raise the server's max_connections to at least "
                + saturatedAdd(needed, reserved)
                + " (and spec.backend.maxConnections with it)";
    String message =
        podsText
            + " x "
            + perPod(wanted)
            + " = "
            + needed
            + " connections exceed the backend budget of "
            + budget
            + " (max_connections "
            + maxConnections
            + " - reserved "
            + reserved
            + "); clamped to "
            + clamped
            + " per replica ("
            + pods
            + " x "
            + perPod(clamped)
            + " = "
            + onServer(pods, clamped)
            + " during a rollout; "
            + replicas
            + " replicas x "
            + clamped
            + " = "
            + steady
            + " for the workload"
            + (steady < required ? ", below the " + required + " it needs at its peak" : "")
            + "); "
            + arithmetic
            + ". "
            + fixes;
    Idle idle = Idle.clamp(minIdle, maxIdle, clamped);
    return new Sizing(
        required,
        total,
        clamped,
        pods,
        onServer(pods, clamped),
        budget,
        "Clamped",
        idle.minIdle,
        idle.maxIdle,
        false,
        true,
        unservable ? "LoadExceedsBackend" : "ExceedsBackend",
        message + idle.note);
  }

  /** Idle limits cut to the pool's size, and a note saying so when they were. */
  record Idle(Integer minIdle, Integer maxIdle, String note) {
    static Idle clamp(Integer minIdle, Integer maxIdle, int per) {
      Integer max = maxIdle == null ? null : Math.min(maxIdle, per);
      Integer min = minIdle == null ? null : Math.min(minIdle, max == null ? per : max);
      StringBuilder note = new StringBuilder();
      if (minIdle != null && !minIdle.equals(min)) {
        note.append("pool.minIdle ").append(minIdle).append(" -> ").append(min);
      }
      if (maxIdle != null && !maxIdle.equals(max)) {
        note.append(note.length() == 0 ? "" : ", ")
            .append("pool.maxIdle ")
            .append(maxIdle)
            .append(" -> ")
            .append(max);
      }
      return new Idle(
          min,
          max,
          note.length() == 0
              ? ""
              : "; idle limits clamped to the "
                  + per
                  + " connections per replica: "
                  + note
                  + " (the proxy keeps idle connections inside maxConnections)");
    }
  }

  /** Sessions {@code pods} proxies with pools of {@code per} can hold on the server. */
  static long onServer(int pods, long per) {
    return (long) pods * (per + KILL_CONNECTIONS_PER_POD);
  }

  /** One pod's share as a DBA reads it, e.g. "(50 + 1 KILL connection)". */
  static String perPod(long per) {
    return "("
        + per
        + " + "
        + KILL_CONNECTIONS_PER_POD
        + " KILL connection"
        + (KILL_CONNECTIONS_PER_POD == 1 ? "" : "s")
        + ")";
  }

  private static BigInteger ceilDiv(BigInteger a, long b) {
    BigInteger[] qr = a.divideAndRemainder(BigInteger.valueOf(b));
    return qr[1].signum() == 0 ? qr[0] : qr[0].add(BigInteger.ONE);
  }

  /** Exact up to Long.MAX_VALUE, which no server's max_connections comes near. */
  private static long saturated(BigInteger v) {
    return v.bitLength() < 63 ? v.longValue() : Long.MAX_VALUE;
  }

  private static long saturatedAdd(long a, long b) {
    long r = a + b;
    return ((a ^ r) & (b ^ r)) < 0 ? Long.MAX_VALUE : r;
  }

  static String plain(double d) {
    return BigDecimal.valueOf(d).stripTrailingZeros().toPlainString();
  }
}
