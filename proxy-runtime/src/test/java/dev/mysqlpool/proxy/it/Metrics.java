package dev.mysqlpool.proxy.it;

/** Reads the proxy's Prometheus text, as /metrics serves it. */
final class Metrics {
  private Metrics() {}

  /**
   * The sum of the samples of {@code name} whose label set contains every fragment, e.g. {@code
   * tls="true"}; 0 when there are none.
   */
  static double value(ProxyHarness proxy, String name, String... labelFragments) {
    double sum = 0;
    for (String line : proxy.server.metrics().scrape().split("\n")) {
      if (!line.startsWith(name + "{") && !line.startsWith(name + " ")) {
        continue;
      }
      int space = line.lastIndexOf(' ');
      String labels = line.substring(name.length(), space);
      boolean all = true;
      for (String f : labelFragments) {
        all &= labels.contains(f);
      }
      if (all) {
        sum += Double.parseDouble(line.substring(space + 1));
      }
    }
    return sum;
  }
}
