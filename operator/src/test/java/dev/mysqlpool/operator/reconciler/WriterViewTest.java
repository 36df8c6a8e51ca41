package dev.mysqlpool.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mysqlpool.operator.api.MySQLPoolStatus;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** status.writer, WriterConsistent and WriterChanged from what the proxies said; pure. */
class WriterViewTest {
  static final String BACKEND = "orders.cluster-abc.eu-west-1.rds.amazonaws.com:3306";
  static final Instant T0 = Instant.parse("2026-12-06T10:00:00Z");
  static final Instant T1 = Instant.parse("2026-12-06T10:00:30Z");

  static ProxyReport at(String pod, String address) {
    return ProxyReport.answered(
        pod, new ProxyReport.Seen(BACKEND, true, address, false, 0, -1, null));
  }

  static ProxyReport switched(String pod, String address, long switches, long millis, String at) {
    return ProxyReport.answered(
        pod, new ProxyReport.Seen(BACKEND, true, address, false, switches, millis, at));
  }

  @Test
  void proxiesThatAgreeShowTheirWriter() {
    WriterView.Result r =
        WriterView.of(
            List.of(at("orders-a", "10.0.1.5:3306"), at("orders-b", "10.0.1.5:3306")), null, T0);
    assertThat(r.writer().address).isEqualTo("10.0.1.5:3306");
    assertThat(r.writer().backend).isEqualTo(BACKEND);
    assertThat(r.writer().since).isEqualTo("2026-12-06T10:00:00Z");
    assertThat(r.writer().lastSeen).isEqualTo("2026-12-06T10:00:00Z");
    assertThat(r.writer().proxiesAgreeing + "/" + r.writer().proxiesAsked).isEqualTo("2/2");
    assertThat(r.writer().switches).isZero();
    assertThat(r.writer().lastSwitchAt).isNull();
    assertThat(r.status() + " " + r.reason()).isEqualTo("True ProxiesAgree");
    assertThat(r.message())
        .isEqualTo("2 of 2 ready proxies reach the writer at 10.0.1.5:3306 (" + BACKEND + ")");
    assertThat(r.changed()).as("the first writer seen is no change").isNull();
  }

  @Test
  void aNewAddressIsAChangeWithTheSwitchTheProxiesSaw() {
    MySQLPoolStatus.Writer before =
        WriterView.of(List.of(at("orders-a", "10.0.1.5:3306")), null, T0).writer();
    WriterView.Result r =
        WriterView.of(
            List.of(
                switched("orders-a", "10.0.2.7:3306", 1, 1059, "2026-12-06T10:00:12.250Z"),
                switched("orders-b", "10.0.2.7:3306", 2, 900, "2026-12-06T09:00:00Z")),
            before,
            T1);
    assertThat(r.writer().address).isEqualTo("10.0.2.7:3306");
    assertThat(r.writer().since)
        .as("a new address starts its own since")
        .isEqualTo("2026-12-06T10:00:30Z");
    assertThat(r.writer().switches).as("the highest count").isEqualTo(2);
    assertThat(r.writer().lastSwitchAt).as("the latest switch").isEqualTo("2026-12-06T10:00:12Z");
    assertThat(r.writer().lastSwitchDuration).as("that switch's duration").isEqualTo("1059ms");
    assertThat(r.changed())
        .isEqualTo(
            "from 10.0.1.5:3306 to 10.0.2.7:3306 ("
                + BACKEND
                + ", reported by 2 of 2 proxies; the last switch took 1059ms)");

    WriterView.Result again =
        WriterView.of(List.of(at("orders-a", "10.0.2.7:3306")), r.writer(), T1.plusSeconds(30));
    assertThat(again.changed()).isNull();
    assertThat(again.writer().since)
        .as("the same address keeps its since")
        .isEqualTo("2026-12-06T10:00:30Z");
    assertThat(again.writer().lastSeen).isEqualTo("2026-12-06T10:01:00Z");
  }

  @Test
  void disagreeingProxiesShowTheMostCommonAndNameWhoReachesWhat() {
    WriterView.Result r =
        WriterView.of(
            List.of(
                at("orders-a", "10.0.1.5:3306"),
                at("orders-b", "10.0.2.7:3306"),
                at("orders-c", "10.0.2.7:3306")),
            null,
            T0);
    assertThat(r.writer().address).isEqualTo("10.0.2.7:3306");
    assertThat(r.writer().proxiesAgreeing + "/" + r.writer().proxiesAsked).isEqualTo("2/3");
    assertThat(r.status() + " " + r.reason()).isEqualTo("False ProxiesDisagree");
    assertThat(r.message())
        .startsWith(
            "the ready proxies reach different writers: 10.0.1.5:3306 (orders-a), 10.0.2.7:3306"
                + " (orders-b, orders-c); status.writer shows 10.0.2.7:3306.")
        .contains("clears within pool.dnsTtl", "two servers answer writable behind " + BACKEND);
  }

