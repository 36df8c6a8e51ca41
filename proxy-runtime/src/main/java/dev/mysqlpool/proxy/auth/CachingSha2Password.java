package dev.mysqlpool.proxy.auth;

import dev.mysqlpool.proxy.tls.RsaPublicKeys;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.KeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import javax.crypto.BadPaddingException;
import javax.crypto.Cipher;
import javax.crypto.IllegalBlockSizeException;
import javax.crypto.NoSuchPaddingException;

/**
 * The {@code caching_sha2_password} exchange, client side of both paths.
 *
 * <ul>
 *   <li>Fast path: the client sends {@link #scramble} = {@code SHA256(pw) XOR
 *       SHA256(SHA256(SHA256(pw)) || seed)}; a server that has the account cached answers {@link
 *       #FAST_AUTH_SUCCESS} followed by OK.
 *   <li>Full path: the server answers {@link #PERFORM_FULL_AUTHENTICATION}; over TLS the client
 *       sends the NUL-terminated cleartext password, otherwise it sends {@link #REQUEST_PUBLIC_KEY}
 *       (unless it already has the key), receives the PEM key and sends {@link #encryptPassword}.
 * </ul>
 *
 * <p>The order of the inner hash inputs follows MySQL's documentation and Connector/J's {@code
 * Security.scrambleCachingSha2} (MariaDB's page lists the seed first, which servers reject).
 *
 * <p>Pure functions, safe on any thread. Arguments are never modified or retained; the caller owns
 * every array. RSA encryption costs about a millisecond, so callers on an event loop should cache
 * the parsed key ({@link #parsePublicKey}) and expect the full path to be rare: the server caches
 * the account after one full login.
 *
 * @see <a
 *     href="https://dev.mysql.com/doc/dev/mysql-server/latest/page_caching_sha2_authentication_exchanges.html">caching_sha2_password
 *     information exchanges</a>
 */
public final class CachingSha2Password {
  /** The plugin name sent in HandshakeV10, HandshakeResponse41 and AuthSwitchRequest. */
  public static final String PLUGIN_NAME = "caching_sha2_password";

  /** Client to server, in the full path without TLS: "send me your RSA public key". */
  public static final byte REQUEST_PUBLIC_KEY = 0x02;

  /** Server to client, after the scramble: the cached hash matched, an OK packet follows. */
  public static final byte FAST_AUTH_SUCCESS = 0x03;

  /** Server to client, after the scramble: no cached hash, send the password over TLS or RSA. */
  public static final byte PERFORM_FULL_AUTHENTICATION = 0x04;

  /**
   * OAEP padding is what MySQL 8.0.5 and later expect; older servers used PKCS#1 v1.5 padding and
   * are not supported here.
   */
  private static final String RSA_TRANSFORMATION = "RSA/ECB/OAEPWithSHA-1AndMGF1Padding";

  /** OAEP with SHA-1 spends 2 * 20 + 2 bytes of the modulus on padding. */
  private static final int OAEP_SHA1_OVERHEAD = 42;

  private static final int SHA256_LENGTH = 32;

  private CachingSha2Password() {}

  /**
   * Computes the client's fast-path auth response.
   *
   * @param password the password in the encoding the server stores it in (in practice UTF-8)
   * @param seed the 20-byte scramble: auth-plugin-data parts 1 and 2 without the trailing NUL
   * @return a new 32-byte array, or an empty array for an empty password
   * @throws IllegalArgumentException if the seed is not 20 bytes
   */
  public static byte[] scramble(byte[] password, byte[] seed) {
    Seeds.checkSeed(seed, PLUGIN_NAME);
    if (password.length == 0) {
      return new byte[0];
    }
    MessageDigest sha256 = sha256();
    byte[] stage1 = sha256.digest(password);
    byte[] stage2 = sha256.digest(stage1);
    sha256.update(stage2);
    sha256.update(seed);
    byte[] mask = sha256.digest();
    for (int i = 0; i < SHA256_LENGTH; i++) {
      stage1[i] ^= mask[i];
    }
    return stage1;
  }

  /**
   * Checks a client's fast-path auth response in time independent of where it differs. The proxy
   * uses it to authenticate clients when it knows the cleartext password.
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

  /**
   * Encrypts the password for the full path without TLS: {@code (password || 0x00) XOR seed}, the
   * seed repeated cyclically, then RSA with OAEP (SHA-1, MGF1) under the server's public key.
   *
   * @param password the password in the encoding the server stores it in (in practice UTF-8); may
   *     be empty
   * @param seed the 20-byte scramble from the server's handshake (or its AuthSwitchRequest)
   * @param pemPublicKey the key as the server sent it: X.509 {@code BEGIN PUBLIC KEY} or PKCS#1
   *     {@code BEGIN RSA PUBLIC KEY}; text around the PEM block (such as a trailing NUL) is ignored
   * @return a new array as long as the key's modulus, to send as the whole auth packet payload
   * @throws IllegalArgumentException if the seed is not 20 bytes, the key cannot be parsed or is
   *     not RSA, or the password is too long for the key
   */
  public static byte[] encryptPassword(byte[] password, byte[] seed, String pemPublicKey) {
    return encryptPassword(password, seed, parsePublicKey(pemPublicKey));
  }

