package dev.mysqlpool.proxy.tls;

import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Issues X.509 v3 certificates: the proxy's self-signed certificate when no files are configured
 * (and a test's own CA and server certificates). ECDSA P-256 keys, SHA-256 signatures (RSA signing
 * keys are accepted too), with the extensions TLS clients check: basic constraints, key usage,
 * extended key usage (server), subject alternative names and key identifiers.
 *
 * <p>Written here rather than taken from BouncyCastle: the proxy needs exactly this, PEM parsing
 * ({@link Pem}) and a little DER ({@link Der}), some 700 lines on the JDK's own keys and
 * signatures, against about 10 MB of dependency (bcprov, bcpkix, bcutil) in every image and its
 * release train to follow. The JDK's PKIX validator, OpenSSL ({@code CertificatesTest}) and every
 * real client in the tests verify what this writes.
 *
 * <p>Pure functions, safe on any thread.
 *
 * @see <a href="https://www.rfc-editor.org/rfc/rfc5280">RFC 5280</a>
 */
public final class Certificates {
  private static final String ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2";
  private static final String SHA256_WITH_RSA = "1.2.840.113549.1.1.11";
  private static final String COMMON_NAME = "2.5.4.3";
  private static final String SUBJECT_KEY_ID = "2.5.29.14";
  private static final String KEY_USAGE = "2.5.29.15";
  private static final String SUBJECT_ALT_NAME = "2.5.29.17";
  private static final String BASIC_CONSTRAINTS = "2.5.29.19";
  private static final String AUTHORITY_KEY_ID = "2.5.29.35";
  private static final String EXTENDED_KEY_USAGE = "2.5.29.37";
  private static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";

  private static final int DIGITAL_SIGNATURE = 0;
  private static final int KEY_ENCIPHERMENT = 2;
  private static final int KEY_CERT_SIGN = 5;
  private static final int CRL_SIGN = 6;

  private static final SecureRandom RANDOM = new SecureRandom();

  /**
   * What a certificate says about its subject.
   *
   * @param commonName the subject's CN
   * @param publicKey the key it certifies
   * @param subjectAltNames host names and IP address literals the certificate is valid for
   * @param authority true for a CA (may sign certificates), false for a TLS server
   */
  public record Request(
      String commonName,
      PublicKey publicKey,
      List<String> subjectAltNames,
      boolean authority,
      Instant notBefore,
      Instant notAfter) {}

  private Certificates() {}

