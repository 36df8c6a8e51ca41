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
 *
 * <p>Its package is a leaf that depends on netty-buffer only: whatever in the proxy reads SQL
 * ({@code StatementScan}, {@link KillStatement}, {@link LoadLocal}) reads it through this class.
 */
public final class SqlLexer {
  // What a byte can start: a word, whitespace, perhaps a comment (# -- /* or the */ of an
  // executable comment), or another token.
  private static final byte OTHER = 0;
  private static final byte WORD = 1;
  private static final byte SPACE = 2;
  private static final byte COMMENT = 3;
  private static final byte[] KIND = new byte[256];

  static {
    for (int c = 0; c < 256; c++) {
      boolean word =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || c == '_'
              || c == '$'
              || c >= 0x80;
      boolean space = c == ' ' || (c >= '\t' && c <= '\r');
      boolean comment = c == '#' || c == '-' || c == '/' || c == '*';
      KIND[c] = word ? WORD : space ? SPACE : comment ? COMMENT : OTHER;
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
  private int symbol = -1;

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
    this.symbol = -1;
    return this;
  }

  /**
   * The keyword that starts the statement at {@code start} (after whitespace and comments), or null
   * when it starts with something else. Equal to the first {@link #keyword()} of a fresh lexer,
   * without needing one: this is the check to run on every query.
   */
  public static Keyword firstKeyword(ByteBuf buf, int start, int end) {
    if (start >= end) {
      return null;
    }
    int i = start;
    int first = buf.getByte(i) & 0xff;
    if (KIND[first] != WORD) {
      i = position(skip(buf, start, end, false));
      first = i < end ? buf.getByte(i) & 0xff : 0;
      if (KIND[first] != WORD) {
        return null;
      }
    }
    int e = wordEnd(buf, i + 1, end);
    return Keyword.of(buf, i, e, first, buf.getByte(e - 1));
  }

  /** Reads the next token; {@link Token#END} once the input is exhausted, and from then on. */
  public Token next() {
    // Kept small so the JIT inlines it into a caller's token loop: words, symbols and whitespace
    // here, comments and the rarer tokens in methods of their own.
    ByteBuf buf = this.buf;
    int end = this.end;
    int i = pos;
    int c = 0;
    while (i < end) {
      c = buf.getByte(i) & 0xff;
      byte kind = KIND[c];
      if (kind == SPACE) {
        i++;
        continue;
      }
      if (kind == COMMENT) {
        int after = skipComments(i);
        if (after != i) {
          i = after;
          continue;
        }
      }
      break;
    }
    keyword = null;
    symbol = -1;
    tokenStart = i;
    if (i >= end) {
      tokenEnd = pos = end;
      return token = Token.END;
    }
    if (KIND[c] != WORD) {
      return other(i, c);
    }
    int e = wordEnd(buf, i + 1, end);
    keyword = Keyword.of(buf, i, e, c, buf.getByte(e - 1));
    tokenEnd = pos = e;
    return token = Token.WORD;
  }

  /**
   * Past the comments and whitespace at {@code i}; {@code i} itself when no comment starts there.
   */
  private int skipComments(int i) {
    int state = skip(buf, i, end, inExecutableComment);
    inExecutableComment = state < 0;
    return position(state);
  }

  private Token other(int i, int c) {
    return c == '\'' || c == '"' || c == '`' || c == '@' || c == ':'
        ? quotedOrVariable(i, c)
        : symbol(i, c);
  }

  private Token symbol(int i, int c) {
    symbol = c;
    tokenEnd = pos = i + 1;
    return token = Token.SYMBOL;
  }

  /** Strings, quoted identifiers, variables and {@code :=}; a lone {@code :} is a symbol. */
  private Token quotedOrVariable(int i, int c) {
    int e;
    Token t;
    if (c == '\'' || c == '"') {
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
    } else if (i + 1 < end && buf.getByte(i + 1) == '=') {
      e = i + 2;
      t = Token.ASSIGN;
    } else {
      return symbol(i, c);
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
    return symbol == c;
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
    return KIND[c & 0xff] == SPACE;
  }

  private static boolean isControlOrSpace(byte c) {
    return (c >= 0 && c <= ' ') || c == 0x7f;
  }

  /** The position of the next line feed (itself whitespace), or the end. */
  private static int lineEnd(ByteBuf buf, int i, int end) {
    int lf = i < end ? buf.indexOf(i, end, (byte) '\n') : -1;
    return lf < 0 ? end : lf;
  }

  /** Past the first {@code *}{@code /} at or after {@code i}, or the end. */
  private static int commentEnd(ByteBuf buf, int i, int end) {
    // ByteBuf.indexOf compares several bytes at a time: comments can be long (query tags).
    while (i + 1 < end) {
      int star = buf.indexOf(i, end - 1, (byte) '*');
      if (star < 0) {
        break;
      }
      if (buf.getByte(star + 1) == '/') {
        return star + 2;
      }
      i = star + 1;
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

  private static int wordEnd(ByteBuf buf, int i, int end) {
    while (i < end && KIND[buf.getByte(i) & 0xff] == WORD) {
      i++;
    }
    return i;
  }

  /** A variable name: identifier bytes and dots ({@code @@session.sql_mode}, {@code @a.b}). */
  private static int nameEnd(ByteBuf buf, int i, int end) {
    while (i < end && (KIND[buf.getByte(i) & 0xff] == WORD || buf.getByte(i) == '.')) {
      i++;
    }
    return i;
  }

  /** Past the quote that closes the one at {@code i}, or the end when none does. */
  private static int quotedEnd(ByteBuf buf, int i, int end, int quote, boolean backslashEscapes) {
    // Searched with ByteBuf.indexOf, several bytes at a time: a value in an INSERT can be long.
    int j = i + 1;
    while (j < end) {
      int q = buf.indexOf(j, end, (byte) quote);
      int stop = q < 0 ? end : q;
      int backslash = backslashEscapes && j < stop ? buf.indexOf(j, stop, (byte) '\\') : -1;
      if (backslash >= 0) {
        j = backslash + 2; // the escaped byte may be the quote
      } else if (q < 0) {
        return end;
      } else if (q + 1 < end && buf.getByte(q + 1) == quote) {
        j = q + 2; // a doubled quote
      } else {
        return q + 1;
      }
    }
    return end;
  }
}
