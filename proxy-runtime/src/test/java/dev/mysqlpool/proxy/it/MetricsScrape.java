package dev.mysqlpool.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.assertj.core.api.Assertions;

/**
 * One GET of a proxy's {@code /metrics}, parsed into series ({@code name{labels}} exactly as the
 * exposition prints them) and values. Reading a series that is not on the page fails the test and
 * lists what the page has under that name: a helper that read a missing metric as 0, or a {@code
 * doesNotContain} check, would pass as well when the metric was renamed or never registered.
 */
final class MetricsScrape {
  private static final Pattern SAMPLE =
      Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[^}]*})? (\\S+)$", Pattern.MULTILINE);

  private final Map<String, Double> series = new LinkedHashMap<>();

  private MetricsScrape(String page) {
    Matcher m = SAMPLE.matcher(page);
    while (m.find()) {
      series.put(m.group(1) + (m.group(2) == null ? "" : m.group(2)), Double.valueOf(m.group(3)));
    }
  }

  /** Scrapes {@code proxy} now. */
  static MetricsScrape of(ProxyHarness proxy) throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(proxy.adminUrl("/metrics"))).build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("GET /metrics").isEqualTo(200);
    return new MetricsScrape(r.body());
  }

  /**
   * The value of {@code series}, e.g. {@code mysqlpool_sessions_pinned{reason="user_variable"}};
   * fails when the page has no such series.
   */
  double value(String series) {
    Double v = this.series.get(series);
    if (v == null) {
      Assertions.fail(
          "/metrics has no series %s; series of that name: %s",
          series, family(nameOf(series)).keySet());
    }
    return v;
  }

  /**
   * For a counter registered at its first increment (such as {@code mysqlpool_errors_total} by
   * kind): its value, or 0 while nothing was counted yet. Only for a baseline taken before the
   * event: read the same series afterwards with {@link #value}, which fails if it is still absent.
   */
  double baselineOfLazyCounter(String series) {
    return this.series.getOrDefault(series, 0.0);
  }

  /**
   * Every series of metric {@code name} (labels text, such as {@code {reason="x"}}, to value), in
   * label order; empty when the page has none.
   */
  Map<String, Double> family(String name) {
    Map<String, Double> out = new TreeMap<>();
    series.forEach(
        (s, v) -> {
          if (nameOf(s).equals(name)) {
            out.put(s.substring(name.length()), v);
          }
        });
    return out;
  }

  private static String nameOf(String series) {
    int brace = series.indexOf('{');
    return brace < 0 ? series : series.substring(0, brace);
  }
}
