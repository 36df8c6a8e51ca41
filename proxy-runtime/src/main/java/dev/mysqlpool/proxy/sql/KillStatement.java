package dev.mysqlpool.proxy.sql;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * A KILL statement, which the proxy must answer itself: the id in it is one the proxy advertised,
 * and on a backend it would name another client's connection.
 *
 * <p>The proxy maps {@code KILL [QUERY | CONNECTION] <digits> [;]}, with whitespace or comments
 * between the words as the server allows, inside an executable comment too. The server takes more
 * (an expression for the id, {@code KILL USER}, {@code KILL QUERY ID}, {@code HARD}/{@code SOFT},
 * more statements after it): those parse as {@link #supported() unsupported}, so the session can
 * refuse them instead of letting a backend run them.
 *
 * @see <a href="https://mariadb.com/kb/en/kill/">KILL</a>
 */
public final class KillStatement {
  private static final KillStatement UNSUPPORTED = new KillStatement(false, false, -1, null);

  private final boolean supported;
  private final boolean queryOnly;
  private final long threadId;
  private final String idText;

  private KillStatement(boolean supported, boolean queryOnly, long threadId, String idText) {
    this.supported = supported;
    this.queryOnly = queryOnly;
    this.threadId = threadId;
    this.idText = idText;
  }

  /**
   * The KILL statement in the SQL text of {@code buf} between {@code start} and {@code end}, or
   * null when the text does not start with the word KILL. Reads only those bytes; allocates only
   * for a KILL.
   */
  public static KillStatement parse(ByteBuf buf, int start, int end) {
    if (SqlLexer.firstKeyword(buf, start, end) != Keyword.KILL) {
      return null;
    }
    SqlLexer lexer = new SqlLexer().reset(buf, start, end);
    lexer.next(); // KILL
    Token t = lexer.next();
    boolean queryOnly = false;
    if (t == Token.WORD
        && (lexer.keyword() == Keyword.QUERY || lexer.keyword() == Keyword.CONNECTION)) {
      queryOnly = lexer.keyword() == Keyword.QUERY;
      lexer.next();
    }
    if (!lexer.isDigits()) {
      return UNSUPPORTED;
    }
    int idStart = lexer.tokenStart();
    int idEnd = lexer.tokenEnd();
    lexer.next();
    if (lexer.isSymbol(';')) {
      lexer.next();
    }
    if (lexer.token() != Token.END) {
      return UNSUPPORTED;
    }
    String idText = buf.toString(idStart, idEnd - idStart, StandardCharsets.US_ASCII);
    return new KillStatement(true, queryOnly, threadId(buf, idStart, idEnd), idText);
  }

  /** The digits as a number, or -1 beyond {@link Long#MAX_VALUE} (no thread has such an id). */
  private static long threadId(ByteBuf buf, int start, int end) {
    long id = 0;
    for (int i = start; i < end; i++) {
      int digit = buf.getByte(i) - '0';
      if (id > (Long.MAX_VALUE - digit) / 10) {
        return -1;
      }
      id = id * 10 + digit;
    }
    return id;
  }

  /**
   * Whether the proxy can map this KILL: {@code KILL [QUERY | CONNECTION] <digits> [;]}. The other
   * accessors are meaningful only then.
   */
  public boolean supported() {
    return supported;
  }

  /** KILL QUERY: cancel the running statement, keep the session. */
  public boolean queryOnly() {
    return queryOnly;
  }

  /** The connection id, or -1 when the digits exceed a long (the server's ERR 1094 then). */
  public long threadId() {
    return threadId;
  }

  /** The id's digits as written, for the error that names an unknown one. */
  public String idText() {
    return idText;
  }
}
