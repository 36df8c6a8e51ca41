package dev.mysqlpool.proxy.frontend;

import dev.mysqlpool.proxy.backend.BackendConnection;
import dev.mysqlpool.proxy.protocol.Packets;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * What a client sees when its statement fails because the writer it ran on turned read-only: the
 * server's own error code and SQLSTATE (applications that retry on 1290 keep doing so), with a
 * message that says the writer changed and that nothing of the transaction was applied. The
 * statement is never replayed by the proxy: it could apply a write twice.
 */
final class WriterChange {
  /** ER_OPTION_PREVENTS_STATEMENT: running with --read-only (also other options: confirmed). */
  static final int OPTION_PREVENTS_STATEMENT = 1290;

  /** ER_READ_ONLY_MODE: MySQL's super_read_only (a demoted source, an Aurora reader). */
  static final int READ_ONLY_MODE = 1836;

  /** ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION. */
  static final int CANT_EXECUTE_IN_READ_ONLY_TRANSACTION = 1792;

  private WriterChange() {}

  /** Whether an ERR packet carries one of the read-only error codes. */
  static boolean isReadOnlyError(ByteBuf err) {
    int at = err.readerIndex() + Packets.HEADER_SIZE;
    if (Packets.payloadLength(err) < 3 || err.getUnsignedByte(at) != Packets.ERR) {
      return false;
    }
    int code = err.getUnsignedShortLE(at + 1);
    return code == OPTION_PREVENTS_STATEMENT
        || code == READ_ONLY_MODE
        || code == CANT_EXECUTE_IN_READ_ONLY_TRANSACTION;
  }

  /**
   * Whether a read-only error says the server itself is read-only. 1792 also answers a write in the
   * client's own START TRANSACTION READ ONLY, and 1290 other options (secure_file_priv): those make
   * the pool check the server, but their text stays the server's.
   */
  static boolean saysReadOnly(ByteBuf err) {
    int at = err.readerIndex() + Packets.HEADER_SIZE;
    int end = at + Packets.payloadLength(err);
    if (err.getUnsignedShortLE(at + 1) == CANT_EXECUTE_IN_READ_ONLY_TRANSACTION) {
      return false;
    }
    String text =
        err.toString(at + 3, Math.max(0, end - at - 3), StandardCharsets.UTF_8)
            .toLowerCase(Locale.ROOT);
    return text.contains("read-only") || text.contains("read_only");
  }

  /**
   * Reports the error to the pool (on a writer backend it checks the server's role at once) and
   * returns the ERR the client gets instead, a new buffer; null on a backend not declared a writer,
   * where the server's error passes unchanged. Never takes ownership of {@code err}.
   */
  static ByteBuf error(ClientSession session, BackendConnection c, ByteBuf err) {
    int at = err.readerIndex() + Packets.HEADER_SIZE;
    int end = at + Packets.payloadLength(err);
    int code = err.getUnsignedShortLE(at + 1);
    String state = "HY000";
    int msg = at + 3;
    if (msg < end && err.getByte(msg) == '#' && end - msg >= 6) {
      state = err.toString(msg + 1, 5, StandardCharsets.US_ASCII);
      msg += 6;
    }
    String server = err.toString(msg, Math.max(0, end - msg), StandardCharsets.UTF_8);
    boolean readOnlyServer = saysReadOnly(err);
    if (!c.pool().readOnlyError(c, readOnlyServer, readOnlyServer) || !readOnlyServer) {
      return null;
    }
    session.metrics().error("writer_changed");
    return Packets.err(
        session.alloc(),
        Packets.sequenceId(err),
        code,
        state,
        "mysqlpool: the writer of backend '"
            + c.pool().name()
            + "' changed: the server this transaction ran on is read-only now, so nothing of the"
            + " transaction was committed; roll back and retry it (the proxy never replays a"
            + " write). Server said: "
            + server);
  }
}
