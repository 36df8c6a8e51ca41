package dev.mysqlpool.proxy.auth;

import java.security.SecureRandom;

/**
 * Seeds for the proxy's own HandshakeV10, so that clients authenticate against the proxy rather
 * than a backend.
 *
 * @see <a
 *     href="https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_handshake_v10.html">Protocol::HandshakeV10</a>
 */
public final class Scrambles {
  /** Length of the seed both native and caching_sha2 use: 8 bytes in part 1, 12 in part 2. */
  public static final int SEED_LENGTH = Seeds.SEED_LENGTH;

  private Scrambles() {}

  /**
   * Draws a fresh 20-byte seed with every byte in 1..127 and none equal to {@code '$'}, exactly as
   * MySQL's {@code generate_user_salt} (mysys/crypt_genhash_impl.cc) does. MySQL masks to 7 bits so
   * the seed is a legal UTF-8 string, and skips 0x00 because part 2 travels NUL-terminated and
   * clients that treat the seed as a C string would cut it short; {@code '$'} is the field
   * separator of MySQL's sha2 crypt format. Mapping the excluded values to their successor keeps
   * MySQL's distribution, about 6.9 bits of entropy per byte.
   *
   * <p>Safe on any thread if {@code random} is; {@link SecureRandom} is thread-safe. With the
   * default (non-blocking) SecureRandom this is cheap enough for an event loop.
   *
   * @param random the source of randomness, normally one shared {@code new SecureRandom()}
   * @return a new 20-byte array
   */
  public static byte[] newSeed(SecureRandom random) {
    byte[] seed = new byte[SEED_LENGTH];
    random.nextBytes(seed);
    for (int i = 0; i < SEED_LENGTH; i++) {
      int b = seed[i] & 0x7f;
      if (b == 0 || b == '$') {
        b++;
      }
      seed[i] = (byte) b;
    }
    return seed;
  }
}
