package dev.mysqlpool.proxy.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * MariaDB's zero-configuration certificate verification (MDEV-31855, MariaDB 11.4 and Connector/C
 * 3.4, MariaDB Connector/J 3.4): a client that cannot verify the server's certificate against a CA
 * (a self-signed one) still trusts it when the server proves, after the login, that it knows the
 * account's password hash and presented exactly this certificate. A man in the middle would have to
 * present its own certificate, whose fingerprint the real server's proof does not cover, and cannot
 * compute a proof of its own without the password.
 *
 * <p>The proof travels in the info field of the OK packet that ends the login: byte {@code 0x01}
 * (SHA-256), then the upper-case hex of {@code SHA256(hash || scramble || SHA256(certificate
 * DER))}, where {@code hash} is what the plugin stores: {@code SHA1(SHA1(password))} for {@code
 * mysql_native_password}. Connector/C compares the hex case-sensitively after the {@code 0x01};
 * MariaDB's clients do this only for plugins that can hash (native, ed25519, parsec), not for
 * {@code caching_sha2_password}.
 *
 * <p>Pure functions, safe on any thread.
 *
 * @see <a href="https://jira.mariadb.org/browse/MDEV-31855">MDEV-31855</a>
 */
public final class CertificateProof {
  private CertificateProof() {}

  /**
   * The OK packet's info for a {@code mysql_native_password} login.
   *
   * @param password the account's password
   * @param seed the 20-byte scramble the client answered
   * @param certificateFingerprint SHA-256 of the DER of the certificate this connection presented
   * @return 65 bytes: 0x01 and 64 hex digits
   */
  public static byte[] nativePassword(byte[] password, byte[] seed, byte[] certificateFingerprint) {
    MessageDigest sha1 = digest("SHA-1");
    byte[] hash = sha1.digest(sha1.digest(password));
    MessageDigest sha256 = digest("SHA-256");
    sha256.update(hash);
    sha256.update(seed);
    sha256.update(certificateFingerprint);
    String hex = HexFormat.of().withUpperCase().formatHex(sha256.digest());
    byte[] out = new byte[1 + hex.length()];
    out[0] = 0x01;
    System.arraycopy(hex.getBytes(StandardCharsets.US_ASCII), 0, out, 1, hex.length());
    return out;
  }

  private static MessageDigest digest(String algorithm) {
    try {
      return MessageDigest.getInstance(algorithm);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JRE provides no " + algorithm, e);
    }
  }
}
