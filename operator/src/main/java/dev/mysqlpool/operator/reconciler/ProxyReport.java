package dev.mysqlpool.operator.reconciler;

/**
 * What one ready proxy pod said about its writer at {@code /stats}, or why it said nothing.
 *
 * @param pod the pod's name
 * @param seen the writer backend's row, or null when the pod did not answer
 * @param error why the pod did not answer (e.g. {@code connect timed out after 2s}), or null
 */
record ProxyReport(String pod, Seen seen, String error) {

  /** A pod that answered. */
  static ProxyReport answered(String pod, Seen seen) {
    return new ProxyReport(pod, seen, null);
  }

  /** A pod that did not answer, and why. */
  static ProxyReport failed(String pod, String error) {
    return new ProxyReport(pod, null, error);
  }

  /**
   * The writer backend's row of a proxy's {@code /stats} ({@code backends[]} with the rendered
   * writer's name, and its {@code switchover} object).
   *
   * @param backend {@code host:port} the proxy follows
   * @param up the proxy's last login to it succeeded
   * @param address {@code ip:port} of the server that last answered writable, or null before one
   * @param switching a switch is in progress
   * @param switches switches the proxy saw since it started
   * @param lastSwitchMillis how long the last switch took, -1 before any
   * @param lastSwitchAt when the last switch ended (ISO-8601), or null before any
   */
  record Seen(
      String backend,
      boolean up,
      String address,
      boolean switching,
      long switches,
      long lastSwitchMillis,
      String lastSwitchAt) {}
}
