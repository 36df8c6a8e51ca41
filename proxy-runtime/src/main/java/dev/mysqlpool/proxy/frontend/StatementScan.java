package dev.mysqlpool.proxy.frontend;

import dev.mysqlpool.proxy.backend.SessionVariables;
import dev.mysqlpool.proxy.sql.Keyword;
import dev.mysqlpool.proxy.sql.SqlLexer;
import dev.mysqlpool.proxy.sql.Token;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * What transaction mode needs to know about a COM_QUERY before sending it: the session state the
 * server does not report (GET_LOCK, LOCK TABLES, SQL_CALC_FOUND_ROWS, user variables assigned in a
 * SELECT), which variables a SET assigns, and whether the statement reads the previous statement's
 * results (LAST_INSERT_ID(), ROW_COUNT()).
 *
 * <p>The server's own session-state tracking decides everything it reports; this scan only fills
 * its documented gaps and names the reason for a pin. It errs towards pinning: a false match costs
 * multiplexing for one client, never correctness. The tokens come from {@link SqlLexer}, so
 * strings, quoted identifiers and comments are skipped and executable comments read as SQL. Each
 * statement of a multi-statement packet is classified by its first word. One instance per session,
 * reused, on that session's event loop; it reads the packet in place and allocates only for SET
 * statements.
 */
public final class StatementScan {
  /** A SET whose every assignment is a carried variable: restored on the next backend, no pin. */
  public static final int CARRIED_SET = 1;

  /** USE: the default database changes (carried). */
  public static final int USE = 1 << 1;

  /** Reads LAST_INSERT_ID() or @@identity / @@last_insert_id in the packet's first statement. */
  public static final int LAST_INSERT_ID = 1 << 2;

  /** Sets LAST_INSERT_ID(expr): the value comes back with the session's snapshot. */
  public static final int SETS_LAST_INSERT_ID = 1 << 3;

  /**
   * Reads ROW_COUNT() or FOUND_ROWS() in the packet's first statement (later ones read the
   * statements before).
   */
  public static final int PREVIOUS_COUNTS = 1 << 4;

  /** Set by the session, not the scan: COM_RESET_CONNECTION. */
  public static final int RESET_CONNECTION = 1 << 5;

  /** More than one statement in the packet (CLIENT_MULTI_STATEMENTS). */
  public static final int MULTI = 1 << 6;

  /** Set by the session, not the scan: the command is a statement (COM_QUERY, COM_STMT_EXECUTE). */
  public static final int STATEMENT = 1 << 7;

  // Pin reasons: label values of the pinned-clients metric.
  static final String USER_VARIABLE = "user_variable";
  static final String TEMPORARY_TABLE = "temporary_table";
  static final String PREPARED_STATEMENT = "prepared_statement";
  static final String TABLE_LOCK = "table_lock";
  static final String NAMED_LOCK = "named_lock";
  static final String CALC_FOUND_ROWS = "sql_calc_found_rows";
  static final String VARIABLE = "variable";
  static final String XA = "xa_transaction";
  static final String HANDLER = "handler";
  static final String NEXT_TRANSACTION = "next_transaction";

  private final SessionVariables carried;
  private final SqlLexer lexer = new SqlLexer();
  int flags;

  /** Why the statement pins its client, or null. */
  String pin;

  /** The variable behind a {@link #VARIABLE} pin. */
  String pinDetail;

  /** A scan that knows which variables {@code carried} restores on another backend. */
  public StatementScan(SessionVariables carried) {
    this.carried = carried;
  }

  /**
   * Scans the SQL text in {@code buf} between {@code start} and {@code end}, as a server with
   * backslash escapes reads it; returns the flags.
   */
  public int scan(ByteBuf buf, int start, int end) {
    return scan(buf, start, end, false);
  }

