package dev.mysqlpool.proxy.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class GtidPositionTest {
  @Test
  void aMariaDbReplicaCoversAWriteOnceItsDomainReachedTheSequence() {
    GtidPosition write = GtidPosition.parse("0-1-42");
    assertThat(GtidPosition.parse("0-1-41").covers(write)).isFalse();
    assertThat(GtidPosition.parse("0-1-42").covers(write)).isTrue();
    // After a switchover the domain's sequence goes on under another server id.
    assertThat(GtidPosition.parse("0-2-50").covers(write)).isTrue();
    // Another domain does not count.
    assertThat(GtidPosition.parse("1-1-99").covers(write)).isFalse();
    assertThat(GtidPosition.parse("1-1-99, 0-1-43").covers(write)).isTrue();
  }

  @Test
  void aMySqlGtidSetCoversWhatItsIntervalsContain() {
    String uuid = "3E11FA47-71CA-11E1-9E33-C80AA9429562";
    GtidPosition write = GtidPosition.parse(uuid.toLowerCase() + ":23");
    assertThat(GtidPosition.parse(uuid + ":1-22").covers(write)).isFalse();
    assertThat(GtidPosition.parse(uuid + ":1-20:22-30").covers(write)).isTrue();
    assertThat(GtidPosition.parse(uuid + ":1-22:24-30").covers(write)).isFalse();
    assertThat(
            GtidPosition.parse("aaaaaaaa-71ca-11e1-9e33-c80aa9429562:1-100,\n" + uuid + ":1-23")
                .covers(write))
        .isTrue();
    // Adjacent intervals merge: 1-5 and 6-9 hold 4-7.
    assertThat(
            GtidPosition.parse(uuid + ":1-5," + uuid + ":6-9")
                .covers(GtidPosition.parse(uuid + ":4-7")))
        .isTrue();
  }

  @Test
  void nothingWrittenIsCoveredByAnyPosition() {
    assertThat(GtidPosition.parse("").isEmpty()).isTrue();
    assertThat(GtidPosition.parse(null)).isSameAs(GtidPosition.EMPTY);
    assertThat(GtidPosition.EMPTY.covers(GtidPosition.parse(""))).isTrue();
    assertThat(GtidPosition.EMPTY.covers(GtidPosition.parse("0-1-1"))).isFalse();
  }

  @Test
  void textThatIsNoGtidIsRefusedWithTheText() {
    assertThatThrownBy(() -> GtidPosition.parse("0-1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("0-1");
    assertThatThrownBy(() -> GtidPosition.parse("uuid:9-3"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("9-3");
  }
}
