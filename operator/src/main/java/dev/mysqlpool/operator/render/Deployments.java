package dev.mysqlpool.operator.render;

import dev.mysqlpool.operator.api.BackendTlsSpec;
import dev.mysqlpool.operator.api.FrontendTlsSpec;
import dev.mysqlpool.operator.api.MySQLPoolSpec;
import dev.mysqlpool.operator.common.Names;
import dev.mysqlpool.operator.validation.Sizing;
import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.AffinityBuilder;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.ProbeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.TopologySpreadConstraint;
import io.fabric8.kubernetes.api.model.TopologySpreadConstraintBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeProjection;
import io.fabric8.kubernetes.api.model.VolumeProjectionBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The proxy Deployment: probes on the admin port ({@code /healthz} for startup and liveness, {@code
 * /readyz} for readiness; never {@code /backendz}, or a database outage would take every pod out or
 * restart it), a grace period that holds preStop, the proxy's load-balancer wait and its drain
 * (TimeoutChain), a rolling update that never drops below the replica count (and that the sizing
 * counts one surge pod for), spread across zones, non-root and read-only with every capability
 * dropped.
 */
public final class Deployments {
  /**
   * The proxy JVM's flags besides the ones derived from the container's resources; the proxy image
   * sets the same (DeploymentsTest compares them with proxy-runtime/Dockerfile), and
   * bench/README.md ("Memory") has the figures behind each:
   *
   * <ul>
   *   <li>heap at 40% of the container's memory limit, Netty's direct buffers capped at {@link
   *       #DIRECT_MEMORY_PERCENT}; the remaining 35% holds metaspace, code cache, thread stacks and
   *       the C heap (TLS included). Without an explicit cap the JVM lets direct memory grow as
   *       large as the heap, and 80% leaves too little for the rest. docs/sizing.md explains the
   *       split;
   *   <li>the Serial collector, named so that a limit of 1792 MiB or more does not turn the JVM's
   *       own choice to G1, whose remembered sets and marking bitmaps cost a proxy about 37 MiB;
   *   <li>the heap grown with 10-20% free after a collection instead of the JDK's 40-70%: a live
   *       heap of 10-40 MiB does not need twice that committed, and an idle proxy holds 2-3 MiB
   *       less (bench memory section, same-run variants);
   *   <li>C2 only for what runs hot: its thresholds ten times the JDK's, so start-up, logins and
   *       other code that runs thousands of times stay with C1 while the per-statement path, run
   *       millions of times, still gets C2 within seconds. Each C2 compilation takes megabytes of C
   *       heap for a moment; at the JDK's thresholds a 1,000-client connect storm compiled the
   *       login path and the proxy peaked 15-20 MiB higher. The C1 compiler alone would save more
   *       still and cost 10-15% more CPU per statement;
   *   <li>the C heap given back every second ({@code TrimNativeHeapInterval}, JDK 17.0.11 or
   *       later): glibc keeps what the compilers freed;
   *   <li>the class-data-sharing archive the image writes at build time (cds-archive.sh): a third
   *       less CPU to start; a JVM that cannot map it (another image) runs without it.
   * </ul>
   */
  static final String PROXY_JVM_OPTIONS =
      "-XX:MaxRAMPercentage=40 -XX:+UseSerialGC -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=20"
          + " -XX:TrimNativeHeapInterval=1000 -XX:Tier4InvocationThreshold=50000 -XX:Tier4MinInvocationThreshold=6000"
          + " -XX:Tier4CompileThreshold=150000 -XX:Tier4BackEdgeThreshold=400000"
          + " -XX:SharedArchiveFile=/app/proxy-runtime.jsa -XX:+ExitOnOutOfMemoryError"
          + " -Djava.io.tmpdir=/tmp";

  /**
   * The fewest processors a proxy without a CPU limit is told it has: one event loop may be busy
   * while the other serves.
   */
  static final int MIN_ACTIVE_PROCESSORS = 2;

  /** Direct (off-heap) memory as a share of the container's memory limit. */
  static final int DIRECT_MEMORY_PERCENT = 25;

  /**
   * The direct memory cap without a memory limit to derive it from: the proxy image's default, 25%
   * of the default 512Mi limit.
   */
  static final long DEFAULT_DIRECT_MEMORY_MIB = 128;

  /** The smallest direct memory cap rendered: Netty's pooled allocator needs a few chunks. */
  static final long MIN_DIRECT_MEMORY_MIB = 32;

  /** The proxy's user and group; any non-root id works, the image must not need root. */
  public static final long PROXY_UID = 10001;

  /** Password files are readable by the proxy's group only. */
  static final int SECRET_FILE_MODE = 0440;

  static final String CONFIG_VOLUME = "config";
  static final String TMP_VOLUME = "tmp";

