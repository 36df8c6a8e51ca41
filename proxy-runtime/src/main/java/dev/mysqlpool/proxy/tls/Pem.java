package dev.mysqlpool.proxy.tls;

import java.io.ByteArrayInputStream;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Certificates and private keys from PEM text, in every layout OpenSSL and cert-manager write:
 * certificate chains, PKCS#8 ({@code PRIVATE KEY}), PKCS#1 ({@code RSA PRIVATE KEY}, cert-manager's
 * default for RSA) and SEC1 ({@code EC PRIVATE KEY}, which {@code openssl ecparam -genkey} precedes
 * with an {@code EC PARAMETERS} block).
 *
 * <p>Pure functions, safe on any thread. Errors are IllegalArgumentExceptions saying what is wrong
 * with the text; callers add which file and field it came from.
 */
final class Pem {
  private static final String RSA = "1.2.840.113549.1.1.1";
  private static final String EC = "1.2.840.10045.2.1";

  /** One {@code -----BEGIN label-----} block, base64-decoded. */
  record Block(String label, byte[] der, boolean hasHeaders) {}

  private Pem() {}

  /** Every PEM block of the text, in order; text outside blocks is ignored, as OpenSSL does. */
  static List<Block> blocks(String text) {
    List<Block> out = new ArrayList<>();
    int from = 0;
    while (true) {
      int begin = text.indexOf("-----BEGIN ", from);
      if (begin < 0) {
        return out;
      }
      int labelStart = begin + "-----BEGIN ".length();
      int labelEnd = text.indexOf("-----", labelStart);
      if (labelEnd < 0) {
        throw new IllegalArgumentException("unterminated '-----BEGIN' line");
      }
      String label = text.substring(labelStart, labelEnd);
      String endLine = "-----END " + label + "-----";
      int bodyStart = labelEnd + "-----".length();
      int end = text.indexOf(endLine, bodyStart);
      if (end < 0) {
        throw new IllegalArgumentException("no '" + endLine + "' line");
      }
      String body = text.substring(bodyStart, end);
      // RFC 1421 headers ("Proc-Type: 4,ENCRYPTED") end with a blank line before the base64.
      boolean headers = body.contains(":");
      StringBuilder b64 = new StringBuilder(body.length());
      for (String line : body.split("\n")) {
        if (!line.contains(":")) {
          b64.append(line.strip());
        }
      }
      try {
        out.add(new Block(label, Base64.getDecoder().decode(b64.toString()), headers));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "the '" + label + "' block is not valid base64: " + e.getMessage(), e);
      }
      from = end + endLine.length();
    }
  }

  /**
   * The certificates of the text, in order (a chain: leaf first).
   *
   * @throws IllegalArgumentException when there is none or one does not parse
   */
  static List<X509Certificate> certificates(String text) {
    List<X509Certificate> chain = new ArrayList<>();
    List<String> others = new ArrayList<>();
    for (Block b : blocks(text)) {
      if (!b.label().equals("CERTIFICATE")) {
        others.add(b.label());
        continue;
      }
      try {
        chain.add(
            (X509Certificate)
                CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(b.der())));
      } catch (CertificateException e) {
        throw new IllegalArgumentException(
            "certificate " + (chain.size() + 1) + " does not parse: " + e.getMessage(), e);
      }
    }
    if (chain.isEmpty()) {
      throw new IllegalArgumentException(
          "no '-----BEGIN CERTIFICATE-----' block"
              + (others.isEmpty() ? "" : " (found " + String.join(", ", others) + ")"));
    }
    return chain;
  }

  /**
   * The private key of the text: the first PKCS#8, PKCS#1 or SEC1 block.
   *
   * @throws IllegalArgumentException when there is none, it is encrypted, or it does not parse
   */
  static PrivateKey privateKey(String text) {
    List<String> seen = new ArrayList<>();
    for (Block b : blocks(text)) {
      switch (b.label()) {
        case "PRIVATE KEY":
          return pkcs8(b.der());
        case "RSA PRIVATE KEY":
          refuseEncrypted(b);
          return pkcs8(pkcs1ToPkcs8(b.der()));
        case "EC PRIVATE KEY":
          refuseEncrypted(b);
          return pkcs8(sec1ToPkcs8(b.der()));
        case "ENCRYPTED PRIVATE KEY":
          throw new IllegalArgumentException(
              "the private key is encrypted; store it unencrypted, as a kubernetes.io/tls Secret"
                  + " holds it (openssl pkcs8 -topk8 -nocrypt)");
        default:
          seen.add(b.label());
      }
    }
    throw new IllegalArgumentException(
        "no private key block ('PRIVATE KEY', 'RSA PRIVATE KEY' or 'EC PRIVATE KEY')"
            + (seen.isEmpty() ? "" : "; found " + String.join(", ", seen)));
  }

  private static void refuseEncrypted(Block b) {
    if (b.hasHeaders()) {
      throw new IllegalArgumentException(
          "the '"
              + b.label()
              + "' block has PEM headers (an encrypted key); store it unencrypted, as a"
              + " kubernetes.io/tls Secret holds it");
    }
  }

  private static PrivateKey pkcs8(byte[] der) {
    String algorithmOid;
    try {
      Der.Reader info = new Der.Reader(der).enter(Der.SEQUENCE);
      info.read(Der.INTEGER);
      algorithmOid = info.enter(Der.SEQUENCE).readOid();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("the private key is not PKCS#8: " + e.getMessage(), e);
    }
    String algorithm =
        switch (algorithmOid) {
          case RSA -> "RSA";
          case EC -> "EC";
          default ->
              throw new IllegalArgumentException(
                  "the private key's algorithm "
                      + algorithmOid
                      + " is not supported for TLS here; use an RSA or ECDSA key");
        };
    try {
      return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "the " + algorithm + " private key does not parse: " + e.getMessage(), e);
    }
  }

  /** PrivateKeyInfo { 0, rsaEncryption NULL, OCTET STRING { RSAPrivateKey } }. */
  private static byte[] pkcs1ToPkcs8(byte[] pkcs1) {
    return Der.sequence(
        Der.integer(0), Der.sequence(Der.oid(RSA), Der.nullValue()), Der.octetString(pkcs1));
  }

  /**
   * PrivateKeyInfo { 0, ecPublicKey curve, OCTET STRING { ECPrivateKey } }: the curve comes from
   * the SEC1 key's own parameters, which OpenSSL always writes.
   */
  private static byte[] sec1ToPkcs8(byte[] sec1) {
    byte[] curve = null;
    try {
      Der.Reader key = new Der.Reader(sec1).enter(Der.SEQUENCE);
      key.read(Der.INTEGER);
      key.read(Der.OCTET_STRING);
      while (key.hasMore()) {
        if (key.peekTag() == 0xa0) {
          curve = key.enter(0xa0).readElement();
        } else {
          key.readElement();
        }
      }
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("the EC private key is not SEC1: " + e.getMessage(), e);
    }
    if (curve == null || curve[0] != Der.OID) {
      throw new IllegalArgumentException(
          "the EC private key does not name its curve; write it as PKCS#8 ('PRIVATE KEY')");
    }
    return Der.sequence(Der.integer(0), Der.sequence(Der.oid(EC), curve), Der.octetString(sec1));
  }
}
