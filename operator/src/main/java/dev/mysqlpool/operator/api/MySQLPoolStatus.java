package dev.mysqlpool.operator.api;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.model.annotation.LabelSelector;
import io.fabric8.kubernetes.model.annotation.StatusReplicas;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** What the operator observed and derived; written only by the operator. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription(
    "What the operator observed and rendered: conditions in kstatus form (Ready, Stalled, Reconciling and the"
        + " checks behind them), the proxies' replicas, the endpoint, the sizing and timeouts the running"
        + " proxies were rendered with, and the writer the proxies last reached.")
public class MySQLPoolStatus {
  @JsonPropertyDescription("The metadata.generation this status describes.")
  public Long observedGeneration;

  @JsonPropertyDescription(
      "Ready, Stalled and Reconciling (kstatus), the checks SpecValid, SizingValid, TimeoutsValid, ConfigAccepted, CredentialsFound and CertificatesFound, and WriterConsistent (whether the ready proxies reach the same writer), in Kubernetes style with CamelCase reasons.")
  public List<Condition> conditions = new ArrayList<>();

  @StatusReplicas
  @JsonPropertyDescription("Proxy pods that exist (the scale subresource's current replicas).")
  public Integer replicas;

  @LabelSelector
  @JsonPropertyDescription(
      "The label selector of the proxy pods, for the scale subresource: an HPA reads their CPU or metrics through it.")
  public String selector;

  @JsonPropertyDescription("Proxy pods that pass /readyz.")
  public Integer readyReplicas;

  @JsonPropertyDescription(
      "Where clients connect: the NLB's host name and port, or the Service's cluster DNS name and port.")
  public String endpoint;

  @JsonPropertyDescription("The sizing arithmetic, so the numbers can be checked.")
  public Sizing sizing;

  @JsonPropertyDescription("The effective timeout chain, with the derived values filled in.")
  public Timeouts timeouts;

  @JsonPropertyDescription(
      "The writer the proxies reach, read from each ready proxy's /stats (admin port) at every reconciliation and every 30s; kept as last seen while no proxy answers.")
  public Writer writer;