  private Deployments() {}

  /** The pool's Deployment. */
  public static Deployment deployment(Plan plan) {
    MySQLPoolSpec spec = plan.spec();
    String name = plan.name();
    Map<String, String> podAnnotations =
        new TreeMap<>(spec.pod.annotations == null ? Map.of() : spec.pod.annotations);
    // Only what the proxy cannot reload: a new pool split (an HPA changing replicas), idle limits,
    // pool timers or users reach the running proxies through the ConfigMap, without a rollout.
    podAnnotations.put(
        Names.CONFIG_HASH_ANNOTATION, ProxyConfigs.hash(ProxyConfigs.restartRelevantYaml(plan)));

    return new DeploymentBuilder()
        .withNewMetadata()
        .withName(Names.proxy(name))
        .withNamespace(plan.namespace())
        .withLabels(Names.labels(name))
        .endMetadata()
        .withNewSpec()
        .withReplicas(spec.replicas)
        .withNewSelector()
        .withMatchLabels(Names.selector(name))
        .endSelector()
        .withNewStrategy()
        .withType("RollingUpdate")
        .withNewRollingUpdate()
        // One pod more, never one less: Sizing.podsDuringRollout counts this surge pod against the
        // backend's budget.
        .withMaxSurge(new IntOrString(Sizing.SURGE))
        .withMaxUnavailable(new IntOrString(0))
        .endRollingUpdate()
        .endStrategy()
        // Kubernetes does not count a terminating pod against maxSurge: the next old pod would be
        // stopped while the previous one still drains its sessions. A new pod counts as available
        // only after the longest drain, so at most one old pod drains per surge slot, as
        // Sizing.podsDuringRollout assumes.
        .withMinReadySeconds(minReadySeconds(plan))
        .withNewTemplate()
        .withNewMetadata()
        .withLabels(podLabels(plan))
        .withAnnotations(podAnnotations)
        .endMetadata()
        .withNewSpec()
        .withServiceAccountName(Names.proxy(name))
        .withImagePullSecrets(
            spec.pod.imagePullSecrets.isEmpty() ? null : spec.pod.imagePullSecrets)
        .withAutomountServiceAccountToken(false)
        .withEnableServiceLinks(false)
        .withTerminationGracePeriodSeconds((long) plan.timeouts().terminationGracePeriodSeconds())
        .withPriorityClassName(spec.pod.priorityClassName)
        .withNodeSelector(emptyToNull(spec.pod.nodeSelector))
        .withTolerations(
            spec.pod.tolerations == null || spec.pod.tolerations.isEmpty()
                ? null
                : spec.pod.tolerations)
        .withAffinity(spec.pod.affinity != null ? spec.pod.affinity : defaultAffinity(name))
        .withTopologySpreadConstraints(
            spec.pod.topologySpreadConstraints == null
                    || spec.pod.topologySpreadConstraints.isEmpty()
                ? defaultSpread(name)
                : spec.pod.topologySpreadConstraints)
        .withNewSecurityContext()
        .withRunAsNonRoot(true)
        .withRunAsUser(PROXY_UID)
        .withRunAsGroup(PROXY_UID)
        .withFsGroup(PROXY_UID)
        .withNewSeccompProfile()
        .withType("RuntimeDefault")
        .endSeccompProfile()
        .endSecurityContext()
        .withContainers(container(plan))
        .withVolumes(volumes(plan))
        .endSpec()
        .endTemplate()
        .endSpec()
        .build();
  }

  /**
   * The user's pod labels, then the operator's, which the validator keeps the user from setting.
   */
  static Map<String, String> podLabels(Plan plan) {
    Map<String, String> labels = new TreeMap<>(plan.spec().pod.labels);
    labels.putAll(Names.labels(plan.name()));
    return labels;
  }

  /** Longer than an old pod can take to stop: its grace period, and the kubelet's 2 s extra. */
  static int minReadySeconds(Plan plan) {
    return plan.timeouts().terminationGracePeriodSeconds() + 2;
  }

