package dev.mysqlpool.operator.validation;

import dev.mysqlpool.operator.api.MySQLPoolSpec;
import dev.mysqlpool.operator.common.Names;
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
 *   <li>behind an NLB, the shutdown in the order the NLB needs, all inside the deregistration
 *       delay: at SIGTERM the proxy fails its health check and keeps serving for the load-balancer
 *       wait (the NLB's unhealthy threshold × health-check interval + {@link
 *       #LOAD_BALANCER_MARGIN}), so the NLB stops sending, then drains. The NLB resets every flow
 *       still open when the delay ends ({@code
 *       deregistration_delay.connection_termination.enabled=true}), so preStop + wait + drain must
 *       fit in it;
 *   <li>preStop + wait + drain below terminationGracePeriodSeconds: the kubelet does not kill a
 *       draining proxy.
 * </ul>
 *
 * <p>A clash is a {@link FieldError} on the field the user set, naming the two values that clash.
 *
 * @param clientIdleTimeout effective frontend.clientIdleTimeout
 * @param tcpKeepAliveIdle effective frontend.tcpKeepAliveIdle
 * @param idleTimeout effective pool.idleTimeout
 * @param maxLifetime effective pool.maxLifetime
 * @param drainTimeout effective shutdown.drainTimeout
 * @param loadBalancerWait shutdown.loadBalancerWait: behind an NLB the derived wait, else zero (not
 *     rendered)
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
    Duration loadBalancerWait,
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

  /**
   * Added to the NLB's unhealthy threshold × interval: the checks of the NLB's nodes are not in
   * step with SIGTERM, and a target's new health takes a moment to reach every node.
   */
  public static final int LOAD_BALANCER_MARGIN_SECONDS = 5;

  /**
   * How long a proxy behind the operator's NLB keeps serving after SIGTERM (its health check
   * already failing) before it closes its listener: the NLB needs that many failed checks to stop
   * sending.
   */
  public static final Duration NLB_LOAD_BALANCER_WAIT =
      Duration.ofSeconds(
          (long) Names.NLB_HEALTHCHECK_THRESHOLD * Names.NLB_HEALTHCHECK_INTERVAL_SECONDS
              + LOAD_BALANCER_MARGIN_SECONDS);

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

    // Behind an NLB the proxy keeps serving after SIGTERM until the NLB's health checks took it
    // out, so no preStop delay is needed; a ClusterIP's endpoints only need a moment to update.
    Duration lbWait = nlb ? NLB_LOAD_BALANCER_WAIT : Duration.ZERO;
    int lbWaitSeconds = (int) lbWait.toSeconds();
    Integer preStop = spec.shutdown.preStopDelaySeconds;
    if (preStop == null) {
      preStop = nlb ? 0 : PRESTOP_MARGIN_SECONDS;
    }

    Duration drain = Durations.parse(spec.shutdown.drainTimeout);
    int room = dereg - preStop - lbWaitSeconds;
    if (drain == null) {
      // Behind an NLB the drain must end before the deregistration delay does: the NLB resets
      // what is still open then. A delay stored with an older default (30) gets a shorter drain
      // rather than a refused pool.
      drain =
          nlb && room < DEFAULT_DRAIN.toSeconds()
              ? Duration.ofSeconds(Math.max(1, room))
              : DEFAULT_DRAIN;
    }
    int drainSeconds = (int) Math.min(Integer.MAX_VALUE / 4, (drain.toMillis() + 999) / 1000);
    int shutdownSeconds = preStop + lbWaitSeconds + drainSeconds;
    if (nlb && shutdownSeconds > dereg) {
      clashes.add(
          new FieldError(
              "spec.service.deregistrationDelaySeconds",
              "spec.service.deregistrationDelaySeconds ("
                  + dereg
                  + ") is shorter than the shutdown it must hold: "
                  + (preStop > 0 ? "spec.shutdown.preStopDelaySeconds (" + preStop + ") + " : "")
                  + "shutdown.loadBalancerWait ("
                  + Durations.format(lbWait)
                  + ", the NLB's "
                  + Names.NLB_HEALTHCHECK_THRESHOLD
                  + " failed health checks "
                  + Names.NLB_HEALTHCHECK_INTERVAL_SECONDS
                  + "s apart + "
                  + LOAD_BALANCER_MARGIN_SECONDS
                  + "s) + spec.shutdown.drainTimeout ("
                  + Durations.format(drain)
                  + ") = "
                  + shutdownSeconds
                  + "s; the NLB resets every connection still open when the delay ends, so sessions"
                  + " still draining would be cut; use at least "
                  + shutdownSeconds
                  + (spec.shutdown.drainTimeout == null
                      ? ""
                      : " or shorten spec.shutdown.drainTimeout")));
    }

    Integer grace = spec.shutdown.terminationGracePeriodSeconds;
    if (grace == null) {
      grace = shutdownSeconds + GRACE_MARGIN_SECONDS;
    } else if (shutdownSeconds >= grace) {
      clashes.add(
          new FieldError(
              "spec.shutdown.terminationGracePeriodSeconds",
              "spec.shutdown.terminationGracePeriodSeconds ("
                  + grace
                  + ") clashes with preStop ("
                  + preStop
                  + "s) + shutdown.loadBalancerWait ("
                  + Durations.format(lbWait)
                  + ") + spec.shutdown.drainTimeout ("
                  + Durations.format(drain)
                  + "): the kubelet kills the proxy"
                  + " before it finishes draining; use more than "
                  + shutdownSeconds
                  + " or leave it out to"
                  + " derive "
                  + (shutdownSeconds + GRACE_MARGIN_SECONDS)));
    }

    return new TimeoutChain(
        clientIdle, keepAlive, idle, lifetime, drain, lbWait, preStop, grace, List.copyOf(clashes));
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
