package dev.mysqlpool.proxy.sql;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class KillStatementTest {
  /** What ClientSession matched before the lexer; the parser must accept at least this. */
  private static final Pattern OLD_REGEX =
      Pattern.compile(
          "\\s*KILL\\s+(?:(QUERY|CONNECTION)\\s+)?(\\d+)\\s*;?\\s*", Pattern.CASE_INSENSITIVE);

  private static KillStatement parse(String sql) {
    ByteBuf buf =
        Unpooled.copiedBuffer("\u0003" + sql + "junk after the packet", StandardCharsets.UTF_8);
    try {
      int end = 1 + sql.getBytes(StandardCharsets.UTF_8).length;
      return KillStatement.parse(buf, 1, end);
    } finally {
      buf.release();
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "KILL 5",
        "kill 5",
        "KILL QUERY 5",
        "kill query 5;",
        "KILL CONNECTION 5",
        "  \t\nKILL\u000b\fQUERY\r\n 5 ; \n",
        "KILL 0005",
        "KILL 4294967296",
        "KILL 9223372036854775807",
        "KILL 9223372036854775808",
        "KILL 99999999999999999999999999999999999999",
      })
  void acceptsWhatTheRegexAccepted(String sql) {
    Matcher m = OLD_REGEX.matcher(sql);
    assertThat(m.matches()).as("the regex's own case").isTrue();
    KillStatement kill = parse(sql);
    assertThat(kill).isNotNull();
    assertThat(kill.supported()).isTrue();
    assertThat(kill.queryOnly()).isEqualTo("QUERY".equalsIgnoreCase(m.group(1)));
    assertThat(kill.idText()).isEqualTo(m.group(2));
    long expected;
    try {
      expected = Long.parseLong(m.group(2));
    } catch (NumberFormatException tooLarge) {
      expected = -1; // ClientSession answers 1094 Unknown thread id with the digits as written
    }
    assertThat(kill.threadId()).isEqualTo(expected);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "KILL QUERY 5 + 1",
        "KILL (5)",
        "KILL '5'",
        "KILL 5.0",
        "KILL 1e3",
        "KILL 0x10",
        "KILL 5abc",
        "KILL -5",
        "KILL QUERY",
        "KILL",
        "KILL QUERY ID 5",
        "KILL HARD 5",
        "KILL SOFT QUERY 5",
        "KILL USER 'app'",
        "KILL CONNECTION USER app",
        "KILL 5;;",
        "KILL 5; SELECT 1",
        "KILL QUERY CONNECTION 5",
        "KILL \uff15",
      })
  void theServersOtherKillFormsAreKillsTheProxyCannotMap(String sql) {
    assertThat(OLD_REGEX.matcher(sql).matches()).isFalse();
    KillStatement kill = parse(sql);
    assertThat(kill).as("still a KILL: must not reach a backend as it is").isNotNull();
    assertThat(kill.supported()).isFalse();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "SELECT 1",
        "KILLS 5",
        "SKILL 5",
        "KILL5",
        "/* KILL 5 */",
        "-- KILL 5",
        "# KILL 5",
        "'KILL 5'",
        "SELECT 1; KILL 5",
        "/*Mx KILL 5 */",
        "",
        "   ",
      })
  void notAKill(String sql) {
    assertThat(parse(sql)).isNull();
  }

  @Test
  void commentsGoWhereTheServerAllowsThem() {
    // The regex rejected these, so the proxy sent them to a backend, where the id names whichever
    // client's connection has that backend thread id. The server runs each as KILL 5.
    for (String sql :
        new String[] {
          "/* app=orders */ KILL QUERY 5",
          "KILL/**/QUERY/**/5",
          "KILL QUERY 5 -- from the driver",
          "KILL QUERY 5; # done",
          "KILL --\n 5",
          "/*!KILL QUERY 5*/",
          "/*!50000 KILL QUERY 5*/",
          "/*M!100000 KILL QUERY 5*/",
          "/*!*/ KILL QUERY 5",
        }) {
      KillStatement kill = parse(sql);
      assertThat(kill).as(sql).isNotNull();
      assertThat(kill.supported()).as(sql).isTrue();
      assertThat(kill.threadId()).as(sql).isEqualTo(5);
      assertThat(kill.queryOnly()).as(sql).isEqualTo(sql.contains("QUERY"));
    }
  }

  @Test
  void aVersionTheServerWouldSkipIsStillReadAsAKill() {
    // MariaDB skips /*!99999 ... */ (MySQL 5.7+ syntax) and versions above its own; the lexer does
    // not know the version and reads the content: the proxy answers a KILL the server would have
    // ignored, rather than let a backend run one the server would have executed.
    KillStatement kill = parse("/*!99999 KILL QUERY 5 */");
    assertThat(kill).isNotNull();
    assertThat(kill.supported()).isTrue();
  }

  @Test
  void readsOnlyItsRange() {
    ByteBuf buf = Unpooled.copiedBuffer("KILL 12345", StandardCharsets.US_ASCII);
    KillStatement kill = KillStatement.parse(buf, 0, 7);
    assertThat(kill.threadId()).as("the digits before end only").isEqualTo(12);
    assertThat(KillStatement.parse(buf, 0, 4)).as("KILL alone").isNotNull();
    assertThat(KillStatement.parse(buf, 0, 3)).as("KIL").isNull();
    buf.release();
  }
}