  /**
   * Scans the SQL text in {@code buf} between {@code start} and {@code end} and returns the flags
   * (also in {@code flags}, with {@code pin} and {@code pinDetail}). {@code noBackslashEscapes} is
   * the server's status flag of that name from the session's last OK. Reads only those bytes; the
   * caller keeps the buffer.
   */
  public int scan(ByteBuf buf, int start, int end, boolean noBackslashEscapes) {
    flags = 0;
    pin = null;
    pinDetail = null;
    lexer.reset(buf, start, end, noBackslashEscapes);
    boolean userVariable = false;
    boolean assignment = false;
    boolean into = false;
    boolean firstStatement = true;
    Keyword first = null; // the first word of the current statement
    boolean beforeFirstWord = true;
    int afterFirstWord = 0; // a lexer mark just after it
    for (Token t = lexer.next(); ; t = lexer.next()) {
      if (t == Token.END || lexer.isSymbol(';')) {
        statementDone(beforeFirstWord ? null : first, afterFirstWord);
        if (t == Token.END) {
          break;
        }
        if (lexer.textFollows()) {
          flags |= MULTI;
        }
        firstStatement = false;
        beforeFirstWord = true;
        continue;
      }
      if (t == Token.USER_VARIABLE) {
        userVariable = true;
      } else if (t == Token.ASSIGN) {
        assignment = true;
      } else if (t == Token.SYSTEM_VARIABLE) {
        if (firstStatement
            && (lexer.keyword() == Keyword.IDENTITY || lexer.keyword() == Keyword.LAST_INSERT_ID)) {
          flags |= LAST_INSERT_ID;
        }
      } else if (t == Token.WORD) {
        Keyword k = lexer.keyword();
        if (beforeFirstWord) {
          beforeFirstWord = false;
          first = k;
          afterFirstWord = lexer.mark();
        } else if (k == Keyword.INTO) {
          into = true;
        } else if (k == Keyword.TEMPORARY && first == Keyword.CREATE) {
          pin(TEMPORARY_TABLE);
        } else if (k == Keyword.LOCK && (first == Keyword.FLUSH || first == Keyword.BACKUP)) {
          pin(TABLE_LOCK);
        }
        if (k == Keyword.GET_LOCK) {
          pin(NAMED_LOCK);
        } else if (k == Keyword.SQL_CALC_FOUND_ROWS) {
          pin(CALC_FOUND_ROWS);
        } else if (k == Keyword.LAST_INSERT_ID) {
          if (hasArgument()) {
            flags |= SETS_LAST_INSERT_ID;
          } else if (firstStatement) {
            flags |= LAST_INSERT_ID;
          }
        } else if (firstStatement && (k == Keyword.ROW_COUNT || k == Keyword.FOUND_ROWS)) {
          flags |= PREVIOUS_COUNTS;
        }
      }
    }
    if (userVariable && (assignment || into)) {
      pin(USER_VARIABLE);
    }
    return flags;
  }

  /** What the first word of a statement, now read to its end, means for the session. */
  private void statementDone(Keyword first, int afterFirstWord) {
    if (first == null) {
      return;
    }
    switch (first) {
      case SET:
        {
          int resume = lexer.mark();
          lexer.rewind(afterFirstWord);
          classifySet();
          lexer.rewind(resume);
          break;
        }
      case USE:
        flags |= USE;
        break;
      case PREPARE:
        pin(PREPARED_STATEMENT);
        break;
      case LOCK:
        pin(TABLE_LOCK);
        break;
      case XA:
        pin(XA);
        break;
      case HANDLER:
        pin(HANDLER);
        break;
      default:
        break;
    }
  }

  /**
   * For the statements {@code SELECT ROW_COUNT()} and {@code SELECT FOUND_ROWS()} alone (any case,
   * optional semicolon, comments where the server allows them), the column name the server would
   * give the result ("ROW_COUNT()" as written); null for anything else.
   */
  static String previousCountColumn(ByteBuf buf, int start, int end) {
    SqlLexer lx = new SqlLexer().reset(buf, start, end);
    if (lx.next() != Token.WORD || lx.keyword() != Keyword.SELECT) {
      return null;
    }
    if (lx.next() != Token.WORD
        || (lx.keyword() != Keyword.ROW_COUNT && lx.keyword() != Keyword.FOUND_ROWS)) {
      return null;
    }
    int column = lx.tokenStart();
    int parenthesis = lx.tokenEnd();
    lx.next();
    if (!lx.isSymbol('(') || lx.tokenStart() != parenthesis) {
      return null;
    }
    lx.next();
    if (!lx.isSymbol(')') || lx.tokenStart() != parenthesis + 1) {
      return null;
    }
    int columnEnd = lx.tokenEnd();
    lx.next();
    if (lx.isSymbol(';')) {
      if (lx.textFollows()) {
        return null; // even a comment there is a second statement, with a reply of its own
      }
      lx.next();
    }
    return lx.token() == Token.END
        ? buf.toString(column, columnEnd - column, StandardCharsets.US_ASCII)
        : null;
  }

