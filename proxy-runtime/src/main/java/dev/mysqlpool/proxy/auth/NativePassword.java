package dev.mysqlpool.proxy.auth;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The {@code mysql_native_password} challenge-response: {@code SHA1(pw) XOR SHA1(seed ||
 * SHA1(SHA1(pw)))}.
 *
 * <p>The reply is bound to one server's seed, so a proxy can neither relay it to a backend nor
 * replay it: it verifies clients against its own seed and computes a fresh reply for each backend's
 * seed.
 *
 * <p>Pure functions, safe on any thread. Arguments are never modified or retained; the caller owns
 * every array. Deprecated in MySQL 8.0.34, off by default in 8.4 and removed in 9.0, but still the
 * MariaDB default.
 *
 * @see <a
 *     href="https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_authentication_methods_native_password_authentication.html">Native
 *     Authentication</a>
 */
public final class NativePassword {
  /** The plugin name sent in HandshakeV10, HandshakeResponse41 and AuthSwitchRequest. */
  public static final String PLUGIN_NAME = "mysql_native_password";

  private static final int SHA1_LENGTH = 20;

  private NativePassword() {}

  /**
   * Computes the client's auth response.
   *
   * @param password the password in the encoding the server stores it in (in practice UTF-8)
   * @param seed the 20-byte scramble: auth-plugin-data parts 1 and 2 without the trailing NUL
   * @return a new 20-byte array, or an empty array for an empty password (the protocol sends a
   *     zero-length reply)
   * @throws IllegalArgumentException if the seed is not 20 bytes
   */
  public static byte[] scramble(byte[] password, byte[] seed) {
    Seeds.checkSeed(seed, "mysql_native_password");
    if (password.length == 0) {
      return new byte[0];
    }
    MessageDigest sha1 = sha1();
    byte[] stage1 = sha1.digest(password);
    byte[] stage2 = sha1.digest(stage1);
    sha1.update(seed);
    sha1.update(stage2);
    byte[] mask = sha1.digest();
    for (int i = 0; i < SHA1_LENGTH; i++) {
      stage1[i] ^= mask[i];
    }
    return stage1;
  }

  /**
   * Checks a client's auth response in time independent of where it differs, so a client cannot
   * learn the expected reply byte by byte.
   *
   * @param password the account's password
   * @param seed the 20-byte scramble this proxy sent the client
   * @param clientReply the auth response as received; any length (a wrong length is simply false)
   * @return true if the reply matches; an empty password matches only an empty reply
   * @throws IllegalArgumentException if the seed is not 20 bytes
   */
  public static boolean verify(byte[] password, byte[] seed, byte[] clientReply) {
    return MessageDigest.isEqual(scramble(password, seed), clientReply);
  }

  private static MessageDigest sha1() {
    try {
      return MessageDigest.getInstance("SHA-1");
    } catch (NoSuchAlgorithmException e) {
      // Every Java SE runtime must provide SHA-1, so this is a broken JRE rather than bad input.
      throw new IllegalStateException("this JRE provides no SHA-1 MessageDigest", e);
    }
  }
}
