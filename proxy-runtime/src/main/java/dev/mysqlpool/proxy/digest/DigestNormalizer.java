package dev.mysqlpool.proxy.digest;

import dev.mysqlpool.proxy.sql.Keyword;
import dev.mysqlpool.proxy.sql.SqlLexer;
import dev.mysqlpool.proxy.sql.Token;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * A statement's digest, as ProxySQL's {@code stats_mysql_query_digest} and the Performance Schema's
 * statement digests group statements: the statement with its literals replaced by {@code ?}
 * (strings, numbers with their sign, fraction and exponent, {@code 0x1F}, {@code X'1F'}, {@code
 * _utf8mb4'a'}, {@code TRUE}, {@code FALSE}; {@code NULL} stays), a list of literals after {@code
 * IN} as {@code (...)}, the rows of a {@code VALUES} after the first as {@code , ...}, comments
 * dropped (an executable comment's SQL kept), and unquoted words compared without letter case.
 * Quoted identifiers and variables stay as written.
 *
 * <p>{@link #hash} reads the statement in place, through the proxy's one {@link SqlLexer}, and
 * folds the normalised tokens into a 64-bit FNV-1a hash without building any text: that runs for
 * every COM_QUERY and allocates nothing. {@link #text} builds the same normalised statement as
 * text, for the first time a digest is seen; keywords are upper case there, other words as the
 * statement spelled them. Both stop at the same place: after {@link #MAX_TEXT} bytes of normalised
 * text or {@link DigestTokens#MAX_TOKENS} tokens, so statements that differ only beyond that share
 * a digest (ProxySQL's {@code mysql-query_digests_max_digest_length} does the same at 2 KiB).
 * Literal values never reach the text, so it can be shown and logged.
 *
 * <p>One instance is reused for many statements by one thread at a time (an event loop); the caller
 * keeps the buffer.
 */
public final class DigestNormalizer {
  /** Normalised text kept per digest, in bytes; the rest of a longer statement is cut. */
  public static final int MAX_TEXT = 1024;

  private static final long FNV_OFFSET = 0xcbf29ce484222325L;
  private static final long FNV_PRIME = 0x100000001b3L;

  /** Unit kinds, for spacing in the text and for what a following {@code -} means. */
  private static final int NONE = 0;

  private static final int WORD = 1;
  private static final int OPEN = 2;
  private static final int CLOSE = 3;
  private static final int PUNCTUATION = 4; // ,
  private static final int OPERATOR = 5;
  private static final int DOT = 6;

  /** After these words a {@code -} or {@code +} starts a signed number: {@code THEN -1}. */
  private static final Set<Keyword> BEFORE_EXPRESSION =
      EnumSet.of(
          Keyword.SELECT,
          Keyword.AND,
          Keyword.OR,
          Keyword.XOR,
          Keyword.NOT,
          Keyword.BETWEEN,
          Keyword.CASE,
          Keyword.WHEN,
          Keyword.THEN,
          Keyword.ELSE,
          Keyword.INTERVAL,
          Keyword.IN,
          Keyword.LIKE,
          Keyword.REGEXP,
          Keyword.DIV,
          Keyword.MOD,
          Keyword.VALUES,
          Keyword.VALUE,
          Keyword.LIMIT,
          Keyword.RETURN,
          Keyword.DEFAULT,
          Keyword.SET);

  private final DigestTokens tokens = new DigestTokens();
  private ByteBuf buf;

  /** Null while only hashing. */
  private StringBuilder text;

  private long hash;

  /** Bytes of normalised text so far, counted the same whether or not {@link #text} is built. */
  private int length;

  /** {@link #MAX_TEXT} is reached. */
  private boolean full;

  /** The kind of the last unit. */
  private int last;

  /** Where the last unit's token ended in the statement (-1: nowhere), for what is attached. */
  private int previousEnd;

  /** The last unit is a value or a name, so a {@code -} after it subtracts. */
  private boolean operand;

  private boolean pendingSemicolon;
  private int depth;

  /** The parenthesis depth inside the first row of a VALUES (0: none open). */
  private int valuesRow;

  /**
   * The digest of the SQL in {@code buf} between {@code start} and {@code end}; allocates nothing.
   */
  public long hash(ByteBuf buf, int start, int end, boolean noBackslashEscapes) {
    return walk(buf, start, end, noBackslashEscapes, null);
  }

  /** The normalised text of the same SQL {@link #hash} digests. */
  public String text(ByteBuf buf, int start, int end, boolean noBackslashEscapes) {
    StringBuilder out = new StringBuilder(Math.min(MAX_TEXT, Math.max(0, end - start)) + 8);
    walk(buf, start, end, noBackslashEscapes, out);
    return out.toString();
  }

  private long walk(
      ByteBuf buf, int start, int end, boolean noBackslashEscapes, StringBuilder out) {
    this.buf = buf;
    this.text = out;
    hash = FNV_OFFSET;
    length = 0;
    full = false;
    last = NONE;
    previousEnd = -1;
    operand = false;
    pendingSemicolon = false;
    depth = 0;
    valuesRow = 0;
    tokens.reset(buf, start, end, noBackslashEscapes);
    try {
      for (Token t = tokens.next(); t != Token.END && !full; t = tokens.next()) {
        unit(t);
      }
      if (out != null && (full || tokens.cut())) {
        out.append(" ...");
      }
      return hash;
    } finally {
      this.buf = null;
      this.text = null;
      tokens.done();
    }
  }

  private void unit(Token t) {
    // Read before readLiteral, whose look-ahead moves the lexer's current token.
    int s = tokens.tokenStart();
    int e = tokens.tokenEnd();
    Keyword k = tokens.keyword();
    if (tokens.readLiteral(t, k, operand)) {
      literal();
      return;
    }
    switch (t) {
      case WORD:
        word(s, e, k);
        break;
      case SYSTEM_VARIABLE:
        raw(s - 2, e, WORD, true); // tokenStart is past the @@
        break;
      case QUOTED_IDENTIFIER:
      case USER_VARIABLE:
        raw(s, e, WORD, true);
        break;
      case ASSIGN:
        raw(s, e, OPERATOR, false);
        break;
      default:
        symbol(s, buf.getByte(s));
        break;
    }
  }

  // ---------------------------------------------------------------------------- lists and rows

  private void word(int s, int e, Keyword k) {
    emitWord(s, e);
    operand = k == null || !BEFORE_EXPRESSION.contains(k);
    if (k == Keyword.IN) {
      previousEnd = -1; // IN (...), not a call
      inList();
    } else if ((k == Keyword.VALUES || k == Keyword.VALUE) && valuesRow == 0) {
      int mark = tokens.mark();
      if (tokens.next() == Token.SYMBOL && tokens.isSymbol('(')) {
        // The first row is normalised as it comes; the ones after it collapse.
        valuesRow = depth + 1;
        previousEnd = -1;
      }
      tokens.rewind(mark);
    }
  }

  /**
   * After {@code IN}: a parenthesised list of literals becomes {@code (...)}, whatever its length;
   * anything else in the list (a subquery, a column) leaves it as it is.
   */
  private void inList() {
    int mark = tokens.mark();
    if (tokens.next() != Token.SYMBOL || !tokens.isSymbol('(')) {
      tokens.rewind(mark);
      return;
    }
    for (; ; ) {
      Token t = tokens.next();
      Keyword k = tokens.keyword();
      boolean value = t != Token.END && (tokens.readLiteral(t, k, false) || k == Keyword.NULL);
      Token after = value ? tokens.next() : t;
      if (value && tokens.isSymbol(',') && after == Token.SYMBOL) {
        continue;
      }
      if (value && tokens.isSymbol(')') && after == Token.SYMBOL) {
        break;
      }
      if (after == Token.END && tokens.cut()) {
        break; // cut inside the list: it is one of literals as far as it goes
      }
      tokens.rewind(mark);
      return;
    }
    emitText(WORD, "(...)");
    operand = true;
  }

  /** After the first row of a VALUES: any further rows become {@code , ...}. */
  private void collapseRows() {
    int mark = tokens.mark();
    int rows = 0;
    while (tokens.next() == Token.SYMBOL && tokens.isSymbol(',')) {
      if (tokens.next() != Token.SYMBOL || !tokens.isSymbol('(')) {
        break;
      }
      rows++;
      if (!skipParenthesised()) {
        break; // the statement ends (or was cut) inside a row
      }
      mark = tokens.mark();
    }
    tokens.rewind(mark);
    if (rows > 0) {
      if (begin(PUNCTUATION, false, 1)) {
        feed(',');
        append(',');
      }
      emitText(WORD, "...");
    }
  }

  /** Reads to the parenthesis that closes the one just read; false at the end of the input. */
  private boolean skipParenthesised() {
    int open = 1;
    for (Token t = tokens.next(); t != Token.END; t = tokens.next()) {
      if (tokens.isSymbol('(')) {
        open++;
      } else if (tokens.isSymbol(')') && --open == 0) {
        return true;
      }
    }
    return false;
  }

  // ----------------------------------------------------------------------------------- emitting

  private void literal() {
    if (begin(WORD, false, 1)) {
      feed('?');
      append('?');
    }
    operand = true;
    previousEnd = -1;
  }

  private void symbol(int s, byte c) {
    int kind;
    boolean attached = false;
    if (c == ';') {
      // Written before the next statement only: "SELECT 1;" and "SELECT 1" are one digest.
      pendingSemicolon = true;
      operand = false;
      return;
    } else if (c == '(') {
      kind = OPEN;
      attached = last == WORD && s == previousEnd; // a call: COUNT(*)
    } else if (c == ')') {
      kind = CLOSE;
    } else if (c == ',') {
      kind = PUNCTUATION;
    } else if (c == '.') {
      kind = DOT;
    } else {
      kind = OPERATOR;
      attached = last == OPERATOR && s == previousEnd; // >=, <=>, ->>
    }
    if (begin(kind, attached, 1)) {
      feed(c);
      append((char) c);
    }
    previousEnd = s + 1;
    operand = c == ')';
    if (c == '(') {
      depth++;
    } else if (c == ')' && --depth == valuesRow - 1 && valuesRow > 0) {
      valuesRow = 0;
      collapseRows();
    }
  }

  /** A name or variable as written: hashed and shown byte for byte. */
  private void raw(int s, int e, int kind, boolean isOperand) {
    if (begin(kind, false, e - s)) {
      for (int i = s; i < e; i++) {
        feed(buf.getByte(i));
      }
      feed(' ');
      if (text != null) {
        text.append(buf.toString(s, e - s, StandardCharsets.UTF_8));
      }
    }
    operand = isOperand;
    previousEnd = e;
  }

  /** A word: hashed without letter case, shown upper case when it is a keyword. */
  private void emitWord(int s, int e) {
    if (begin(WORD, false, e - s)) {
      long h = hash;
      for (int i = s; i < e; i++) {
        h = (h ^ lower(buf.getByte(i))) * FNV_PRIME;
      }
      hash = (h ^ ' ') * FNV_PRIME;
      if (text != null) {
        String word = buf.toString(s, e - s, StandardCharsets.UTF_8);
        String upper = word.toUpperCase(Locale.ROOT);
        text.append(SqlKeywords.contains(upper) ? upper : word);
      }
    }
    previousEnd = e;
  }

  private void emitText(int kind, String unit) {
    if (begin(kind, false, unit.length())) {
      for (int i = 0; i < unit.length(); i++) {
        feed(unit.charAt(i));
      }
      if (text != null) {
        text.append(unit);
      }
    }
    previousEnd = -1;
  }

  /**
   * Accounts for a unit of {@code size} bytes: the semicolon of a statement before it, the space
   * before it in the text, the budget. False, and the walk ends, once the budget is spent.
   */
  private boolean begin(int kind, boolean attached, int size) {
    if (full) {
      return false;
    }
    boolean semicolon = pendingSemicolon && last != NONE;
    pendingSemicolon = false;
    boolean space =
        last != NONE
            && !semicolon
            && !attached
            && last != OPEN
            && kind != CLOSE
            && kind != PUNCTUATION
            && kind != DOT
            && last != DOT;
    int add = size + (space ? 1 : 0) + (semicolon ? 2 : 0);
    if (length + add > MAX_TEXT) {
      full = true;
      return false;
    }
    length += add;
    last = kind;
    if (semicolon) {
      feed(';');
      if (text != null) {
        text.append("; ");
      }
    } else if (space && text != null) {
      text.append(' ');
    }
    return true;
  }

  private void append(char c) {
    if (text != null) {
      text.append(c);
    }
  }

  private void feed(int b) {
    hash = (hash ^ (b & 0xff)) * FNV_PRIME;
  }

  private static int lower(int b) {
    return b >= 'A' && b <= 'Z' ? b | 0x20 : b & 0xff;
  }
}
