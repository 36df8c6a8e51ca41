package dev.mysqlpool.proxy.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mysqlpool.proxy.protocol.Packets;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.Test;

/**
 * Issue 12: which server errors mean that the writer turned read-only. Only those whose text says
 * so start a switch at once and are reworded for the client; 1792 also answers a write in the
 * client's own read-only transaction, and 1290 other options, so they are only checked.
 */
class WriterChangeTest {
  private static ByteBuf err(int code, String message) {
    return Packets.err(UnpooledByteBufAllocator.DEFAULT, 1, code, "HY000", message);
  }

  @Test
  void mariaDbReadOnlyIsAWriterChange() {
    ByteBuf e =
        err(
            1290,
            "The MariaDB server is running with the --read-only option so it cannot execute this"
                + " statement");
    try {
      assertThat(WriterChange.isReadOnlyError(e)).isTrue();
      assertThat(WriterChange.saysReadOnly(e)).isTrue();
    } finally {
      e.release();
    }
  }

  @Test
  void mySqlSuperReadOnlyIsAWriterChange() {
    ByteBuf e = err(1836, "Running in read-only mode");
    try {
      assertThat(WriterChange.isReadOnlyError(e)).isTrue();
      assertThat(WriterChange.saysReadOnly(e)).isTrue();
    } finally {
      e.release();
    }
  }

  @Test
  void secureFilePrivAndReadOnlyTransactionsAreOnlyChecked() {
    ByteBuf file =
        err(
            1290,
            "The MariaDB server is running with the --secure-file-priv option so it cannot execute"
                + " this statement");
    ByteBuf tx = err(1792, "Cannot execute statement in a READ ONLY transaction");
    try {
      assertThat(WriterChange.isReadOnlyError(file)).isTrue();
      assertThat(WriterChange.saysReadOnly(file)).isFalse();
      assertThat(WriterChange.isReadOnlyError(tx)).isTrue();
      assertThat(WriterChange.saysReadOnly(tx)).isFalse();
    } finally {
      file.release();
      tx.release();
    }
  }

  @Test
  void otherErrorsAreNot() {
    ByteBuf e = err(1062, "Duplicate entry '1' for key 'PRIMARY'");
    try {
      assertThat(WriterChange.isReadOnlyError(e)).isFalse();
    } finally {
      e.release();
    }
  }
}
