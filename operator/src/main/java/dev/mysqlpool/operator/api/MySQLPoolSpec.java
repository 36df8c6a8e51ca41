package dev.mysqlpool.operator.api;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.SchemaFrom;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.model.annotation.SpecReplicas;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the user declares. Field initializers equal the schema's {@code @Default}s, so a spec read
 * from a file (the {@code render} command, with no API server to apply defaults) behaves like one
 * read from the cluster.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription(
    "What the pool is: the MySQL writer and its limits, the Secret of users, the workload at its peak, and"
        + " optional overrides of the proxy's pool, client, shutdown, Service and pod settings.")
public class MySQLPoolSpec {
  /**
   * The schema pattern of a duration field, in the proxy config's syntax (proxy-config's {@code
   * Durations}): {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h}, or {@code 0}.
   */
  public static final String DURATION_PATTERN = "^(0|[0-9]{1,9}(ms|s|m|h))$";

  /**
   * The schema pattern of a CIDR: IPv4 with every octet 0-255 and a prefix up to 32, or IPv6 with a
   * prefix up to 128 (the validator parses IPv6 fully).
   */
  public static final String CIDR_PATTERN =
      "^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])/(3[0-2]|[12]?[0-9])$"
          + "|^[0-9a-fA-F:.]*:[0-9a-fA-F:.]*/(12[0-8]|1[01][0-9]|[1-9]?[0-9])$";

  @Required
  @JsonPropertyDescription(
      "The MySQL writer the proxies pool connections to, and the server limits the operator sizes against.")
  public Backend backend;

  @Required
  @JsonPropertyDescription(
      "Where the users and passwords come from. Passwords stay in the Secret and are mounted as files; they never enter a ConfigMap.")
  public Credentials credentials;

  @Required
  @JsonPropertyDescription(
      "The workload at its peak. The operator applies Little's Law to it: required = ceil(peakTps x holdTime), total = ceil(required x safetyFactor), perReplica = ceil(total / replicas).")
  public Workload workload;

  @Default("2")
  @Min(1)
  @Max(100)
  @SpecReplicas
  @JsonPropertyDescription(
      "Number of proxy pods; the scale subresource, so an HPA (kubectl autoscale mpool) can set it. The pool's total is split over them: more replicas means fewer backend connections each, applied live without restarting the proxies. During a rolling update the surge pod and one draining pod count against the backend's budget too.")
  public int replicas = 2;

  @JsonPropertyDescription(
      "TLS between clients and the proxies: the mode and a kubernetes.io/tls Secret (cert-manager's). Left out: optional, with a self-signed certificate.")
  public FrontendTlsSpec tls;

  @JsonPropertyDescription(
      "Overrides of the proxy's pool settings. Leave fields out to let the operator derive them (maxConnections, idleTimeout, maxLifetime) or the proxy default them.")
  public Pool pool = new Pool();

  @JsonPropertyDescription(
      "Overrides of the proxy's client-side settings. clientIdleTimeout and tcpKeepAliveIdle are derived from the NLB idle timeout when left out.")
  public Frontend frontend = new Frontend();

  @JsonPropertyDescription(
      "How a proxy pod stops: behind an NLB it fails its health check, serves until the NLB stopped sending, then drains, all inside the deregistration delay and the grace period.")
  public Shutdown shutdown = new Shutdown();

  @JsonPropertyDescription(
      "The Service in front of the proxies: an AWS NLB through the AWS Load Balancer Controller (default) or a ClusterIP.")
  public Service service = new Service();

  @JsonPropertyDescription(
      "The read/write split over spec.backend.readers. Left out: every statement goes to the writer.")
  public RoutingSpec routing;

  @JsonPropertyDescription("Scheduling and resources of the proxy pods.")
  public PodSpec pod = new PodSpec();

  @JsonPropertyDescription(
      "The proxies' PodDisruptionBudget. Default: maxUnavailable 1, or 0 with a single replica.")
  public Disruption podDisruptionBudget = new Disruption();

