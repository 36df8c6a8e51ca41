package dev.mysqlpool.proxy.digest;

import dev.mysqlpool.proxy.sql.Keyword;
import dev.mysqlpool.proxy.sql.SqlLexer;
import dev.mysqlpool.proxy.sql.Token;
import io.netty.buffer.ByteBuf;

/**
 * The tokens a {@link DigestNormalizer} reads: the proxy's {@link SqlLexer}, at most {@link
 * #MAX_TOKENS} of them, and which of them make up one literal: a number is several tokens to the
 * lexer ({@code -1.5e-3} is five), and {@code X'1F'}, {@code _utf8mb4'a'} and {@code 'a' 'b'} are
 * two each. One instance per normaliser; the caller keeps the buffer.
 */
final class DigestTokens {
  /**
   * Tokens read per statement at most: bounds the cost of a bulk INSERT of many rows (strings and
   * comments cost one token whatever their length: the lexer skips them with a byte search).
   */
  static final int MAX_TOKENS = 4096;

  private static final int NOT_A_NUMBER = 0;
  private static final int INTEGER = 1;
  private static final int NUMBER = 2;
  private static final int OPEN_EXPONENT = 3; // 1e, before its sign: 1e-5 is three tokens

  private final SqlLexer lexer = new SqlLexer();
  private ByteBuf buf;
  private int tokens;
  private boolean cut;

  void reset(ByteBuf buf, int start, int end, boolean noBackslashEscapes) {
    this.buf = buf;
    tokens = 0;
    cut = false;
    lexer.reset(buf, start, end, noBackslashEscapes);
  }

  /** Forgets the buffer. */
  void done() {
    buf = null;
    lexer.reset(null, 0, 0);
  }

  /** The lexer's next token, or END once {@link #MAX_TOKENS} were read. */
  Token next() {
    if (tokens == MAX_TOKENS) {
      cut = true;
      return Token.END;
    }
    tokens++;
    return lexer.next();
  }

  /** Whether the statement was cut at {@link #MAX_TOKENS}. */
  boolean cut() {
    return cut;
  }

  int mark() {
    return lexer.mark();
  }

  void rewind(int mark) {
    lexer.rewind(mark);
  }

  int tokenStart() {
    return lexer.tokenStart();
  }

  int tokenEnd() {
    return lexer.tokenEnd();
  }

  Keyword keyword() {
    return lexer.keyword();
  }

  boolean isSymbol(char c) {
    return lexer.isSymbol(c);
  }

  /**
   * Whether the token just read ({@code t}, with keyword {@code k}) starts a literal; if so, reads
   * past all of it (a sign, fraction and exponent, strings written next to each other), else leaves
   * the lexer just after the token.
   */
  boolean readLiteral(Token t, Keyword k, boolean afterOperand) {
    if (t == Token.STRING) {
      skipAdjacentStrings();
      return true;
    }
    if (t == Token.WORD) {
      return wordLiteral(lexer.tokenStart(), lexer.tokenEnd(), k);
    }
    if (t != Token.SYMBOL) {
      return false;
    }
    if (lexer.isSymbol('?')) {
      return true; // a placeholder stands for a value, as a literal does
    }
    boolean sign = lexer.isSymbol('-') || lexer.isSymbol('+');
    if (afterOperand || !(sign || lexer.isSymbol('.'))) {
      return false; // a - 1, t.c
    }
    int mark = lexer.mark();
    if (!sign) {
      return fraction(lexer.tokenEnd()); // .5
    }
    Token n = next();
    if (n == Token.WORD && isDigit(buf.getByte(lexer.tokenStart()))) {
      if (numberTail(number(lexer.tokenStart(), lexer.tokenEnd()))) {
        return true;
      }
    } else if (n == Token.SYMBOL && lexer.isSymbol('.') && fraction(lexer.tokenEnd())) {
      return true;
    }
    lexer.rewind(mark);
    return false;
  }

