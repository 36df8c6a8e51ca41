package dev.mysqlpool.operator.reconciler;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mysqlpool.operator.api.MySQLPool;
import dev.mysqlpool.operator.api.MySQLPoolSpec;
import dev.mysqlpool.operator.api.MySQLPoolStatus;
import dev.mysqlpool.operator.common.Durations;
import dev.mysqlpool.operator.dependent.ConfigMapDependentResource;
import dev.mysqlpool.operator.dependent.DeploymentDependentResource;
import dev.mysqlpool.operator.dependent.Plans;
import dev.mysqlpool.operator.dependent.PodDisruptionBudgetDependentResource;
import dev.mysqlpool.operator.dependent.ServiceAccountDependentResource;
import dev.mysqlpool.operator.dependent.ServiceDependentResource;
import dev.mysqlpool.operator.render.Plan;
import dev.mysqlpool.operator.render.RenderSettings;
import dev.mysqlpool.operator.validation.FieldError;
import dev.mysqlpool.operator.validation.MySQLPoolValidator;
import dev.mysqlpool.operator.validation.Sizing;
import dev.mysqlpool.operator.validation.TimeoutChain;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.Workflow;
import io.javaoperatorsdk.operator.api.reconciler.dependent.Dependent;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reconciles a MySQLPool: validates it, sizes it, derives and checks its timeout chain, looks for
 * its Secret, and only when all of that holds runs the workflow of dependents (ConfigMap,
 * ServiceAccount, Service, Deployment, PDB). A bad spec or a missing Secret never throws: it
 * becomes a condition and an Event, and the objects already running keep their last good state. The
 * Secret is watched, so a pool whose Secret arrives late reconciles by itself.
 */
@Workflow(
    explicitInvocation = true,
    dependents = {
      @Dependent(type = ServiceAccountDependentResource.class, name = "serviceaccount"),
      @Dependent(type = ConfigMapDependentResource.class, name = "configmap"),
      @Dependent(type = ServiceDependentResource.class, name = "service"),
      @Dependent(
          type = DeploymentDependentResource.class,
          name = "deployment",
          dependsOn = {"serviceaccount", "configmap"}),
      @Dependent(type = PodDisruptionBudgetDependentResource.class, name = "pdb")
    })
@ControllerConfiguration(name = MySQLPoolReconciler.NAME)
public class MySQLPoolReconciler implements Reconciler<MySQLPool> {
  /** The controller's name, also its field manager. */
  public static final String NAME = "mysqlpool";

  private static final Logger log = LoggerFactory.getLogger(MySQLPoolReconciler.class);
  private static final String SECRET_INDEX = "mysqlpool.credentials.secret";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final RenderSettings settings;
  private final Clock clock;
  private final PoolMetrics metrics;

  /** A reconciler that renders with {@code settings} and publishes no metrics of its own. */
  public MySQLPoolReconciler(RenderSettings settings) {
    this(settings, new CompositeMeterRegistry());
  }

  /**
   * A reconciler that renders with {@code settings} and registers its per-pool gauges (e.g. {@code
   * mysqlpool_operator_sizing_valid}) in {@code registry}.
   */
  public MySQLPoolReconciler(RenderSettings settings, MeterRegistry registry) {
    this(settings, Clock.systemUTC(), registry);
  }

  MySQLPoolReconciler(RenderSettings settings, Clock clock) {
    this(settings, clock, new CompositeMeterRegistry());
  }

  MySQLPoolReconciler(RenderSettings settings, Clock clock, MeterRegistry registry) {
    this.settings = settings;
    this.clock = clock;
    this.metrics = new PoolMetrics(registry);
  }

