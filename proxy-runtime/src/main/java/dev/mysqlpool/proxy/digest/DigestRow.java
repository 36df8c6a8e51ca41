package dev.mysqlpool.proxy.digest;

/**
 * One row of the digest view, as served at {@code /stats} and {@code /stats/digests}: like a row of
 * ProxySQL's {@code stats_mysql_query_digest}, with times in microseconds. The text has every
 * literal replaced by {@code ?}, so it carries no values from the statements.
 *
 * @param digest the 64-bit digest in hex ({@code 0x...}), or {@code other} for the statements
 *     counted beyond {@code stats.maxQueryDigests}
 * @param digestText the normalised statement (null for {@code other})
 * @param backend the backend that ran the statements (null for {@code other})
 * @param user the proxy user that sent them (null for {@code other})
 * @param count replies completed
 * @param totalTimeMicros summed time from sending each statement (or from the reply before it, when
 *     the client pipelines) to the last packet of its reply
 * @param rowsSent result-set rows (of the last result set of each reply)
 * @param rowsAffected affected rows the server reported in OK packets
 * @param errors replies that were ERR packets
 * @param firstSeen when the digest was first seen since the last reset (ISO-8601, UTC)
 * @param lastSeen when a reply last completed
 */
public record DigestRow(
    String digest,
    String digestText,
    String backend,
    String user,
    long count,
    long totalTimeMicros,
    long minTimeMicros,
    long maxTimeMicros,
    long avgTimeMicros,
    long rowsSent,
    long rowsAffected,
    long errors,
    String firstSeen,
    String lastSeen) {}
