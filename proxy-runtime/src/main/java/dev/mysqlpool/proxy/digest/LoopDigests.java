package dev.mysqlpool.proxy.digest;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One event loop's digest counters: an open-addressing table of {@link Entry}s by key, written only
 * by that loop's thread, so recording a statement takes no lock and no atomic instruction, and
 * event loops never contend. {@link QueryDigests} reads every loop's table from the admin thread
 * and merges them. The loop also owns the normaliser and the array statements are copied into.
 *
 * <p>Publication: the table array is volatile and replaced whole when it grows; an entry's key is
 * final; its counters are written and read in opaque mode (each value whole and eventually visible,
 * with no fence: a plain store on x86 and ARM), so a reader sees each counter untorn, possibly a
 * statement behind its neighbours. A reset swaps the shared {@link DigestSet}; the loop starts a
 * new table when it next records, and a reader ignores a table of an older set.
 */
final class LoopDigests {
  private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

  static final int COUNT = 0;
  static final int TOTAL_NANOS = 1;
  static final int MIN_NANOS = 2;
  static final int MAX_NANOS = 3;
  static final int ROWS_SENT = 4;
  static final int ROWS_AFFECTED = 5;
  static final int ERRORS = 6;
  static final int FIRST_SEEN_NANOS = 7;
  static final int LAST_SEEN_NANOS = 8;
  static final int COUNTERS = 9;

  private static final int INITIAL_CAPACITY = 16;

  /** Statements up to this size are read from {@link #copy}; longer ones (rare) in place. */
  static final int MAX_COPY = 64 * 1024;

  private static final Entry[] NONE = new Entry[0];

  private final QueryDigests store;
  private final DigestNormalizer normalizer = new DigestNormalizer();

  /** The generation {@link #slots} counts for; written after {@link #slots} when a reset starts. */
  private volatile DigestSet set;

  private volatile Entry[] slots = new Entry[INITIAL_CAPACITY];

  /** A heap array of this loop's own, wrapped once, that statements are copied into. */
  private ByteBuf copy = Unpooled.wrappedBuffer(new byte[256]);

  private int size;
  private Entry other;

  LoopDigests(QueryDigests store) {
    this.store = store;
  }

  /**
   * The entry that counts the COM_QUERY in {@code sql} between {@code start} and {@code end}, run
   * on {@code backend} for {@code user}: found without allocating once the digest was seen on this
   * loop; the first time, admitted to the shared set with its text, or {@link DigestKey#OTHER}'s
   * entry when the set is full. The loop's thread only.
   */
  Entry entry(
      ByteBuf sql, int start, int end, boolean noBackslashEscapes, String backend, String user) {
    int length = end - start;
    if (length > 0 && length <= MAX_COPY) {
      // One bulk copy, then every byte the lexer reads is an array read: not a checked read of the
      // pooled packet per byte (nor, at the leak detector's paranoid level the tests run at, a
      // stack trace recorded per read).
      if (copy.capacity() < length) {
        copy =
            Unpooled.wrappedBuffer(
                new byte[Math.min(MAX_COPY, Math.max(length, copy.capacity() * 2))]);
      }
      sql.getBytes(start, copy.array(), 0, length);
      sql = copy;
      start = 0;
      end = length;
    }
    long hash = normalizer.hash(sql, start, end, noBackslashEscapes);
    DigestSet current = store.current();
    if (current != set) {
      slots = new Entry[INITIAL_CAPACITY];
      size = 0;
      other = null;
      set = current;
    }
    Entry[] t = slots;
    int mask = t.length - 1;
    for (int i = DigestKey.spread(hash, backend, user) & mask; ; i = (i + 1) & mask) {
      Entry e = t[i];
      if (e == null) {
        break;
      }
      if (e.key.matches(hash, backend, user)) {
        return e;
      }
    }
    DigestKey key = current.find(hash, backend, user);
    if (key == null && !current.full()) {
      String text = normalizer.text(sql, start, end, noBackslashEscapes);
      key = current.admit(new DigestKey(hash, backend, user, text));
    }
    if (key == null) {
      if (other == null) {
        other = insert(new Entry(DigestKey.OTHER, System.nanoTime()));
      }
      return other;
    }
    return insert(new Entry(key, System.nanoTime()));
  }

  private Entry insert(Entry e) {
    Entry[] t = slots;
    if ((size + 1) * 2 > t.length) {
      Entry[] bigger = new Entry[t.length * 2];
      for (Entry x : t) {
        if (x != null) {
          place(bigger, x);
        }
      }
      t = bigger;
      place(t, e);
      slots = t;
    } else {
      place(t, e);
    }
    size++;
    return e;
  }

  private static void place(Entry[] t, Entry e) {
    int mask = t.length - 1;
    int i = DigestKey.spread(e.key.hash, e.key.backend, e.key.user) & mask;
    while (t[i] != null) {
      i = (i + 1) & mask;
    }
    t[i] = e;
  }

  /** The entries of {@code set}'s generation, or none when this loop has not recorded in it. */
  Entry[] entries(DigestSet set) {
    return this.set == set ? slots : NONE;
  }

  /** Counters of one key on one loop; {@link #record} on that loop's thread only. */
  static final class Entry {
    final DigestKey key;
    private final long[] counters = new long[COUNTERS];

    Entry(DigestKey key, long nowNanos) {
      this.key = key;
      counters[MIN_NANOS] = Long.MAX_VALUE;
      counters[FIRST_SEEN_NANOS] = nowNanos;
      counters[LAST_SEEN_NANOS] = nowNanos;
    }

    /** One statement's reply is complete. */
    void record(long elapsedNanos, long nowNanos, boolean error, long rowsSent, long rowsAffected) {
      long[] c = counters;
      set(c, COUNT, c[COUNT] + 1);
      set(c, TOTAL_NANOS, c[TOTAL_NANOS] + elapsedNanos);
      if (elapsedNanos < c[MIN_NANOS]) {
        set(c, MIN_NANOS, elapsedNanos);
      }
      if (elapsedNanos > c[MAX_NANOS]) {
        set(c, MAX_NANOS, elapsedNanos);
      }
      if (error) {
        set(c, ERRORS, c[ERRORS] + 1);
      }
      if (rowsSent != 0) {
        set(c, ROWS_SENT, c[ROWS_SENT] + rowsSent);
      }
      if (rowsAffected != 0) {
        set(c, ROWS_AFFECTED, c[ROWS_AFFECTED] + rowsAffected);
      }
      set(c, LAST_SEEN_NANOS, nowNanos);
    }

    /** A counter as last written; any thread. */
    long get(int counter) {
      return (long) LONGS.getOpaque(counters, counter);
    }

    private static void set(long[] c, int i, long value) {
      LONGS.setOpaque(c, i, value);
    }
  }
}
