package dev.mysqlpool.operator.validation;

import dev.mysqlpool.operator.api.MySQLPool;
import dev.mysqlpool.operator.api.MySQLPoolSpec;
import dev.mysqlpool.proxy.config.Durations;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks what the CRD schema cannot (or what a file given to {@code render} never went through):
 * required fields, cross-field rules and managed annotations. Pure: it returns every problem at
 * once and never throws.
 */
public final class MySQLPoolValidator {
  /**
   * Service annotations the operator sets itself; a user value would silently break the timeout
   * chain.
   */
  public static final String AWS_PREFIX = "service.beta.kubernetes.io/aws-load-balancer-";

  private static final Set<String> MANAGED_ANNOTATION_SUFFIXES =
      Set.of(
          "type",
          "nlb-target-type",
          "scheme",
          "target-group-attributes",
          "healthcheck-protocol",
          "healthcheck-port",
          "healthcheck-path",
          "healthcheck-interval",
          "healthcheck-healthy-threshold",
          "healthcheck-unhealthy-threshold");
  private static final Pattern DNS_LABEL = Pattern.compile("[a-z]([-a-z0-9]*[a-z0-9])?");
  private static final Pattern USER = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]*");
  private static final Pattern IPV4_CIDR = Pattern.compile("(\\d{1,3})(\\.\\d{1,3}){3}/(\\d{1,2})");
  private static final Pattern IPV6_CIDR =
      Pattern.compile("([0-9a-fA-F:.]*:[0-9a-fA-F:.]*)/(\\d{1,3})");

  /** The operator's own labels: the Deployment's selector and what its informers select by. */
  private static final String OWN_LABEL_PREFIX = "app.kubernetes.io/";

  private MySQLPoolValidator() {}

  /** Every problem of {@code pool}; empty when it can be rendered. */
  public static List<FieldError> validate(MySQLPool pool) {
    List<FieldError> errors = new ArrayList<>();
    String name = pool.getMetadata() == null ? null : pool.getMetadata().getName();
    if (name == null || name.isBlank()) {
      errors.add(new FieldError("metadata.name", "required"));
    } else if (name.length() > 63 || !DNS_LABEL.matcher(name).matches()) {
      errors.add(
          new FieldError(
              "metadata.name",
              "'"
                  + name
                  + "' must be a DNS label (lower-case letters, digits and"
                  + " '-', starting with a letter, at most 63 characters): it names the proxy's Service"));
    }
    MySQLPoolSpec spec = pool.getSpec();
    if (spec == null) {
      errors.add(new FieldError("spec", "required"));
      return errors;
    }
    spec.fillOptionalSections();
    backend(spec, errors);
    credentials(spec, errors);
    workload(spec, errors);
    if (spec.replicas < 1) {
      errors.add(
          new FieldError(
              "spec.replicas", spec.replicas + " is below 1; run at least one proxy pod"));
    }
    pool(spec.pool, errors);
    durations(spec, errors);
    service(spec.service, errors);
    TlsRules.check(spec, errors);
    RoutingRules.check(spec, errors);
    pod(spec, errors);
    return errors;
  }

  private static void backend(MySQLPoolSpec spec, List<FieldError> errors) {
    MySQLPoolSpec.Backend b = spec.backend;
    if (b == null) {
      errors.add(
          new FieldError(
              "spec.backend", "required; name the MySQL writer with host and maxConnections"));
      return;
    }
    if (b.host == null || b.host.isBlank()) {
      errors.add(
          new FieldError(
              "spec.backend.host", "required; the MySQL writer's host name or IP address"));
    }
    if (b.port < 1 || b.port > 65535) {
      errors.add(new FieldError("spec.backend.port", b.port + " is not a port; use 1 to 65535"));
    }
    if (b.maxConnections == null) {
      errors.add(
          new FieldError(
              "spec.backend.maxConnections",
              "required; the server's max_connections (SHOW VARIABLES LIKE 'max_connections')"));
    } else if (b.maxConnections < 1 || b.maxConnections > 100_000) {
      errors.add(
          new FieldError(
              "spec.backend.maxConnections",
              b.maxConnections
                  + " is out of range; copy the server's max_connections (1 to 100000)"));
    } else if (b.reservedConnections >= b.maxConnections) {
      errors.add(
          new FieldError(
              "spec.backend.reservedConnections",
              b.reservedConnections
                  + " is not below spec.backend.maxConnections ("
                  + b.maxConnections
                  + "); no connection is left for the"
                  + " proxies"));
    }
    if (b.reservedConnections < 0) {
      errors.add(
          new FieldError(
              "spec.backend.reservedConnections", b.reservedConnections + " is below 0"));
    }
    if (b.waitTimeoutSeconds < 1) {
      errors.add(
          new FieldError(
              "spec.backend.waitTimeoutSeconds",
              b.waitTimeoutSeconds + " is below 1; copy the server's wait_timeout"));
    }
  }

  private static void credentials(MySQLPoolSpec spec, List<FieldError> errors) {
    MySQLPoolSpec.Credentials c = spec.credentials;
    if (c == null) {
      errors.add(
          new FieldError("spec.credentials", "required; name the Secret of users and passwords"));
      return;
    }
    if (c.secretName == null || c.secretName.isBlank()) {
      errors.add(
          new FieldError(
              "spec.credentials.secretName", "required; the Secret whose keys are user names"));
    }
    if (c.users == null || c.users.isEmpty()) {
      errors.add(
          new FieldError(
              "spec.credentials.users", "required; list at least one user, e.g. [{name: app}]"));
      return;
    }
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < c.users.size(); i++) {
      MySQLPoolSpec.User u = c.users.get(i);
      String path = "spec.credentials.users[" + i + "].name";
      if (u == null || u.name == null || u.name.isBlank()) {
        errors.add(new FieldError(path, "required"));
        continue;
      }
      if (u.name.length() > 32 || !USER.matcher(u.name).matches()) {
        errors.add(
            new FieldError(
                path,
                "'"
                    + u.name
                    + "' must be 1 to 32 letters, digits, '_', '.' or '-': it is"
                    + " also the Secret key and the password file's name"));
      }
      if (!seen.add(u.name)) {
        errors.add(
            new FieldError(path, "'" + u.name + "' is listed twice; user names must be unique"));
      }
    }
  }

  private static void workload(MySQLPoolSpec spec, List<FieldError> errors) {
    MySQLPoolSpec.Workload w = spec.workload;
    if (w == null) {
      errors.add(new FieldError("spec.workload", "required; give peakTps and holdTime"));
      return;
    }
    if (w.peakTps == null) {
      errors.add(new FieldError("spec.workload.peakTps", "required; peak transactions per second"));
    } else if (w.peakTps < 1) {
      errors.add(new FieldError("spec.workload.peakTps", w.peakTps + " is below 1"));
    }
    if (w.holdTime == null) {
      errors.add(
          new FieldError(
              "spec.workload.holdTime",
              "required; how long a transaction holds a connection," + " e.g. 50ms"));
    } else {
      var d = Durations.parse(w.holdTime);
      if (d == null || d.isZero()) {
        errors.add(
            new FieldError(
                "spec.workload.holdTime",
                "'" + w.holdTime + "' is not a positive duration;" + " write it like 50ms or 2s"));
      }
    }
    if (!(w.safetyFactor >= 1 && w.safetyFactor <= 10)) {
      errors.add(
          new FieldError(
              "spec.workload.safetyFactor", w.safetyFactor + " is out of range; use 1 to 10"));
    }
  }

  private static void pool(MySQLPoolSpec.Pool p, List<FieldError> errors) {
    if (p.mode != null && !p.mode.equals("session") && !p.mode.equals("transaction")) {
      errors.add(
          new FieldError(
              "spec.pool.mode", "'" + p.mode + "' is not a pool mode; use session or transaction"));
    }
    if (p.minIdle != null && p.maxIdle != null && p.minIdle > p.maxIdle) {
      errors.add(
          new FieldError(
              "spec.pool.minIdle",
              p.minIdle
                  + " is above spec.pool.maxIdle ("
                  + p.maxIdle
                  + "); lower minIdle or raise maxIdle"));
    }
    if (p.maxIdle != null && p.maxConnections != null && p.maxIdle > p.maxConnections) {
      errors.add(
          new FieldError(
              "spec.pool.maxIdle",
              p.maxIdle
                  + " is above spec.pool.maxConnections ("
                  + p.maxConnections
                  + "); idle connections count toward maxConnections: lower spec.pool.maxIdle or"
                  + " raise spec.pool.maxConnections"));
    }
  }

  private static void durations(MySQLPoolSpec spec, List<FieldError> errors) {
    duration("spec.pool.idleTimeout", spec.pool.idleTimeout, errors);
    duration("spec.pool.maxLifetime", spec.pool.maxLifetime, errors);
    duration("spec.pool.connectTimeout", spec.pool.connectTimeout, errors);
    duration("spec.pool.acquireTimeout", spec.pool.acquireTimeout, errors);
    duration("spec.pool.validationInterval", spec.pool.validationInterval, errors);
    duration("spec.pool.leakDetectionThreshold", spec.pool.leakDetectionThreshold, errors);
    duration("spec.pool.switchoverTimeout", spec.pool.switchoverTimeout, errors);
    duration("spec.pool.dnsTtl", spec.pool.dnsTtl, errors);
    duration("spec.pool.tcpKeepAliveIdle", spec.pool.tcpKeepAliveIdle, errors);
    duration("spec.pool.tcpKeepAliveInterval", spec.pool.tcpKeepAliveInterval, errors);
    duration("spec.frontend.clientIdleTimeout", spec.frontend.clientIdleTimeout, errors);
    duration("spec.frontend.handshakeTimeout", spec.frontend.handshakeTimeout, errors);
    duration("spec.frontend.tcpKeepAliveIdle", spec.frontend.tcpKeepAliveIdle, errors);
    duration("spec.shutdown.drainTimeout", spec.shutdown.drainTimeout, errors);
    var connect = Durations.parse(spec.pool.connectTimeout);
    if (connect != null && connect.isZero()) {
      errors.add(new FieldError("spec.pool.connectTimeout", "must be greater than 0, e.g. 5s"));
    }
    var acquire = Durations.parse(spec.pool.acquireTimeout);
    if (acquire != null && acquire.isZero()) {
      errors.add(new FieldError("spec.pool.acquireTimeout", "must be greater than 0, e.g. 5s"));
    }
    var switchover = Durations.parse(spec.pool.switchoverTimeout);
    if (switchover != null && switchover.isZero()) {
      errors.add(
          new FieldError(
              "spec.pool.switchoverTimeout",
              "must be greater than 0, e.g. 30s: clients wait this long for a new writer during a"
                  + " failover"));
    }
    var handshake = Durations.parse(spec.frontend.handshakeTimeout);
    if (handshake != null && handshake.isZero()) {
      errors.add(
          new FieldError("spec.frontend.handshakeTimeout", "must be greater than 0, e.g. 10s"));
    }
    var leak = Durations.parse(spec.pool.leakDetectionThreshold);
    if (leak != null && !leak.isZero() && leak.toMillis() < 1000) {
      errors.add(
          new FieldError(
              "spec.pool.leakDetectionThreshold",
              spec.pool.leakDetectionThreshold
                  + " would warn about ordinary queries; use 0 (off) or at least 1s"));
    }
    var lifetime = Durations.parse(spec.pool.maxLifetime);
    if (lifetime != null && !lifetime.isZero() && lifetime.toMillis() < 1000) {
      errors.add(
          new FieldError(
              "spec.pool.maxLifetime",
              spec.pool.maxLifetime
                  + " is too short; use at least 1s, or leave it out to derive it from the server's wait_timeout"));
    }
  }

  private static void duration(String path, String value, List<FieldError> errors) {
    if (value != null && Durations.parse(value) == null) {
      errors.add(
          new FieldError(
              path, "'" + value + "' is not a duration; write it like 500ms, 30s, 5m or 1h"));
    }
  }

  private static void service(MySQLPoolSpec.Service s, List<FieldError> errors) {
    if (!"LoadBalancer".equals(s.type) && !"ClusterIP".equals(s.type)) {
      errors.add(
          new FieldError(
              "spec.service.type",
              "'" + s.type + "' is not supported; use LoadBalancer or" + " ClusterIP"));
    }
    if (!"internal".equals(s.scheme) && !"internet-facing".equals(s.scheme)) {
      errors.add(
          new FieldError(
              "spec.service.scheme",
              "'" + s.scheme + "' is not an NLB scheme; use internal or" + " internet-facing"));
    }
    if (s.nlbIdleTimeoutSeconds < 60 || s.nlbIdleTimeoutSeconds > 6000) {
      errors.add(
          new FieldError(
              "spec.service.nlbIdleTimeoutSeconds",
              s.nlbIdleTimeoutSeconds + " is outside what an NLB accepts; use 60 to 6000"));
    }
    if (s.deregistrationDelaySeconds < 0 || s.deregistrationDelaySeconds > 3600) {
      errors.add(
          new FieldError(
              "spec.service.deregistrationDelaySeconds",
              s.deregistrationDelaySeconds + " is outside what an NLB accepts; use 0 to 3600"));
    }
    for (Map.Entry<String, String> e : s.annotations.entrySet()) {
      String key = e.getKey();
      if (key.startsWith(AWS_PREFIX)
          && (MANAGED_ANNOTATION_SUFFIXES.contains(key.substring(AWS_PREFIX.length()))
              || key.startsWith(AWS_PREFIX + "listener-attributes."))) {
        errors.add(
            new FieldError(
                "spec.service.annotations[" + key + "]",
                "is managed by the operator from the"
                    + " spec.service fields (type, scheme, nlbIdleTimeoutSeconds, deregistrationDelaySeconds); set those"
                    + " instead"));
      }
    }
    for (int i = 0; i < s.sourceRanges.size(); i++) {
      String r = s.sourceRanges.get(i);
      if (!isCidr(r)) {
        errors.add(
            new FieldError(
                "spec.service.sourceRanges[" + i + "]",
                "'"
                    + r
                    + "' is not a CIDR: write an IPv4 address (each part 0-255) and a prefix up to 32,"
                    + " e.g. 203.0.113.0/24, or an IPv6 address and a prefix up to 128"));
      }
    }
    String attributes = s.annotations.get(AWS_PREFIX + "attributes");
    if (attributes != null && attributes.contains("load_balancing.cross_zone.enabled")) {
      errors.add(
          new FieldError(
              "spec.service.annotations[" + AWS_PREFIX + "attributes]",
              "sets load_balancing.cross_zone.enabled, which the operator manages; set"
                  + " spec.service.crossZoneLoadBalancing instead (its other attributes are kept)"));
    }
    ownLabels("spec.service.labels", s.labels, errors);
  }

  /** True for an IPv4 CIDR with octets 0-255 and a prefix up to 32, or an IPv6 one up to 128. */
  static boolean isCidr(String r) {
    if (r == null) {
      return false;
    }
    Matcher v4 = IPV4_CIDR.matcher(r);
    if (v4.matches()) {
      for (String octet : r.substring(0, r.indexOf('/')).split("\\.")) {
        if (octet.length() > 1 && octet.startsWith("0") || Integer.parseInt(octet) > 255) {
          return false;
        }
      }
      return Integer.parseInt(v4.group(3)) <= 32;
    }
    Matcher v6 = IPV6_CIDR.matcher(r);
    if (!v6.matches() || Integer.parseInt(v6.group(2)) > 128) {
      return false;
    }
    try {
      // A literal with colons is parsed, never resolved: no DNS lookup happens here.
      return InetAddress.getByName(v6.group(1)) instanceof Inet6Address;
    } catch (UnknownHostException e) {
      return false;
    }
  }

  private static void ownLabels(String path, Map<String, String> labels, List<FieldError> errors) {
    for (String key : labels.keySet()) {
      if (key.startsWith(OWN_LABEL_PREFIX)) {
        errors.add(
            new FieldError(
                path + "[" + key + "]",
                "app.kubernetes.io/ labels are the operator's (they select the proxy pods); use"
                    + " another key, e.g. example.com/team"));
      }
    }
  }

  private static void pod(MySQLPoolSpec spec, List<FieldError> errors) {
    ownLabels("spec.pod.labels", spec.pod.labels, errors);
    for (int i = 0; i < spec.pod.imagePullSecrets.size(); i++) {
      var ref = spec.pod.imagePullSecrets.get(i);
      if (ref == null || ref.getName() == null || ref.getName().isBlank()) {
        errors.add(
            new FieldError(
                "spec.pod.imagePullSecrets[" + i + "].name",
                "required; the name of a docker-registry Secret in the pool's namespace"));
      }
    }
    MySQLPoolSpec.Disruption d = spec.podDisruptionBudget;
    if (d.minAvailable != null && d.maxUnavailable != null) {
      errors.add(
          new FieldError(
              "spec.podDisruptionBudget",
              "set minAvailable or maxUnavailable, not both (Kubernetes takes only one)"));
    }
  }
}
