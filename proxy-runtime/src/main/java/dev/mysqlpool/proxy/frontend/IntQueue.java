package dev.mysqlpool.proxy.frontend;

/** A FIFO of ints that grows as needed and never boxes: one entry per command in flight. */
final class IntQueue {
  private int[] items = new int[8];
  private int head;
  private int size;

  void add(int value) {
    if (size == items.length) {
      int[] bigger = new int[items.length * 2];
      for (int i = 0; i < size; i++) {
        bigger[i] = items[(head + i) % items.length];
      }
      items = bigger;
      head = 0;
    }
    items[(head + size) % items.length] = value;
    size++;
  }

  boolean isEmpty() {
    return size == 0;
  }

  /** The oldest entry; only when not empty. */
  int peek() {
    return items[head];
  }

  int poll() {
    int value = items[head];
    head = (head + 1) % items.length;
    size--;
    return value;
  }

  void clear() {
    head = 0;
    size = 0;
  }
}
