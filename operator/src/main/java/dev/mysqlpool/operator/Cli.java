package dev.mysqlpool.operator;

import dev.mysqlpool.operator.render.RenderSettings;
import java.io.InputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * The command line, through picocli: {@code run} reconciles MySQLPools in a cluster, {@code render}
 * prints every manifest of the pools in files (or stdin) without one. {@code --help} on each says
 * every option; there are no hidden system properties.
 */
@Command(
    name = "java -jar operator.jar",
    mixinStandardHelpOptions = true,
    versionProvider = Cli.Version.class,
    description = "Runs MySQL proxy pools sized by Little's Law (MySQLPool resources).",
    subcommands = {Cli.Run.class, Cli.Render.class})
final class Cli implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    throw new ParameterException(spec.commandLine(), "name a command: run or render");
  }

  /** The operator's version, from the jar's manifest when there is one. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Cli.class.getPackage().getImplementationVersion();
      return new String[] {"mysqlpool-operator " + (v == null ? "(development build)" : v)};
    }
  }

  /** {@code run}: the options become an {@link OperatorOptions} handed to the starter. */
  @Command(
      name = "run",
      mixinStandardHelpOptions = true,
      description =
          "Reconcile MySQLPools in the cluster of the current kubeconfig or service account.")
  static final class Run implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(
        names = "--proxy-image",
        paramLabel = "IMAGE",
        description = "Proxy image for pools that do not name one (default: ${DEFAULT-VALUE}).")
    String proxyImage = RenderSettings.DEFAULT_PROXY_IMAGE;

    @Option(
        names = "--http-port",
        paramLabel = "N",
        description = "Port of /healthz, /readyz and /metrics (default: ${DEFAULT-VALUE}).")
    int httpPort = 8080;

    @Option(
        names = "--namespaces",
        split = ",",
        paramLabel = "a,b",
        description = "Watch only these namespaces (default: all).")
    List<String> namespaces = new ArrayList<>();

    @Option(
        names = "--no-leader-election",
        description = "Run without a Lease (a single replica only).")
    boolean noLeaderElection;

    @Option(
        names = "--lease-name",
        paramLabel = "NAME",
        description = "The leader election Lease (default: ${DEFAULT-VALUE}).")
    String leaseName = "mysqlpool-operator";

    @Option(
        names = "--lease-namespace",
        paramLabel = "NS",
        description = "Namespace of the Lease (default: $POD_NAMESPACE).")
    String leaseNamespace;

    @Option(
        names = "--log-level",
        paramLabel = "LEVEL",
        description = "TRACE, DEBUG, INFO, WARN or ERROR (default: ${DEFAULT-VALUE}).")
    String logLevel = "INFO";

    private final String podNamespace;
    private final Consumer<OperatorOptions> starter;

    Run(String podNamespace, Consumer<OperatorOptions> starter) {
      this.podNamespace = podNamespace;
      this.starter = starter;
    }

    @Override
    public Integer call() {
      starter.accept(options());
      return 0;
    }

    /** The options, checked: a usage error names the option and the fix. */
    OperatorOptions options() {
      String level = logLevel.toUpperCase(Locale.ROOT);
      if (!OperatorOptions.LOG_LEVELS.contains(level)) {
        throw new ParameterException(
            spec.commandLine(),
            "--log-level: '"
                + logLevel
                + "' is not one of "
                + String.join(", ", OperatorOptions.LOG_LEVELS));
      }
      if (httpPort < 0 || httpPort > 65535) {
        throw new ParameterException(
            spec.commandLine(), "--http-port: " + httpPort + " is not a port number");
      }
      String ns = leaseNamespace != null ? leaseNamespace : podNamespace;
      if (!noLeaderElection && (ns == null || ns.isBlank())) {
        throw new ParameterException(
            spec.commandLine(),
            "leader election needs a namespace for its Lease; set POD_NAMESPACE (the Helm chart"
                + " does), pass --lease-namespace, or --no-leader-election for a single replica");
      }
      Set<String> watched = new TreeSet<>();
      for (String n : namespaces) {
        if (!n.isBlank()) {
          watched.add(n.trim());
        }
      }
      return new OperatorOptions(
          proxyImage, httpPort, !noLeaderElection, leaseName, ns, Set.copyOf(watched), level);
    }
  }

  /** {@code render}: prints manifests; the exit status says whether the operator would refuse. */
  @Command(
      name = "render",
      mixinStandardHelpOptions = true,
      description = {
        "Print every manifest the operator would apply for the MySQLPools in the files, without a"
            + " cluster. Other kinds in the files are skipped.",
        "Exit status 1 when a pool would be refused (with the condition's message on stderr),"
            + " 2 on a usage error."
      })
  static final class Render implements Callable<Integer> {
    @Option(
        names = {"-f", "--filename"},
        required = true,
        paramLabel = "FILE",
        description = "A YAML file of MySQLPools; - reads stdin. Repeat for more files.")
    List<String> files = new ArrayList<>();

    @Option(
        names = "--proxy-image",
        paramLabel = "IMAGE",
        description = "Proxy image for pools that do not name one (default: ${DEFAULT-VALUE}).")
    String proxyImage = RenderSettings.DEFAULT_PROXY_IMAGE;

    private final InputStream in;
    private final PrintStream out;
    private final PrintStream err;

    Render(InputStream in, PrintStream out, PrintStream err) {
      this.in = in;
      this.out = out;
      this.err = err;
    }

    @Override
    public Integer call() {
      return RenderCommand.run(files, new RenderSettings(proxyImage), in, out, err);
    }
  }

  /**
   * The command line: {@code run} hands its options to {@code starter}, {@code render} reads {@code
   * in} for {@code -f -} and prints manifests to {@code out}, problems to {@code err}.
   */
  static CommandLine commandLine(
      String podNamespace,
      InputStream in,
      PrintStream out,
      PrintStream err,
      Consumer<OperatorOptions> starter) {
    CommandLine.IFactory defaults = CommandLine.defaultFactory();
    return new CommandLine(
        new Cli(),
        new CommandLine.IFactory() {
          @Override
          @SuppressWarnings("unchecked")
          public <K> K create(Class<K> type) throws Exception {
            if (type == Run.class) {
              return (K) new Run(podNamespace, starter);
            }
            if (type == Render.class) {
              return (K) new Render(in, out, err);
            }
            return defaults.create(type);
          }
        });
  }
}
