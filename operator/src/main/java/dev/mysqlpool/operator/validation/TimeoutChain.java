package dev.mysqlpool.operator.validation;

import dev.mysqlpool.operator.api.MySQLPoolSpec;
import dev.mysqlpool.proxy.config.Durations;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The timeouts that must nest inside each other, derived where the user left them out and checked
 * where the user set them.
 *
 * <ul>
 *   <li>client idle timeout and TCP keepalive at least {@link #NLB_MARGIN} below the NLB idle
 *       timeout: the proxy, not the NLB, ends idle sessions, so no backend connection is kept for a
 *       flow the NLB already dropped;
 *   <li>pool idleTimeout and maxLifetime below the server's {@code wait_timeout}: the pool recycles
 *       a connection before the server closes it under a client;
 *   <li>preStop delay at least the NLB deregistration delay: no new flow reaches a stopping pod;
 *   <li>preStop + drain below terminationGracePeriodSeconds: the kubelet does not kill a draining
 *       proxy.
 * </ul>
 *
 * <p>A clash is a {@link FieldError} on the field the user set, naming the two values that clash.
 *
 * @param clientIdleTimeout effective frontend.clientIdleTimeout
 * @param tcpKeepAliveIdle effective frontend.tcpKeepAliveIdle
 * @param idleTimeout effective pool.idleTimeout
 * @param maxLifetime effective pool.maxLifetime
 * @param drainTimeout effective shutdown.drainTimeout
 * @param preStopDelaySeconds effective preStop sleep
 * @param terminationGracePeriodSeconds effective pod grace period
 * @param clashes empty when the chain holds
 */
public record TimeoutChain(
    Duration clientIdleTimeout,
    Duration tcpKeepAliveIdle,
    Duration idleTimeout,
    Duration maxLifetime,
    Duration drainTimeout,
    int preStopDelaySeconds,
    int terminationGracePeriodSeconds,
    List<FieldError> clashes) {

  /** How far below the NLB idle timeout the proxy's own timers must stay. */
  public static final Duration NLB_MARGIN = Duration.ofSeconds(10);

  /** How far below the NLB idle timeout the derived client idle timeout is put. */
  public static final Duration NLB_DERIVED_GAP = Duration.ofSeconds(30);

  static final Duration DEFAULT_KEEPALIVE = Duration.ofSeconds(60);
  static final Duration DEFAULT_IDLE = Duration.ofMinutes(10);
  static final Duration DEFAULT_LIFETIME = Duration.ofMinutes(30);
  static final Duration DEFAULT_DRAIN = Duration.ofSeconds(30);
  static final int PRESTOP_MARGIN_SECONDS = 5;
  static final int GRACE_MARGIN_SECONDS = 10;

  /** True when every value nests. */
  public boolean valid() {
    return clashes.isEmpty();
  }

  /**
   * Derives and checks the chain. Durations that do not parse are treated as left out; {@link
   * MySQLPoolValidator} reports them.
   */
  public static TimeoutChain derive(MySQLPoolSpec spec) {
    List<FieldError> clashes = new ArrayList<>();
    boolean nlb = "LoadBalancer".equals(spec.service.type);
    Duration nlbIdle = Duration.ofSeconds(spec.service.nlbIdleTimeoutSeconds);
    Duration wait = Duration.ofSeconds(spec.backend.waitTimeoutSeconds);
    int dereg = spec.service.deregistrationDelaySeconds;
    String nlbText =
        "spec.service.nlbIdleTimeoutSeconds (" + spec.service.nlbIdleTimeoutSeconds + ")";
    String waitText = "spec.backend.waitTimeoutSeconds (" + spec.backend.waitTimeoutSeconds + ")";

    // 80%: the proxy itself never keeps a connection longer than 80% of the wait_timeout it reads
    // from the server.
    Duration waitDerived = eightyPercent(wait);
    Duration clientIdle = Durations.parse(spec.frontend.clientIdleTimeout);
    if (clientIdle == null) {
      clientIdle = nlb ? min(nlbIdle.minus(NLB_DERIVED_GAP), wait) : wait;
    } else if (nlb
        && (clientIdle.isZero() || clientIdle.compareTo(nlbIdle.minus(NLB_MARGIN)) > 0)) {
      clashes.add(
          new FieldError(
              "spec.frontend.clientIdleTimeout",
              "spec.frontend.clientIdleTimeout ("
                  + show(clientIdle)
                  + ") clashes with "
                  + nlbText
                  + ": keep it at least "
                  + NLB_MARGIN.toSeconds()
                  + "s below the NLB idle timeout, or the NLB drops idle"
                  + " sessions silently while the proxy keeps their backend connections; leave it out to derive "
                  + Durations.format(min(nlbIdle.minus(NLB_DERIVED_GAP), wait))));
    }

    Duration keepAlive = Durations.parse(spec.frontend.tcpKeepAliveIdle);
    if (keepAlive == null) {
      keepAlive = nlb ? min(DEFAULT_KEEPALIVE, nlbIdle.minus(NLB_MARGIN)) : DEFAULT_KEEPALIVE;
    } else if (nlb && !keepAlive.isZero() && keepAlive.compareTo(nlbIdle.minus(NLB_MARGIN)) > 0) {
      clashes.add(
          new FieldError(
              "spec.frontend.tcpKeepAliveIdle",
              "spec.frontend.tcpKeepAliveIdle ("
                  + show(keepAlive)
                  + ") clashes with "
                  + nlbText
                  + ": keepalive probes must start at least "
                  + NLB_MARGIN.toSeconds()
                  + "s before the NLB idle timeout, or the NLB drops idle but live connections"));
    }

    Duration idle = Durations.parse(spec.pool.idleTimeout);
    if (idle == null) {
      idle = min(DEFAULT_IDLE, waitDerived);
    } else if (idle.isZero() || idle.compareTo(wait) >= 0) {
      clashes.add(
          new FieldError(
              "spec.pool.idleTimeout",
              "spec.pool.idleTimeout ("
                  + show(idle)
                  + ") clashes with "
                  + waitText
                  + ": the server closes connections idle that long, so the pool would hand out dead ones; keep it below"
                  + " wait_timeout or leave it out to derive "
                  + Durations.format(min(DEFAULT_IDLE, waitDerived))));
    }

    Duration lifetime = Durations.parse(spec.pool.maxLifetime);
    if (lifetime == null || lifetime.isZero()) {
      lifetime = min(DEFAULT_LIFETIME, waitDerived);
    } else if (lifetime.compareTo(wait) >= 0) {
      clashes.add(
          new FieldError(
              "spec.pool.maxLifetime",
              "spec.pool.maxLifetime ("
                  + show(lifetime)
                  + ") clashes with "
                  + waitText
                  + ": recycle connections before the server's wait_timeout closes them; keep it below wait_timeout or"
                  + " leave it out to derive "
                  + Durations.format(min(DEFAULT_LIFETIME, waitDerived))));
    }

    Duration drain = Durations.parse(spec.shutdown.drainTimeout);
    if (drain == null) {
      drain = DEFAULT_DRAIN;
    }
    int drainSeconds = (int) Math.min(Integer.MAX_VALUE / 4, (drain.toMillis() + 999) / 1000);

    Integer preStop = spec.shutdown.preStopDelaySeconds;
    if (preStop == null) {
      preStop = (nlb ? dereg : 0) + PRESTOP_MARGIN_SECONDS;
    } else if (nlb && preStop < dereg) {
      clashes.add(
          new FieldError(
              "spec.shutdown.preStopDelaySeconds",
              "spec.shutdown.preStopDelaySeconds ("
                  + preStop
                  + ") clashes with spec.service.deregistrationDelaySeconds ("
                  + dereg
                  + "): the preStop delay must cover the NLB deregistration delay, or new flows reach a stopping"
                  + " pod; use at least "
                  + dereg
                  + " or leave it out to derive "
                  + (dereg + PRESTOP_MARGIN_SECONDS)));
    }

    Integer grace = spec.shutdown.terminationGracePeriodSeconds;
    if (grace == null) {
      grace = preStop + drainSeconds + GRACE_MARGIN_SECONDS;
    } else if (preStop + drainSeconds >= grace) {
      clashes.add(
          new FieldError(
              "spec.shutdown.terminationGracePeriodSeconds",
              "spec.shutdown.terminationGracePeriodSeconds ("
                  + grace
                  + ") clashes with preStop ("
                  + preStop
                  + "s) + spec.shutdown.drainTimeout ("
                  + Durations.format(drain)
                  + "): the kubelet kills the proxy"
                  + " before it finishes draining; use more than "
                  + (preStop + drainSeconds)
                  + " or leave it out to"
                  + " derive "
                  + (preStop + drainSeconds + GRACE_MARGIN_SECONDS)));
    }

    return new TimeoutChain(
        clientIdle, keepAlive, idle, lifetime, drain, preStop, grace, List.copyOf(clashes));
  }

  private static Duration eightyPercent(Duration d) {
    return Duration.ofSeconds(Math.max(1, d.toSeconds() * 8 / 10));
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  private static String show(Duration d) {
    return d.isZero() ? "0, never" : Durations.format(d);
  }
}