  /**
   * Same as {@link #encryptPassword(byte[], byte[], String)} with a key parsed once by {@link
   * #parsePublicKey}, which saves the parse when one proxy logs in many backend connections to the
   * same server.
   */
  public static byte[] encryptPassword(byte[] password, byte[] seed, RSAPublicKey publicKey) {
    Seeds.checkSeed(seed, PLUGIN_NAME);
    int modulusBytes = (publicKey.getModulus().bitLength() + 7) / 8;
    int maxPlaintext = modulusBytes - OAEP_SHA1_OVERHEAD;
    if (password.length + 1 > maxPlaintext) {
      throw new IllegalArgumentException(
          "password too long for the server's "
              + publicKey.getModulus().bitLength()
              + "-bit RSA key: OAEP fits "
              + Math.max(0, maxPlaintext)
              + " bytes, the password plus its NUL is "
              + (password.length + 1));
    }
    byte[] plaintext = Arrays.copyOf(password, password.length + 1);
    for (int i = 0; i < plaintext.length; i++) {
      plaintext[i] ^= seed[i % seed.length];
    }
    try {
      Cipher cipher = Cipher.getInstance(RSA_TRANSFORMATION);
      cipher.init(Cipher.ENCRYPT_MODE, publicKey);
      return cipher.doFinal(plaintext);
    } catch (InvalidKeyException e) {
      throw new IllegalArgumentException(
          "the server's RSA public key was rejected by " + RSA_TRANSFORMATION, e);
    } catch (NoSuchAlgorithmException | NoSuchPaddingException e) {
      throw new IllegalStateException("this JRE does not provide " + RSA_TRANSFORMATION, e);
    } catch (IllegalBlockSizeException | BadPaddingException e) {
      // The size check above should make this unreachable; keep the cause if a provider disagrees.
      throw new IllegalArgumentException(
          "RSA encryption of a "
              + plaintext.length
              + "-byte password failed with a "
              + modulusBytes
              + "-byte key",
          e);
    } finally {
      // The XOR with a public seed is reversible, so this buffer is as sensitive as the password
      // itself.
      Arrays.fill(plaintext, (byte) 0);
    }
  }

  /**
   * Parses the PEM public key a server sends after {@link #REQUEST_PUBLIC_KEY} (or that an operator
   * configured).
   *
   * @param pem an X.509 SubjectPublicKeyInfo ({@code -----BEGIN PUBLIC KEY-----}) or PKCS#1 ({@code
   *     -----BEGIN RSA PUBLIC KEY-----}) block; text before and after it is ignored
   * @return the RSA public key
   * @throws IllegalArgumentException naming the problem: no PEM block, an unsupported block type,
   *     bad base64, malformed DER, or a key that is not RSA
   */
  public static RSAPublicKey parsePublicKey(String pem) {
    if (pem == null || pem.isBlank()) {
      throw new IllegalArgumentException("server RSA public key is empty");
    }
    int begin = pem.indexOf("-----BEGIN ");
    if (begin < 0) {
      throw new IllegalArgumentException(
          "server RSA public key is not PEM: no '-----BEGIN ' line in "
              + pem.length()
              + " characters");
    }
    int labelStart = begin + "-----BEGIN ".length();
    int labelEnd = pem.indexOf("-----", labelStart);
    if (labelEnd < 0) {
      throw new IllegalArgumentException(
          "server RSA public key is not PEM: unterminated BEGIN line");
    }
    String label = pem.substring(labelStart, labelEnd);
    String endLine = "-----END " + label + "-----";
    int bodyStart = labelEnd + "-----".length();
    int end = pem.indexOf(endLine, bodyStart);
    if (end < 0) {
      throw new IllegalArgumentException(
          "server RSA public key is not PEM: no '" + endLine + "' line");
    }
    KeySpec spec;
    if (label.equals("PUBLIC KEY")) {
      spec = new X509EncodedKeySpec(base64(pem.substring(bodyStart, end), label));
    } else if (label.equals("RSA PUBLIC KEY")) {
      spec = pkcs1(base64(pem.substring(bodyStart, end), label));
    } else {
      throw new IllegalArgumentException(
          "server RSA public key has PEM type '"
              + label
              + "', expected 'PUBLIC KEY' or 'RSA PUBLIC KEY'");
    }
    try {
      return (RSAPublicKey) KeyFactory.getInstance("RSA").generatePublic(spec);
    } catch (InvalidKeySpecException e) {
      throw new IllegalArgumentException(
          "server public key (PEM type '"
              + label
              + "') is not a valid RSA public key: "
              + e.getMessage(),
          e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JRE provides no RSA KeyFactory", e);
    }
  }

  private static byte[] base64(String body, String label) {
    // Strict decoding after dropping line breaks: the MIME decoder would silently skip stray
    // characters and
    // turn a corrupted key into a confusing DER error.
    StringBuilder compact = new StringBuilder(body.length());
    for (int i = 0; i < body.length(); i++) {
      char c = body.charAt(i);
      if (!Character.isWhitespace(c)) {
        compact.append(c);
      }
    }
    try {
      return Base64.getDecoder().decode(compact.toString().getBytes(StandardCharsets.US_ASCII));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "server public key (PEM type '" + label + "') has invalid base64: " + e.getMessage(), e);
    }
  }

  /** PKCS#1 {@code RSAPublicKey}, DER encoded, read by the TLS package's DER reader. */
  private static RSAPublicKeySpec pkcs1(byte[] der) {
    try {
      return RsaPublicKeys.pkcs1(der);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "server public key (PEM type 'RSA PUBLIC KEY') is malformed PKCS#1: " + e.getMessage(),
          e);
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      // Every Java SE runtime must provide SHA-256, so this is a broken JRE rather than bad input.
      throw new IllegalStateException("this JRE provides no SHA-256 MessageDigest", e);
    }
  }
}
