package dev.mysqlpool.proxy.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SessionStateInfoTest {
  private static final UnpooledByteBufAllocator ALLOC = UnpooledByteBufAllocator.DEFAULT;

  /** An OK packet as a server writes it to a client with CLIENT_SESSION_TRACK. */
  private static ByteBuf ok(
      int affected, int insertId, int status, int warnings, String info, byte[] state) {
    ByteBuf p = Packets.start(ALLOC, 64, 1);
    p.writeByte(0);
    Packets.writeLenencInt(p, affected);
    Packets.writeLenencInt(p, insertId);
    p.writeShortLE(status);
    p.writeShortLE(warnings);
    byte[] text = info.getBytes(StandardCharsets.UTF_8);
    Packets.writeLenencInt(p, text.length);
    p.writeBytes(text);
    if (state != null) {
      Packets.writeLenencInt(p, state.length);
      p.writeBytes(state);
    }
    return Packets.finish(p);
  }

  private static byte[] entries(Object... typeAndData) {
    ByteBuf b = Unpooled.buffer();
    for (int i = 0; i < typeAndData.length; i += 2) {
      b.writeByte((Integer) typeAndData[i]);
      ByteBuf data = Unpooled.buffer();
      for (String s : (String[]) typeAndData[i + 1]) {
        byte[] v = s.getBytes(StandardCharsets.UTF_8);
        Packets.writeLenencInt(data, v.length);
        data.writeBytes(v);
      }
      Packets.writeLenencInt(b, data.readableBytes());
      b.writeBytes(data);
    }
    byte[] out = new byte[b.readableBytes()];
    b.readBytes(out);
    return out;
  }

  @Test
  void readsVariablesSchemaAndStateChange() {
    ByteBuf p =
        ok(
            0,
            0,
            ServerStatus.AUTOCOMMIT | ServerStatus.SESSION_STATE_CHANGED,
            0,
            "",
            entries(
                0,
                new String[] {"sql_mode", "ANSI"},
                1,
                new String[] {"app"},
                2,
                new String[] {"1"}));
    List<String> seen = new ArrayList<>();
    SessionStateInfo.read(
        p,
        new SessionStateInfo.Visitor() {
          @Override
          public void variable(String name, String value) {
            seen.add(name + "=" + value);
          }

          @Override
          public void schema(String name) {
            seen.add("schema " + name);
          }

          @Override
          public void stateChanged() {
            seen.add("changed");
          }

          @Override
          public void other(int type) {
            seen.add("other " + type);
          }
        });
    assertThat(seen).containsExactly("sql_mode=ANSI", "schema app", "changed");
    p.release();
  }

  @Test
  void rewritesForAClientWithoutSessionTrack() {
    ByteBuf p =
        ok(
            2,
            7,
            ServerStatus.AUTOCOMMIT | ServerStatus.SESSION_STATE_CHANGED,
            1,
            "Records: 2  Duplicates: 0  Warnings: 1",
            entries(2, new String[] {"1"}));
    ByteBuf plain = SessionStateInfo.withoutSessionTrack(ALLOC, p);
    int payload = Packets.payloadLength(plain);
    assertThat(plain.readableBytes()).isEqualTo(Packets.HEADER_SIZE + payload);
    assertThat(Packets.sequenceId(plain)).isEqualTo(1);
    ByteBuf b = plain.duplicate().skipBytes(Packets.HEADER_SIZE);
    assertThat(b.readByte()).isEqualTo((byte) 0);
    assertThat(Packets.readLenencInt(b)).isEqualTo(2);
    assertThat(Packets.readLenencInt(b)).isEqualTo(7);
    assertThat(b.readUnsignedShortLE()).isEqualTo(ServerStatus.AUTOCOMMIT);
    assertThat(b.readUnsignedShortLE()).isEqualTo(1);
    assertThat(new String(Packets.readLenencBytes(b), StandardCharsets.UTF_8))
        .isEqualTo("Records: 2  Duplicates: 0  Warnings: 1");
    assertThat(b.isReadable()).isFalse();
    p.release();
    plain.release();
  }

  @Test
  void dropsAnEmptyInfoWithTheStateData() {
    ByteBuf p =
        ok(
            0,
            0,
            ServerStatus.AUTOCOMMIT | ServerStatus.SESSION_STATE_CHANGED,
            0,
            "",
            entries(0, new String[] {"autocommit", "ON"}));
    ByteBuf plain = SessionStateInfo.withoutSessionTrack(ALLOC, p);
    assertThat(io.netty.buffer.ByteBufUtil.hexDump(plain)).isEqualTo("0700000100000002000000");
    p.release();
    plain.release();
  }

  @Test
  void leavesAnOkWithoutStateDataAlone() {
    ByteBuf p =
        ok(3, 0, ServerStatus.AUTOCOMMIT, 0, "Rows matched: 3  Changed: 3  Warnings: 0", null);
    assertThat(SessionStateInfo.withoutSessionTrack(ALLOC, p)).isNull();
    p.release();
  }

  @Test
  void dropsStateChangeEntriesAndKeepsTheRest() {
    ByteBuf p =
        ok(
            0,
            0,
            ServerStatus.AUTOCOMMIT | ServerStatus.SESSION_STATE_CHANGED,
            0,
            "",
            entries(1, new String[] {"other"}, 2, new String[] {"1"}));
    ByteBuf kept = SessionStateInfo.withoutStateChangeEntries(ALLOC, p);
    ByteBuf expected =
        ok(
            0,
            0,
            ServerStatus.AUTOCOMMIT | ServerStatus.SESSION_STATE_CHANGED,
            0,
            "",
            entries(1, new String[] {"other"}));
    assertThat(io.netty.buffer.ByteBufUtil.hexDump(kept))
        .isEqualTo(io.netty.buffer.ByteBufUtil.hexDump(expected));
    ByteBuf onlyChange =
        ok(
            0,
            0,
            ServerStatus.AUTOCOMMIT | ServerStatus.SESSION_STATE_CHANGED,
            0,
            "",
            entries(2, new String[] {"1"}));
    ByteBuf plain = SessionStateInfo.withoutStateChangeEntries(ALLOC, onlyChange);
    assertThat(io.netty.buffer.ByteBufUtil.hexDump(plain)).isEqualTo("0700000100000002000000");
    ByteBuf noChange =
        ok(
            0,
            0,
            ServerStatus.AUTOCOMMIT | ServerStatus.SESSION_STATE_CHANGED,
            0,
            "",
            entries(1, new String[] {"app"}));
    assertThat(SessionStateInfo.withoutStateChangeEntries(ALLOC, noChange)).isNull();
    for (ByteBuf b : new ByteBuf[] {p, kept, expected, onlyChange, plain, noChange}) {
      b.release();
    }
  }
}
