package dev.mysqlpool.proxy.auth;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.Cipher;

/**
 * The proxy's server side of {@code caching_sha2_password}, shared by every client exchange: the
 * cache of accounts that completed a full authentication (which lets their next logins take the
 * fast path, as on a MySQL server), and the proxy's own RSA key pair, which clients without TLS
 * fetch (0x02) to encrypt their password.
 *
 * <p>A cache entry is {@code SHA256(SHA256(password))} of the password the full authentication
 * proved; the fast path is taken only while it equals the one of the configured password, so a
 * rotated password needs a full authentication again and an old one never passes.
 *
 * <p>Thread-safe. The key pair (RSA 2048) is made on a background thread when {@link #prepare} is
 * called at start, else on first use.
 *
 * @see <a
 *     href="https://dev.mysql.com/doc/dev/mysql-server/latest/page_caching_sha2_authentication_exchanges.html">caching_sha2_password
 *     information exchanges</a>
 */
public final class CachingSha2Server {
  private static final int RSA_BITS = 2048;

  private final Map<String, byte[]> fullyAuthenticated = new ConcurrentHashMap<>();
  private volatile CompletableFuture<KeyPair> keys;

  /** Starts making the RSA key pair in the background, so that no login waits for it. */
  public void prepare() {
    keyPair(true);
  }

  /** Whether {@code user} completed a full authentication with this very password. */
  boolean cached(String user, byte[] password) {
    byte[] entry = fullyAuthenticated.get(user);
    return entry != null && MessageDigest.isEqual(entry, doubleSha256(password));
  }

  /** Records a full authentication: this user's next logins may take the fast path. */
  void remember(String user, byte[] password) {
    fullyAuthenticated.put(user, doubleSha256(password));
  }

  /** {@code 0x01} followed by the PEM public key, the server's answer to {@code 0x02}. */
  byte[] publicKeyMessage() {
    String pem =
        "-----BEGIN PUBLIC KEY-----\n"
            + Base64.getMimeEncoder(64, new byte[] {'\n'})
                .encodeToString(keyPair(false).join().getPublic().getEncoded())
            + "\n-----END PUBLIC KEY-----\n";
    byte[] text = pem.getBytes(StandardCharsets.US_ASCII);
    byte[] out = new byte[text.length + 1];
    out[0] = 0x01;
    System.arraycopy(text, 0, out, 1, text.length);
    return out;
  }

  /**
   * The password the client encrypted with the proxy's public key: RSA-OAEP decryption, then the
   * XOR with the seed undone and the terminating NUL removed.
   *
   * @return the password bytes, or null when the blob does not decrypt (a wrong key, garbage)
   */
  byte[] decryptPassword(byte[] encrypted, byte[] seed) {
    byte[] plain;
    try {
      Cipher cipher = Cipher.getInstance("RSA/ECB/OAEPWithSHA-1AndMGF1Padding");
      cipher.init(Cipher.DECRYPT_MODE, keyPair(false).join().getPrivate());
      plain = cipher.doFinal(encrypted);
    } catch (GeneralSecurityException e) {
      return null;
    }
    for (int i = 0; i < plain.length; i++) {
      plain[i] ^= seed[i % seed.length];
    }
    return withoutNul(plain);
  }

  /** A cleartext password as clients send it over TLS: NUL-terminated. */
  static byte[] withoutNul(byte[] password) {
    int n = password.length;
    if (n > 0 && password[n - 1] == 0) {
      byte[] out = Arrays.copyOf(password, n - 1);
      Arrays.fill(password, (byte) 0);
      return out;
    }
    return password;
  }

  private CompletableFuture<KeyPair> keyPair(boolean async) {
    CompletableFuture<KeyPair> k = keys;
    if (k == null) {
      synchronized (this) {
        if (keys == null) {
          keys =
              async
                  ? CompletableFuture.supplyAsync(CachingSha2Server::generate)
                  : CompletableFuture.completedFuture(generate());
        }
        k = keys;
      }
    }
    return k;
  }

  private static KeyPair generate() {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(RSA_BITS);
      return g.generateKeyPair();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JRE cannot make RSA keys", e);
    }
  }

  private static byte[] doubleSha256(byte[] password) {
    try {
      MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
      return sha256.digest(sha256.digest(password));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JRE provides no SHA-256 MessageDigest", e);
    }
  }
}
