package dev.mysqlpool.proxy;

/** Placeholder replaced by the real entry point in the next commit. */
public final class ProxyMain {
  private ProxyMain() {}

  public static void main(String[] args) {
    throw new UnsupportedOperationException();
  }
}
