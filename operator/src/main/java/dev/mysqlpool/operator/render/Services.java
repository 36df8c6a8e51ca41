package dev.mysqlpool.operator.render;

import dev.mysqlpool.operator.api.MySQLPoolSpec;
import dev.mysqlpool.operator.common.Names;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import java.util.Map;
import java.util.TreeMap;

/**
 * The Service clients connect to. As a LoadBalancer it is annotated for the AWS Load Balancer
 * Controller: an NLB in IP target mode whose listener idle timeout, deregistration delay and health
 * check come from the spec. The health check hits the proxy's {@code /readyz}, which stays 200
 * while the database is down (never {@code /backendz}: a database outage would deregister every
 * target); its threshold and interval set how long the proxy keeps serving after SIGTERM ({@code
 * shutdown.loadBalancerWait}, TimeoutChain). Only the MySQL port is exposed; the admin port stays
 * inside the cluster.
 */
public final class Services {
  /** The annotation prefix of the AWS Load Balancer Controller. */
  public static final String AWS = "service.beta.kubernetes.io/aws-load-balancer-";

  private Services() {}

  /** The pool's Service. */
  public static Service service(Plan plan) {
    MySQLPoolSpec.Service s = plan.spec().service;
    return new ServiceBuilder()
        .withNewMetadata()
        .withName(Names.proxy(plan.name()))
        .withNamespace(plan.namespace())
        .withLabels(labels(plan))
        .withAnnotations(annotations(plan))
        .endMetadata()
        .withNewSpec()
        .withType(s.type)
        .withSelector(Names.selector(plan.name()))
        .addNewPort()
        .withName(Names.MYSQL_PORT_NAME)
        .withProtocol("TCP")
        .withPort(s.port)
        .withTargetPort(new IntOrString(Names.MYSQL_PORT_NAME))
        .endPort()
        .withLoadBalancerSourceRanges(
            plan.nlb() && !s.sourceRanges.isEmpty() ? s.sourceRanges : null)
        .endSpec()
        .build();
  }

  /** The user's Service labels, then the operator's. */
  static Map<String, String> labels(Plan plan) {
    Map<String, String> labels = new TreeMap<>(plan.spec().service.labels);
    labels.putAll(Names.labels(plan.name()));
    return labels;
  }

  /**
   * The user's annotations plus, for an NLB, the controller's; sorted, so the rendering is stable.
   */
  static Map<String, String> annotations(Plan plan) {
    MySQLPoolSpec.Service s = plan.spec().service;
    Map<String, String> a = new TreeMap<>(s.annotations);
    if (!plan.nlb()) {
      return a;
    }
    a.put(AWS + "type", "external");
    a.put(AWS + "nlb-target-type", "ip");
    a.put(AWS + "scheme", s.scheme);
    a.put(
        AWS + "target-group-attributes",
        "deregistration_delay.timeout_seconds="
            + s.deregistrationDelaySeconds
            + ",deregistration_delay.connection_termination.enabled=true"
            + ",preserve_client_ip.enabled=true");
    a.put(
        AWS + "listener-attributes.TCP-" + s.port,
        "tcp.idle_timeout.seconds=" + s.nlbIdleTimeoutSeconds);
    // Each zone's NLB node would otherwise send only to the proxies of its own zone, and a zone
    // with fewer proxies would load them beyond what their pools were sized for. Other attributes
    // the user set are kept.
    String crossZone = "load_balancing.cross_zone.enabled=" + s.crossZoneLoadBalancing;
    String attributes = s.annotations.get(AWS + "attributes");
    a.put(
        AWS + "attributes",
        attributes == null || attributes.isBlank() ? crossZone : attributes + "," + crossZone);
    a.put(AWS + "healthcheck-protocol", "http");
    a.put(AWS + "healthcheck-port", String.valueOf(Names.ADMIN_PORT));
    a.put(AWS + "healthcheck-path", Names.READY_PATH);
    a.put(AWS + "healthcheck-interval", String.valueOf(Names.NLB_HEALTHCHECK_INTERVAL_SECONDS));
    a.put(AWS + "healthcheck-healthy-threshold", String.valueOf(Names.NLB_HEALTHCHECK_THRESHOLD));
    a.put(AWS + "healthcheck-unhealthy-threshold", String.valueOf(Names.NLB_HEALTHCHECK_THRESHOLD));
    return a;
  }
}
