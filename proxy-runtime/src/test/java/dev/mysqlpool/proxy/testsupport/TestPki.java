package dev.mysqlpool.proxy.testsupport;

import dev.mysqlpool.proxy.tls.Certificates;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;

/**
 * A certificate authority made up for one test, issuing server certificates and writing them as a
 * {@code kubernetes.io/tls} Secret would hold them ({@code tls.crt}, {@code tls.key}), plus the CA
 * as PEM and as a PKCS#12 trust store for the Java drivers.
 */
public final class TestPki {
  /** The password of every PKCS#12 store this writes. */
  public static final String STORE_PASSWORD = "changeit";

  private final String name;
  private final KeyPair keys;
  private final X509Certificate certificate;

  private TestPki(String name) {
    this.name = name;
    this.keys = Certificates.newKeyPair();
    Instant now = Instant.now();
    this.certificate =
        Certificates.issue(
            new Certificates.Request(
                name,
                keys.getPublic(),
                List.of(),
                true,
                now.minus(Duration.ofHours(1)),
                now.plus(Duration.ofDays(30))),
            null,
            keys.getPrivate());
  }

  /** A new CA with this common name. */
  public static TestPki authority(String name) {
    return new TestPki(name);
  }

  public X509Certificate certificate() {
    return certificate;
  }

  /** A server certificate and key for 127.0.0.1 and localhost, signed by this CA. */
  public Issued issueServer(String commonName) {
    return issueServer(commonName, List.of("localhost", "127.0.0.1", "127.0.0.2"));
  }

  /** A server certificate and key for these names (host names, IP literals), signed by this CA. */
  public Issued issueServer(String commonName, List<String> subjectAltNames) {
    KeyPair server = Certificates.newKeyPair();
    Instant now = Instant.now();
    X509Certificate cert =
        Certificates.issue(
            new Certificates.Request(
                commonName,
                server.getPublic(),
                subjectAltNames,
                false,
                now.minus(Duration.ofHours(1)),
                now.plus(Duration.ofDays(30))),
            certificate,
            keys.getPrivate());
    return new Issued(cert, server);
  }

  /** Writes the CA certificate as PEM ({@code mariadb --ssl-ca}, MariaDB Connector/J). */
  public Path writeCaPem(Path file) {
    write(file, pem("CERTIFICATE", encoded(certificate)));
    return file;
  }

  /** Writes a PKCS#12 trust store holding only this CA (Connector/J, HikariCP). */
  public Path writeTrustStore(Path file) {
    try {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setCertificateEntry(name, certificate);
      try (OutputStream out = Files.newOutputStream(file)) {
        ks.store(out, STORE_PASSWORD.toCharArray());
      }
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A server certificate with its key pair. */
  public record Issued(X509Certificate certificate, KeyPair keys) {
    /**
     * Writes {@code tls.key} (PKCS#8) and then {@code tls.crt} into {@code dir}, each replaced
     * atomically, as a rotation does.
     */
    public void writeTo(Path dir) {
      replace(dir.resolve("tls.key"), pem("PRIVATE KEY", keys.getPrivate().getEncoded()));
      replace(dir.resolve("tls.crt"), pem("CERTIFICATE", encoded(certificate)));
    }
  }

  /** PEM text of one block. */
  public static String pem(String label, byte[] der) {
    return "-----BEGIN "
        + label
        + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END "
        + label
        + "-----\n";
  }

  private static byte[] encoded(X509Certificate cert) {
    try {
      return cert.getEncoded();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void write(Path file, String text) {
    try {
      Files.writeString(file, text, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void replace(Path file, String text) {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    write(tmp, text);
    try {
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
