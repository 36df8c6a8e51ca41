package dev.mysqlpool.proxy.stmt;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;

/**
 * One prepared statement as the proxy shares it between clients and backend connections: its key
 * (SQL text, schema, account), the id the proxy gave it, the server's prepare reply (parameter and
 * column definitions) to answer later prepares with, and what the statement scan found in its text
 * (which transaction mode must know at each execute). Immutable; any thread.
 */
public final class SharedStatement {
  private static final int HEADER_SIZE = 4;

  final long id;
  private final StatementKey key;
  private final byte[] reply;
  private final int params;
  private final int columns;
  private final int scanFlags;
  private final String pin;
  private final String pinDetail;

  SharedStatement(
      long id,
      StatementKey key,
      byte[] reply,
      int params,
      int columns,
      int scanFlags,
      String pin,
      String pinDetail) {
    this.id = id;
    this.key = key;
    this.reply = reply;
    this.params = params;
    this.columns = columns;
    this.scanFlags = scanFlags;
    this.pin = pin;
    this.pinDetail = pinDetail;
  }

  /** The proxy-wide id. */
  public long id() {
    return id;
  }

  public StatementKey key() {
    return key;
  }

  /** Parameters ({@code ?}) of the statement, as the server counted them. */
  public int params() {
    return params;
  }

  public int columns() {
    return columns;
  }

  /** The statement scan's flags for the SQL text (transaction mode's StatementScan). */
  public int scanFlags() {
    return scanFlags;
  }

  /**
   * Why executing it pins a transaction-mode client (state the server does not report), or null.
   */
  public String pin() {
    return pin;
  }

  public String pinDetail() {
    return pinDetail;
  }

  /**
   * A COM_STMT_PREPARE packet for this statement (sequence id 0), to prepare it again on another
   * backend connection. The caller owns the buffer.
   */
  public ByteBuf preparePacket(ByteBufAllocator alloc, int command) {
    byte[] sql = key.sql().getBytes(StandardCharsets.ISO_8859_1);
    ByteBuf buf = alloc.ioBuffer(HEADER_SIZE + 1 + sql.length);
    buf.writeMediumLE(1 + sql.length);
    buf.writeByte(0);
    buf.writeByte(command);
    buf.writeBytes(sql);
    return buf;
  }

  /**
   * The server's prepare reply with {@code clientId} as the statement id: what a client that
   * prepares the same statement again gets without a backend round trip. The caller owns the
   * buffer.
   */
  public ByteBuf replyFor(ByteBufAllocator alloc, int clientId) {
    ByteBuf buf = alloc.ioBuffer(reply.length);
    buf.writeBytes(reply);
    buf.setIntLE(HEADER_SIZE + 1, clientId);
    return buf;
  }

  @Override
  public String toString() {
    return "statement #" + id;
  }
}
