package dev.mysqlpool.proxy.stmt;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

class ExecutePacketTest {
  private static final ByteBufAllocator ALLOC = ByteBufAllocator.DEFAULT;

  /** COM_STMT_EXECUTE of statement 7 with two parameters (an INT 5 and a VARCHAR 'ab'). */
  private static ByteBuf execute(boolean withTypes) {
    ByteBuf b = ALLOC.buffer();
    b.writeMediumLE(0).writeByte(0);
    b.writeByte(0x17).writeIntLE(7).writeByte(0).writeIntLE(1);
    b.writeByte(0); // null bitmap
    b.writeByte(withTypes ? 1 : 0);
    if (withTypes) {
      b.writeShortLE(3).writeShortLE(15);
    }
    b.writeIntLE(5).writeByte(2).writeByte('a').writeByte('b');
    b.setMediumLE(0, b.writerIndex() - 4);
    return b;
  }

  @Test
  void readsAndRewritesTheStatementIdInPlace() {
    ByteBuf p = execute(true);
    try {
      assertThat(ExecutePacket.statementId(p)).isEqualTo(7);
      ExecutePacket.statementId(p, 42);
      assertThat(ExecutePacket.statementId(p)).isEqualTo(42);
      assertThat(ExecutePacket.opensCursor(p)).isFalse();
    } finally {
      p.release();
    }
  }

  @Test
  void typesAreCopiedOnlyWhenTheyChange() {
    ByteBuf p = execute(true);
    try {
      int flag = ExecutePacket.boundFlagIndex(p, 2);
      assertThat(p.getByte(flag)).isEqualTo((byte) 1);
      byte[] types = ExecutePacket.types(p, flag, 2, null);
      assertThat(types).containsExactly(3, 0, 15, 0);
      assertThat(ExecutePacket.types(p, flag, 2, types))
          .as("the same types again: no copy")
          .isSameAs(types);
      assertThat(ExecutePacket.types(p, flag, 2, new byte[] {8, 0, 15, 0})).isEqualTo(types);
    } finally {
      p.release();
    }
  }

  @Test
  void anExecuteWithoutTypesGetsThemAndBecomesTheOneWithTypes() {
    ByteBuf without = execute(false);
    ByteBuf expected = execute(true);
    try {
      int flag = ExecutePacket.boundFlagIndex(without, 2);
      assertThat(ExecutePacket.canAddTypes(without, 2)).isTrue();
      ByteBuf with = ExecutePacket.withTypes(ALLOC, without, flag, new byte[] {3, 0, 15, 0});
      try {
        assertThat(without.refCnt()).as("the original is released").isZero();
        assertThat(ByteBufUtil.hexDump(with)).isEqualTo(ByteBufUtil.hexDump(expected));
      } finally {
        with.release();
      }
    } finally {
      expected.release();
    }
  }

  @Test
  void aShortPacketHasNoFlagToRewrite() {
    ByteBuf p = Unpooled.buffer().writeMediumLE(5).writeByte(0).writeByte(0x17).writeIntLE(1);
    try {
      assertThat(ExecutePacket.boundFlagIndex(p, 3)).isEqualTo(-1);
      assertThat(ExecutePacket.boundFlagIndex(p, 0)).isEqualTo(-1);
    } finally {
      p.release();
    }
  }
}