  @Override
  public List<EventSource<?, MySQLPool>> prepareEventSources(
      EventSourceContext<MySQLPool> context) {
    context
        .getPrimaryCache()
        .addIndexer(
            SECRET_INDEX,
            pool -> {
              String secret = secretName(pool);
              return secret == null
                  ? List.of()
                  : List.of(secret + "#" + pool.getMetadata().getNamespace());
            });
    InformerEventSourceConfiguration<Secret> secrets =
        InformerEventSourceConfiguration.from(Secret.class, MySQLPool.class)
            .withName("credentials")
            .withNamespacesInheritedFromController()
            .withSecondaryToPrimaryMapper(
                secret ->
                    context
                        .getPrimaryCache()
                        .byIndex(
                            SECRET_INDEX,
                            secret.getMetadata().getName()
                                + "#"
                                + secret.getMetadata().getNamespace())
                        .stream()
                        .map(ResourceID::fromResource)
                        .collect(Collectors.toSet()))
            .withPrimaryToSecondaryMapper(
                (MySQLPool pool) -> {
                  String secret = secretName(pool);
                  return secret == null
                      ? Set.of()
                      : Set.of(new ResourceID(secret, pool.getMetadata().getNamespace()));
                })
            .build();
    return List.of(new InformerEventSource<>(secrets, context));
  }

  @Override
  public UpdateControl<MySQLPool> reconcile(MySQLPool pool, Context<MySQLPool> context) {
    String id = pool.getMetadata().getNamespace() + "/" + pool.getMetadata().getName();
    ResourceID rid = ResourceID.fromResource(pool);
    metrics.retain(r -> r.equals(rid) || context.getPrimaryCache().get(r).isPresent());
    MySQLPoolStatus previous = pool.getStatus() == null ? new MySQLPoolStatus() : pool.getStatus();
    Conditions conditions =
        new Conditions(previous.conditions, pool.getMetadata().getGeneration(), clock.instant());
    MySQLPoolStatus next = new MySQLPoolStatus();
    next.observedGeneration = pool.getMetadata().getGeneration();

    List<FieldError> errors = MySQLPoolValidator.validate(pool);
    if (!errors.isEmpty()) {
      String message = errors.stream().map(FieldError::toString).collect(Collectors.joining("; "));
      conditions.set(Conditions.SPEC_VALID, false, "InvalidSpec", message);
      conditions.unknown(
          Conditions.SIZING_VALID, "InvalidSpec", "not computed while the spec is invalid");
      conditions.unknown(
          Conditions.TIMEOUTS_VALID, "InvalidSpec", "not checked while the spec is invalid");
      conditions.unknown(
          Conditions.CREDENTIALS_FOUND, "InvalidSpec", "not checked while the spec is invalid");
      blocked(context, conditions, next, "InvalidSpec", message);
      metrics.forget(rid);
      return finish(pool, context, previous, next, conditions, id);
    }
    conditions.set(Conditions.SPEC_VALID, true, "Valid", "the spec passed validation");

    Plan plan = Plan.of(pool, settings);
    Sizing sizing = plan.sizing();
    conditions.set(Conditions.SIZING_VALID, sizing.valid(), sizing.reason(), sizing.message());
    metrics.sizing(rid, sizing.valid());
    next.sizing = sizingStatus(sizing);

    TimeoutChain timeouts = plan.timeouts();
    String clashes =
        timeouts.clashes().stream().map(FieldError::message).collect(Collectors.joining("; "));
    conditions.set(
        Conditions.TIMEOUTS_VALID,
        timeouts.valid(),
        timeouts.valid() ? "Consistent" : "TimeoutsClash",
        timeouts.valid() ? "the timeout chain holds" : clashes);
    next.timeouts = timeoutsStatus(timeouts);

    String missing =
        missingCredentials(
            pool.getSpec(),
            context.getSecondaryResource(Secret.class).orElse(null),
            pool.getMetadata().getNamespace());
    boolean credentials = missing == null;
    conditions.set(
        Conditions.CREDENTIALS_FOUND,
        credentials,
        credentials ? "Found" : reasonOf(missing),
        credentials
            ? "Secret \"" + pool.getSpec().credentials.secretName + "\" holds every user's password"
            : messageOf(missing));

    if (!sizing.usable()) {
      blocked(context, conditions, next, sizing.reason(), sizing.message());
    } else if (!timeouts.valid()) {
      blocked(context, conditions, next, "TimeoutsClash", clashes);
    } else if (!credentials) {
      blocked(context, conditions, next, reasonOf(missing), messageOf(missing));
    } else {
      Plans.put(context, plan);
      context
          .managedWorkflowAndDependentResourceContext()
          .reconcileManagedWorkflow()
          .throwAggregateExceptionIfErrorsPresent();
      observe(pool, context, conditions, next);
    }
    return finish(pool, context, previous, next, conditions, id);
  }

