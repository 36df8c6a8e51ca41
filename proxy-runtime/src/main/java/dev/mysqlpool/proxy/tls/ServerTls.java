package dev.mysqlpool.proxy.tls;

import dev.mysqlpool.proxy.config.ConfigException;
import dev.mysqlpool.proxy.config.ProxyConfig.Tls;
import dev.mysqlpool.proxy.config.ProxyConfig.TlsMode;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The proxy's TLS toward clients: the current server context, swapped when the certificate files
 * change (cert-manager renews them in the mounted Secret) so that new handshakes present the new
 * certificate while connections already encrypted keep theirs. Without files it presents a
 * self-signed certificate made at start, and makes a new one a month before that expires.
 *
 * <p>The JDK provider, not netty-tcnative: see proxy-runtime/README.md, "TLS toward clients".
 *
 * <p>Thread-safe: {@link #newHandler} is called on event loops, the file check runs on a daemon
 * thread of its own (file reads are blocking work).
 */
public final class ServerTls implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ServerTls.class);
  private static final String CERT_FIELD = "frontend.tls.certFile";
  private static final String KEY_FIELD = "frontend.tls.keyFile";

  /** A self-signed certificate is replaced when it has less than this left. */
  private static final Duration SELF_SIGNED_RENEW_BEFORE = Duration.ofDays(30);

  private static final Duration SELF_SIGNED_CHECK = Duration.ofHours(1);

  private final Tls config;
  private final Clock clock;
  private final ScheduledExecutorService watcher;
  private volatile SslContext context;
  private volatile X509Certificate certificate;
  private String lastProblem;

  private ServerTls(Tls config, Clock clock) {
    this.config = config;
    this.clock = clock;
    KeyMaterial material;
    if (config.selfSigned()) {
      material = KeyMaterial.selfSigned(clock.instant());
    } else {
      try {
        material = loadFiles();
      } catch (IllegalArgumentException e) {
        throw new ConfigException(List.of(e.getMessage().split("\n")));
      }
    }
    install(material);
    log.info(
        "TLS toward clients: mode {}, minimum {}, {} certificate {}",
        config.mode().name().toLowerCase(),
        config.minVersion(),
        config.selfSigned() ? "self-signed" : "file",
        KeyMaterial.describe(certificate));
    Duration every = config.selfSigned() ? SELF_SIGNED_CHECK : config.reloadInterval();
    if (every.isZero()) {
      watcher = null;
    } else {
      watcher =
          Executors.newSingleThreadScheduledExecutor(
              r -> {
                Thread t = new Thread(r, "tls-reload");
                t.setDaemon(true);
                return t;
              });
      watcher.scheduleWithFixedDelay(
          this::check, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /**
   * Loads the certificate (or makes a self-signed one) and starts watching for changes.
   *
   * @return null when {@code mode} is disabled
   * @throws ConfigException naming the field, the file and the fix, when the files are unusable
   */
  public static ServerTls start(Tls config) {
    return start(config, Clock.systemUTC());
  }

  static ServerTls start(Tls config, Clock clock) {
    return config.mode() == TlsMode.DISABLED ? null : new ServerTls(config, clock);
  }

  /** Whether a client that does not ask for TLS is refused. */
  public boolean required() {
    return config.mode() == TlsMode.REQUIRED;
  }

  /**
   * A server-side handler for one new connection, with the certificate in force now. The caller
   * adds it to the pipeline, which then owns it.
   */
  public SslHandler newHandler(ByteBufAllocator alloc) {
    return context.newHandler(alloc);
  }

  /** The certificate new handshakes present. */
  public X509Certificate certificate() {
    return certificate;
  }

  /**
   * Checks the files (or the self-signed certificate's age) once, now; the watcher calls this.
   * Public for tests that do not want to wait for the interval.
   *
   * @return true when a new certificate was installed
   */
  public synchronized boolean check() {
    try {
      if (config.selfSigned()) {
        if (certificate
            .getNotAfter()
            .toInstant()
            .isAfter(clock.instant().plus(SELF_SIGNED_RENEW_BEFORE))) {
          return false;
        }
        install(KeyMaterial.selfSigned(clock.instant()));
        log.info("renewed the self-signed TLS certificate: {}", KeyMaterial.describe(certificate));
        return true;
      }
      KeyMaterial next = loadFiles();
      lastProblem = null;
      if (Arrays.equals(
          KeyMaterial.fingerprint(next.leaf()), KeyMaterial.fingerprint(certificate))) {
        return false;
      }
      install(next);
      log.info(
          "reloaded the TLS certificate from {}: {}; new connections use it, open ones keep theirs",
          config.certFile(),
          KeyMaterial.describe(certificate));
      return true;
    } catch (RuntimeException e) {
      // Mid-rotation the two files can briefly disagree: keep serving the old pair, say so once.
      String problem = e.getMessage();
      if (!problem.equals(lastProblem)) {
        lastProblem = problem;
        log.warn("keeping the current TLS certificate; the files are not usable: {}", problem);
      }
      return false;
    }
  }

  private KeyMaterial loadFiles() {
    return KeyMaterial.load(
        CERT_FIELD, Path.of(config.certFile()), KEY_FIELD, Path.of(config.keyFile()));
  }

  private void install(KeyMaterial material) {
    String[] protocols =
        config.minVersion().equals("TLSv1.3")
            ? new String[] {"TLSv1.3"}
            : new String[] {"TLSv1.3", "TLSv1.2"};
    try {
      context =
          SslContextBuilder.forServer(
                  material.key(), material.chain().toArray(new X509Certificate[0]))
              .sslProvider(SslProvider.JDK)
              .protocols(protocols)
              .build();
    } catch (SSLException e) {
      throw new IllegalArgumentException(
          "the JDK refused the key and certificate: " + e.getMessage(), e);
    }
    certificate = material.leaf();
    if (certificate.getNotAfter().toInstant().isBefore(clock.instant())) {
      log.warn(
          "the TLS certificate expired at {}; clients that verify it will refuse to connect",
          certificate.getNotAfter().toInstant());
    }
  }

  @Override
  public void close() {
    if (watcher != null) {
      watcher.shutdownNow();
    }
  }
}
