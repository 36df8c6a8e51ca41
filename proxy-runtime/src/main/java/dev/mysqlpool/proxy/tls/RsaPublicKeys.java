package dev.mysqlpool.proxy.tls;

import java.math.BigInteger;
import java.security.spec.RSAPublicKeySpec;

/**
 * PKCS#1 RSA public keys ({@code -----BEGIN RSA PUBLIC KEY-----}, which MySQL servers may send for
 * caching_sha2_password), read with the one DER reader of this package: the JDK reads only the
 * X.509 form.
 *
 * <p>Pure functions, safe on any thread.
 */
public final class RsaPublicKeys {
  private RsaPublicKeys() {}

  /**
   * Reads {@code RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }}.
   *
   * @throws IllegalArgumentException saying what is malformed
   */
  public static RSAPublicKeySpec pkcs1(byte[] der) {
    Der.Reader outer = new Der.Reader(der);
    Der.Reader key = outer.enter(Der.SEQUENCE);
    if (outer.hasMore()) {
      throw new IllegalArgumentException("trailing bytes after the SEQUENCE");
    }
    BigInteger modulus = integer(key, "modulus");
    BigInteger exponent = integer(key, "publicExponent");
    if (key.hasMore()) {
      throw new IllegalArgumentException("trailing bytes after publicExponent");
    }
    if (modulus.signum() <= 0 || exponent.signum() <= 0) {
      throw new IllegalArgumentException("modulus and publicExponent must be positive");
    }
    return new RSAPublicKeySpec(modulus, exponent);
  }

  private static BigInteger integer(Der.Reader r, String what) {
    byte[] value = r.read(Der.INTEGER);
    if (value.length == 0) {
      throw new IllegalArgumentException("empty INTEGER " + what);
    }
    return new BigInteger(value);
  }
}
