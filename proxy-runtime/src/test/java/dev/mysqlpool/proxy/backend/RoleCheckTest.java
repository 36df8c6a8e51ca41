package dev.mysqlpool.proxy.backend;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Issue 12: how the answer of the role query is read, for MariaDB, MySQL and Aurora. */
class RoleCheckTest {
  @Test
  void aWriterAnswersZeroOrOffForBoth() {
    assertThat(RoleCheck.reason(Arrays.asList("0", "0"))).isNull();
    assertThat(RoleCheck.reason(Arrays.asList("OFF", "OFF"))).isNull();
    assertThat(RoleCheck.reason(Arrays.asList("0")))
        .as("a server without innodb_read_only")
        .isNull();
  }

  @Test
  void readOnlyOrAnAuroraReaderIsNotTheWriter() {
    assertThat(RoleCheck.reason(Arrays.asList("1", "0"))).isEqualTo("read_only=1");
    assertThat(RoleCheck.reason(Arrays.asList("ON", "OFF"))).isEqualTo("read_only=ON");
    assertThat(RoleCheck.reason(Arrays.asList("0", "1")))
        .as("an Aurora MySQL reader: innodb_read_only")
        .isEqualTo("innodb_read_only=1");
  }

  @Test
  void aNullValueIsNotReadOnly() {
    assertThat(RoleCheck.reason(Arrays.asList(null, null))).isNull();
  }
}
