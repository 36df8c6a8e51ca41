package dev.mysqlpool.proxy.digest;

import java.util.List;

/**
 * The {@code /stats/digests} document.
 *
 * @param enabled {@code stats.queryDigests}; when false nothing is counted and the list is empty
 * @param since when counting started: the proxy's start or the last reset (ISO-8601, UTC)
 * @param maxQueryDigests the bound on distinct digests ({@code stats.maxQueryDigests})
 * @param distinct distinct digests (digest, backend, user) counted since then
 * @param overflowStatements statements counted under {@code other} because the bound was reached
 * @param sort the order of {@code digests}
 * @param digests the rows, largest first, at most the {@code limit} asked for
 */
public record DigestReport(
    boolean enabled,
    String since,
    int maxQueryDigests,
    int distinct,
    long overflowStatements,
    String sort,
    List<DigestRow> digests) {}