  static Container container(Plan plan) {
    MySQLPoolSpec spec = plan.spec();
    int preStop = plan.timeouts().preStopDelaySeconds();
    ContainerBuilder c =
        new ContainerBuilder()
            .withName(Names.CONTAINER)
            .withImage(spec.pod.image != null ? spec.pod.image : plan.settings().proxyImage())
            .withCommand(
                "java",
                "-jar",
                "/app/proxy-runtime.jar",
                "--config",
                Names.CONFIG_DIR + "/" + Names.CONFIG_FILE)
            .addNewEnv()
            // The root file system is read-only: the JVM's and Netty's scratch files go to the /tmp
            // volume.
            .withName("JAVA_TOOL_OPTIONS")
            .withValue(jvmOptions(resources(spec)))
            .endEnv()
            .addNewPort()
            .withName(Names.MYSQL_PORT_NAME)
            .withContainerPort(Names.MYSQL_PORT)
            .withProtocol("TCP")
            .endPort()
            .addNewPort()
            .withName(Names.ADMIN_PORT_NAME)
            .withContainerPort(Names.ADMIN_PORT)
            .withProtocol("TCP")
            .endPort()
            .withStartupProbe(probe("/healthz", 2, 30))
            .withLivenessProbe(probe("/healthz", 10, 3))
            .withReadinessProbe(probe(Names.READY_PATH, 5, 2))
            .withResources(resources(spec))
            .addNewVolumeMount()
            .withName(CONFIG_VOLUME)
            .withMountPath(Names.CONFIG_DIR)
            .withReadOnly(true)
            .endVolumeMount()
            .addNewVolumeMount()
            .withName(TMP_VOLUME)
            .withMountPath("/tmp")
            .endVolumeMount()
            .withNewSecurityContext()
            .withRunAsNonRoot(true)
            .withReadOnlyRootFilesystem(true)
            .withAllowPrivilegeEscalation(false)
            .withNewCapabilities()
            .withDrop("ALL")
            .endCapabilities()
            .endSecurityContext();
    if (preStop > 0) {
      // Behind a ClusterIP: keep serving while the endpoints update; SIGTERM (and the proxy's
      // drain) comes after. Behind an NLB the proxy itself keeps serving after SIGTERM
      // (shutdown.loadBalancerWait) and there is no preStop unless the user asks for one.
      c.withNewLifecycle()
          .withNewPreStop()
          .withNewSleep((long) preStop)
          .endPreStop()
          .endLifecycle();
    }
    return c.build();
  }

  /** The container's resources: the user's, or the defaults. */
  static ResourceRequirements resources(MySQLPoolSpec spec) {
    return spec.pod.resources != null ? spec.pod.resources : defaultResources();
  }

  /**
   * The JVM options of a container with {@code resources}: the direct memory cap derived, and the
   * processor count when there is no CPU limit to derive it from.
   */
  static String jvmOptions(ResourceRequirements resources) {
    String options =
        PROXY_JVM_OPTIONS + " -XX:MaxDirectMemorySize=" + directMemoryMib(resources) + "m";
    int processors = activeProcessorCount(resources);
    return processors > 0 ? options + " -XX:ActiveProcessorCount=" + processors : options;
  }

  /**
   * 0 (leave it to the JVM) with a CPU limit, which the JVM counts its processors from; otherwise
   * the CPU request rounded up, at least {@link #MIN_ACTIVE_PROCESSORS}. Without a limit the JVM
   * would count every core of the node, and the proxy starts an event loop and a direct-memory
   * arena per processor: each arena holds a 4 MiB chunk once its loop has carried traffic, so on a
   * 32-core node the chunks alone would fill the 128 MiB direct-memory cap.
   */
  static int activeProcessorCount(ResourceRequirements resources) {
    if (resources != null
        && resources.getLimits() != null
        && resources.getLimits().get("cpu") != null) {
      return 0;
    }
    Quantity request =
        resources == null || resources.getRequests() == null
            ? null
            : resources.getRequests().get("cpu");
    if (request == null) {
      return MIN_ACTIVE_PROCESSORS;
    }
    BigDecimal cores = request.getNumericalAmount().setScale(0, RoundingMode.CEILING);
    return Math.max(MIN_ACTIVE_PROCESSORS, cores.min(BigDecimal.valueOf(1024)).intValue());
  }

  /**
   * {@link #DIRECT_MEMORY_PERCENT} of the memory limit in MiB, at least {@link
   * #MIN_DIRECT_MEMORY_MIB}; {@link #DEFAULT_DIRECT_MEMORY_MIB} when there is no limit.
   */
  static long directMemoryMib(ResourceRequirements resources) {
    Quantity limit =
        resources == null || resources.getLimits() == null
            ? null
            : resources.getLimits().get("memory");
    if (limit == null) {
      return DEFAULT_DIRECT_MEMORY_MIB;
    }
    long mib = limit.getNumericalAmount().longValue() / (1024 * 1024);
    mib = mib * DIRECT_MEMORY_PERCENT / 100;
    return Math.max(MIN_DIRECT_MEMORY_MIB, mib);
  }

  static Probe probe(String path, int periodSeconds, int failureThreshold) {
    return new ProbeBuilder()
        .withNewHttpGet()
        .withPath(path)
        .withPort(new IntOrString(Names.ADMIN_PORT_NAME))
        .withScheme("HTTP")
        .endHttpGet()
        .withPeriodSeconds(periodSeconds)
        .withTimeoutSeconds(2)
        .withFailureThreshold(failureThreshold)
        .withSuccessThreshold(1)
        .build();
  }

