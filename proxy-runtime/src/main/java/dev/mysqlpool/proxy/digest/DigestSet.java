package dev.mysqlpool.proxy.digest;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The digest keys admitted since the start or the last reset, at most {@code max}, shared by every
 * event loop: a key is admitted once, by whichever loop sees it first, with its text; a loop that
 * finds the set full counts the statement under {@link DigestKey#OTHER} instead. Lock-free (open
 * addressing with compare-and-set; the array is twice the bound and never fills), and a lookup
 * allocates nothing, so a client that sends a new digest with every statement costs a full set no
 * memory.
 *
 * <p>A reset replaces the whole set ({@link QueryDigests#reset}); its identity is the generation
 * each event loop's table belongs to.
 */
final class DigestSet {
  private final AtomicReferenceArray<DigestKey> slots;
  private final int mask;
  private final int max;
  private final AtomicInteger size = new AtomicInteger();

  /** When this set started counting: the proxy's start or the last reset. */
  final long sinceMillis;

  DigestSet(int max, long sinceMillis) {
    this.max = max;
    this.sinceMillis = sinceMillis;
    int capacity = Integer.highestOneBit(Math.max(2, max) * 2 - 1) << 1;
    this.slots = new AtomicReferenceArray<>(capacity);
    this.mask = capacity - 1;
  }

  /** The admitted key, or null. Any thread. */
  DigestKey find(long hash, String backend, String user) {
    for (int i = DigestKey.spread(hash, backend, user) & mask; ; i = (i + 1) & mask) {
      DigestKey k = slots.get(i);
      if (k == null || k.matches(hash, backend, user)) {
        return k;
      }
    }
  }

  /** Whether no new key can be admitted. */
  boolean full() {
    return size.get() >= max;
  }

  /**
   * Admits {@code key} and returns it, or the equal key another thread admitted first; null when
   * the set is full. Any thread.
   */
  DigestKey admit(DigestKey key) {
    if (size.incrementAndGet() > max) {
      size.decrementAndGet();
      return find(key.hash, key.backend, key.user);
    }
    for (int i = DigestKey.spread(key.hash, key.backend, key.user) & mask; ; i = (i + 1) & mask) {
      DigestKey k = slots.get(i);
      if (k == null) {
        if (slots.compareAndSet(i, null, key)) {
          return key;
        }
        k = slots.get(i);
      }
      if (k.matches(key.hash, key.backend, key.user)) {
        size.decrementAndGet();
        return k;
      }
    }
  }

  /** Keys admitted. */
  int size() {
    return size.get();
  }
}
