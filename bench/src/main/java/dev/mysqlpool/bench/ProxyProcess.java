package dev.mysqlpool.bench;

import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The real proxy jar in its own JVM, as it runs in production: a generated config file, the given
 * JVM flags, stdout and stderr in a log file next to the config. Thread-safe.
 */
final class ProxyProcess implements AutoCloseable {
  /**
   * What the image and the operator's pods run (proxy-runtime/Dockerfile's environment), in a
   * container of the operator's default memory limit: see {@link ProxyJvm}.
   */
  static final ProxyJvm IMAGE_JVM = ProxyJvm.image();

  /**
   * A heap or generation line of {@code jcmd GC.heap_info}: G1 prints one for the heap, Serial and
   * Parallel one per generation (summed); Metaspace's line has no total.
   */
  private static final Pattern HEAP_USED = Pattern.compile("total \\d+K, used (\\d+)K");

  private final String name;
  private final Process process;
  private final int port;
  private final int adminPort;
  private final Path log;
  private long startMillis;
  private long startCpuMillis;

  private ProxyProcess(String name, Process process, int port, int adminPort, Path log) {
    this.name = name;
    this.process = process;
    this.port = port;
    this.adminPort = adminPort;
    this.log = log;
  }

  /**
   * Starts a proxy in front of {@code db} and waits until it listens.
   *
   * @param poolYaml the {@code pool:} block's fields in flow style, e.g. {@code maxConnections: 20}
   * @param frontendYaml the {@code frontend:} block's fields, or empty
   * @param extraJvmFlags after {@link #IMAGE_JVM}'s, e.g. a flight recording
   */
  static ProxyProcess start(
      Path jar,
      Path workDir,
      String name,
      EmbeddedMariaDb db,
      String poolYaml,
      String frontendYaml,
      List<String> extraJvmFlags) {
    return start(jar, workDir, name, db, "session", poolYaml, frontendYaml, extraJvmFlags);
  }

  /**
   * As above, with {@code pool.mode} {@code session} or {@code transaction}, and the backend leg in
   * plain TCP (stated rather than left to the default, preferred, which would encrypt against a
   * server that offers TLS): the direct and HAProxy baselines are plain.
   */
  static ProxyProcess start(
      Path jar,
      Path workDir,
      String name,
      EmbeddedMariaDb db,
      String mode,
      String poolYaml,
      String frontendYaml,
      List<String> extraJvmFlags) {
    return start(jar, workDir, name, db, mode, "disabled", poolYaml, frontendYaml, extraJvmFlags);
  }

  /** As above, with {@code backends[].tls.mode} {@code backendTlsMode}. */
  static ProxyProcess start(
      Path jar,
      Path workDir,
      String name,
      EmbeddedMariaDb db,
      String mode,
      String backendTlsMode,
      String poolYaml,
      String frontendYaml,
      List<String> extraJvmFlags) {
    return start(
        jar, workDir, name, db, mode, backendTlsMode, poolYaml, frontendYaml, "", extraJvmFlags);
  }

  /**
   * As above, with {@code extraYaml} (whole top-level sections, each line ending in a newline, such
   * as {@code stats: {queryDigests: false}}) appended to the file.
   */
  static ProxyProcess start(
      Path jar,
      Path workDir,
      String name,
      EmbeddedMariaDb db,
      String mode,
      String backendTlsMode,
      String poolYaml,
      String frontendYaml,
      String extraYaml,
      List<String> extraJvmFlags) {
    return launch(
        jar,
        workDir,
        name,
        singleBackend(db, backendTlsMode),
        mode,
        poolYaml,
        frontendYaml,
        extraYaml,
        IMAGE_JVM.plus(extraJvmFlags));
  }

  /**
   * As the 9-argument form, with the JVM started as {@code jvm} says instead of as the image does.
   */
  static ProxyProcess start(
      Path jar,
      Path workDir,
      String name,
      EmbeddedMariaDb db,
      String mode,
      String backendTlsMode,
      String poolYaml,
      String frontendYaml,
      ProxyJvm jvm) {
    return launch(
        jar,
        workDir,
        name,
        singleBackend(db, backendTlsMode),
        mode,
        poolYaml,
        frontendYaml,
        "",
        jvm);
  }

  private static String singleBackend(EmbeddedMariaDb db, String backendTlsMode) {
    return "  - {name: primary, host: 127.0.0.1, port: "
        + db.port()
        + ", tls: {mode: "
        + backendTlsMode
        + "}}\n";
  }

  /**
   * Starts a proxy in front of several backends, e.g. a writer and its readers, and waits until it
   * listens.
   *
   * @param backendsYaml the {@code backends:} list's entries, one {@code " - {...}\n"} line each
   * @param routingYaml the {@code routing:} block's fields in flow style, or empty for none
   */
  static ProxyProcess startWithBackends(
      Path jar,
      Path workDir,
      String name,
      String backendsYaml,
      String mode,
      String poolYaml,
      String routingYaml) {
    return launch(
        jar,
        workDir,
        name,
        backendsYaml,
        mode,
        poolYaml,
        "",
        routingYaml.isEmpty() ? "" : "routing: {" + routingYaml + "}\n",
        IMAGE_JVM);
  }