  /**
   * Replaces optional sections written as {@code null} with their defaults, so derivations can read
   * every section. Returns this spec.
   */
  public MySQLPoolSpec fillOptionalSections() {
    if (pool == null) {
      pool = new Pool();
    }
    if (frontend == null) {
      frontend = new Frontend();
    }
    if (shutdown == null) {
      shutdown = new Shutdown();
    }
    if (service == null) {
      service = new Service();
    }
    if (service.annotations == null) {
      service.annotations = new LinkedHashMap<>();
    }
    if (service.sourceRanges == null) {
      service.sourceRanges = new ArrayList<>();
    }
    if (pod == null) {
      pod = new PodSpec();
    }
    if (pod.labels == null) {
      pod.labels = new LinkedHashMap<>();
    }
    if (pod.annotations == null) {
      pod.annotations = new LinkedHashMap<>();
    }
    if (pod.imagePullSecrets == null) {
      pod.imagePullSecrets = new ArrayList<>();
    }
    if (service.labels == null) {
      service.labels = new LinkedHashMap<>();
    }
    if (podDisruptionBudget == null) {
      podDisruptionBudget = new Disruption();
    }
    if (backend != null && backend.readers == null) {
      backend.readers = new ArrayList<>();
    }
    if (routing != null && routing.rules == null) {
      routing.rules = new ArrayList<>();
    }
    return this;
  }

  /** True when reads are split off to {@code backend.readers}. */
  public boolean readWriteSplit() {
    return routing != null && routing.readWriteSplit;
  }

