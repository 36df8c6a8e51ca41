package dev.mysqlpool.proxy.digest;

/**
 * What one row of the digest view counts: statements of one digest, run on one backend, for one
 * user. The schema is left out of the key on purpose: a digest is about the statement's shape, and
 * with a schema per tenant the same statement would fill the bounded view with one row per tenant.
 *
 * <p>Immutable and shared by every event loop's table, so the rows of one key merge by identity;
 * {@link #OTHER} stands for the statements counted beyond {@code stats.maxQueryDigests}.
 */
final class DigestKey {
  /** The row of the statements whose digests did not fit. */
  static final DigestKey OTHER = new DigestKey(0, null, null, null);

  final long hash;
  final String backend;
  final String user;

  /** The normalised text of the first statement seen with this key. */
  final String text;

  DigestKey(long hash, String backend, String user, String text) {
    this.hash = hash;
    this.backend = backend;
    this.user = user;
    this.text = text;
  }

  boolean matches(long hash, String backend, String user) {
    return this.hash == hash && same(this.backend, backend) && same(this.user, user);
  }

  boolean isOther() {
    return this == OTHER;
  }

  private static boolean same(String a, String b) {
    return a == null ? b == null : a.equals(b);
  }

  /** A well-mixed slot index for a key (the FNV hash's low bits alone cluster). */
  static int spread(long hash, String backend, String user) {
    long h = hash ^ (backend == null ? 0 : backend.hashCode() * 0x9E3779B97F4A7C15L);
    h ^= user == null ? 0 : user.hashCode() * 0xC2B2AE3D27D4EB4FL;
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    return (int) h;
  }
}