  /** A new ECDSA key pair on curve P-256, which every TLS 1.2 and 1.3 client accepts. */
  public static KeyPair newKeyPair() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      return g.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JRE cannot make P-256 keys", e);
    }
  }

  /**
   * Signs a certificate.
   *
   * @param issuer the issuing CA's certificate, or null for a self-signed certificate
   * @param signingKey the issuer's private key (for a self-signed one, the subject's own)
   */
  public static X509Certificate issue(
      Request request, X509Certificate issuer, PrivateKey signingKey) {
    byte[] subject = name(request.commonName());
    byte[] subjectKeyId = keyId(request.publicKey());
    byte[] issuerName = issuer == null ? subject : issuer.getSubjectX500Principal().getEncoded();
    byte[] issuerKeyId = issuer == null ? subjectKeyId : keyId(issuer.getPublicKey());
    boolean rsa = signingKey.getAlgorithm().equals("RSA");
    byte[] algorithm =
        rsa
            ? Der.sequence(Der.oid(SHA256_WITH_RSA), Der.nullValue())
            : Der.sequence(Der.oid(ECDSA_WITH_SHA256));

    List<byte[]> extensions = new ArrayList<>();
    extensions.add(
        extension(
            BASIC_CONSTRAINTS,
            true,
            request.authority() ? Der.sequence(Der.bool(true)) : Der.sequence()));
    boolean rsaSubject = request.publicKey().getAlgorithm().equals("RSA");
    extensions.add(
        extension(
            KEY_USAGE,
            true,
            request.authority()
                ? Der.namedBits(DIGITAL_SIGNATURE, KEY_CERT_SIGN, CRL_SIGN)
                : rsaSubject
                    ? Der.namedBits(DIGITAL_SIGNATURE, KEY_ENCIPHERMENT)
                    : Der.namedBits(DIGITAL_SIGNATURE)));
    if (!request.authority()) {
      extensions.add(extension(EXTENDED_KEY_USAGE, false, Der.sequence(Der.oid(SERVER_AUTH))));
    }
    if (!request.subjectAltNames().isEmpty()) {
      extensions.add(extension(SUBJECT_ALT_NAME, false, generalNames(request.subjectAltNames())));
    }
    extensions.add(extension(SUBJECT_KEY_ID, false, Der.octetString(subjectKeyId)));
    extensions.add(extension(AUTHORITY_KEY_ID, false, Der.sequence(Der.implicit(0, issuerKeyId))));

    byte[] tbs =
        Der.sequence(
            Der.explicit(0, Der.integer(2)),
            Der.integer(serial()),
            algorithm,
            issuerName,
            Der.sequence(Der.time(request.notBefore()), Der.time(request.notAfter())),
            subject,
            request.publicKey().getEncoded(),
            Der.explicit(3, Der.sequence(extensions.toArray(new byte[0][]))));
    try {
      Signature signer = Signature.getInstance(rsa ? "SHA256withRSA" : "SHA256withECDSA");
      signer.initSign(signingKey);
      signer.update(tbs);
      byte[] der = Der.sequence(tbs, algorithm, Der.bitString(signer.sign()));
      X509Certificate cert =
          (X509Certificate)
              CertificateFactory.getInstance("X.509")
                  .generateCertificate(new ByteArrayInputStream(der));
      cert.verify(issuer == null ? request.publicKey() : issuer.getPublicKey());
      return cert;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(
          "could not sign a certificate for '" + request.commonName() + "'", e);
    }
  }

  /**
   * Whether {@code key} is the private half of the certificate's public key: a signature made with
   * it verifies under the certificate. Catches a key file that belongs to another certificate (or
   * to a certificate not yet written during a rotation).
   */
  public static boolean matches(X509Certificate certificate, PrivateKey key) {
    String algorithm = key.getAlgorithm();
    if (!algorithm.equals(certificate.getPublicKey().getAlgorithm())
        || !(algorithm.equals("EC") || algorithm.equals("RSA"))) {
      return false;
    }
    try {
      byte[] probe = new byte[32];
      RANDOM.nextBytes(probe);
      Signature s =
          Signature.getInstance(algorithm.equals("EC") ? "SHA256withECDSA" : "SHA256withRSA");
      s.initSign(key);
      s.update(probe);
      byte[] signature = s.sign();
      s.initVerify(certificate.getPublicKey());
      s.update(probe);
      return s.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private static byte[] name(String commonName) {
    return Der.sequence(Der.set(Der.sequence(Der.oid(COMMON_NAME), Der.utf8(commonName))));
  }

  private static byte[] extension(String oid, boolean critical, byte[] value) {
    return critical
        ? Der.sequence(Der.oid(oid), Der.bool(true), Der.octetString(value))
        : Der.sequence(Der.oid(oid), Der.octetString(value));
  }

  /** dNSName is [2] IA5String, iPAddress [7] the 4 or 16 address bytes. */
  private static byte[] generalNames(List<String> names) {
    List<byte[]> out = new ArrayList<>();
    for (String n : names) {
      if (isIpLiteral(n)) {
        try {
          out.add(Der.implicit(7, InetAddress.getByName(n).getAddress()));
        } catch (UnknownHostException e) {
          throw new IllegalArgumentException("not an IP address: " + n, e);
        }
      } else {
        out.add(Der.implicit(2, n.getBytes(StandardCharsets.US_ASCII)));
      }
    }
    return Der.sequence(out.toArray(new byte[0][]));
  }

  private static boolean isIpLiteral(String s) {
    return s.contains(":") || s.matches("\\d{1,3}(\\.\\d{1,3}){3}");
  }

  /** RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
  private static byte[] keyId(PublicKey key) {
    Der.Reader spki = new Der.Reader(key.getEncoded()).enter(Der.SEQUENCE);
    spki.readElement();
    byte[] bits = spki.read(Der.BIT_STRING);
    try {
      MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
      sha1.update(bits, 1, bits.length - 1);
      return sha1.digest();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JRE provides no SHA-1", e);
    }
  }

  /** 16 random bytes, positive and without a leading zero byte, as RFC 5280 asks. */
  private static BigInteger serial() {
    byte[] b = new byte[16];
    RANDOM.nextBytes(b);
    b[0] = (byte) ((b[0] & 0x7f) | 0x40);
    return new BigInteger(b);
  }
}
