package dev.mysqlpool.proxy.auth;

/** Seed checks shared by the auth plugins. */
final class Seeds {
  /** Length of the scramble both native and caching_sha2 use. */
  static final int SEED_LENGTH = 20;

  private Seeds() {}

  /**
   * Rejects anything but a 20-byte seed. The usual bug is passing auth-plugin-data with its
   * trailing NUL (21 bytes), which would silently produce a reply no server accepts; failing here
   * points at the real cause.
   */
  static void checkSeed(byte[] seed, String plugin) {
    if (seed.length != SEED_LENGTH) {
      throw new IllegalArgumentException(
          plugin
              + " seed must be "
              + SEED_LENGTH
              + " bytes (auth-plugin-data parts 1 and 2 without the trailing NUL), got "
              + seed.length);
    }
  }
}
