package dev.mysqlpool.operator.reconciler;

import dev.mysqlpool.operator.api.MySQLPoolStatus;
import dev.mysqlpool.proxy.config.Durations;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns what the ready proxies said at {@code /stats} into {@code status.writer}, the
 * WriterConsistent condition and, when the address most of them reach changed, a WriterChanged
 * Event. Pure.
 *
 * <p>Proxies may disagree for a moment during a switchover (each resolves the name again within
 * {@code pool.dnsTtl}); the status then shows the address most of them reach (on a tie, the one it
 * showed before), and the condition names who reaches what. A poll where no proxy answers keeps the
 * last writer seen: {@code lastSeen} says how old it is.
 */
final class WriterView {
  static final String CONDITION = "WriterConsistent";

  /** At most this many pods are named in a message; the rest are counted. */
  private static final int NAMED = 5;

  /**
   * The outcome of one poll.
   *
   * @param writer the new {@code status.writer} (the previous one when nobody answered)
   * @param status the condition's status, True, False or Unknown; null for no condition (no ready
   *     proxy was asked)
   * @param reason the condition's CamelCase reason
   * @param message the condition's message
   * @param changed the WriterChanged Event's message, or null when the address stayed
   */
  record Result(
      MySQLPoolStatus.Writer writer,
      String status,
      String reason,
      String message,
      String changed) {}

  private WriterView() {}

  /** What {@code reports} (one per ready proxy asked) say, after {@code previous}. */
  static Result of(List<ProxyReport> reports, MySQLPoolStatus.Writer previous, Instant now) {
    if (reports.isEmpty()) {
      return new Result(previous, null, null, null, null);
    }
    Map<String, List<String>> byAddress = new LinkedHashMap<>();
    List<String> silent = new ArrayList<>();
    List<ProxyReport> answered = new ArrayList<>();
    for (ProxyReport r : reports) {
      if (r.seen() == null) {
        silent.add(r.pod() + ": " + r.error());
        continue;
      }
      answered.add(r);
      if (r.seen().address() != null) {
        byAddress.computeIfAbsent(r.seen().address(), a -> new ArrayList<>()).add(r.pod());
      }
    }
    String didNotAnswer =
        silent.isEmpty()
            ? ""
            : "; "
                + silent.size()
                + " did not answer /stats on the admin port ("
                + named(silent)
                + ")";
    if (byAddress.isEmpty()) {
      if (answered.isEmpty()) {
        return new Result(
            previous,
            "Unknown",
            "ProxiesUnreachable",
            "none of the "
                + reports.size()
                + " ready proxies answered /stats on the admin port ("
                + named(silent)
                + "); status.writer is as last seen",
            null);
      }
      ProxyReport any = answered.get(0);
      return new Result(
          previous,
          "Unknown",
          "WriterNotSeen",
          "no proxy has reached a writable server behind "
              + any.seen().backend()
              + " since it started"
              + (any.seen().up() ? "" : " (it is down: see /backendz and the proxy's log)")
              + didNotAnswer,
          null);
    }

    String top = mostCommon(byAddress, previous == null ? null : previous.address);
    MySQLPoolStatus.Writer w = new MySQLPoolStatus.Writer();
    w.address = top;
    w.since =
        previous != null && top.equals(previous.address) && previous.since != null
            ? previous.since
            : stamp(now);
    w.lastSeen = stamp(now);
    w.proxiesAsked = reports.size();
    w.proxiesAgreeing = byAddress.get(top).size();
    w.switching = false;
    w.switches = 0L;
    Instant latest = null;
    for (ProxyReport r : answered) {
      ProxyReport.Seen s = r.seen();
      if (top.equals(s.address()) && w.backend == null) {
        w.backend = s.backend();
      }
      w.switching |= s.switching();
      w.switches = Math.max(w.switches, s.switches());
      Instant at = instant(s.lastSwitchAt());
      if (at != null && (latest == null || at.isAfter(latest))) {
        latest = at;
        w.lastSwitchAt = stamp(at);
        w.lastSwitchDuration =
            s.lastSwitchMillis() < 0
                ? null
                : Durations.format(Duration.ofMillis(s.lastSwitchMillis()));
      }
    }

    String changed = null;
    if (previous != null && previous.address != null && !previous.address.equals(top)) {
      changed =
          "from "
              + previous.address
              + " to "
              + top
              + " ("
              + w.backend
              + ", reported by "
              + w.proxiesAgreeing
              + " of "
              + w.proxiesAsked
              + " proxies"
              + (w.lastSwitchDuration == null
                  ? ""
                  : "; the last switch took " + w.lastSwitchDuration)
              + ")";
    }
    if (byAddress.size() > 1) {
      List<String> parts = new ArrayList<>();
      byAddress.forEach((a, pods) -> parts.add(a + " (" + named(pods) + ")"));
      return new Result(
          w,
          "False",
          "ProxiesDisagree",
          "the ready proxies reach different writers: "
              + String.join(", ", parts)
              + "; status.writer shows "
              + top
              + didNotAnswer
              + ". During a switchover this clears within pool.dnsTtl; if it stays, two servers"
              + " answer writable behind "
              + w.backend
              + " (check the database's failover) or the pods resolve the name differently",
          changed);
    }
    return new Result(
        w,
        "True",
        "ProxiesAgree",
        w.proxiesAgreeing
            + " of "
            + w.proxiesAsked
            + " ready proxies reach the writer at "
            + top
            + " ("
            + w.backend
            + ")"
            + didNotAnswer,
        changed);
  }

  /** The address most pods reach; on a tie the one shown before, else the first in order. */
  private static String mostCommon(Map<String, List<String>> byAddress, String before) {
    String top = null;
    int most = 0;
    for (Map.Entry<String, List<String>> e : byAddress.entrySet()) {
      int n = e.getValue().size();
      if (n > most || n == most && e.getKey().equals(before)) {
        top = e.getKey();
        most = n;
      }
    }
    return top;
  }

  private static String named(List<String> items) {
    if (items.size() <= NAMED) {
      return String.join(", ", items);
    }
    return String.join(", ", items.subList(0, NAMED)) + " and " + (items.size() - NAMED) + " more";
  }

  private static String stamp(Instant t) {
    return t.truncatedTo(ChronoUnit.SECONDS).toString();
  }

  private static Instant instant(String iso) {
    if (iso == null) {
      return null;
    }
    try {
      return Instant.parse(iso);
    } catch (DateTimeParseException e) {
      return null;
    }
  }
}
