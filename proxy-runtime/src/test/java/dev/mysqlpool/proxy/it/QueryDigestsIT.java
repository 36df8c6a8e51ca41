package dev.mysqlpool.proxy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import dev.mysqlpool.proxy.testsupport.LeakGuard;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 15's digest view through a real proxy and MariaDB: statements run by real drivers show up
 * in /stats and /stats/digests grouped by their normalised text, with counts, rows, errors, the
 * backend and the user, and without the literals they were run with.
 */
@ExtendWith(LeakGuard.class)
class QueryDigestsIT {
  private static final HttpClient http = HttpClient.newHttpClient();
  private static final ObjectMapper json = new ObjectMapper();
  private static final String SELECT = "SELECT v FROM app.digest_it WHERE id = ?";
  private static EmbeddedMariaDb db;
  private ProxyHarness proxy;

  @BeforeAll
  static void server() {
    db = EmbeddedMariaDb.shared();
    db.execute(
        "CREATE TABLE IF NOT EXISTS app.digest_it (id INT PRIMARY KEY, v VARCHAR(64), k INT)",
        "DELETE FROM app.digest_it",
        "INSERT INTO app.digest_it VALUES (1, 'a', 0), (2, 'b', 0), (3, 'c', 1), (4, 'd', 1)");
  }

  @AfterEach
  void stop() {
    if (proxy != null) {
      proxy.close();
    }
  }

  @Test
  void statementsOfBothModesAreCountedPerDigestWithRowsErrorsBackendAndUser() throws Exception {
    proxy = ProxyHarness.start(db, "pool: {maxConnections: 4}\n");
    try (Connection c = proxy.mysql("");
        Statement s = c.createStatement()) {
      for (int i = 1; i <= 10; i++) {
        s.executeQuery("SELECT v FROM app.digest_it WHERE id = " + (i % 4 + 1)).close();
      }
      s.executeQuery("select v from app.digest_it where id='secret-literal-4711'").close();
      assertThat(s.executeUpdate("UPDATE app.digest_it SET k = k + 1 WHERE k = 1")).isEqualTo(2);
      assertThat(s.executeUpdate("UPDATE app.digest_it SET k = k - 1 WHERE k = 2")).isEqualTo(2);
      for (int i = 0; i < 3; i++) {
        assertThatThrownBy(() -> s.executeQuery("SELECT nope FROM app.digest_it WHERE id = 1"))
            .isInstanceOf(SQLException.class);
      }
    }

    JsonNode select = await().until(() -> row(stats().get("queryDigests"), SELECT), r -> r != null);
    assertThat(select.get("count").asLong()).as("10 + 1 selects of one digest").isEqualTo(11);
    assertThat(select.get("rowsSent").asLong())
        .as("one row each, but the secret one")
        .isEqualTo(10);
    assertThat(select.get("backend").asText()).isEqualTo("primary");
    assertThat(select.get("user").asText()).isEqualTo(EmbeddedMariaDb.APP_USER);
    assertThat(select.get("digest").asText()).matches("0x[0-9A-F]{16}");
    assertThat(select.get("totalTimeMicros").asLong())
        .isGreaterThanOrEqualTo(select.get("maxTimeMicros").asLong())
        .isGreaterThan(0);
    assertThat(select.get("minTimeMicros").asLong())
        .isLessThanOrEqualTo(select.get("avgTimeMicros").asLong());

    JsonNode update =
        row(stats().get("queryDigests"), "UPDATE app.digest_it SET k = k + ? WHERE k = ?");
    assertThat(update).as("k = k + 1 and k = k - 1 differ in shape").isNotNull();
    assertThat(update.get("count").asLong()).isEqualTo(1);
    assertThat(update.get("rowsAffected").asLong()).isEqualTo(2);

    JsonNode failing =
        row(stats().get("queryDigests"), "SELECT nope FROM app.digest_it WHERE id = ?");
    assertThat(failing.get("errors").asLong()).isEqualTo(3);
    assertThat(failing.get("count").asLong()).isEqualTo(3);

    String body = get("/stats").body() + get("/stats/digests?limit=1000").body();
    assertThat(body)
        .as("literal values never reach the view")
        .doesNotContain("secret-literal-4711")
        .doesNotContain("k = k + 1");

    JsonNode byErrors = json.readTree(get("/stats/digests?sort=errors&limit=1").body());
    assertThat(byErrors.get("enabled").asBoolean()).isTrue();
    assertThat(byErrors.get("sort").asText()).isEqualTo("errors");
    assertThat(byErrors.get("maxQueryDigests").asInt()).isEqualTo(5000);
    assertThat(byErrors.get("distinct").asInt()).isGreaterThanOrEqualTo(4);
    assertThat(byErrors.get("digests")).hasSize(1);
    assertThat(byErrors.get("digests").get(0).get("digestText").asText())
        .isEqualTo("SELECT nope FROM app.digest_it WHERE id = ?");

    HttpResponse<String> reset = post("/stats/digests/reset?limit=1000");
    assertThat(reset.statusCode()).isEqualTo(200);
    assertThat(row(json.readTree(reset.body()).get("digests"), SELECT).get("count").asLong())
        .as("the reset answers with what was counted")
        .isEqualTo(11);
    JsonNode after = json.readTree(get("/stats/digests").body());
    assertThat(after.get("digests")).as("nothing ran since the reset").isEmpty();
    assertThat(after.get("distinct").asInt()).isZero();

    // Transaction mode, MariaDB Connector/J: the statement after the reset is counted afresh.
    proxy.close();
    proxy = ProxyHarness.start(db, "pool: {mode: transaction, maxConnections: 2}\n");
    try (Connection c = proxy.mariadb("");
        Statement s = c.createStatement()) {
      for (int i = 1; i <= 4; i++) {
        s.executeQuery("SELECT v FROM app.digest_it WHERE id = " + i).close();
      }
    }
    JsonNode tx = await().until(() -> row(stats().get("queryDigests"), SELECT), r -> r != null);
    assertThat(tx.get("count").asLong()).isEqualTo(4);
    assertThat(tx.get("rowsSent").asLong()).isEqualTo(4);
  }

