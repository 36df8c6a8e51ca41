package dev.mysqlpool.proxy.tls;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A private key and the certificate chain it belongs to, leaf first: what a TLS endpoint presents.
 * Read from PEM files (a {@code kubernetes.io/tls} Secret's {@code tls.crt} and {@code tls.key}) or
 * made up as a self-signed certificate. Not tied to the client side: backend connections that
 * present a client certificate can load theirs the same way.
 *
 * @param chain never empty
 */
public record KeyMaterial(PrivateKey key, List<X509Certificate> chain) {

  /** How long a self-signed certificate is valid; it is made anew well before it expires. */
  static final Duration SELF_SIGNED_VALIDITY = Duration.ofDays(365);

  public KeyMaterial {
    chain = List.copyOf(chain);
  }

  /** The certificate of the key. */
  public X509Certificate leaf() {
    return chain.get(0);
  }

  /**
   * Reads and checks a certificate chain and its key.
   *
   * @param certField the config field naming the chain, for messages (e.g. {@code
   *     frontend.tls.certFile})
   * @throws IllegalArgumentException one message per problem found, each starting with the field
   *     and the file and ending with the fix
   */
  public static KeyMaterial load(String certField, Path certFile, String keyField, Path keyFile) {
    List<String> problems = new ArrayList<>();
    List<X509Certificate> chain = null;
    PrivateKey key = null;
    try {
      chain = Pem.certificates(read(certFile));
    } catch (IOException | IllegalArgumentException e) {
      problems.add(
          certField
              + ": "
              + certFile
              + ": "
              + reason(e)
              + "; point it at the PEM certificate chain, leaf first (tls.crt)");
    }
    try {
      key = Pem.privateKey(read(keyFile));
    } catch (IOException | IllegalArgumentException e) {
      problems.add(
          keyField
              + ": "
              + keyFile
              + ": "
              + reason(e)
              + "; point it at the PEM private key (tls.key)");
    }
    if (chain != null && key != null && !Certificates.matches(chain.get(0), key)) {
      problems.add(
          keyField
              + ": "
              + keyFile
              + " is not the key of the first certificate in "
              + certFile
              + " ("
              + describe(chain.get(0))
              + "); use the key and certificate of one Secret");
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(String.join("\n", problems));
    }
    return new KeyMaterial(key, chain);
  }

  /**
   * A fresh key pair and a self-signed certificate for it, valid from an hour ago (clock skew) for
   * {@link #SELF_SIGNED_VALIDITY}, for this host's name, {@code localhost} and the loopback
   * addresses. Clients cannot verify it against a CA; MariaDB's clients verify it by the password
   * instead (see auth.CertificateProof).
   */
  public static KeyMaterial selfSigned(Instant now) {
    KeyPair pair = Certificates.newKeyPair();
    Set<String> names = new LinkedHashSet<>();
    try {
      names.add(InetAddress.getLocalHost().getHostName());
    } catch (IOException e) {
      // No resolvable host name: the certificate still names localhost.
    }
    names.add("localhost");
    names.add("127.0.0.1");
    names.add("::1");
    X509Certificate cert =
        Certificates.issue(
            new Certificates.Request(
                "mysqlpool proxy (self-signed)",
                pair.getPublic(),
                List.copyOf(names),
                false,
                now.minus(Duration.ofHours(1)),
                now.plus(SELF_SIGNED_VALIDITY)),
            null,
            pair.getPrivate());
    return new KeyMaterial(pair.getPrivate(), List.of(cert));
  }

  /** SHA-256 over the certificate's DER: what {@code mariadb --ssl-fp} and MDEV-31855 use. */
  public static byte[] fingerprint(X509Certificate cert) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(cert.getEncoded());
    } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
      throw new IllegalStateException("cannot fingerprint " + describe(cert), e);
    }
  }

  /** Subject, SHA-256 fingerprint and expiry, for logs. */
  public static String describe(X509Certificate cert) {
    return "'"
        + cert.getSubjectX500Principal().getName()
        + "', SHA-256 fingerprint "
        + HexFormat.ofDelimiter(":").withUpperCase().formatHex(fingerprint(cert))
        + ", valid until "
        + cert.getNotAfter().toInstant();
  }

  private static String read(Path file) throws IOException {
    return Files.readString(file, StandardCharsets.ISO_8859_1);
  }

  private static String reason(Exception e) {
    return e instanceof IOException
        ? "cannot read it (" + e.getClass().getSimpleName() + ")"
        : e.getMessage();
  }
}