  /**
   * One read-only projected volume: the config file, the password files and the TLS files next to
   * it, mode 0440.
   */
  static List<Volume> volumes(Plan plan) {
    MySQLPoolSpec spec = plan.spec();
    List<KeyToPath> passwordFiles = new ArrayList<>();
    for (MySQLPoolSpec.User u : spec.credentials.users) {
      passwordFiles.add(new KeyToPath(u.name, null, Names.PASSWORD_DIR + "/" + u.name));
    }
    Volume config =
        new VolumeBuilder()
            .withName(CONFIG_VOLUME)
            .withNewProjected()
            .withDefaultMode(SECRET_FILE_MODE)
            .addNewSource()
            .withNewConfigMap()
            .withName(Names.config(plan.name()))
            .withItems(new KeyToPath(Names.CONFIG_FILE, null, Names.CONFIG_FILE))
            .endConfigMap()
            .endSource()
            .addNewSource()
            .withNewSecret()
            .withName(spec.credentials.secretName)
            .withItems(passwordFiles)
            .endSecret()
            .endSource()
            .addAllToSources(tlsSources(spec))
            .endProjected()
            .build();
    Volume tmp =
        new VolumeBuilder()
            .withName(TMP_VOLUME)
            .withNewEmptyDir()
            .withSizeLimit(new Quantity("64Mi"))
            .endEmptyDir()
            .build();
    return List.of(config, tmp);
  }

  /**
   * The certificate and key of spec.tls and the CA bundle of spec.backend.tls, as more sources of
   * the same projected volume: the kubelet swaps a projected volume's files all at once when a
   * source changes, so the proxy never reads a new certificate with an old key. Only names go into
   * the pod template, never contents, so a renewed certificate does not roll the pods.
   */
  static List<VolumeProjection> tlsSources(MySQLPoolSpec spec) {
    List<VolumeProjection> sources = new ArrayList<>();
    if (spec.tls != null && spec.tls.secretName != null) {
      sources.add(
          new VolumeProjectionBuilder()
              .withNewSecret()
              .withName(spec.tls.secretName)
              .withItems(
                  new KeyToPath(
                      FrontendTlsSpec.CERT_KEY,
                      null,
                      FrontendTlsSpec.DIR + "/" + FrontendTlsSpec.CERT_KEY),
                  new KeyToPath(
                      FrontendTlsSpec.KEY_KEY,
                      null,
                      FrontendTlsSpec.DIR + "/" + FrontendTlsSpec.KEY_KEY))
              .endSecret()
              .build());
    }
    BackendTlsSpec.CaSource ca = spec.backend.tls == null ? null : spec.backend.tls.ca;
    if (ca != null) {
      KeyToPath item = new KeyToPath(ca.key, null, ProxyConfigs.caFile(ca));
      VolumeProjectionBuilder b = new VolumeProjectionBuilder();
      if (ca.secretName != null) {
        b.withNewSecret().withName(ca.secretName).withItems(item).endSecret();
      } else {
        b.withNewConfigMap().withName(ca.configMapName).withItems(item).endConfigMap();
      }
      sources.add(b.build());
    }
    return sources;
  }

  static ResourceRequirements defaultResources() {
    return new ResourceRequirementsBuilder()
        .addToRequests("cpu", new Quantity("250m"))
        .addToRequests("memory", new Quantity("256Mi"))
        .addToLimits("memory", new Quantity("512Mi"))
        .build();
  }

  static Affinity defaultAffinity(String name) {
    return new AffinityBuilder()
        .withNewPodAntiAffinity()
        .addNewPreferredDuringSchedulingIgnoredDuringExecution()
        .withWeight(100)
        .withNewPodAffinityTerm()
        .withTopologyKey("kubernetes.io/hostname")
        .withNewLabelSelector()
        .withMatchLabels(Names.selector(name))
        .endLabelSelector()
        .endPodAffinityTerm()
        .endPreferredDuringSchedulingIgnoredDuringExecution()
        .endPodAntiAffinity()
        .build();
  }

  static List<TopologySpreadConstraint> defaultSpread(String name) {
    return List.of(
        new TopologySpreadConstraintBuilder()
            .withMaxSkew(1)
            .withTopologyKey("topology.kubernetes.io/zone")
            .withWhenUnsatisfiable("ScheduleAnyway")
            .withNewLabelSelector()
            .withMatchLabels(Names.selector(name))
            .endLabelSelector()
            .build());
  }

  private static Map<String, String> emptyToNull(Map<String, String> m) {
    return m == null || m.isEmpty() ? null : m;
  }
}