  @Override
  public ErrorStatusUpdateControl<MySQLPool> updateErrorStatus(
      MySQLPool pool, Context<MySQLPool> context, Exception e) {
    String id = pool.getMetadata().getNamespace() + "/" + pool.getMetadata().getName();
    log.atWarn()
        .addKeyValue("pool", id)
        .setCause(e)
        .log("reconciliation failed; retrying with backoff");
    MySQLPoolStatus status = pool.getStatus() == null ? new MySQLPoolStatus() : pool.getStatus();
    List<Condition> kept = new ArrayList<>();
    for (Condition c : status.conditions) {
      if (!Conditions.READY.equals(c.getType())) {
        kept.add(c);
      }
    }
    Conditions ready =
        new Conditions(status.conditions, pool.getMetadata().getGeneration(), clock.instant());
    ready.set(
        Conditions.READY,
        false,
        "ReconcileError",
        "while reconciling mysqlpool " + id + ": " + e.getMessage());
    kept.addAll(ready.list());
    status.conditions = kept;
    pool.setStatus(status);
    return ErrorStatusUpdateControl.patchStatus(pool);
  }

  /**
   * Marks the pool not Ready because of {@code reason}; running objects keep their last good state.
   */
  private static void blocked(
      Context<MySQLPool> context,
      Conditions conditions,
      MySQLPoolStatus next,
      String reason,
      String message) {
    boolean running = context.getSecondaryResource(Deployment.class).isPresent();
    conditions.set(
        Conditions.READY,
        false,
        reason,
        message
            + (running
                ? "; the running proxies keep their last good configuration"
                : "; no proxies are created until" + " this is fixed"));
    context.getSecondaryResource(Deployment.class).ifPresent(d -> replicas(d, next));
  }

  private static void observe(
      MySQLPool pool, Context<MySQLPool> context, Conditions conditions, MySQLPoolStatus next) {
    int want = pool.getSpec().replicas;
    Deployment d = context.getSecondaryResource(Deployment.class).orElse(null);
    int ready = 0;
    int updated = 0;
    boolean current = false;
    if (d != null) {
      replicas(d, next);
      if (d.getStatus() != null) {
        ready = nz(d.getStatus().getReadyReplicas());
        updated = nz(d.getStatus().getUpdatedReplicas());
        Long observed = d.getStatus().getObservedGeneration();
        current = observed != null && observed >= nz(d.getMetadata().getGeneration());
      }
    }
    boolean isReady = current && ready >= want && updated >= want;
    conditions.set(
        Conditions.READY,
        isReady,
        isReady ? "ProxiesReady" : "ProxiesNotReady",
        ready
            + "/"
            + want
            + " proxies ready"
            + (isReady
                ? ""
                : current ? ", " + updated + " updated" : ", rollout not observed yet"));
    next.endpoint = endpoint(pool, context.getSecondaryResource(Service.class).orElse(null));
  }