  /**
   * The writer as the ready proxies report it at their admin port's {@code /stats}: the server
   * behind spec.backend.host that last answered writable. When they disagree this is the address
   * most of them reach, and the WriterConsistent condition says who reaches what.
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Writer {
    @JsonPropertyDescription(
        "The host name and port the proxies follow (spec.backend.host), as they report it.")
    public String backend;

    @JsonPropertyDescription(
        "The server's ip:port that last answered writable: where the host name led at the proxies' last login or validation.")
    public String address;

    @JsonPropertyDescription(
        "When the operator first saw the proxies reach this address (RFC 3339).")
    public String since;

    @JsonPropertyDescription(
        "When a proxy last reported this address (RFC 3339); refreshed at every poll while one answers.")
    public String lastSeen;

    @JsonPropertyDescription(
        "True while a proxy reported a writer switch in progress (the writer turned read-only and no writable server answered yet).")
    public Boolean switching;

    @JsonPropertyDescription(
        "Writer switches seen: the highest count among the proxies (each counts from its own start).")
    public Long switches;

    @JsonPropertyDescription("When the last switch a proxy saw ended (RFC 3339).")
    public String lastSwitchAt;

    @JsonPropertyDescription(
        "How long that switch took: from the writer turning read-only to the first login on a writable server.")
    public String lastSwitchDuration;

    @JsonPropertyDescription("Ready proxies asked at the last poll.")
    public Integer proxiesAsked;

    @JsonPropertyDescription("Proxies that reported this address at the last poll.")
    public Integer proxiesAgreeing;
  }

  /**
   * The Little's Law figures the running proxies were rendered with. While the pool is blocked (see
   * the Stalled condition) these stay at the last applied values; the conditions explain the new
   * arithmetic.
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Sizing {
    @JsonPropertyDescription("ceil(peakTps x holdTime): connections busy at the peak.")
    public Long required;

    @JsonPropertyDescription("ceil(required x safetyFactor): connections across all replicas.")
    public Long total;

    @JsonPropertyDescription("The replica count the pool was split over.")
    public Integer replicas;

    @JsonPropertyDescription(
        "Backend connections each proxy pod may open (pool.maxConnections), after any override and clamp.")
    public Integer perReplica;

    @JsonPropertyDescription(
        "pool.minIdle as rendered: the spec's value, clamped to perReplica; absent for the proxy's default.")
    public Integer minIdle;

    @JsonPropertyDescription(
        "pool.maxIdle as rendered: the spec's value, clamped to perReplica; absent for the proxy's default (perReplica).")
    public Integer maxIdle;

    @JsonPropertyDescription(
        "Pods that can hold a pool at once during a rolling update: the replicas, the surge pod and the old pod still draining.")
    public Integer podsDuringRollout;

    @JsonPropertyDescription(
        "podsDuringRollout x (perReplica + 1 KILL connection): the most sessions the proxies can hold on the server during a rolling update (each proxy sends KILLs over one side connection outside its pool).")
    public Long maxDuringRollout;

    @JsonPropertyDescription("The backend's max_connections minus reservedConnections.")
    public Integer backendBudget;

    @JsonPropertyDescription(
        "Computed, Overridden (pool.maxConnections) or Clamped (cut to fit the backend budget).")
    public String source;

    @JsonPropertyDescription(
        "When the replica count above was applied; a larger change of spec.replicas is applied in steps, each after the previous one settled.")
    public String appliedAt;

    @JsonPropertyDescription(
        "With a read/write split: the share of the load the readers take (spec.workload.readShare, default 0.8).")
    public Double readShare;

    @JsonPropertyDescription(
        "With a read/write split: each reader's sizing. The writer above stays sized for the whole load, since it takes every read when all readers lag or are down.")
    public List<Reader> readers;

    @Override
    public boolean equals(Object o) {
      if (!(o instanceof Sizing)) {
        return false;
      }
      Sizing s = (Sizing) o;
      return Objects.equals(required, s.required)
          && Objects.equals(total, s.total)
          && Objects.equals(replicas, s.replicas)
          && Objects.equals(perReplica, s.perReplica)
          && Objects.equals(minIdle, s.minIdle)
          && Objects.equals(maxIdle, s.maxIdle)
          && Objects.equals(podsDuringRollout, s.podsDuringRollout)
          && Objects.equals(maxDuringRollout, s.maxDuringRollout)
          && Objects.equals(backendBudget, s.backendBudget)
          && Objects.equals(source, s.source)
          && Objects.equals(appliedAt, s.appliedAt)
          && Objects.equals(readShare, s.readShare)
          && Objects.equals(readers, s.readers);
    }

    @Override
    public int hashCode() {
      return Objects.hash(
          required,
          total,
          replicas,
          perReplica,
          minIdle,
          maxIdle,
          podsDuringRollout,
          maxDuringRollout,
          backendBudget,
          source,
          appliedAt,
          readShare,
          readers);
    }
  }

  /** One reader's sizing: its share of the load, and its budget against every proxy's pool. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Reader {
    @JsonPropertyDescription("The backend's name in the proxies' config, /stats and metrics.")
    public String name;

    @JsonPropertyDescription("host:port.")
    public String endpoint;

    @JsonPropertyDescription("Its share of the reads relative to the other readers.")
    public Integer weight;

    @JsonPropertyDescription(
        "ceil(total x readShare x weight / sum of weights): connections its share of the reads needs across all replicas at the peak.")
    public Long needed;

    @JsonPropertyDescription("Its max_connections minus reservedConnections.")
    public Integer budget;

    @JsonPropertyDescription(
        "podsDuringRollout x (perReplica + 1 KILL connection): the most the proxies can hold on it during a rolling update (each proxy's reader pool is as large as its writer pool).")
    public Long maxDuringRollout;

    @Override
    public boolean equals(Object o) {
      return o instanceof Reader r
          && Objects.equals(name, r.name)
          && Objects.equals(endpoint, r.endpoint)
          && Objects.equals(weight, r.weight)
          && Objects.equals(needed, r.needed)
          && Objects.equals(budget, r.budget)
          && Objects.equals(maxDuringRollout, r.maxDuringRollout);
    }

    @Override
    public int hashCode() {
      return Objects.hash(name, endpoint, weight, needed, budget, maxDuringRollout);
    }
  }

  /** The effective timeout chain. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Timeouts {
    @JsonPropertyDescription("frontend.clientIdleTimeout as rendered.")
    public String clientIdleTimeout;

    @JsonPropertyDescription("frontend.tcpKeepAliveIdle as rendered.")
    public String tcpKeepAliveIdle;

    @JsonPropertyDescription("pool.idleTimeout as rendered.")
    public String idleTimeout;

    @JsonPropertyDescription("pool.maxLifetime as rendered.")
    public String maxLifetime;

    @JsonPropertyDescription("shutdown.drainTimeout as rendered.")
    public String drainTimeout;

    @JsonPropertyDescription(
        "shutdown.loadBalancerWait as rendered: how long a stopping proxy keeps serving with its health check failing (behind an NLB).")
    public String loadBalancerWait;

    @JsonPropertyDescription("The preStop delay in seconds.")
    public Integer preStopDelaySeconds;

    @JsonPropertyDescription("The pod's terminationGracePeriodSeconds.")
    public Integer terminationGracePeriodSeconds;

    @Override
    public boolean equals(Object o) {
      if (!(o instanceof Timeouts)) {
        return false;
      }
      Timeouts t = (Timeouts) o;
      return Objects.equals(clientIdleTimeout, t.clientIdleTimeout)
          && Objects.equals(tcpKeepAliveIdle, t.tcpKeepAliveIdle)
          && Objects.equals(idleTimeout, t.idleTimeout)
          && Objects.equals(maxLifetime, t.maxLifetime)
          && Objects.equals(drainTimeout, t.drainTimeout)
          && Objects.equals(loadBalancerWait, t.loadBalancerWait)
          && Objects.equals(preStopDelaySeconds, t.preStopDelaySeconds)
          && Objects.equals(terminationGracePeriodSeconds, t.terminationGracePeriodSeconds);
    }

    @Override
    public int hashCode() {
      return Objects.hash(
          clientIdleTimeout,
          tcpKeepAliveIdle,
          idleTimeout,
          maxLifetime,
          drainTimeout,
          loadBalancerWait,
          preStopDelaySeconds,
          terminationGracePeriodSeconds);
    }
  }
}
