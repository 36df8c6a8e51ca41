package dev.mysqlpool.operator;

import ch.qos.logback.classic.Level;
import dev.mysqlpool.operator.reconciler.MySQLPoolReconciler;
import dev.mysqlpool.operator.render.RenderSettings;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.ConfigurationServiceOverrider;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's entry point: {@code run} reconciles MySQLPools with leader election, JSON logs on
 * stderr and its own {@code /healthz}, {@code /readyz} and {@code /metrics}; {@code render -f
 * pool.yaml} prints manifests without a cluster.
 */
public final class MySQLPoolOperator {
  private static final Logger log = LoggerFactory.getLogger(MySQLPoolOperator.class);

  private MySQLPoolOperator() {}

  /**
   * Runs the command line. {@code run} starts the operator and returns (its threads keep the JVM
   * alive); anything else exits with its status: 0, 1 for a pool {@code render} refuses, 2 for a
   * usage error.
   */
  public static void main(String[] args) {
    boolean[] started = {false};
    int status =
        Cli.commandLine(
                System.getenv("POD_NAMESPACE"),
                System.in,
                System.out,
                System.err,
                options -> {
                  started[0] = true;
                  run(options, new RenderSettings(options.proxyImage()));
                })
            .execute(args.length == 0 ? new String[] {"run"} : args);
    if (!started[0] || status != 0) {
      System.exit(status);
    }
  }

  /**
   * An operator with the MySQLPool controller registered, not yet started.
   *
   * @param client the client it uses, closed when the operator stops
   * @param settings how pools are rendered
   * @param namespaces namespaces to watch; empty for all
   * @param overrides further configuration, e.g. leader election or, in mock-server tests, SSA
   *     switched off
   */
  public static Operator operator(
      KubernetesClient client,
      RenderSettings settings,
      Set<String> namespaces,
      Consumer<ConfigurationServiceOverrider> overrides) {
    return operator(client, new MySQLPoolReconciler(settings), namespaces, overrides);
  }

  /**
   * As {@link #operator(KubernetesClient, RenderSettings, Set, Consumer)}, with a given reconciler
   * instance.
   */
  public static Operator operator(
      KubernetesClient client,
      MySQLPoolReconciler reconciler,
      Set<String> namespaces,
      Consumer<ConfigurationServiceOverrider> overrides) {
    Operator operator =
        new Operator(
            o -> {
              o.withKubernetesClient(client);
              overrides.accept(o);
            });
    operator.register(
        reconciler,
        c -> {
          if (!namespaces.isEmpty()) {
            c.settingNamespaces(namespaces);
          }
        });
    return operator;
  }

  private static void run(OperatorOptions options, RenderSettings settings) {
    level(options.logLevel());
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    KubernetesClient client = new KubernetesClientBuilder().build();
    Operator operator =
        operator(
            client,
            new MySQLPoolReconciler(settings, registry),
            options.namespaces(),
            o -> {
              o.withMetrics(MicrometerMetrics.withoutPerResourceMetrics(registry));
              if (options.leaderElection()) {
                o.withLeaderElectionConfiguration(
                    new LeaderElectionConfiguration(options.leaseName(), options.leaseNamespace()));
              }
            });
    HealthServer health = HealthServer.start(options.httpPort(), operator, registry);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  log.info("stopping");
                  operator.stop();
                  health.stop();
                },
                "shutdown"));
    log.atInfo()
        .addKeyValue("proxyImage", settings.proxyImage())
        .addKeyValue(
            "namespaces",
            options.namespaces().isEmpty() ? "all" : String.join(",", options.namespaces()))
        .addKeyValue(
            "leaderElection",
            options.leaderElection() ? options.leaseNamespace() + "/" + options.leaseName() : "off")
        .addKeyValue("httpPort", options.httpPort())
        .addKeyValue("logLevel", options.logLevel())
        .log("starting mysqlpool-operator");
    try {
      operator.start();
    } catch (RuntimeException e) {
      log.atError()
          .setCause(e)
          .log(
              "the operator could not start; check the kubeconfig or service account and"
                  + " that the MySQLPool CRD is installed (kubectl apply -f crds/)");
      health.stop();
      System.exit(1);
    }
  }

  /** Sets the root logger's level (one of {@link OperatorOptions#LOG_LEVELS}). */
  static void level(String level) {
    org.slf4j.Logger root = LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    if (root instanceof ch.qos.logback.classic.Logger) {
      ((ch.qos.logback.classic.Logger) root).setLevel(Level.toLevel(level, Level.INFO));
    }
  }
}
