package dev.mysqlpool.operator.reconciler;

import dev.mysqlpool.operator.api.MySQLPool;
import dev.mysqlpool.operator.api.MySQLPoolSpec;
import dev.mysqlpool.operator.api.MySQLPoolStatus;
import dev.mysqlpool.operator.validation.ReaderSizing;
import dev.mysqlpool.operator.validation.Sizing;
import dev.mysqlpool.operator.validation.TimeoutChain;
import dev.mysqlpool.proxy.config.Durations;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.util.ArrayList;

/** The status's views of what was rendered and observed; pure mappings. */
final class StatusViews {
  private StatusViews() {}

  /** The sizing, with the readers' figures when the plan splits reads. */
  static MySQLPoolStatus.Sizing sizing(Sizing s, int replicas, ReaderSizing readers) {
    MySQLPoolStatus.Sizing out = sizing(s, replicas);
    if (readers != null) {
      out.readShare = readers.readShare();
      out.readers = new ArrayList<>();
      for (ReaderSizing.Reader r : readers.readers()) {
        MySQLPoolStatus.Reader v = new MySQLPoolStatus.Reader();
        v.name = r.name();
        v.endpoint = r.endpoint();
        v.weight = r.weight();
        v.needed = r.needed();
        v.budget = r.budget();
        v.maxDuringRollout = r.maxDuringRollout();
        out.readers.add(v);
      }
    }
    return out;
  }

  static MySQLPoolStatus.Sizing sizing(Sizing s, int replicas) {
    MySQLPoolStatus.Sizing out = new MySQLPoolStatus.Sizing();
    out.required = s.required();
    out.total = s.total();
    out.replicas = replicas;
    out.perReplica = s.perReplica();
    out.minIdle = s.minIdle();
    out.maxIdle = s.maxIdle();
    out.podsDuringRollout = s.pods();
    out.maxDuringRollout = s.maxDuringRollout();
    out.backendBudget = s.budget();
    out.source = s.source();
    return out;
  }

  static MySQLPoolStatus.Timeouts timeouts(TimeoutChain t) {
    MySQLPoolStatus.Timeouts out = new MySQLPoolStatus.Timeouts();
    out.clientIdleTimeout = Durations.format(t.clientIdleTimeout());
    out.tcpKeepAliveIdle = Durations.format(t.tcpKeepAliveIdle());
    out.idleTimeout = Durations.format(t.idleTimeout());
    out.maxLifetime = Durations.format(t.maxLifetime());
    out.drainTimeout = Durations.format(t.drainTimeout());
    out.loadBalancerWait = Durations.format(t.loadBalancerWait());
    out.preStopDelaySeconds = t.preStopDelaySeconds();
    out.terminationGracePeriodSeconds = t.terminationGracePeriodSeconds();
    return out;
  }

  /** The NLB's host and port, or the Service's cluster DNS name; null while the NLB is pending. */
  static String endpoint(MySQLPool pool, Service service) {
    MySQLPoolSpec.Service s = pool.getSpec().service;
    if (!"LoadBalancer".equals(s.type)) {
      return pool.getMetadata().getName()
          + "."
          + pool.getMetadata().getNamespace()
          + ".svc:"
          + s.port;
    }
    if (service == null
        || service.getStatus() == null
        || service.getStatus().getLoadBalancer() == null
        || service.getStatus().getLoadBalancer().getIngress() == null) {
      return null;
    }
    for (LoadBalancerIngress in : service.getStatus().getLoadBalancer().getIngress()) {
      String host = in.getHostname() != null ? in.getHostname() : in.getIp();
      if (host != null) {
        return host + ":" + s.port;
      }
    }
    return null;
  }

  /** Copies the Deployment's pod counts. */
  static void replicas(Deployment d, MySQLPoolStatus next) {
    if (d.getStatus() != null) {
      next.replicas = nz(d.getStatus().getReplicas());
      next.readyReplicas = nz(d.getStatus().getReadyReplicas());
    }
  }

  static int nz(Integer i) {
    return i == null ? 0 : i;
  }

  static long nz(Long l) {
    return l == null ? 0 : l;
  }
}
