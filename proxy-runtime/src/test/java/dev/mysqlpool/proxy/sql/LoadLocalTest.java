package dev.mysqlpool.proxy.sql;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LoadLocalTest {
  /** What ClientSession matched before the lexer (on the first 256 bytes). */
  private static final Pattern OLD_REGEX =
      Pattern.compile(
          "\\s*LOAD\\s+(?:DATA|XML)\\s+(?:LOW_PRIORITY\\s+|CONCURRENT\\s+)?LOCAL\\s.*",
          Pattern.CASE_INSENSITIVE | Pattern.DOTALL);

  private static boolean matches(String sql) {
    ByteBuf buf = Unpooled.copiedBuffer("\u0003" + sql + " LOCAL INFILE", StandardCharsets.UTF_8);
    try {
      return LoadLocal.matches(buf, 1, 1 + sql.getBytes(StandardCharsets.UTF_8).length);
    } finally {
      buf.release();
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "LOAD DATA LOCAL INFILE '/tmp/x.csv' INTO TABLE t",
        "load xml local infile 'x.xml' into table t",
        "LOAD DATA LOW_PRIORITY LOCAL INFILE 'x' INTO TABLE t",
        "LOAD DATA CONCURRENT LOCAL INFILE 'x' INTO TABLE t",
        " \n\tLOAD\r\nDATA\u000bLOCAL\fINFILE 'x' INTO TABLE t",
        "LOAD DATA LOCAL INFILE 'ü.csv' INTO TABLE t CHARACTER SET utf8mb4",
      })
  void acceptsWhatTheRegexAccepted(String sql) {
    assertThat(OLD_REGEX.matcher(sql).matches()).as("the regex's own case").isTrue();
    assertThat(matches(sql)).isTrue();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "LOAD DATA INFILE 'x' INTO TABLE t",
        "LOAD DATA LOW_PRIORITY CONCURRENT LOCAL INFILE 'x' INTO TABLE t",
        "LOAD DATA `LOCAL` INFILE 'x' INTO TABLE t",
        "LOAD DATA LOCALLY INFILE 'x'",
        "LOAD INDEX INTO CACHE t",
        "LOAD DATA LOCAL",
        "LOAD DATA",
        "SELECT 'LOAD DATA LOCAL INFILE'",
        "/* LOAD DATA LOCAL INFILE 'x' */ SELECT 1",
        "LOADDATA LOCAL INFILE 'x'",
        "SELECT 1; LOAD DATA LOCAL INFILE 'x' INTO TABLE t",
        "",
      })
  void rejectsWhatTheRegexRejected(String sql) {
    assertThat(OLD_REGEX.matcher(sql).matches()).as("the regex's own case").isFalse();
    assertThat(matches(sql)).isFalse();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/* app=etl */ LOAD DATA LOCAL INFILE 'x' INTO TABLE t",
        "-- load\nLOAD DATA LOCAL INFILE 'x' INTO TABLE t",
        "LOAD DATA LOCAL/**/INFILE 'x' INTO TABLE t",
        "LOAD /*!DATA*/ LOCAL INFILE 'x' INTO TABLE t",
        "/*!LOAD DATA LOCAL INFILE 'x' INTO TABLE t*/",
        "/*M!100000 LOAD XML LOCAL INFILE 'x' INTO TABLE t*/",
      })
  void commentsGoWhereTheServerAllowsThem(String sql) {
    // The regex rejected these, so the session closed when the server asked for the file.
    assertThat(OLD_REGEX.matcher(sql).matches()).isFalse();
    assertThat(matches(sql)).isTrue();
  }
}