  /** The MySQL writer and its limits. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @ValidationRule(
      value = "self.reservedConnections < self.maxConnections",
      message =
          "reservedConnections must be below maxConnections, or no connection is left for the proxies")
  public static class Backend {
    @Required
    @Size(min = 1, max = 253)
    @JsonPropertyDescription(
        "Host name or IP address of the MySQL writer, e.g. orders.cluster-abc.eu-west-1.rds.amazonaws.com: the cluster (writer) endpoint, never a reader endpoint. The proxies follow it as a writer: they check after each login that the server is writable and, when it turns read-only (failover, switchover), hold clients while the name moves to the new writer (pool.switchoverTimeout), resolving it again every pool.dnsTtl.")
    public String host;

    @Default("3306")
    @Min(1)
    @Max(65535)
    @JsonPropertyDescription("MySQL port of the writer.")
    public int port = 3306;

    @Required
    @Min(1)
    @Max(100000)
    @JsonPropertyDescription(
        "The server's max_connections (SHOW VARIABLES LIKE 'max_connections'). The proxies never open more than this minus reservedConnections, even during a rolling update.")
    public Integer maxConnections;

    @Default("10")
    @Min(0)
    @JsonPropertyDescription(
        "Connections kept free for admins, monitoring and replication. MySQL keeps one extra connection for CONNECTION_ADMIN; real operations need more.")
    public int reservedConnections = 10;

    @Default("28800")
    @Min(1)
    @Max(31536000)
    @JsonPropertyDescription(
        "The server's wait_timeout in seconds. pool.maxLifetime and pool.idleTimeout must stay below it, or the server closes connections the pool still trusts.")
    public int waitTimeoutSeconds = 28800;

    @JsonPropertyDescription(
        "TLS from the proxies to the writer and the readers: the mode (MySQL's ssl-mode names) and the CA to verify them against.")
    public BackendTlsSpec tls;

    @Size(max = 15)
    @JsonPropertyDescription(
        "Read replicas for spec.routing.readWriteSplit (refused without it): each a replica, or one entry for an Aurora reader endpoint. At most 15, Aurora's replica limit.")
    public List<ReaderSpec> readers = new ArrayList<>();
  }

  /** A reference to the Secret of users and passwords. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @ValidationRule(
      value = "self.users.all(u, self.users.exists_one(v, v.name == u.name))",
      message = "user names must be unique")
  public static class Credentials {
    @Required
    @Size(min = 1, max = 253)
    @Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    @JsonPropertyDescription(
        "Name of a Secret in the pool's namespace. Each key is a user name and its value that user's password, e.g. kubectl create secret generic orders-db-users --from-literal=app=s3cret.")
    public String secretName;

    @Required
    @Size(min = 1, max = 64)
    @JsonPropertyDescription(
        "The users clients log in with. Each needs a key of the same name in the Secret.")
    public List<User> users = new ArrayList<>();
  }

  /** A MySQL account clients log in to the proxy with. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @JsonClassDescription(
      "A MySQL account clients log in to the proxies with; its password is the Secret key of the same name.")
  public static class User {
    @Required
    @Size(min = 1, max = 32)
    @Pattern("^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
    @JsonPropertyDescription("The user name, also the Secret key that holds its password.")
    public String name;

    @Size(min = 1, max = 32)
    @JsonPropertyDescription(
        "The account the proxy logs in to the backend with; defaults to name. Its password is the same Secret value.")
    public String backendUser;

    public User() {}

    public User(String name) {
      this.name = name;
    }
  }

  /** The peak workload, the input of the sizing. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Workload {
    @Required
    @Min(1)
    @Max(10000000)
    @JsonPropertyDescription("Peak transactions per second across all clients of this pool.")
    public Integer peakTps;

    @Required
    @Pattern("^[0-9]{1,9}(ms|s|m|h)$")
    @JsonPropertyDescription(
        "How long one transaction holds a backend connection, e.g. 50ms. Use the average for steady load, the p99 when bursts of slow transactions must not queue. Exact in transaction mode; in session mode a client holds its connection for its whole session, so the pool must also cover the client connections open at once (see docs/sizing.md).")
    public String holdTime;

    @Default("2")
    @Min(1)
    @Max(10)
    @JsonPropertyDescription(
        "Headroom multiplied onto the Little's Law figure. 2 is the usual choice; lower it before raising max_connections.")
    public double safetyFactor = 2;

    @Min(0)
    @Max(1)
    @JsonPropertyDescription(
        "With spec.routing.readWriteSplit: the share of peakTps that are reads the readers can take, 0 to 1 (0.8: four reads to one write). It splits the load over the readers by weight for their sizing; the writer stays sized for the whole load, since it takes every read when all readers lag or are down. Default with the split: 0.8; ignored without it.")
    public Double readShare;

    /** The read share used with the split when {@link #readShare} is left out. */
    public static final double DEFAULT_READ_SHARE = 0.8;
  }

  /** Overrides of the proxy's {@code pool} section. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @ValidationRule(
      value = "!has(self.minIdle) || !has(self.maxIdle) || self.minIdle <= self.maxIdle",
      message = "minIdle must not exceed maxIdle")
  @ValidationRule(
      value =
          "!has(self.maxIdle) || !has(self.maxConnections) || self.maxIdle <= self.maxConnections",
      message = "maxIdle must not exceed maxConnections")
  public static class Pool {
    @Default("session")
    @SchemaFrom(type = SchemaEnums.PoolMode.class)
    @JsonPropertyDescription(
        "session: a client keeps one backend connection until it disconnects. transaction: a client holds a backend connection only while a statement or transaction is in flight, so many client connections share maxConnections; session state the proxy cannot carry (user variables, temporary tables, LOCK TABLES, GET_LOCK, server-side prepared statements, variables outside the carried set) pins the client to its backend.")
    public String mode = "session";

    @Min(1)
    @Max(100000)
    @JsonPropertyDescription(
        "Backend connections per proxy pod. Overrides the Little's Law figure, but is still checked against the backend's budget and clamped to it.")
    public Integer maxConnections;

    @Min(0)
    @Max(100000)
    @JsonPropertyDescription(
        "Idle backend connections each proxy keeps open (warm). Proxy default: 0.")
    public Integer minIdle;

    @Min(0)
    @Max(100000)
    @JsonPropertyDescription(
        "Most idle backend connections each proxy keeps. Proxy default: maxConnections.")
    public Integer maxIdle;

    @Pattern(DURATION_PATTERN)
    @JsonPropertyDescription(
        "Close a backend connection idle this long, e.g. 10m. Derived: the shorter of 10m and 80% of the server's wait_timeout. Must stay below wait_timeout.")
    public String idleTimeout;

    @Pattern(DURATION_PATTERN)
    @JsonPropertyDescription(
        "Recycle a backend connection after this long, e.g. 30m. Derived: 30m, or 80% of the server's wait_timeout when that is shorter (the proxy never exceeds 80% either). Must stay below wait_timeout.")
    public String maxLifetime;

    @Pattern(DURATION_PATTERN)
    @JsonPropertyDescription(
        "Give up opening a backend connection after this long. Proxy default: 5s.")
    public String connectTimeout;

    @Pattern(DURATION_PATTERN)
    @JsonPropertyDescription(
        "A client waits at most this long for a free backend connection. Proxy default: 5s.")
    public String acquireTimeout;

    @Pattern(DURATION_PATTERN)
    @JsonPropertyDescription(
        "Check an idle backend connection with a ping after it sat this long. Proxy default: 30s.")
    public String validationInterval;

    @Pattern(DURATION_PATTERN)
    @JsonPropertyDescription(
        "Log a warning when a client holds a connection this long; 0 turns it off. Proxy default: 0.")
    public String leakDetectionThreshold;

    @Min(1)
    @Max(1000)
    @JsonPropertyDescription(
        "Most backend connections a proxy opens at the same time, so a burst cannot stampede the server. Proxy default: 2.")
    public Integer maxConcurrentConnects;

    @Pattern(DURATION_PATTERN)
    @JsonPropertyDescription(
        "During a writer switch (failover, switchover: the writer turned read-only), a client that needs a backend connection waits up to this long for the host name to lead to a writable server, then gets error 9001 naming the backend and the wait. Like RDS Proxy's connection borrow timeout, but only while switching; acquireTimeout applies otherwise. Proxy default: 30s.")
    public String switchoverTimeout;

    @Pattern(DURATION_PATTERN)
    @JsonPropertyDescription(
        "How long the proxy uses a resolved backend.host before resolving it again; connections to an address the name left retire. 0 resolves for every new connection; at most 1h. Keep it near the endpoint's own DNS TTL (Aurora and RDS: 5s). Proxy default: 5s.")
    public String dnsTtl;

    @Pattern(DURATION_PATTERN)
    @JsonPropertyDescription(
        "TCP keepalive idle time on backend sockets: silence before probes start, whole seconds; 0 keeps the kernel's defaults (about 2h). With interval and count it bounds how long a session hangs on a writer that vanished without closing. Proxy default: 30s.")
    public String tcpKeepAliveIdle;

    @Pattern(DURATION_PATTERN)
    @JsonPropertyDescription(
        "Time between TCP keepalive probes on backend sockets, whole seconds. Proxy default: 10s.")
    public String tcpKeepAliveInterval;

    @Min(1)
    @Max(127)
    @JsonPropertyDescription(
        "Unanswered TCP keepalive probes before a backend socket is closed. Proxy default: 3 (a dead writer is noticed within idle + interval x count, 60s).")
    public Integer tcpKeepAliveCount;

    @Min(0)
    @Max(100000)
    @JsonPropertyDescription(
        "Transaction mode: server-side prepared statements each backend connection keeps (the least recently used is closed on the server beyond it), so the server holds at most pool.maxConnections x this many per proxy; keep that under the server's max_prepared_stmt_count. 0 turns sharing off: a client that prepares a statement is pinned to its connection. Proxy default: 100.")
    public Integer maxPreparedStatementsPerConnection;
  }

  /** Overrides of the proxy's {@code frontend} section. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Frontend {
    @Min(1)
    @Max(1000000)
    @JsonPropertyDescription("Most client connections one proxy pod accepts. Proxy default: 10000.")
    public Integer maxClientConnections;

    @Pattern(DURATION_PATTERN)
    @JsonPropertyDescription(
        "Close a client session idle this long. Derived from the NLB: service.nlbIdleTimeoutSeconds minus 30s, so the proxy, not the NLB, ends idle sessions and frees their backend connections. Must stay 10s below the NLB idle timeout.")
    public String clientIdleTimeout;

    @Pattern(DURATION_PATTERN)
    @JsonPropertyDescription("Time to complete the MySQL handshake. Proxy default: 10s.")
    public String handshakeTimeout;

    @Pattern(DURATION_PATTERN)
    @JsonPropertyDescription(
        "TCP keepalive idle time on client sockets. Derived: 60s, kept 10s below the NLB idle timeout so live idle flows are not dropped.")
    public String tcpKeepAliveIdle;
  }

  /** How a proxy pod stops. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Shutdown {
    @Pattern(DURATION_PATTERN)
    @JsonPropertyDescription(
        "How long the proxy waits for sessions in a transaction to end once its listener closed. Default: 30s; behind an NLB at most what the deregistration delay leaves after the load-balancer wait (see docs/timeouts.md).")
    public String drainTimeout;

    @Min(0)
    @Max(3600)
    @JsonPropertyDescription(
        "Seconds the preStop hook waits before SIGTERM. Derived: 0 behind an NLB (at SIGTERM the proxy fails its health check and keeps serving until the NLB stopped sending: shutdown.loadBalancerWait), 5 behind a ClusterIP. Behind an NLB, preStop + load-balancer wait + drainTimeout must fit in service.deregistrationDelaySeconds.")
    public Integer preStopDelaySeconds;

    @Min(1)
    @Max(7200)
    @JsonPropertyDescription(
        "The pod's terminationGracePeriodSeconds. Derived: preStop + load-balancer wait + drainTimeout + 10. Must exceed their sum.")
    public Integer terminationGracePeriodSeconds;
  }

  /** The Service in front of the proxies. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Service {
    @Default("LoadBalancer")
    @SchemaFrom(type = SchemaEnums.ServiceType.class)
    @JsonPropertyDescription(
        "LoadBalancer: an AWS NLB in IP target mode through the AWS Load Balancer Controller. ClusterIP: in-cluster clients only.")
    public String type = "LoadBalancer";

    @Default("3306")
    @Min(1)
    @Max(65535)
    @JsonPropertyDescription("The port clients connect to on the Service (and the NLB listener).")
    public int port = 3306;

    @Default("internal")
    @SchemaFrom(type = SchemaEnums.Scheme.class)
    @JsonPropertyDescription("The NLB's scheme: internal (VPC only) or internet-facing.")
    public String scheme = "internal";

    @Default("350")
    @Min(60)
    @Max(6000)
    @JsonPropertyDescription(
        "The NLB listener's TCP idle timeout in seconds (AWS default 350). The proxy's client idle timeout and TCP keepalive are kept below it.")
    public int nlbIdleTimeoutSeconds = 350;

    @Default("60")
    @Min(0)
    @Max(3600)
    @JsonPropertyDescription(
        "The target group's deregistration delay in seconds. Connection termination is enabled, so the NLB resets what is still open when it ends: it must hold the proxy's whole shutdown, the load-balancer wait (25s: 2 failed health checks 10s apart + 5s) plus shutdown.drainTimeout.")
    public int deregistrationDelaySeconds = 60;

    @JsonPropertyDescription(
        "Extra Service annotations. Keys the operator manages (type, scheme, target type, attributes, health checks) are refused: set the matching field instead.")
    public Map<String, String> annotations = new LinkedHashMap<>();

    @Size(max = 100)
    @JsonPropertyDescription(
        "CIDRs allowed to reach the NLB (loadBalancerSourceRanges), e.g. 203.0.113.0/24 or 2001:db8::/32.")
    public List<@Pattern(CIDR_PATTERN) String> sourceRanges = new ArrayList<>();

    @JsonPropertyDescription(
        "Extra labels on the Service, e.g. for a service mesh or a cost report. The operator's app.kubernetes.io/ labels cannot be overridden.")
    public Map<String, String> labels = new LinkedHashMap<>();

    @Default("true")
    @JsonPropertyDescription(
        "NLB only: spread connections over the proxies in every zone (the NLB attribute load_balancing.cross_zone.enabled). Without it each zone's NLB node sends only to the proxies of its own zone, so a zone with fewer proxies gets more connections per proxy than its pools were sized for.")
    public boolean crossZoneLoadBalancing = true;
  }

  /**
   * The proxies' PodDisruptionBudget: how many may be evicted at once (node drains, cluster
   * upgrades).
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @ValidationRule(
      value = "!(has(self.minAvailable) && has(self.maxUnavailable))",
      message = "set minAvailable or maxUnavailable, not both")
  public static class Disruption {
    @JsonPropertyDescription(
        "Proxy pods that must stay available during voluntary disruptions: a number or a percentage, e.g. 1 or 50%.")
    public IntOrString minAvailable;

    @JsonPropertyDescription(
        "Proxy pods that may be unavailable at once during voluntary disruptions: a number or a percentage. Default: 1 with two or more replicas; with one replica 0, so a node drain waits instead of taking the only proxy down (set 1 to allow it).")
    public IntOrString maxUnavailable;
  }
}