  @Test
  void aTieKeepsTheWriterShownBefore() {
    MySQLPoolStatus.Writer before =
        WriterView.of(List.of(at("orders-b", "10.0.2.7:3306")), null, T0).writer();
    WriterView.Result r =
        WriterView.of(
            List.of(at("orders-a", "10.0.1.5:3306"), at("orders-b", "10.0.2.7:3306")), before, T1);
    assertThat(r.writer().address).isEqualTo("10.0.2.7:3306");
    assertThat(r.changed()).isNull();
  }

  @Test
  void proxiesThatDoNotAnswerAreNamedAndTheLastWriterStays() {
    MySQLPoolStatus.Writer before =
        WriterView.of(List.of(at("orders-a", "10.0.1.5:3306")), null, T0).writer();
    WriterView.Result some =
        WriterView.of(
            List.of(
                at("orders-a", "10.0.1.5:3306"),
                ProxyReport.failed("orders-b", "10.1.2.3:9090: no answer within 2s")),
            before,
            T1);
    assertThat(some.status() + " " + some.reason()).isEqualTo("True ProxiesAgree");
    assertThat(some.message())
        .endsWith(
            "; 1 did not answer /stats on the admin port (orders-b: 10.1.2.3:9090: no answer within 2s)");
    assertThat(some.writer().proxiesAgreeing + "/" + some.writer().proxiesAsked).isEqualTo("1/2");

    WriterView.Result none =
        WriterView.of(List.of(ProxyReport.failed("orders-a", "connection refused")), before, T1);
    assertThat(none.writer()).as("kept as last seen").isSameAs(before);
    assertThat(none.status() + " " + none.reason()).isEqualTo("Unknown ProxiesUnreachable");
    assertThat(none.message())
        .isEqualTo(
            "none of the 1 ready proxies answered /stats on the admin port (orders-a: connection"
                + " refused); status.writer is as last seen");
    assertThat(none.changed()).isNull();
  }

  @Test
  void aProxyThatNeverReachedAWriterSaysSo() {
    WriterView.Result r =
        WriterView.of(
            List.of(
                ProxyReport.answered(
                    "orders-a", new ProxyReport.Seen(BACKEND, false, null, false, 0, -1, null))),
            null,
            T0);
    assertThat(r.writer()).isNull();
    assertThat(r.status() + " " + r.reason()).isEqualTo("Unknown WriterNotSeen");
    assertThat(r.message())
        .isEqualTo(
            "no proxy has reached a writable server behind "
                + BACKEND
                + " since it started (it is down: see /backendz and the proxy's log)");
  }

  @Test
  void noReadyProxyMeansNoConditionAndTheLastWriter() {
    MySQLPoolStatus.Writer before =
        WriterView.of(List.of(at("orders-a", "10.0.1.5:3306")), null, T0).writer();
    WriterView.Result r = WriterView.of(List.of(), before, T1);
    assertThat(r.writer()).isSameAs(before);
    assertThat(r.status()).isNull();
  }

  @Test
  void theWriterRowIsReadFromTheProxysStatsDocument() {
    String stats =
        "{\"ready\":true,\"backends\":[{\"backend\":\"writer\",\"host\":\"db.example\",\"port\":3306,"
            + "\"up\":true,\"switchover\":{\"role\":\"writer\",\"switching\":false,\"switches\":3,"
            + "\"lastSwitchMillis\":812,\"lastSwitchAt\":\"2026-12-06T09:59:59.5Z\","
            + "\"writerAddress\":\"10.0.2.7:3306\"}}]}";
    ProxyReport r = WriterPoll.parse("orders-a", stats);
    assertThat(r.seen())
        .isEqualTo(
            new ProxyReport.Seen(
                "db.example:3306", true, "10.0.2.7:3306", false, 3, 812, "2026-12-06T09:59:59.5Z"));
    assertThat(WriterPoll.parse("orders-a", "{\"backends\":[]}").error())
        .isEqualTo("/stats has no backend named 'writer'");
    assertThat(
            WriterPoll.parse(
                    "orders-a",
                    "{\"backends\":[{\"backend\":\"writer\",\"switchover\":{\"role\":\"writer\"}}]}")
                .error())
        .isEqualTo(
            "/stats has no switchover.writerAddress (a proxy image older than the operator?)");
    assertThat(WriterPoll.parse("orders-a", "<html>").error()).startsWith("/stats is not JSON: ");
  }
}