  private static ProxyProcess launch(
      Path jar,
      Path workDir,
      String name,
      String backendsYaml,
      String mode,
      String poolYaml,
      String frontendYaml,
      String moreYaml,
      ProxyJvm jvm) {
    int port = EmbeddedMariaDb.freePort();
    int adminPort = EmbeddedMariaDb.freePort();
    String config =
        "listen: {host: 127.0.0.1, port: "
            + port
            + "}\n"
            + "admin: {host: 127.0.0.1, port: "
            + adminPort
            + "}\n"
            + "backends:\n"
            + backendsYaml
            + "users:\n  - {name: "
            + EmbeddedMariaDb.APP_USER
            + ", password: "
            + EmbeddedMariaDb.APP_PASSWORD
            + "}\n"
            + "pool: {mode: "
            + mode
            + ", "
            + poolYaml
            + "}\n"
            + (frontendYaml.isEmpty() ? "" : "frontend: {" + frontendYaml + "}\n")
            + moreYaml
            + "shutdown: {drainTimeout: 1s}\n";
    try {
      Files.createDirectories(workDir);
      Path file = workDir.resolve("proxy-" + name + ".yaml");
      Path log = workDir.resolve("proxy-" + name + ".log");
      Files.writeString(file, config, StandardCharsets.UTF_8);
      List<String> cmd = new ArrayList<>();
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      ProxyJvm launched = jvm.forJar(jar);
      cmd.addAll(launched.flags());
      cmd.addAll(List.of("-jar", jar.toString(), "--config", file.toString()));
      ProcessBuilder builder =
          new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
      builder.environment().putAll(launched.env());
      long t0 = System.nanoTime();
      Process p = Procs.track(builder.start());
      ProxyProcess proxy = new ProxyProcess(name, p, port, adminPort, log);
      try {
        Procs.awaitPort(p, port, Duration.ofSeconds(60), "proxy '" + name + "'", log);
        proxy.startMillis = (System.nanoTime() - t0) / 1_000_000;
        proxy.startCpuMillis = Procs.cpuMillis(p.pid());
      } catch (RuntimeException e) {
        proxy.close();
        throw e;
      }
      return proxy;
    } catch (IOException e) {
      throw new UncheckedIOException("while starting proxy '" + name + "' from " + jar, e);
    }
  }

  int port() {
    return port;
  }

  /** Milliseconds from starting the JVM until the MySQL port accepted a connection. */
  long startMillis() {
    return startMillis;
  }

  /** CPU milliseconds the JVM used until its MySQL port accepted a connection. */
  long startCpuMillis() {
    return startCpuMillis;
  }

  long pid() {
    return process.pid();
  }

  /** The admin HTTP port ({@code /stats}, {@code /metrics}). */
  int adminPort() {
    return adminPort;
  }

  Path log() {
    return log;
  }

  /** The body of an admin endpoint ({@code /metrics}, {@code /backendz}, ...); fails after 10 s. */
  String admin(String path) {
    try {
      return HttpClient.newHttpClient()
          .send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + path))
                  .timeout(Duration.ofSeconds(10))
                  .build(),
              HttpResponse.BodyHandlers.ofString())
          .body();
    } catch (IOException e) {
      throw new UncheckedIOException("while asking " + this + " for " + path, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while asking " + this + " for " + path, e);
    }
  }

  /**
   * Runs a full GC in the proxy ({@code jcmd GC.run}) and returns the heap used afterwards in KiB,
   * or -1.
   */
  long heapUsedAfterGcKib() {
    String pid = Long.toString(pid());
    Procs.run(Duration.ofSeconds(60), "jcmd", pid, "GC.run");
    String info = Procs.run(Duration.ofSeconds(30), "jcmd", pid, "GC.heap_info");
    Matcher m = HEAP_USED.matcher(info);
    long used = -1;
    while (m.find()) {
      used = Math.max(0, used) + Long.parseLong(m.group(1));
    }
    return used;
  }

  /**
   * Starts a flight recording with the JDK's {@code profile} settings and execution sampled every
   * millisecond ({@code method-profiling=max}): at the default 10 ms, a 10 s window of event loops
   * that spend most of their time in the kernel gave only 30 to 70 samples of Java code, too few to
   * split their user time by owner. The sampler's own thread counts among the "other" threads.
   */
  void startRecording(String recording) {
    Procs.run(
        Duration.ofSeconds(60),
        "jcmd",
        Long.toString(pid()),
        "JFR.start",
        "name=" + recording,
        "settings=profile",
        "method-profiling=max");
  }

  /** Dumps the running flight recording named {@code recording} to {@code file}. */
  void dumpRecording(String recording, Path file) {
    Procs.run(
        Duration.ofSeconds(120),
        "jcmd",
        Long.toString(pid()),
        "JFR.dump",
        "name=" + recording,
        "filename=" + file.toAbsolutePath());
  }

  /** Stops the flight recording named {@code recording}, without dumping it. */
  void stopRecording(String recording) {
    Procs.run(
        Duration.ofSeconds(60), "jcmd", Long.toString(pid()), "JFR.stop", "name=" + recording);
  }

  @Override
  public void close() {
    Procs.stop(process, Duration.ofSeconds(10));
  }

  @Override
  public String toString() {
    return "proxy '" + name + "' (pid " + pid() + ", port " + port + ")";
  }
}
