package dev.mysqlpool.proxy.sql;

/** The kinds of token {@link SqlLexer#next()} returns. */
public enum Token {
  /**
   * A run of identifier bytes (ASCII letters, digits, {@code _}, {@code $}, any byte from 0x80): a
   * keyword, an unquoted identifier or an integer. A dot ends it, so {@code 1.5} and {@code db.t}
   * are three tokens each.
   */
  WORD,

  /** A {@code '...'} or {@code "..."} literal, quotes included; it may be unterminated. */
  STRING,

  /** A {@code `...`} identifier, backticks included; it may be unterminated. */
  QUOTED_IDENTIFIER,

  /**
   * {@code @name}, {@code @'name'}, {@code @"name"} or {@code @`name`}; also a bare {@code @}, as
   * in {@code 'user'@'host'}.
   */
  USER_VARIABLE,

  /**
   * {@code @@name} or {@code @@scope.name}; {@link SqlLexer#tokenStart()} is past the {@code @@},
   * {@link SqlLexer#keyword()} is the name's, without the scope.
   */
  SYSTEM_VARIABLE,

  /** {@code :=}. */
  ASSIGN,

  /**
   * Any other single byte, such as {@code ;}, {@code (} or {@code ,}: test it with {@link
   * SqlLexer#isSymbol}.
   */
  SYMBOL,

  /** No more tokens before the end of the input. */
  END
}
