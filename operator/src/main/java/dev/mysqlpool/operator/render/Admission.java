package dev.mysqlpool.operator.render;

import dev.mysqlpool.operator.api.MySQLPool;
import dev.mysqlpool.operator.api.MySQLPoolSpec;
import dev.mysqlpool.operator.api.MySQLPoolStatus;
import dev.mysqlpool.operator.validation.FieldError;
import dev.mysqlpool.operator.validation.MySQLPoolValidator;
import dev.mysqlpool.operator.validation.Sizing;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Whether the operator renders a pool, and why not: the checks the reconciler reports as conditions
 * and {@code render} as its exit status, computed in one place so the two never disagree. Pure: the
 * caller passes the other pools on the same writer and, in the cluster, the result of the Secret
 * check.
 *
 * <p>Order: the spec must validate; then sizing (a backend too small for one connection per pod
 * blocks), the sum over every pool on the same writer (a pool that would grow past the writer's
 * budget blocks), the timeout chain, and the proxy's own validation of the rendered file. A pool
 * that is blocked keeps its running proxies as they are.
 *
 * @param plan the derived plan, or null when the spec is invalid
 * @param checks every check that ran, in order
 * @param blocking the first failed check that stops rendering, or null when the pool renders
 */
public record Admission(Plan plan, List<Check> checks, Check blocking) {
  public static final String SPEC_VALID = "SpecValid";
  public static final String SIZING_VALID = "SizingValid";
  public static final String TIMEOUTS_VALID = "TimeoutsValid";
  public static final String CONFIG_ACCEPTED = "ConfigAccepted";
  public static final String CREDENTIALS_FOUND = "CredentialsFound";
  public static final String CERTIFICATES_FOUND = "CertificatesFound";

  /**
   * One check's outcome, as a condition.
   *
   * @param type the condition type
   * @param ok true when it passed
   * @param reason CamelCase
   * @param message the numbers, the fields and the fix
   * @param blocks true when this failure stops rendering
   */
  public record Check(String type, boolean ok, String reason, String message, boolean blocks) {}

  /** True when the pool's objects are rendered (and applied, in the cluster). */
  public boolean renders() {
    return blocking == null;
  }

  /**
   * Decides on {@code pool}.
   *
   * @param pool the pool; its status (if any) tells what was applied last
   * @param settings the operator's settings
   * @param others the other pools the operator sees (any writer; this picks those on the same
   *     writer)
   * @param found the checks of the objects the pool references in the cluster (its Secret of users,
   *     its TLS Secret and CA bundle), each of which blocks when it failed; empty where no cluster
   *     is asked ({@code render})
   */
  public static Admission of(
      MySQLPool pool, RenderSettings settings, List<MySQLPool> others, List<Check> found) {
    List<Check> checks = new ArrayList<>();
    List<FieldError> errors = MySQLPoolValidator.validate(pool);
    if (!errors.isEmpty()) {
      Check invalid =
          new Check(
              SPEC_VALID,
              false,
              "InvalidSpec",
              errors.stream().map(FieldError::toString).collect(Collectors.joining("; ")),
              true);
      checks.add(invalid);
      return new Admission(null, List.copyOf(checks), invalid);
    }
    checks.add(new Check(SPEC_VALID, true, "Valid", "the spec passed validation", false));
    Plan plan = Plan.of(pool, settings);

    Sizing sizing = plan.sizing();
    Check sizingCheck =
        new Check(
            SIZING_VALID, sizing.valid(), sizing.reason(), sizing.message(), !sizing.usable());
    if (sizing.usable()) {
      Check shared = WriterBudget.check(pool, plan, others, settings);
      if (shared != null) {
        sizingCheck = shared;
      }
    }
    checks.add(sizingCheck);

    String clashes =
        plan.timeouts().clashes().stream()
            .map(FieldError::message)
            .collect(Collectors.joining("; "));
    checks.add(
        plan.timeouts().valid()
            ? new Check(TIMEOUTS_VALID, true, "Consistent", "the timeout chain holds", false)
            : new Check(TIMEOUTS_VALID, false, "TimeoutsClash", clashes, true));

    if (sizing.usable()) {
      List<FieldError> refused = ProxyConfigs.problems(plan);
      checks.add(
          refused.isEmpty()
              ? new Check(
                  CONFIG_ACCEPTED,
                  true,
                  "Accepted",
                  "the proxy's own validation accepts the rendered proxy.yaml",
                  false)
              : new Check(
                  CONFIG_ACCEPTED,
                  false,
                  "ProxyConfigRejected",
                  refused.stream().map(FieldError::toString).collect(Collectors.joining("; ")),
                  true));
    }
    checks.addAll(found);
    Check blocking = checks.stream().filter(c -> !c.ok() && c.blocks()).findFirst().orElse(null);
    return new Admission(plan, List.copyOf(checks), blocking);
  }

  /** The key pools share a writer by: host (case-insensitive) and port. */
  public static String writer(MySQLPool pool) {
    MySQLPoolSpec spec = pool.getSpec();
    if (spec == null || spec.backend == null || spec.backend.host == null) {
      return null;
    }
    return spec.backend.host.trim().toLowerCase(Locale.ROOT) + ":" + spec.backend.port;
  }

  /**
   * The most connections the pool's proxies were last allowed to open, from its status. Recounted
   * from podsDuringRollout and perReplica when the status has them: a status written before the
   * KILL connection was counted says one connection per pod less than the proxies can hold, and a
   * pool must not look as if it grew because the count changed.
   */
  static long applied(MySQLPool pool) {
    MySQLPoolStatus s = pool.getStatus();
    if (s == null || s.sizing == null) {
      return 0;
    }
    long recorded = s.sizing.maxDuringRollout == null ? 0 : s.sizing.maxDuringRollout;
    if (s.sizing.podsDuringRollout == null || s.sizing.perReplica == null) {
      return recorded;
    }
    long recounted =
        (long) s.sizing.podsDuringRollout * (s.sizing.perReplica + Sizing.KILL_CONNECTIONS_PER_POD);
    return Math.max(recorded, recounted);
  }
}
