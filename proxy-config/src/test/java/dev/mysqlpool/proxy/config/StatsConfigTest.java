package dev.mysqlpool.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.mysqlpool.proxy.config.ProxyConfig.Stats;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The {@code stats} section (query digests), with the exact message of every refusal. */
class StatsConfigTest {
  private static final String BASE =
      "backends: [{name: primary, host: db}]\nusers:\n  - {name: app, password: s3cret}\n";

  private static List<String> problems(String yaml) {
    ConfigException e =
        catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(yaml, null));
    assertThat(e).withFailMessage("expected the config to be rejected:\n%s", yaml).isNotNull();
    return e.problems();
  }

  @Test
  void digestsAreOnByDefaultWithABoundOf5000() {
    ProxyConfig c = ConfigLoader.parse(BASE, null);
    assertThat(c.stats()).isEqualTo(new Stats(true, 5000)).isEqualTo(Stats.DEFAULT);
  }

  @Test
  void theValuesWrittenAreRead() {
    assertThat(ConfigLoader.parse(BASE + "stats: {maxQueryDigests: 200}\n", null).stats())
        .isEqualTo(new Stats(true, 200));
    assertThat(ConfigLoader.parse(BASE + "stats: {queryDigests: false}\n", null).stats())
        .isEqualTo(new Stats(false, 5000));
  }

  @Test
  void aBoundOutOfRangeIsRefusedWithTheRange() {
    assertThat(problems(BASE + "stats: {maxQueryDigests: 0}\n"))
        .containsExactly("stats.maxQueryDigests: 0 is out of range; use a value from 1 to 100000");
    assertThat(problems(BASE + "stats: {maxQueryDigests: 1000000}\n"))
        .containsExactly(
            "stats.maxQueryDigests: 1000000 is out of range; use a value from 1 to 100000");
  }

  @Test
  void aBoundWithDigestsOffIsRefusedAsHavingNoEffect() {
    assertThat(problems(BASE + "stats: {queryDigests: false, maxQueryDigests: 100}\n"))
        .containsExactly(
            "stats.maxQueryDigests: has no effect with stats.queryDigests: false; remove it, or"
                + " turn queryDigests on");
  }

  @Test
  void typosAndWrongTypesNameTheField() {
    assertThat(problems(BASE + "stats: {queryDigest: true, maxQueryDigests: many}\n"))
        .containsExactly(
            "stats.queryDigest: unknown field; did you mean queryDigests?",
            "stats.maxQueryDigests: 'many' is not a whole number");
    assertThat(problems(BASE + "stats: {queryDigests: sometimes}\n"))
        .containsExactly("stats.queryDigests: 'sometimes' is not a boolean; use true or false");
  }
}