  @Test
  void badParametersAndMethodsAreRefusedWithTheFix() throws Exception {
    proxy = ProxyHarness.start(db, "");
    HttpResponse<String> sort = get("/stats/digests?sort=slowest");
    assertThat(sort.statusCode()).isEqualTo(400);
    assertThat(sort.body())
        .isEqualTo(
            "sort: 'slowest' is not an order of the digests; use total_time, count, max_time,"
                + " avg_time, rows_sent or errors\n");
    HttpResponse<String> limit = get("/stats/digests?limit=0");
    assertThat(limit.statusCode()).isEqualTo(400);
    assertThat(limit.body()).isEqualTo("limit: '0' is not a whole number from 1 to 1000000\n");
    HttpResponse<String> getReset = get("/stats/digests/reset");
    assertThat(getReset.statusCode()).as("a GET must never reset").isEqualTo(405);
    assertThat(getReset.headers().firstValue("Allow")).hasValue("POST");
    assertThat(post("/stats/digests").statusCode()).isEqualTo(405);
  }

  @Test
  void switchedOffNothingIsCountedAndBoundedTheRestIsOther() throws Exception {
    proxy = ProxyHarness.start(db, "stats: {queryDigests: false}\n");
    try (Connection c = proxy.mariadb("");
        Statement s = c.createStatement()) {
      s.executeQuery("SELECT 1").close();
    }
    assertThat(stats().get("queryDigests")).isEmpty();
    assertThat(json.readTree(get("/stats/digests").body()).get("enabled").asBoolean()).isFalse();

    proxy.close();
    proxy = ProxyHarness.start(db, "stats: {maxQueryDigests: 3}\n");
    try (Connection c = proxy.mariadb("");
        Statement s = c.createStatement()) {
      for (int i = 0; i < 20; i++) {
        s.executeQuery("SELECT " + i + " AS c" + i).close(); // a new column name: a new digest
      }
    }
    JsonNode report =
        await()
            .until(
                () -> json.readTree(get("/stats/digests?limit=100").body()),
                r -> row(r.get("digests"), null) != null);
    assertThat(report.get("distinct").asInt()).isEqualTo(3);
    assertThat(report.get("digests")).hasSize(4);
    assertThat(row(report.get("digests"), null).get("digest").asText()).isEqualTo("other");
    assertThat(report.get("overflowStatements").asLong()).isGreaterThanOrEqualTo(17);
  }

  /** The row with this text (null: the other row), or null. */
  private static JsonNode row(JsonNode rows, String text) {
    for (JsonNode r : rows) {
      if (text == null ? r.get("digestText").isNull() : text.equals(r.get("digestText").asText())) {
        return r;
      }
    }
    return null;
  }

  private JsonNode stats() throws Exception {
    return json.readTree(get("/stats").body());
  }

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(proxy.adminUrl(path))).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(proxy.adminUrl(path)))
            .POST(HttpRequest.BodyPublishers.noBody())
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
