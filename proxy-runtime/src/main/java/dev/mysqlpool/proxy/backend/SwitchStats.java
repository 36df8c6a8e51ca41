package dev.mysqlpool.proxy.backend;

/**
 * How a backend's writer switches went, for /stats and /metrics.
 *
 * @param role {@code writer}, {@code read-only} (the last server seen), {@code unknown} before the
 *     first check, or {@code any} for a backend without {@code role: writer}
 * @param switching a switch is in progress now
 * @param switches switches started since the proxy started
 * @param lastSwitchMillis how long the last finished switch took, -1 before any
 * @param lastSwitchAt when the last finished switch ended (ISO-8601 UTC), null before any
 * @param writerAddress {@code ip:port} of the server that last answered writable (after a login or
 *     a validation), what the host name led to; null before the first and for a backend without
 *     {@code role: writer}
 * @param clientsHeld borrowers that waited for a writer during a switch instead of failing
 * @param clientsErrored client statements told that the writer changed under their transaction
 * @param switchoverTimeouts borrowers that waited the whole {@code pool.switchoverTimeout}
 */
public record SwitchStats(
    String role,
    boolean switching,
    long switches,
    long lastSwitchMillis,
    String lastSwitchAt,
    String writerAddress,
    long clientsHeld,
    long clientsErrored,
    long switchoverTimeouts) {}
