package dev.mysqlpool.proxy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.mysqlpool.proxy.config.ProxyConfig.Backend;
import dev.mysqlpool.proxy.config.ProxyConfig.BackendRole;
import dev.mysqlpool.proxy.config.ProxyConfig.BackendTls;
import dev.mysqlpool.proxy.config.Routing.ReadYourWrites;
import dev.mysqlpool.proxy.config.Routing.RouteTarget;
import dev.mysqlpool.proxy.config.Routing.Rule;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Issue 15: the {@code routing} section and reader backends, with the exact message text of every
 * refusal (field path and fix).
 */
class RoutingConfigTest {
  private static final String SPLIT_BACKENDS =
      "backends:\n"
          + "  - {name: writer, host: db-writer, port: 3306, role: writer}\n"
          + "  - {name: replica-a, host: db-replica-a, port: 3306, role: reader, weight: 1}\n";
  private static final String USERS = "users:\n  - {name: app, password: s3cret}\n";
  private static final String TX = "pool: {mode: transaction}\n";
  private static final String SPLIT = SPLIT_BACKENDS + USERS + TX;

  private static List<String> problems(String yaml) {
    ConfigException e =
        catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(yaml, null));
    assertThat(e).withFailMessage("expected the config to be rejected:\n%s", yaml).isNotNull();
    return e.problems();
  }

  @Test
  void withoutARoutingSectionNothingIsSplit() {
    ProxyConfig c = ConfigLoader.parse("backends: [{name: primary, host: db}]\n" + USERS, null);
    assertThat(c.routing()).isEqualTo(Routing.OFF);
    assertThat(c.routing().readWriteSplit()).isFalse();
    assertThat(c.routing().maxReplicationLag()).isEqualTo(Duration.ofSeconds(5));
    assertThat(c.routing().readYourWrites()).isEqualTo(ReadYourWrites.SESSION);
    assertThat(c.routing().rules()).isEmpty();
    assertThat(c.backends().get(0).weight()).isEqualTo(1);
  }

  @Test
  void theIssuesExampleIsReadToTheValuesWritten() {
    String yaml =
        SPLIT
            + """
            routing:
              readWriteSplit: true
              maxReplicationLag: 5s
              readYourWrites: session
              rules:
                - {match: "^SELECT .* FOR UPDATE", to: writer}
                - {match: "/\\\\* *mysqlpool:writer *\\\\*/", to: writer}
                - {match: "(?i)^select .* from reports\\\\.", to: reader}
            """;
    ProxyConfig c = ConfigLoader.parse(yaml, null);
    assertThat(c.backends())
        .containsExactly(
            new Backend("writer", "db-writer", 3306, BackendRole.WRITER),
            new Backend("replica-a", "db-replica-a", 3306, BackendRole.READER));
    assertThat(c.routing())
        .isEqualTo(
            new Routing(
                true,
                Duration.ofSeconds(5),
                ReadYourWrites.SESSION,
                List.of(
                    new Rule(Pattern.compile("^SELECT .* FOR UPDATE"), RouteTarget.WRITER),
                    new Rule(Pattern.compile("/\\* *mysqlpool:writer *\\*/"), RouteTarget.WRITER),
                    new Rule(
                        Pattern.compile("(?i)^select .* from reports\\."), RouteTarget.READER))));
    assertThat(c.routing().rules().get(1).match().matcher("SELECT /* mysqlpool:writer */ 1").find())
        .withFailMessage("the hint rule must match the hint as a client writes it")
        .isTrue();
    assertThat(c.user("app").backend())
        .withFailMessage("with a split, a user's sessions start on the writer")
        .isEqualTo("writer");
  }

  @Test
  void weightsAndLagAndNoneAreRead() {
    ProxyConfig c =
        ConfigLoader.parse(
            "backends:\n"
                + "  - {name: replica-a, host: a, role: reader, weight: 3}\n"
                + "  - {name: writer, host: w, role: writer}\n"
                + "  - {name: replica-b, host: b, role: reader, weight: 1000}\n"
                + USERS
                + TX
                + "routing: {readWriteSplit: true, maxReplicationLag: 1h, readYourWrites: none}\n",
            null);
    assertThat(c.backends()).extracting(Backend::weight).containsExactly(3, 1, 1000);
    assertThat(c.routing().maxReplicationLag()).isEqualTo(Duration.ofHours(1));
    assertThat(c.routing().readYourWrites()).isEqualTo(ReadYourWrites.NONE);
    assertThat(c.user("app").backend())
        .withFailMessage("the default backend is the writer even when a reader is listed first")
        .isEqualTo("writer");
  }

  @Test
  void theSameFileReadTwiceIsEqualSoAReloadSeesNoChange() {
    String yaml = SPLIT + "routing: {readWriteSplit: true, rules: [{match: 'x+', to: reader}]}\n";
    assertThat(ConfigLoader.parse(yaml, null)).isEqualTo(ConfigLoader.parse(yaml, null));
    assertThat(ConfigLoader.parse(yaml, null).routing())
        .isNotEqualTo(ConfigLoader.parse(yaml.replace("x+", "y+"), null).routing());
  }

  @Test
  void theExistingConstructorsKeepWorkingWithoutRouting() {
    Backend b =
        new Backend("primary", "db", 3306, BackendRole.ANY, BackendTls.DEFAULT, null, false);
    assertThat(b.weight()).isEqualTo(Backend.DEFAULT_WEIGHT);
    ProxyConfig c = ConfigLoader.parse("backends: [{name: primary, host: db}]\n" + USERS, null);
    ProxyConfig rebuilt =
        new ProxyConfig(
            c.listen(), c.admin(), c.backends(), c.users(), c.pool(), c.frontend(), c.shutdown());
    assertThat(rebuilt).isEqualTo(c);
  }

  @Test
  void aSplitNeedsTransactionMode() {
    assertThat(problems(SPLIT_BACKENDS + USERS + "routing: {readWriteSplit: true}\n"))
        .containsExactly(
            "routing.readWriteSplit: needs pool.mode: transaction (moving a client between the"
                + " writer and the readers statement by statement is what transaction mode does);"
                + " set pool.mode: transaction, or turn readWriteSplit off");
  }

  @Test
  void aSplitNeedsExactlyOneWriterAndAReader() {
    assertThat(
            problems(
                "backends: [{name: a, host: a, role: reader}, {name: b, host: b}]\n"
                    + USERS
                    + TX
                    + "routing: {readWriteSplit: true}\n"))
        .containsExactly(
            "routing.readWriteSplit: needs one backend with role: writer, where everything but"
                + " reads goes; none has it, set role: writer on the primary");
    assertThat(
            problems(
                "backends: [{name: a, host: a, role: writer}, {name: b, host: b, role: writer},"
                    + " {name: c, host: c, role: reader}]\n"
                    + USERS
                    + TX
                    + "routing: {readWriteSplit: true}\n"))
        .containsExactly(
            "routing.readWriteSplit: needs exactly one backend with role: writer; 2 have it (a,"
                + " b), keep it on the primary and make the others role: reader");
    assertThat(
            problems(
                "backends: [{name: a, host: a, role: writer}, {name: b, host: b}]\n"
                    + USERS
                    + TX
                    + "routing: {readWriteSplit: true}\n"))
        .containsExactly(
            "routing.readWriteSplit: needs at least one backend with role: reader to send reads"
                + " to; add the replicas with role: reader, or turn readWriteSplit off");
  }

  @Test
  void aReaderWithoutASplitWouldSitUnusedAndIsRefused() {
    assertThat(problems(SPLIT))
        .containsExactly(
            "backends[1].role: reader is unused without routing.readWriteSplit: true (every"
                + " statement goes to the writer); set routing.readWriteSplit: true, or use role:"
                + " any for a backend that users name directly");
    assertThat(
            problems(
                "backends: [{name: a, host: a}]\n"
                    + USERS
                    + "routing: {rules: [{match: x, to: reader}]}\n"))
        .containsExactly(
            "routing.rules: has no effect without routing.readWriteSplit: true (every statement"
                + " goes to the writer); set routing.readWriteSplit: true or remove the rules");
  }

  @Test
  void weightAppliesToReadersOnlyAndWithinItsRange() {
    assertThat(
            problems(
                "backends: [{name: a, host: a, role: writer, weight: 2}]\n"
                    + USERS
                    + "routing: {readWriteSplit: false}\n"))
        .containsExactly(
            "backends[0].weight: weight applies to readers (it is their share of the reads); set"
                + " role: reader or remove weight");
    assertThat(
            problems(SPLIT.replace("weight: 1", "weight: 0") + "routing: {readWriteSplit: true}\n"))
        .containsExactly("backends[1].weight: 0 is out of range; use a value from 1 to 1000");
  }

  @Test
  void aUserOfAReaderUnderASplitIsRefused() {
    assertThat(
            problems(
                SPLIT_BACKENDS
                    + "users:\n  - {name: app, password: s3cret, backend: replica-a}\n"
                    + TX
                    + "routing: {readWriteSplit: true}\n"))
        .containsExactly(
            "users[0].backend: 'replica-a' is a reader; with routing.readWriteSplit a user's"
                + " backend is where its writes go, so name the writer (or leave backend out) and"
                + " reads are split from there");
  }

  @Test
  void lagMustBeWholeSecondsFromOneSecondToOneHour() {
    String lagOf = SPLIT + "routing: {readWriteSplit: true, maxReplicationLag: %s}\n";
    assertThat(problems(lagOf.formatted("1500ms")))
        .containsExactly(
            "routing.maxReplicationLag: 1500ms cannot be checked; use whole seconds from 1s to 1h"
                + " (replicas report their lag in whole seconds)");
    assertThat(problems(lagOf.formatted("500ms")))
        .containsExactly(
            "routing.maxReplicationLag: 500ms cannot be checked; use whole seconds from 1s to 1h"
                + " (replicas report their lag in whole seconds)");
    assertThat(problems(lagOf.formatted("61m")))
        .containsExactly(
            "routing.maxReplicationLag: 61m cannot be checked; use whole seconds from 1s to 1h"
                + " (replicas report their lag in whole seconds)");
    assertThat(problems(lagOf.formatted("0")))
        .containsExactly("routing.maxReplicationLag: must be greater than 0, e.g. 5s");
    assertThat(ConfigLoader.parse(lagOf.formatted("1s"), null).routing().maxReplicationLag())
        .isEqualTo(Duration.ofSeconds(1));
  }

  @Test
  void theReadYourWritesWaitIsZeroToAMinute() {
    String waitOf = SPLIT + "routing: {readWriteSplit: true, readYourWritesWait: %s}\n";
    assertThat(ConfigLoader.parse(SPLIT + "routing: {readWriteSplit: true}\n", null).routing())
        .extracting(Routing::readYourWritesWait)
        .isEqualTo(Duration.ofSeconds(1));
    assertThat(ConfigLoader.parse(waitOf.formatted("0"), null).routing().readYourWritesWait())
        .isZero();
    assertThat(ConfigLoader.parse(waitOf.formatted("250ms"), null).routing().readYourWritesWait())
        .isEqualTo(Duration.ofMillis(250));
    assertThat(problems(waitOf.formatted("2m")))
        .containsExactly(
            "routing.readYourWritesWait: 2m would hold a read that long before the writer serves"
                + " it; use 0 (never wait) up to 1m, the default 1s suits most replicas");
  }

  @Test
  void unknownModesAndTargetsAreRefused() {
    assertThat(problems(SPLIT + "routing: {readWriteSplit: true, readYourWrites: always}\n"))
        .containsExactly(
            "routing.readYourWrites: 'always' is not a read-your-writes mode; use session (a"
                + " client's reads see its own writes) or none");
    assertThat(
            problems(
                SPLIT
                    + "routing: {readWriteSplit: true, rules: [{match: x, to: primary}, {to:"
                    + " writer}, {match: y}]}\n"))
        .containsExactly(
            "routing.rules[0].to: 'primary' is not a route target; use writer or reader",
            "routing.rules[1].match: required",
            "routing.rules[2].to: required");
    assertThat(problems(SPLIT + "routing: {readWriteSplit: true, rulez: []}\n"))
        .containsExactly("routing.rulez: unknown field; did you mean rules?");
  }

  @Test
  void aRuleThatDoesNotCompileQuotesTheRegexEnginesMessage() {
    assertThat(
            problems(
                SPLIT
                    + "routing:\n  readWriteSplit: true\n  rules:\n"
                    + "    - {match: '^SELECT', to: writer}\n"
                    + "    - {match: '(SELECT|SHOW', to: reader}\n"))
        .containsExactly(
            "routing.rules[1].match: '(SELECT|SHOW' is not a valid regular expression"
                + " (Unclosed group near index 12); fix the pattern, escaping a literal"
                + " ( [ * + ? or \\ with \\");
  }

  @Test
  void atMostAHundredRules() {
    StringBuilder rules = new StringBuilder();
    for (int i = 0; i < 101; i++) {
      rules.append(i == 0 ? "" : ", ").append("{match: r").append(i).append(", to: writer}");
    }
    assertThat(problems(SPLIT + "routing: {readWriteSplit: true, rules: [" + rules + "]}\n"))
        .containsExactly(
            "routing.rules: 101 rules; at most 100 are allowed, join patterns with | where they go"
                + " to the same place");
    String hundred = rules.substring(0, rules.lastIndexOf(", {"));
    assertThat(
            ConfigLoader.parse(
                    SPLIT + "routing: {readWriteSplit: true, rules: [" + hundred + "]}\n", null)
                .routing()
                .rules())
        .hasSize(100);
  }

  @Test
  void everyProblemIsReportedAtOnce() {
    assertThat(
            problems(
                "backends: [{name: a, host: a, role: writer, weight: 5}]\n"
                    + USERS
                    + "routing: {readWriteSplit: true, maxReplicationLag: 2h, readYourWrites: x,"
                    + " rules: [{match: '(', to: writer}]}\n"))
        .hasSize(6)
        .allSatisfy(
            p -> assertThat(p).matches("^(backends\\[0]|routing)\\.[a-zA-Z\\[\\]0-9.]+: .*"));
  }
}
