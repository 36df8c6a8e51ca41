package dev.mysqlpool.operator.reconciler;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mysqlpool.operator.api.MySQLPool;
import dev.mysqlpool.operator.api.MySQLPoolSpec;
import dev.mysqlpool.operator.api.MySQLPoolStatus;
import dev.mysqlpool.operator.common.Names;
import dev.mysqlpool.operator.dependent.ConfigMapDependentResource;
import dev.mysqlpool.operator.dependent.DeploymentDependentResource;
import dev.mysqlpool.operator.dependent.Plans;
import dev.mysqlpool.operator.dependent.PodDisruptionBudgetDependentResource;
import dev.mysqlpool.operator.dependent.ServiceAccountDependentResource;
import dev.mysqlpool.operator.dependent.ServiceDependentResource;
import dev.mysqlpool.operator.render.Admission;
import dev.mysqlpool.operator.render.Plan;
import dev.mysqlpool.operator.render.RenderSettings;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.MaxReconciliationInterval;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.Workflow;
import io.javaoperatorsdk.operator.api.reconciler.dependent.Dependent;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reconciles a MySQLPool: validates it, sizes it, derives and checks its timeout chain, reads its
 * Secret of users and the TLS Secret and CA bundle it names by name, and only when all of that
 * holds runs the workflow of dependents (ConfigMap, ServiceAccount, Service, Deployment, PDB) and
 * writes the connection Secret. A bad spec or a missing Secret never throws: it becomes a condition
 * and an Event, and the objects already running keep their last good state. No informer caches
 * Secrets; a pool whose Secret (or CA ConfigMap) is missing looks again every {@link
 * #CREDENTIALS_RETRY}, so one that arrives late is picked up by itself. While proxies run, each
 * reconciliation (and one every {@link WriterPoll#INTERVAL}) asks the ready ones which writer they
 * reach, for status.writer.
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
@ControllerConfiguration(
    name = MySQLPoolReconciler.NAME,
    // No informer watches Secrets (that would cache every Secret in the cluster): each
    // reconciliation reads the pool's own Secret by name, and this resync carries a password change
    // into the connection Secret.
    maxReconciliationInterval =
        @MaxReconciliationInterval(interval = 5, timeUnit = TimeUnit.MINUTES))
public class MySQLPoolReconciler implements Reconciler<MySQLPool> {
  /** The controller's name, also its field manager. */
  public static final String NAME = "mysqlpool";

  private static final Logger log = LoggerFactory.getLogger(MySQLPoolReconciler.class);

  /** How soon a pool whose Secret is missing (or lacks a key) looks again. */
  static final Duration CREDENTIALS_RETRY = Duration.ofSeconds(10);

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * How long one step of a replica change takes to settle: the kubelet refreshes a mounted
   * ConfigMap within about a minute and the proxy re-reads it every few seconds; a stopped proxy
   * drains for at most its grace period (75 s by default).
   */
  static final Duration SCALE_SETTLE = Duration.ofSeconds(90);

  private final RenderSettings settings;
  private final Clock clock;
  private final PoolMetrics metrics;
  private final Duration settle;
  private final WriterPoll writerPoll;

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
    this(settings, clock, registry, SCALE_SETTLE);
  }

  MySQLPoolReconciler(
      RenderSettings settings, Clock clock, MeterRegistry registry, Duration settle) {
    this(settings, clock, registry, settle, new WriterPoll(WriterPoll.INTERVAL));
  }

  /** A reconciler that polls the proxies' writer every {@code writerPollInterval}. */
  MySQLPoolReconciler(RenderSettings settings, Duration writerPollInterval) {
    this(
        settings,
        Clock.systemUTC(),
        new CompositeMeterRegistry(),
        SCALE_SETTLE,
        new WriterPoll(writerPollInterval));
  }

  private MySQLPoolReconciler(
      RenderSettings settings,
      Clock clock,
      MeterRegistry registry,
      Duration settle,
      WriterPoll writerPoll) {
    this.settings = settings;
    this.clock = clock;
    this.metrics = new PoolMetrics(registry);
    this.settle = settle;
    this.writerPoll = writerPoll;
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
    next.selector = Names.selectorString(pool.getMetadata().getName());

    Secret secret = credentialsSecret(pool, context);
    Admission.Check credentials =
        secretName(pool) == null
            ? null
            : Credentials.check(
                pool.getSpec().fillOptionalSections(), secret, pool.getMetadata().getNamespace());
    Admission.Check certificates =
        pool.getSpec() == null || pool.getSpec().backend == null
            ? null
            : certificates(pool, context);
    List<Admission.Check> found = new ArrayList<>();
    if (credentials != null) {
      found.add(credentials);
    }
    if (certificates != null) {
      found.add(certificates);
    }
    ScaleStep step = scaleStep(pool, previous);
    MySQLPool subject = pool;
    if (pool.getSpec() != null && step.replicas() != pool.getSpec().replicas) {
      // A larger replica change goes in steps: render this step's count, not the spec's yet.
      subject = JSON.convertValue(pool, MySQLPool.class);
      subject.getSpec().replicas = step.replicas();
    }
    Admission admission = Admission.of(subject, settings, poolsOnSameWriter(pool, context), found);
    for (Admission.Check c : admission.checks()) {
      conditions.set(c.type(), c.ok(), c.reason(), c.message());
    }
    if (admission.plan() == null) {
      List<String> unchecked =
          new ArrayList<>(
              List.of(
                  Admission.SIZING_VALID,
                  Admission.TIMEOUTS_VALID,
                  Admission.CONFIG_ACCEPTED,
                  Admission.CREDENTIALS_FOUND));
      if (certificates != null) {
        unchecked.add(Admission.CERTIFICATES_FOUND);
      }
      for (String type : unchecked) {
        conditions.unknown(type, "InvalidSpec", "not checked while the spec is invalid");
      }
      metrics.forget(rid);
    } else {
      metrics.sizing(rid, admission.plan().sizing().valid());
    }

    if (!admission.renders()) {
      Admission.Check b = admission.blocking();
      blocked(context, conditions, previous, next, b.reason(), b.message());
    } else {
      Plan plan = admission.plan();
      next.sizing = StatusViews.sizing(plan.sizing(), plan.spec().replicas, plan.readers());
      next.sizing.appliedAt =
          previous.sizing != null && Objects.equals(previous.sizing.replicas, step.replicas())
              ? previous.sizing.appliedAt
              : clock.instant().truncatedTo(ChronoUnit.SECONDS).toString();
      next.timeouts = StatusViews.timeouts(plan.timeouts());
      Plans.put(context, plan);
      context
          .managedWorkflowAndDependentResourceContext()
          .reconcileManagedWorkflow()
          .throwAggregateExceptionIfErrorsPresent();
      ConnectionSecretWriter.apply(context.getClient(), pool, plan, secret);
      observe(pool, context, conditions, next);
      if (step.message() != null) {
        conditions.set(Conditions.RECONCILING, true, "ScalingInSteps", step.message());
      }
    }
    boolean running = context.getSecondaryResource(Deployment.class).isPresent();
    if (running) {
      observeWriter(pool, context, conditions, previous, next);
    }
    UpdateControl<MySQLPool> control = finish(pool, context, previous, next, conditions, id);
    Duration again = null;
    if (admission.renders() && step.delay() != null) {
      again = step.delay();
    }
    if (credentials != null && !credentials.ok() || certificates != null && !certificates.ok()) {
      // Nothing watches Secrets or ConfigMaps: look again soon, so one created later (e.g. by
      // cert-manager) takes effect.
      again = sooner(again, CREDENTIALS_RETRY);
    }
    if (running) {
      // Nothing watches the proxies' writer: ask them again soon, so a failover shows in the
      // status within one interval.
      again = sooner(again, writerPoll.interval());
    }
    if (again != null) {
      control.rescheduleAfter(again);
    }
    return control;
  }

  private static Duration sooner(Duration a, Duration b) {
    return a == null || b.compareTo(a) < 0 ? b : a;
  }

  /**
   * Asks the ready proxies which writer they reach (see {@link WriterPoll}): status.writer, the
   * WriterConsistent condition, and a WriterChanged Event when the address moved. A failure to list
   * the pods (e.g. RBAC without pods/list) keeps the last writer seen and says why.
   */
  private void observeWriter(
      MySQLPool pool,
      Context<MySQLPool> context,
      Conditions conditions,
      MySQLPoolStatus previous,
      MySQLPoolStatus next) {
    List<ProxyReport> reports;
    try {
      reports = writerPoll.read(WriterPoll.readyPods(context.getClient(), pool));
    } catch (KubernetesClientException e) {
      next.writer = previous.writer;
      conditions.unknown(
          WriterView.CONDITION,
          "PodsNotListed",
          "could not list the proxy pods to ask them for the writer: " + e.getMessage());
      return;
    }
    WriterView.Result seen = WriterView.of(reports, previous.writer, clock.instant());
    next.writer = seen.writer();
    if (seen.status() != null) {
      switch (seen.status()) {
        case "True" -> conditions.set(WriterView.CONDITION, true, seen.reason(), seen.message());
        case "False" -> conditions.set(WriterView.CONDITION, false, seen.reason(), seen.message());
        default -> conditions.unknown(WriterView.CONDITION, seen.reason(), seen.message());
      }
    }
    if (seen.changed() != null) {
      log.atInfo()
          .addKeyValue(
              "pool", pool.getMetadata().getNamespace() + "/" + pool.getMetadata().getName())
          .log("writer changed " + seen.changed());
      EventRecorder.normal(context.getClient(), pool, "WriterChanged", seen.changed());
    }
  }

  private ScaleStep scaleStep(MySQLPool pool, MySQLPoolStatus previous) {
    if (pool.getSpec() == null) {
      return new ScaleStep(0, null, null);
    }
    MySQLPoolStatus.Sizing applied = previous.sizing;
    return ScaleStep.next(
        pool.getSpec().replicas,
        applied == null ? null : applied.replicas,
        applied == null || applied.appliedAt == null ? null : Instant.parse(applied.appliedAt),
        clock.instant(),
        settle);
  }

  /**
   * The pool's own Secret, read by name (only for pools that exist, only the one they name); null
   * when it is absent.
   */
  private static Secret credentialsSecret(MySQLPool pool, Context<MySQLPool> context) {
    String name = secretName(pool);
    if (name == null || name.isBlank()) {
      return null;
    }
    return context
        .getClient()
        .secrets()
        .inNamespace(pool.getMetadata().getNamespace())
        .withName(name)
        .get();
  }

  /**
   * The CertificatesFound check of the TLS Secret and CA bundle the pool names, each read by name;
   * null when it names none.
   */
  private static Admission.Check certificates(MySQLPool pool, Context<MySQLPool> context) {
    MySQLPoolSpec spec = pool.getSpec().fillOptionalSections();
    String ns = pool.getMetadata().getNamespace();
    var client = context.getClient();
    String tlsName = spec.tls == null ? null : spec.tls.secretName;
    var ca = spec.backend.tls == null ? null : spec.backend.tls.ca;
    if (tlsName == null && ca == null) {
      return null;
    }
    Secret tlsSecret =
        tlsName == null ? null : client.secrets().inNamespace(ns).withName(tlsName).get();
    Secret caSecret =
        ca == null || ca.secretName == null
            ? null
            : client.secrets().inNamespace(ns).withName(ca.secretName).get();
    ConfigMap caConfigMap =
        ca == null || ca.configMapName == null
            ? null
            : client.configMaps().inNamespace(ns).withName(ca.configMapName).get();
    return Certificates.check(spec, tlsSecret, caSecret, caConfigMap, ns);
  }

  /**
   * Copies of the other pools the operator sees on the same writer (copies: deriving a plan fills
   * in a spec's defaults, and the cache's objects are not ours to change).
   */
  private static List<MySQLPool> poolsOnSameWriter(MySQLPool pool, Context<MySQLPool> context) {
    String writer = Admission.writer(pool);
    if (writer == null) {
      return List.of();
    }
    return context
        .getPrimaryCache()
        .list(other -> writer.equals(Admission.writer(other)))
        .map(other -> JSON.convertValue(other, MySQLPool.class))
        .toList();
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
   * Marks the pool not Ready because of {@code reason}; running objects keep their last good state,
   * and so does the status: the sizing, timeouts and endpoint the running proxies have.
   */
  private static void blocked(
      Context<MySQLPool> context,
      Conditions conditions,
      MySQLPoolStatus previous,
      MySQLPoolStatus next,
      String reason,
      String message) {
    boolean running = context.getSecondaryResource(Deployment.class).isPresent();
    String full =
        message
            + (running
                ? "; the running proxies keep their last good configuration"
                : "; no proxies are created until this is fixed");
    conditions.set(Conditions.READY, false, reason, full);
    conditions.set(Conditions.STALLED, true, reason, full);
    conditions.set(
        Conditions.RECONCILING, false, reason, "nothing is rolled out until this is fixed");
    if (running) {
      next.sizing = previous.sizing;
      next.timeouts = previous.timeouts;
      next.endpoint = previous.endpoint;
    }
    context.getSecondaryResource(Deployment.class).ifPresent(d -> StatusViews.replicas(d, next));
  }

  private static void observe(
      MySQLPool pool, Context<MySQLPool> context, Conditions conditions, MySQLPoolStatus next) {
    int want = pool.getSpec().replicas;
    Deployment d = context.getSecondaryResource(Deployment.class).orElse(null);
    int ready = 0;
    int updated = 0;
    boolean current = false;
    if (d != null) {
      StatusViews.replicas(d, next);
      if (d.getStatus() != null) {
        ready = StatusViews.nz(d.getStatus().getReadyReplicas());
        updated = StatusViews.nz(d.getStatus().getUpdatedReplicas());
        Long observed = d.getStatus().getObservedGeneration();
        current = observed != null && observed >= StatusViews.nz(d.getMetadata().getGeneration());
      }
    }
    boolean isReady = current && ready >= want && updated >= want;
    String progress =
        ready
            + "/"
            + want
            + " proxies ready"
            + (isReady ? "" : current ? ", " + updated + " updated" : ", rollout not observed yet");
    conditions.set(
        Conditions.READY, isReady, isReady ? "ProxiesReady" : "ProxiesNotReady", progress);
    conditions.set(
        Conditions.STALLED,
        false,
        "Rendered",
        "every check passed; the proxies run the rendered configuration");
    conditions.set(
        Conditions.RECONCILING, !isReady, isReady ? "ProxiesReady" : "RollingOut", progress);
    next.endpoint =
        StatusViews.endpoint(pool, context.getSecondaryResource(Service.class).orElse(null));
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
      if (Conditions.SUMMARIES.contains(c.getType())) {
        // Ready, Stalled and Reconciling repeat a cause that has its own Event, or say that a
        // rollout progresses, which is not news.
        continue;
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

  private static String secretName(MySQLPool pool) {
    MySQLPoolSpec spec = pool.getSpec();
    return spec == null || spec.credentials == null ? null : spec.credentials.secretName;
  }
}
