package dev.mysqlpool.bench;

import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * HAProxy as a plain TCP forwarder (no MySQL awareness, no pooling): the floor any proxy pays for
 * an extra hop on this machine. Runs in the foreground ({@code -db}) from a generated config.
 * Thread-safe.
 */
final class HaproxyProcess implements AutoCloseable {
  private final Process process;
  private final int port;

  private HaproxyProcess(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  /**
   * Starts {@code haproxy} (which must be on the PATH) in front of {@code db} and waits until it
   * listens.
   */
  static HaproxyProcess start(Path workDir, EmbeddedMariaDb db) {
    int port = EmbeddedMariaDb.freePort();
    String config =
        String.join(
            "\n",
            "global",
            "  maxconn 9000", // two descriptors per connection must fit under ulimit -n
            "defaults",
            "  mode tcp",
            "  maxconn 9000", // per listener, stated rather than left to HAProxy's default: the
            // multiplex case holds 2,000
            "  timeout connect 5s",
            "  timeout client 1h",
            "  timeout server 1h",
            "listen mysql",
            "  bind 127.0.0.1:" + port,
            "  server db 127.0.0.1:" + db.port(),
            "");
    try {
      Files.createDirectories(workDir);
      Path file = workDir.resolve("haproxy.cfg");
      Path log = workDir.resolve("haproxy.log");
      Files.writeString(file, config, StandardCharsets.UTF_8);
      Process p =
          Procs.track(
              new ProcessBuilder("haproxy", "-db", "-f", file.toString())
                  .redirectErrorStream(true)
                  .redirectOutput(log.toFile())
                  .start());
      HaproxyProcess h = new HaproxyProcess(p, port);
      try {
        Procs.awaitPort(p, port, Duration.ofSeconds(30), "haproxy", log);
      } catch (RuntimeException e) {
        h.close();
        throw e;
      }
      return h;
    } catch (IOException e) {
      throw new UncheckedIOException("while starting haproxy", e);
    }
  }

  int port() {
    return port;
  }

  long pid() {
    return process.pid();
  }

  String version() {
    String v = Procs.run(Duration.ofSeconds(10), "haproxy", "-v");
    return v.lines().findFirst().orElse("haproxy");
  }

  @Override
  public void close() {
    Procs.stop(process, Duration.ofSeconds(5));
  }
}