  private boolean wordLiteral(int s, int e, Keyword k) {
    if (k == Keyword.TRUE || k == Keyword.FALSE) {
      return true;
    }
    int first = buf.getByte(s);
    if (isDigit(first)) {
      return numberTail(number(s, e));
    }
    boolean charset = first == '_' && e - s > 1;
    int letter = lower(first);
    boolean prefix = e - s == 1 && (letter == 'x' || letter == 'b' || letter == 'n');
    if (charset || prefix) {
      // X'1F', b'01', N'text' (nothing between), _utf8mb4'text' and _binary 'bytes'.
      int mark = lexer.mark();
      if (next() == Token.STRING && (charset || lexer.tokenStart() == e)) {
        skipAdjacentStrings();
        return true;
      }
      lexer.rewind(mark);
    }
    return false;
  }

  /** 'a' 'b' is one string to the server. */
  private void skipAdjacentStrings() {
    for (int mark = lexer.mark(); ; mark = lexer.mark()) {
      if (next() != Token.STRING) {
        lexer.rewind(mark);
        return;
      }
    }
  }

  /** What the word {@code [s, e)}, which starts with a digit, is as a number. */
  private int number(int s, int e) {
    if (e - s > 2 && buf.getByte(s) == '0') {
      byte radix = buf.getByte(s + 1);
      if (radix == 'x' || radix == 'b') {
        for (int i = s + 2; i < e; i++) {
          int d = lower(buf.getByte(i));
          boolean digit =
              radix == 'x' ? isDigit(d) || (d >= 'a' && d <= 'f') : d == '0' || d == '1';
          if (!digit) {
            return NOT_A_NUMBER; // 0xg is an identifier
          }
        }
        return NUMBER;
      }
    }
    int i = s;
    while (i < e && isDigit(buf.getByte(i))) {
      i++;
    }
    if (i == e) {
      return INTEGER;
    }
    if (lower(buf.getByte(i)) != 'e') {
      return NOT_A_NUMBER; // 1abc is an identifier
    }
    if (++i == e) {
      return OPEN_EXPONENT;
    }
    while (i < e && isDigit(buf.getByte(i))) {
      i++;
    }
    return i == e ? NUMBER : NOT_A_NUMBER;
  }

  /**
   * After a number word: reads its fraction ({@code 1.5} is three tokens) or its exponent's sign
   * and digits; false when the word is no number.
   */
  private boolean numberTail(int kind) {
    if (kind == NOT_A_NUMBER) {
      return false;
    }
    if (kind == OPEN_EXPONENT) {
      exponent();
    } else if (kind == INTEGER) {
      int end = lexer.tokenEnd();
      int mark = lexer.mark();
      if (next() == Token.SYMBOL && lexer.isSymbol('.') && lexer.tokenStart() == end) {
        fraction(lexer.tokenEnd()); // without digits after it, 1. is a number too
      } else {
        lexer.rewind(mark);
      }
    }
    return true;
  }

  /** After a {@code .} that ends at {@code dot}: reads the digits right after it, if any. */
  private boolean fraction(int dot) {
    int mark = lexer.mark();
    if (next() == Token.WORD
        && lexer.tokenStart() == dot
        && isDigit(buf.getByte(dot))
        && numberTail(number(dot, lexer.tokenEnd()))) {
      return true;
    }
    lexer.rewind(mark);
    return false;
  }

  /** After {@code 1e}: the sign and digits of the exponent, right after it. */
  private void exponent() {
    int end = lexer.tokenEnd();
    int mark = lexer.mark();
    if (next() == Token.SYMBOL
        && (lexer.isSymbol('-') || lexer.isSymbol('+'))
        && lexer.tokenStart() == end) {
      int sign = lexer.tokenEnd();
      if (next() == Token.WORD
          && lexer.tokenStart() == sign
          && number(sign, lexer.tokenEnd()) == INTEGER) {
        return;
      }
    }
    lexer.rewind(mark);
  }

  private static boolean isDigit(int b) {
    return b >= '0' && b <= '9';
  }

  private static int lower(int b) {
    return b >= 'A' && b <= 'Z' ? b | 0x20 : b & 0xff;
  }
}
