package dev.mysqlpool.proxy.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mysqlpool.proxy.config.ConfigLoader;
import dev.mysqlpool.proxy.config.Routing.RouteTarget;
import dev.mysqlpool.proxy.config.Routing.Rule;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code routing.rules} on a statement's bytes (issue 15): the first match wins, comments are part
 * of the text, and the packet is searched in place.
 */
class RoutingRulesTest {
  /** The rules of a config file with a split, as the proxy reads them. */
  private static List<Rule> rules(String rules) {
    return ConfigLoader.parse(
            "backends: [{name: w, host: w, role: writer}, {name: r, host: r, role: reader}]\n"
                + "users: [{name: app, password: a}]\n"
                + "pool: {mode: transaction}\n"
                + "routing:\n  readWriteSplit: true\n  rules:\n"
                + rules,
            null)
        .routing()
        .rules();
  }

  private static final List<Rule> ISSUE_RULES =
      rules(
          "    - {match: \"^SELECT .* FOR UPDATE\", to: writer}\n"
              + "    - {match: \"/\\\\* *mysqlpool:writer *\\\\*/\", to: writer}\n"
              + "    - {match: \"(?i)from reports\\\\.\", to: reader}\n"
              + "    - {match: \"(?i)^select\", to: reader}\n");

  /** Matched in a pooled buffer at an offset, with bytes after the end that must not count. */
  private static RouteTarget match(RoutingRules rules, String sql) {
    byte[] bytes = sql.getBytes(StandardCharsets.UTF_8);
    ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer();
    try {
      buf.writeBytes(new byte[] {9, 0, 0, 0, 3})
          .writeBytes(bytes)
          .writeBytes(" FROM reports.x".getBytes(StandardCharsets.US_ASCII));
      RouteTarget t = rules.match(buf, 5, 5 + bytes.length);
      assertThat(buf.readerIndex()).isZero();
      assertThat(buf.refCnt()).isEqualTo(1);
      return t;
    } finally {
      buf.release();
    }
  }

  @Test
  void theFirstMatchingRuleDecides() {
    RoutingRules rules = RoutingRules.of(ISSUE_RULES);
    assertThat(match(rules, "SELECT * FROM t WHERE id = 1 FOR UPDATE"))
        .isEqualTo(RouteTarget.WRITER);
    assertThat(match(rules, "select * from REPORTS.daily")).isEqualTo(RouteTarget.READER);
    assertThat(match(rules, "select 1"))
        .withFailMessage("the (?i) rule matches lower case; the case-sensitive first one does not")
        .isEqualTo(RouteTarget.READER);
    assertThat(match(rules, "UPDATE t SET a = 1")).isNull();
    assertThat(match(rules, "")).isNull();
  }

  @Test
  void aHintInACommentMatchesThoughTheClassifierSkipsComments() {
    RoutingRules rules = RoutingRules.of(ISSUE_RULES);
    assertThat(match(rules, "SELECT /* mysqlpool:writer */ * FROM reports.daily"))
        .isEqualTo(RouteTarget.WRITER);
    assertThat(match(rules, "/*mysqlpool:writer*/ SELECT 1")).isEqualTo(RouteTarget.WRITER);
  }

  @Test
  void asciiPatternsMatchUtf8TextByteForByte() {
    RoutingRules rules =
        RoutingRules.of(
            rules(
                "    - {match: \"WHERE name = 'Zoë' AND x = 1$\", to: writer}\n    - {match: \"x = 1$\", to: reader}\n"));
    assertThat(match(rules, "SELECT * FROM t WHERE name = 'Zoë' AND x = 1"))
        .withFailMessage(
            "a non-ASCII literal in a pattern does not match its UTF-8 bytes (documented)")
        .isEqualTo(RouteTarget.READER);
    assertThat(match(rules, "SELECT 'ü' FROM t WHERE x = 1")).isEqualTo(RouteTarget.READER);
  }

  @Test
  void withoutRulesNothingRuns() {
    assertThat(RoutingRules.of(List.of())).isSameAs(RoutingRules.EMPTY);
    assertThat(RoutingRules.EMPTY.match(null, 0, 10))
        .withFailMessage("no rules: the packet is not even read")
        .isNull();
  }

  @Test
  void theViewReadsOneCharPerByte() {
    byte[] bytes = "a/ü/b".getBytes(StandardCharsets.UTF_8);
    ByteBuf buf = PooledByteBufAllocator.DEFAULT.heapBuffer().writeBytes(bytes);
    try {
      ByteChars chars = new ByteChars().reset(buf, 1, bytes.length);
      assertThat(chars.length()).isEqualTo(5);
      assertThat(chars.charAt(0)).isEqualTo('/');
      assertThat((int) chars.charAt(1)).isEqualTo(0xc3);
      assertThat(chars.subSequence(3, 5).toString()).isEqualTo("/b");
      chars.clear();
      assertThat(chars.length()).isZero();
      assertThat(chars.toString()).isEmpty();
    } finally {
      buf.release();
    }
  }
}
