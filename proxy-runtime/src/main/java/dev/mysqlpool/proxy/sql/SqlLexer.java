package dev.mysqlpool.proxy.sql;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * The proxy's one SQL lexer: the tokens of a MySQL or MariaDB statement, read in place from the
 * bytes of a packet. Where text ends and what is a comment follow the server's lexer ({@code
 * sql_lex.cc}), so a caller sees the words the server would execute:
 *
 * <ul>
 *   <li>whitespace is space, tab, LF, VT, FF and CR, as the server's {@code my_isspace};
 *   <li>{@code #} and {@code --} (two dashes followed by whitespace, a control byte or the end) run
 *       to the end of the line; {@code /* ... *}{@code /} is skipped to its first closing;
 *   <li>an executable comment, {@code /*!} or MariaDB's {@code /*M!} with an optional five- or
 *       six-digit version, is read as SQL whatever the version: this lexer does not know the
 *       server's (MariaDB skips versions above its own and MySQL's 50700 to 99999), so a caller
 *       reads content the server may skip, never the other way round;
 *   <li>{@code '...'} and {@code "..."} are strings ({@code ANSI_QUOTES} is assumed off), with
 *       doubled quotes and, unless the server runs with {@code NO_BACKSLASH_ESCAPES}, backslash
 *       escapes; {@code `...`} is an identifier with doubled backticks.
 * </ul>
 *
 * <p>Bytes from 0x80 are identifier bytes, which is right for UTF-8 and the single-byte character
 * sets. In GBK, Big5 and SJIS a multi-byte character may end in a backslash or quote byte, which
 * this lexer would take for one.
 *
 * <p>Reads only the bytes between the {@code start} and {@code end} it was given, even in a
 * truncated statement (an unterminated string or comment runs to the end), and never changes the
 * buffer's indexes or reference count: the caller keeps ownership. No allocation per token. One
 * instance is reused for many statements, by one thread at a time.
 */
public final class SqlLexer {
  private static final boolean[] IDENTIFIER = new boolean[256];

  static {
    for (int c = 0; c < 256; c++) {
      IDENTIFIER[c] =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || c == '_'
              || c == '$'
              || c >= 0x80;
    }
  }

  private ByteBuf buf;
  private int pos;
  private int end;
  private boolean backslashEscapes;
  private boolean inExecutableComment;

  private Token token = Token.END;
  private int tokenStart;
  private int tokenEnd;
  private Keyword keyword;

  /**
   * Starts reading {@code buf} between {@code start} and {@code end}, with backslash escapes in
   * strings (the server's default).
   */
  public SqlLexer reset(ByteBuf buf, int start, int end) {
    return reset(buf, start, end, false);
  }

  /**
   * Starts reading {@code buf} between {@code start} and {@code end}; {@code noBackslashEscapes} as
   * the server's status flag of that name reports its {@code sql_mode}.
   */
  public SqlLexer reset(ByteBuf buf, int start, int end, boolean noBackslashEscapes) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    this.backslashEscapes = !noBackslashEscapes;
    this.inExecutableComment = false;
    this.token = Token.END;
    this.tokenStart = start;
    this.tokenEnd = start;
    this.keyword = null;
    return this;
  }

  /**
   * The keyword that starts the statement at {@code start} (after whitespace and comments), or null
   * when it starts with something else. Equal to the first {@link #keyword()} of a fresh lexer,
   * without needing one: this is the check to run on every query.
   */
  public static Keyword firstKeyword(ByteBuf buf, int start, int end) {
    int i = position(skip(buf, start, end, false));
    if (i >= end || !IDENTIFIER[buf.getByte(i) & 0xff]) {
      return null;
    }
    return Keyword.of(buf, i, identifierEnd(buf, i + 1, end));
  }

  /** Reads the next token; {@link Token#END} once the input is exhausted, and from then on. */
  public Token next() {
    int skipped = skip(buf, pos, end, inExecutableComment);
    int i = position(skipped);
    inExecutableComment = skipped < 0;
    keyword = null;
    tokenStart = i;
    if (i >= end) {
      tokenEnd = pos = end;
      return token = Token.END;
    }
    int c = buf.getByte(i) & 0xff;
    int e;
    Token t;
    if (IDENTIFIER[c]) {
      e = identifierEnd(buf, i + 1, end);
      keyword = Keyword.of(buf, i, e);
      t = Token.WORD;
    } else if (c == '\'' || c == '"') {
      e = quotedEnd(buf, i, end, c, backslashEscapes);
      t = Token.STRING;
    } else if (c == '`') {
      e = quotedEnd(buf, i, end, c, false);
      t = Token.QUOTED_IDENTIFIER;
    } else if (c == '@' && i + 1 < end && buf.getByte(i + 1) == '@') {
      tokenStart = i + 2;
      e = nameEnd(buf, tokenStart, end);
      int name = tokenStart;
      while (name < e && buf.getByte(name) != '.') {
        name++;
      }
      keyword = Keyword.of(buf, name < e ? name + 1 : tokenStart, e);
      t = Token.SYSTEM_VARIABLE;
    } else if (c == '@') {
      int q = i + 1 < end ? buf.getByte(i + 1) : 0;
      e =
          q == '\'' || q == '"' || q == '`'
              ? quotedEnd(buf, i + 1, end, q, q != '`' && backslashEscapes)
              : nameEnd(buf, i + 1, end);
      t = Token.USER_VARIABLE;
    } else if (c == ':' && i + 1 < end && buf.getByte(i + 1) == '=') {
      e = i + 2;
      t = Token.ASSIGN;
    } else {
      e = i + 1;
      t = Token.SYMBOL;
    }
    tokenEnd = pos = e;
    return token = t;
  }

  /** The token {@link #next()} returned last. */
  public Token token() {
    return token;
  }

  /** For a {@link Token#WORD} or {@link Token#SYSTEM_VARIABLE}: its keyword, or null. */
  public Keyword keyword() {
    return keyword;
  }

  /** Where the current token starts in the buffer. */
  public int tokenStart() {
    return tokenStart;
  }

  /** Where the current token ends (exclusive). */
  public int tokenEnd() {
    return tokenEnd;
  }

  /** Whether the current token is the {@link Token#SYMBOL} {@code c}. */
  public boolean isSymbol(char c) {
    return token == Token.SYMBOL && buf.getByte(tokenStart) == c;
  }

  /** Whether the current token is a {@link Token#WORD} made of ASCII digits only. */
  public boolean isDigits() {
    if (token != Token.WORD) {
      return false;
    }
    for (int i = tokenStart; i < tokenEnd; i++) {
      byte b = buf.getByte(i);
      if (b < '0' || b > '9') {
        return false;
      }
    }
    return true;
  }

  /**
   * The current token's text, decoded as UTF-8 (allocates: for the rare statements that need it).
   */
  public String text() {
    return buf.toString(tokenStart, tokenEnd - tokenStart, StandardCharsets.UTF_8);
  }

  /**
   * Whether anything but whitespace follows the current token. After a {@code ;} that is what the
   * server runs as one more statement: with CLIENT_MULTI_STATEMENTS even a lone comment there is a
   * statement of its own and gets an OK of its own.
   */
  public boolean textFollows() {
    for (int i = pos; i < end; i++) {
      if (!isSpace(buf.getByte(i))) {
        return true;
      }
    }
    return false;
  }

  /** The reading position, for {@link #rewind}: an opaque value. */
  public int mark() {
    return inExecutableComment ? ~pos : pos;
  }

  /**
   * Goes back (or forward) to a {@link #mark()}; the next {@link #next()} reads the token after it.
   */
  public void rewind(int mark) {
    inExecutableComment = mark < 0;
    pos = position(mark);
  }

  // The reading state outside the instance is one int: the position, or its bitwise complement
  // while inside an executable comment (whose closing */ is then a delimiter, not two symbols).
  private static int position(int state) {
    return state < 0 ? ~state : state;
  }

  /** Skips whitespace, comments and executable comment delimiters; returns the new state. */
  private static int skip(ByteBuf buf, int i, int end, boolean inExecutableComment) {
    while (i < end) {
      byte c = buf.getByte(i);
      if (isSpace(c)) {
        i++;
      } else if (c == '#') {
        i = lineEnd(buf, i + 1, end);
      } else if (c == '-'
          && i + 1 < end
          && buf.getByte(i + 1) == '-'
          && (i + 2 == end || isControlOrSpace(buf.getByte(i + 2)))) {
        i = lineEnd(buf, i + 2, end);
      } else if (c == '/' && i + 1 < end && buf.getByte(i + 1) == '*') {
        int j = i + 2;
        if (j < end && buf.getByte(j) == '!') {
          inExecutableComment = true;
          i = versionEnd(buf, j + 1, end);
        } else if (j + 1 < end && buf.getByte(j) == 'M' && buf.getByte(j + 1) == '!') {
          inExecutableComment = true;
          i = versionEnd(buf, j + 2, end);
        } else {
          i = commentEnd(buf, j, end);
        }
      } else if (c == '*' && inExecutableComment && i + 1 < end && buf.getByte(i + 1) == '/') {
        inExecutableComment = false;
        i += 2;
      } else {
        break;
      }
    }
    return inExecutableComment ? ~i : i;
  }

  private static boolean isSpace(byte c) {
    return c == ' ' || (c >= '\t' && c <= '\r');
  }

  private static boolean isControlOrSpace(byte c) {
    return (c >= 0 && c <= ' ') || c == 0x7f;
  }

  /** The position of the next line feed (itself whitespace), or the end. */
  private static int lineEnd(ByteBuf buf, int i, int end) {
    while (i < end && buf.getByte(i) != '\n') {
      i++;
    }
    return i;
  }

  /** Past the first {@code *}{@code /} at or after {@code i}, or the end. */
  private static int commentEnd(ByteBuf buf, int i, int end) {
    for (; i + 1 < end; i++) {
      if (buf.getByte(i) == '*' && buf.getByte(i + 1) == '/') {
        return i + 2;
      }
    }
    return end;
  }

  /**
   * Past an executable comment's version: exactly five digits, or six; fewer are content (the
   * server reads {@code /*!123 x*}{@code /} as {@code 123 x}).
   */
  private static int versionEnd(ByteBuf buf, int i, int end) {
    if (i + 5 > end) {
      return i;
    }
    for (int k = i; k < i + 5; k++) {
      if (!isDigit(buf.getByte(k))) {
        return i;
      }
    }
    return i + 5 < end && isDigit(buf.getByte(i + 5)) ? i + 6 : i + 5;
  }

  private static boolean isDigit(byte b) {
    return b >= '0' && b <= '9';
  }

  private static int identifierEnd(ByteBuf buf, int i, int end) {
    while (i < end && IDENTIFIER[buf.getByte(i) & 0xff]) {
      i++;
    }
    return i;
  }

  /** A variable name: identifier bytes and dots ({@code @@session.sql_mode}, {@code @a.b}). */
  private static int nameEnd(ByteBuf buf, int i, int end) {
    while (i < end && (IDENTIFIER[buf.getByte(i) & 0xff] || buf.getByte(i) == '.')) {
      i++;
    }
    return i;
  }

  /** Past the quote that closes the one at {@code i}, or the end when none does. */
  private static int quotedEnd(ByteBuf buf, int i, int end, int quote, boolean backslashEscapes) {
    int j = i + 1;
    while (j < end) {
      int c = buf.getByte(j);
      if (c == '\\' && backslashEscapes) {
        j += 2;
      } else if (c == quote) {
        if (j + 1 < end && buf.getByte(j + 1) == quote) {
          j += 2;
        } else {
          return j + 1;
        }
      } else {
        j++;
      }
    }
    return end;
  }
}
