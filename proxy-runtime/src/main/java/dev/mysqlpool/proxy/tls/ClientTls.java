package dev.mysqlpool.proxy.tls;

import dev.mysqlpool.proxy.config.ConfigException;
import dev.mysqlpool.proxy.config.ProxyConfig.Backend;
import dev.mysqlpool.proxy.config.ProxyConfig.BackendTls;
import dev.mysqlpool.proxy.config.ProxyConfig.BackendTlsMode;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The proxy's TLS toward one backend, as {@code backends[].tls} sets it: one client context per
 * backend, built once (the CA file is read here, not per connection) and shared by all its logins,
 * whose session cache can resume sessions with a server that allows it (MariaDB 11.4 does not).
 *
 * <p>{@code preferred} and {@code required} encrypt without checking the certificate (MySQL's
 * {@code ssl-mode} semantics); {@code verify-ca} checks the chain against {@code caFile} (every
 * certificate of a bundle such as RDS's is a trust anchor) or the JVM's trust store; {@code
 * verify-identity} also checks that the certificate names the backend's host. A failed check says
 * which certificate, which CA file and what did not match ({@link VerifyingTrustManager}).
 *
 * <p>The JDK provider, as toward clients. Thread-safe: {@link #newHandler} is called on event
 * loops.
 */
public final class ClientTls {
  private final BackendTls config;
  private final String host;
  private final int port;
  private final SslContext context;

  private ClientTls(Backend backend) {
    this.config = backend.tls();
    this.host = backend.host();
    this.port = backend.port();
    BackendTlsMode mode = config.mode();
    String[] protocols =
        config.minVersion().equals("TLSv1.3")
            ? new String[] {"TLSv1.3"}
            : new String[] {"TLSv1.3", "TLSv1.2"};
    SslContextBuilder builder =
        SslContextBuilder.forClient()
            .sslProvider(SslProvider.JDK)
            .protocols(protocols)
            // Netty 4.2 checks host names by default; only verify-identity does here, and inside
            // the trust manager, where the failure can be told apart from an unknown CA.
            .endpointIdentificationAlgorithm(
                mode == BackendTlsMode.VERIFY_IDENTITY ? "HTTPS" : null);
    if (mode.verifiesCertificate()) {
      builder.trustManager(
          new VerifyingTrustManager(
              defaultTrustManager(backend),
              trustSource(),
              host,
              mode == BackendTlsMode.VERIFY_IDENTITY));
    } else {
      builder.trustManager(InsecureTrustManagerFactory.INSTANCE);
    }
    try {
      context = builder.build();
    } catch (SSLException e) {
      throw new ConfigException(
          List.of(field(backend, "tls") + ": the JDK cannot make a TLS client: " + e.getMessage()));
    }
  }

  /**
   * The TLS settings of a backend, ready for its logins; blocking (reads {@code caFile}), so call
   * it where the config is applied, not on an event loop.
   *
   * @return null when {@code tls.mode} is {@code disabled}
   * @throws ConfigException naming the field, the file and the fix when the CA file is unusable
   */
  public static ClientTls forBackend(Backend backend) {
    return backend.tls().mode() == BackendTlsMode.DISABLED ? null : new ClientTls(backend);
  }

  /** The configured mode (never {@code disabled}). */
  public BackendTlsMode mode() {
    return config.mode();
  }

  /** Where certificates are checked against, for messages: the CA file or the JVM's store. */
  public String trustSource() {
    return config.caFile() != null ? "tls.caFile " + config.caFile() : "the JVM's default CAs";
  }

  /**
   * A client-side handler for one new backend connection, which the caller adds in front of the
   * packet decoder once its SSLRequest is flushed; the pipeline then owns it. Host and port key the
   * session cache (resumption) and are what verify-identity checks.
   */
  public SslHandler newHandler(ByteBufAllocator alloc) {
    return context.newHandler(alloc, host, port);
  }

  private X509ExtendedTrustManager defaultTrustManager(Backend backend) {
    try {
      KeyStore anchors = null;
      if (config.caFile() != null) {
        anchors = KeyStore.getInstance("PKCS12");
        anchors.load(null, null);
        List<X509Certificate> cas = readCaFile(backend);
        for (int i = 0; i < cas.size(); i++) {
          anchors.setCertificateEntry("ca-" + i, cas.get(i));
        }
      }
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(anchors);
      for (TrustManager tm : tmf.getTrustManagers()) {
        if (tm instanceof X509ExtendedTrustManager x) {
          return x;
        }
      }
      throw new IllegalStateException("this JRE has no X509ExtendedTrustManager");
    } catch (GeneralSecurityException | IOException e) {
      throw new ConfigException(
          List.of(
              field(backend, "tls.caFile")
                  + ": the JDK cannot use these CAs: "
                  + e.getMessage()
                  + "; give a PEM file of CA certificates"));
    }
  }

  private List<X509Certificate> readCaFile(Backend backend) {
    Path file = Path.of(config.caFile());
    String text;
    try {
      text = Files.readString(file, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new ConfigException(
          List.of(
              field(backend, "tls.caFile")
                  + ": cannot read "
                  + file
                  + " ("
                  + e.getClass().getSimpleName()
                  + "); mount the CA bundle there or fix the path"));
    }
    try {
      return Pem.certificates(text);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(
          List.of(
              field(backend, "tls.caFile")
                  + ": "
                  + file
                  + " is not a PEM CA bundle: "
                  + e.getMessage()
                  + "; give the CA certificates as '-----BEGIN CERTIFICATE-----' blocks"));
    }
  }

  private static String field(Backend backend, String name) {
    return "backends[" + backend.name() + "]." + name;
  }
}
