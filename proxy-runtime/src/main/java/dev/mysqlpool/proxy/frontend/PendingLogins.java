package dev.mysqlpool.proxy.frontend;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts connections still logging in (accepted, not yet authenticated), across the proxy and per
 * client address, against {@code frontend.maxPendingLogins} and {@code
 * frontend.maxPendingLoginsPerAddress}: a flood of connections that never log in, from one address
 * or many, takes a bounded share of the proxy, and one address cannot lock out the others. IPv6
 * clients count per /64 prefix, since one host commonly holds a whole /64.
 *
 * <p>Thread-safe: logins on every event loop acquire and release here.
 */
final class PendingLogins {
  /** Whether a login may go on, or which limit it hit. */
  enum Admission {
    ADMITTED,
    TOTAL_LIMIT,
    ADDRESS_LIMIT
  }

  private final AtomicInteger total = new AtomicInteger();
  private final ConcurrentHashMap<Object, AtomicInteger> perAddress = new ConcurrentHashMap<>();

  /**
   * Counts one more login in progress from {@code key} unless a limit is reached; an admitted login
   * is {@link #release}d exactly once.
   */
  Admission tryAcquire(Object key, int maxTotal, int maxPerAddress) {
    if (total.incrementAndGet() > maxTotal) {
      total.decrementAndGet();
      return Admission.TOTAL_LIMIT;
    }
    boolean[] admitted = {false};
    perAddress.compute(
        key,
        (k, n) -> {
          AtomicInteger count = n == null ? new AtomicInteger() : n;
          if (count.get() < maxPerAddress) {
            count.incrementAndGet();
            admitted[0] = true;
          }
          return count.get() == 0 ? null : count;
        });
    if (!admitted[0]) {
      total.decrementAndGet();
      return Admission.ADDRESS_LIMIT;
    }
    return Admission.ADMITTED;
  }

  /** The login of this key ended: authenticated, failed or closed. */
  void release(Object key) {
    total.decrementAndGet();
    perAddress.computeIfPresent(key, (k, n) -> n.decrementAndGet() == 0 ? null : n);
  }

  /** Logins in progress right now. */
  int total() {
    return total.get();
  }

  /** Addresses with a login in progress right now (for tests: no entry outlives its logins). */
  int addresses() {
    return perAddress.size();
  }

  /** What logins from this address count under: the IP, or for IPv6 its /64 prefix. */
  static Object key(SocketAddress remote) {
    if (remote instanceof InetSocketAddress a && a.getAddress() != null) {
      InetAddress ip = a.getAddress();
      if (ip instanceof Inet6Address) {
        return new Prefix(Arrays.copyOf(ip.getAddress(), 8));
      }
      return ip;
    }
    return "unknown";
  }

  /** An IPv6 /64 prefix, compared by value. */
  private record Prefix(byte[] bytes) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Prefix p && Arrays.equals(bytes, p.bytes);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(bytes);
    }
  }
}
