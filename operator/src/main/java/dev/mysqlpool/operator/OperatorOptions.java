package dev.mysqlpool.operator;

import java.io.ByteArrayInputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine;

/**
 * The options of {@code run}, as {@link Cli.Run} parsed them.
 *
 * @param proxyImage --proxy-image
 * @param httpPort --http-port, for /healthz, /readyz and /metrics
 * @param leaderElection false with --no-leader-election
 * @param leaseName --lease-name
 * @param leaseNamespace --lease-namespace, else $POD_NAMESPACE
 * @param namespaces --namespaces a,b; empty watches all namespaces
 * @param logLevel --log-level: TRACE, DEBUG, INFO (the default), WARN or ERROR
 */
record OperatorOptions(
    String proxyImage,
    int httpPort,
    boolean leaderElection,
    String leaseName,
    String leaseNamespace,
    Set<String> namespaces,
    String logLevel) {

  /** The levels --log-level accepts. */
  static final List<String> LOG_LEVELS = List.of("TRACE", "DEBUG", "INFO", "WARN", "ERROR");

  /**
   * Parses a {@code run} command line exactly as {@code main} does, without starting anything; for
   * checks such as "the Helm chart passes arguments the operator accepts".
   *
   * @throws IllegalArgumentException with picocli's message on a usage error, or when the command
   *     is not {@code run}
   */
  static OperatorOptions parse(String[] args, String podNamespace) {
    AtomicReference<OperatorOptions> parsed = new AtomicReference<>();
    StringWriter errors = new StringWriter();
    CommandLine cl =
        Cli.commandLine(
            podNamespace,
            new ByteArrayInputStream(new byte[0]),
            new PrintStream(PrintStream.nullOutputStream()),
            new PrintStream(PrintStream.nullOutputStream()),
            parsed::set);
    cl.setErr(new PrintWriter(errors));
    cl.setOut(new PrintWriter(new StringWriter()));
    cl.setExecutionExceptionHandler(
        (e, commandLine, result) -> {
          throw e;
        });
    int status = cl.execute(args);
    if (status != 0 || parsed.get() == null) {
      String message = errors.toString().lines().findFirst().orElse("not a run command line");
      throw new IllegalArgumentException(message);
    }
    return parsed.get();
  }
}