  private void pin(String reason) {
    if (pin == null) {
      pin = reason;
    }
  }

  /**
   * Whether the function name just read is called with an argument: {@code f(x)}, not {@code f()}.
   */
  private boolean hasArgument() {
    int mark = lexer.mark();
    boolean argument =
        lexer.next() == Token.SYMBOL
            && lexer.isSymbol('(')
            && lexer.next() != Token.END
            && !lexer.isSymbol(')');
    lexer.rewind(mark);
    return argument;
  }

  // ---------------------------------------------------------------------------------------------------- SET forms

  /**
   * Decides, from a SET statement's assignments, whether the proxy can carry what it changes. Reads
   * from just after the SET to the end of the statement.
   */
  private void classifySet() {
    Token t = lexer.next();
    if (t == Token.WORD && lexer.keyword() == Keyword.STATEMENT) {
      return; // SET STATEMENT ... FOR: a per-statement change, left to the server's state tracking
    }
    boolean allCarried = true;
    while (t != Token.END && !lexer.isSymbol(';')) {
      boolean scoped = false;
      boolean global = false;
      Keyword k = t == Token.WORD ? lexer.keyword() : null;
      if (k == Keyword.GLOBAL
          || k == Keyword.SESSION
          || k == Keyword.LOCAL
          || k == Keyword.PERSIST
          || k == Keyword.PERSIST_ONLY) {
        scoped = true;
        global = k != Keyword.SESSION && k != Keyword.LOCAL;
        t = lexer.next();
        k = t == Token.WORD ? lexer.keyword() : null;
      }
      if (t == Token.USER_VARIABLE) {
        pin(USER_VARIABLE);
        allCarried = false;
        t = skipExpression();
        continue;
      }
      if (k == Keyword.TRANSACTION) {
        // Its characteristics are comma-separated: the rest of the statement belongs to it.
        if (!scoped) {
          // Characteristics for the next transaction live on this connection until a transaction
          // uses them, and when that is depends on the server: the client stays.
          pin(NEXT_TRANSACTION);
          allCarried = false;
        } else {
          allCarried &= carries(global ? "global transaction" : "transaction");
        }
        break;
      }
      String name;
      if (t == Token.SYSTEM_VARIABLE) {
        name = lexer.text().toLowerCase(Locale.ROOT);
        int dot = name.indexOf('.');
        if (dot >= 0) {
          String scope = name.substring(0, dot);
          global = scope.equals("global") || scope.startsWith("persist");
          name = name.substring(dot + 1);
        }
      } else if (t == Token.WORD) {
        name = lexer.text().toLowerCase(Locale.ROOT);
        if (k == Keyword.CHARACTER) {
          int mark = lexer.mark();
          if (lexer.next() == Token.WORD && lexer.keyword() == Keyword.SET) {
            name = "character set";
          } else {
            lexer.rewind(mark);
          }
        }
      } else if (t == Token.QUOTED_IDENTIFIER) {
        String quoted = lexer.text();
        name = quoted.substring(1, Math.max(1, quoted.length() - 1)).toLowerCase(Locale.ROOT);
      } else {
        name = ""; // not a variable name: pins, naming nothing
      }
      allCarried &= carries(global ? "global " + name : name);
      t = skipExpression();
    }
    if (allCarried) {
      flags |= CARRIED_SET;
    }
  }

  /** Whether {@code name} moves with the client; pins when it does not. */
  private boolean carries(String name) {
    if (carried.carries(name)) {
      return true;
    }
    if (pin == null) {
      pin = VARIABLE;
      pinDetail = name;
    }
    return false;
  }

  /**
   * Skips one assignment's value: returns the token after the next top-level comma, or the {@code
   * ;} or end of the statement.
   */
  private Token skipExpression() {
    int depth = 0;
    for (Token t = lexer.next(); t != Token.END; t = lexer.next()) {
      if (t != Token.SYMBOL) {
        continue;
      }
      if (lexer.isSymbol('(')) {
        depth++;
      } else if (lexer.isSymbol(')')) {
        depth--;
      } else if (lexer.isSymbol(';') && depth <= 0) {
        return t;
      } else if (lexer.isSymbol(',') && depth <= 0) {
        return lexer.next();
      }
    }
    return Token.END;
  }
}
