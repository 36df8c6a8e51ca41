package dev.mysqlpool.operator;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The command line: {@code run} (the default) or {@code render -f FILE}. Every option is listed in
 * {@link #USAGE}; there are no hidden system properties.
 *
 * @param command run or render
 * @param files files given with -f (render)
 * @param proxyImage --proxy-image
 * @param httpPort --http-port, for /healthz, /readyz and /metrics
 * @param leaderElection false with --no-leader-election
 * @param leaseName --lease-name
 * @param leaseNamespace --lease-namespace, else $POD_NAMESPACE
 * @param namespaces --namespaces a,b; empty watches all namespaces
 * @param logLevel --log-level: TRACE, DEBUG, INFO (the default), WARN or ERROR
 */
record OperatorOptions(
    String command,
    List<String> files,
    String proxyImage,
    int httpPort,
    boolean leaderElection,
    String leaseName,
    String leaseNamespace,
    Set<String> namespaces,
    String logLevel) {

  /** The levels --log-level accepts. */
  static final List<String> LOG_LEVELS = List.of("TRACE", "DEBUG", "INFO", "WARN", "ERROR");

  static final String USAGE =
      String.join(
          "\n",
          "usage: java -jar operator.jar [run] [options]",
          "       java -jar operator.jar render -f pool.yaml [-f more.yaml ...] [--proxy-image IMAGE]",
          "",
          "run      reconcile MySQLPools in the cluster of the current kubeconfig / service account",
          "render   print every manifest of the MySQLPools in the files, without a cluster",
          "",
          "  --proxy-image IMAGE      proxy image for pools that do not name one",
          "  --http-port N            port of /healthz, /readyz and /metrics (default 8080)",
          "  --namespaces a,b         watch only these namespaces (default: all)",
          "  --no-leader-election     run without a Lease (a single replica only)",
          "  --lease-name NAME        the leader election Lease (default mysqlpool-operator)",
          "  --lease-namespace NS     namespace of the Lease (default $POD_NAMESPACE)",
          "  --log-level LEVEL        TRACE, DEBUG, INFO, WARN or ERROR (default INFO)");

  static OperatorOptions parse(String[] args, String podNamespace) {
    String command = "run";
    List<String> files = new ArrayList<>();
    String image = null;
    int port = 8080;
    boolean leader = true;
    String leaseName = "mysqlpool-operator";
    String leaseNamespace = podNamespace;
    Set<String> namespaces = new TreeSet<>();
    String logLevel = "INFO";
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "run":
        case "render":
          command = a;
          break;
        case "-f":
        case "--file":
          files.add(value(args, ++i, a));
          break;
        case "--proxy-image":
          image = value(args, ++i, a);
          break;
        case "--http-port":
          try {
            port = Integer.parseInt(value(args, ++i, a));
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                "--http-port: '" + args[i] + "' is not a port number");
          }
          break;
        case "--no-leader-election":
          leader = false;
          break;
        case "--lease-name":
          leaseName = value(args, ++i, a);
          break;
        case "--lease-namespace":
          leaseNamespace = value(args, ++i, a);
          break;
        case "--namespaces":
          for (String ns : value(args, ++i, a).split(",")) {
            if (!ns.isBlank()) {
              namespaces.add(ns.trim());
            }
          }
          break;
        case "--log-level":
          logLevel = value(args, ++i, a).toUpperCase(java.util.Locale.ROOT);
          if (!LOG_LEVELS.contains(logLevel)) {
            throw new IllegalArgumentException(
                "--log-level: '" + args[i] + "' is not one of " + String.join(", ", LOG_LEVELS));
          }
          break;
        default:
          throw new IllegalArgumentException("unknown argument '" + a + "'");
      }
    }
    if (command.equals("render") && files.isEmpty()) {
      throw new IllegalArgumentException("render: name at least one file with -f");
    }
    if (command.equals("run") && leader && (leaseNamespace == null || leaseNamespace.isBlank())) {
      throw new IllegalArgumentException(
          "run: leader election needs a namespace for its Lease; set POD_NAMESPACE"
              + " (the Helm chart does), pass --lease-namespace, or --no-leader-election for a single replica");
    }
    return new OperatorOptions(
        command,
        List.copyOf(files),
        image,
        port,
        leader,
        leaseName,
        leaseNamespace,
        Set.copyOf(namespaces),
        logLevel);
  }

  private static String value(String[] args, int i, String option) {
    if (i >= args.length) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    return args[i];
  }
}
