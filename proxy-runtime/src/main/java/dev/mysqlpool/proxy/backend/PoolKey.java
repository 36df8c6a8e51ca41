package dev.mysqlpool.proxy.backend;

import dev.mysqlpool.proxy.config.ProxyConfig.User;

/**
 * What makes two backend connections interchangeable: the account they are logged in as, the
 * capability flags they were opened with (which no later command renegotiates), and the handshake
 * collation (which COM_RESET_CONNECTION restores).
 *
 * <p>A class rather than a record: a key is hashed and compared on every borrow that waits (the
 * pool's per-kind counts are maps keyed by it), and a record's generated {@code equals} and {@code
 * hashCode} walk every component of the account each time, through method handles; this one hashes
 * once and compares the account by reference first (every session of an account shares it).
 */
public final class PoolKey {
  private final User user;
  private final int capabilities;
  private final int collation;
  private final int hash;

  public PoolKey(User user, int capabilities, int collation) {
    this.user = user;
    this.capabilities = capabilities;
    this.collation = collation;
    this.hash = 31 * (31 * user.hashCode() + capabilities) + collation;
  }

  public User user() {
    return user;
  }

  public int capabilities() {
    return capabilities;
  }

  public int collation() {
    return collation;
  }

  @Override
  public boolean equals(Object o) {
    return o == this
        || o instanceof PoolKey k
            && hash == k.hash
            && capabilities == k.capabilities
            && collation == k.collation
            && (user == k.user || user.equals(k.user));
  }

  @Override
  public int hashCode() {
    return hash;
  }

  @Override
  public String toString() {
    return "PoolKey[user="
        + user.name()
        + ", capabilities="
        + capabilities
        + ", collation="
        + collation
        + "]";
  }
}