  private UpdateControl<MySQLPool> finish(
      MySQLPool pool,
      Context<MySQLPool> context,
      MySQLPoolStatus previous,
      MySQLPoolStatus next,
      Conditions conditions,
      String id) {
    next.conditions = conditions.list();
    for (Condition c : conditions.turnedFalse()) {
      if (Conditions.READY.equals(c.getType())) {
        continue; // Ready repeats its cause, which has its own Event; and a rollout in progress is
        // not news
      }
      log.atWarn()
          .addKeyValue("pool", id)
          .addKeyValue("condition", c.getType())
          .addKeyValue("reason", c.getReason())
          .log(c.getMessage());
      EventRecorder.warning(
          context.getClient(), pool, c.getReason(), c.getType() + ": " + c.getMessage());
    }
    if (JSON.valueToTree(previous).equals(JSON.valueToTree(next))) {
      return UpdateControl.noUpdate();
    }
    pool.setStatus(next);
    return UpdateControl.patchStatus(pool);
  }

  /** Null when the Secret holds every user; else "Reason|message". */
  static String missingCredentials(MySQLPoolSpec spec, Secret secret, String namespace) {
    String name = spec.credentials.secretName;
    if (secret == null) {
      return "SecretNotFound|Secret \""
          + name
          + "\" not found in namespace "
          + namespace
          + "; create it with one key per user, e.g. kubectl create secret generic "
          + name
          + " --from-literal="
          + spec.credentials.users.get(0).name
          + "=...";
    }
    Set<String> keys = new java.util.TreeSet<>();
    if (secret.getData() != null) {
      keys.addAll(secret.getData().keySet());
    }
    if (secret.getStringData() != null) {
      keys.addAll(secret.getStringData().keySet());
    }
    List<String> absent = new ArrayList<>();
    for (MySQLPoolSpec.User u : spec.credentials.users) {
      if (!keys.contains(u.name)) {
        absent.add(u.name);
      }
    }
    if (absent.isEmpty()) {
      return null;
    }
    return "KeyMissing|Secret \""
        + name
        + "\" has no key for user"
        + (absent.size() > 1 ? "s " : " ")
        + String.join(", ", absent)
        + " (it has: "
        + (keys.isEmpty() ? "none" : String.join(", ", keys))
        + ")";
  }

  private static String reasonOf(String missing) {
    return missing.substring(0, missing.indexOf('|'));
  }

  private static String messageOf(String missing) {
    return missing.substring(missing.indexOf('|') + 1);
  }

  private static String secretName(MySQLPool pool) {
    MySQLPoolSpec spec = pool.getSpec();
    return spec == null || spec.credentials == null ? null : spec.credentials.secretName;
  }

  private static String endpoint(MySQLPool pool, Service service) {
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

  private static void replicas(Deployment d, MySQLPoolStatus next) {
    if (d.getStatus() != null) {
      next.replicas = nz(d.getStatus().getReplicas());
      next.readyReplicas = nz(d.getStatus().getReadyReplicas());
    }
  }

  private static MySQLPoolStatus.Sizing sizingStatus(Sizing s) {
    MySQLPoolStatus.Sizing out = new MySQLPoolStatus.Sizing();
    out.required = s.required();
    out.total = s.total();
    out.perReplica = s.perReplica();
    out.maxDuringRollout = s.maxDuringRollout();
    out.backendBudget = s.budget();
    out.source = s.source();
    return out;
  }

  private static MySQLPoolStatus.Timeouts timeoutsStatus(TimeoutChain t) {
    MySQLPoolStatus.Timeouts out = new MySQLPoolStatus.Timeouts();
    out.clientIdleTimeout = Durations.format(t.clientIdleTimeout());
    out.tcpKeepAliveIdle = Durations.format(t.tcpKeepAliveIdle());
    out.idleTimeout = Durations.format(t.idleTimeout());
    out.maxLifetime = Durations.format(t.maxLifetime());
    out.drainTimeout = Durations.format(t.drainTimeout());
    out.preStopDelaySeconds = t.preStopDelaySeconds();
    out.terminationGracePeriodSeconds = t.terminationGracePeriodSeconds();
    return out;
  }

  private static int nz(Integer i) {
    return i == null ? 0 : i;
  }

  private static long nz(Long l) {
    return l == null ? 0 : l;
  }
}
