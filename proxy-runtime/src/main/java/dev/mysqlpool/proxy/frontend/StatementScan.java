package dev.mysqlpool.proxy.frontend;

import dev.mysqlpool.proxy.backend.SessionVariables;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What transaction mode needs to know about a COM_QUERY before sending it: the session state the
 * server does not report (GET_LOCK, LOCK TABLES, SQL_CALC_FOUND_ROWS, user variables assigned in a
 * SELECT), which variables a SET assigns, and whether the statement reads the previous statement's
 * results (LAST_INSERT_ID(), ROW_COUNT()).
 *
 * <p>The server's own session-state tracking decides everything it reports; this scan only fills
 * its documented gaps and names the reason for a pin. It errs towards pinning: a false match costs
 * multiplexing for one client, never correctness. Strings, quoted identifiers and comments are
 * skipped, except MySQL's executable comments ({@code /*! ... *}{@code /}), whose content runs. One
 * instance per session, reused; it reads the packet in place and allocates only for SET statements.
 */
final class StatementScan {
  /** A SET whose every assignment is a carried variable: restored on the next backend, no pin. */
  static final int CARRIED_SET = 1;

  /** USE: the default database changes (carried). */
  static final int USE = 1 << 1;

  /** Reads LAST_INSERT_ID() or @@identity / @@last_insert_id in the packet's first statement. */
  static final int LAST_INSERT_ID = 1 << 2;

  /** Sets LAST_INSERT_ID(expr): the value comes back with the session's snapshot. */
  static final int SETS_LAST_INSERT_ID = 1 << 3;

  /**
   * Reads ROW_COUNT() or FOUND_ROWS() in the packet's first statement (later ones read the
   * statements before).
   */
  static final int PREVIOUS_COUNTS = 1 << 4;

  /** Set by the session, not the scan: COM_RESET_CONNECTION. */
  static final int RESET_CONNECTION = 1 << 5;

  /** More than one statement in the packet (CLIENT_MULTI_STATEMENTS). */
  static final int MULTI = 1 << 6;

  /** Set by the session, not the scan: the command is a statement (COM_QUERY, COM_STMT_EXECUTE). */
  static final int STATEMENT = 1 << 7;

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
  int flags;

  /** Why the statement pins its client, or null. */
  String pin;

  /** The variable behind a {@link #VARIABLE} pin. */
  String pinDetail;

  StatementScan(SessionVariables carried) {
    this.carried = carried;
  }

  /** Scans the SQL text in {@code buf} between {@code start} and {@code end}. */
  void scan(ByteBuf buf, int start, int end) {
    flags = 0;
    pin = null;
    pinDetail = null;
    int token = 0;
    int first = 0; // keyword of the first token
    int firstStart = start;
    boolean userVariable = false;
    boolean assignment = false;
    boolean into = false;
    boolean firstStatement = true;
    int i = start;
    while (i < end) {
      int c = buf.getByte(i) & 0xff;
      if (c == '\'' || c == '"' || c == '`') {
        i = skipQuoted(buf, i, end, c);
      } else if (c == '#'
          || (c == '-'
              && i + 2 < end
              && buf.getByte(i + 1) == '-'
              && Character.isWhitespace(buf.getByte(i + 2)))) {
        i = skipLine(buf, i, end);
      } else if (c == '/' && i + 1 < end && buf.getByte(i + 1) == '*') {
        i = skipComment(buf, i, end);
      } else if (c == '@') {
        if (i + 1 < end && buf.getByte(i + 1) == '@') {
          int nameStart = i + 2;
          int nameEnd = identifierEnd(buf, nameStart, end);
          int dot = indexOf(buf, nameStart, nameEnd, '.');
          int varStart = dot >= 0 ? dot + 1 : nameStart;
          if (firstStatement
              && (is(buf, varStart, nameEnd, "identity")
                  || is(buf, varStart, nameEnd, "last_insert_id"))) {
            flags |= LAST_INSERT_ID;
          }
          i = Math.max(nameEnd, i + 2);
        } else {
          userVariable = true;
          i++;
        }
      } else if (c == ':' && i + 1 < end && buf.getByte(i + 1) == '=') {
        assignment = true;
        i += 2;
      } else if (c == ';') {
        int next = skipSpace(buf, i + 1, end);
        if (next < end) {
          flags |= MULTI;
        }
        firstStatement = false;
        i = next;
      } else if (isIdentifierByte(c)) {
        int e = identifierEnd(buf, i, end);
        if (token == 0) {
          first = firstKeyword(buf, i, e);
          firstStart = i;
        } else {
          into |= is(buf, i, e, "into");
          if (is(buf, i, e, "temporary") && first == CREATE) {
            pin(TEMPORARY_TABLE);
          } else if (is(buf, i, e, "lock") && (first == FLUSH || first == BACKUP)) {
            pin(TABLE_LOCK);
          }
        }
        if (is(buf, i, e, "get_lock")) {
          pin(NAMED_LOCK);
        } else if (is(buf, i, e, "sql_calc_found_rows")) {
          pin(CALC_FOUND_ROWS);
        } else if (is(buf, i, e, "last_insert_id")) {
          if (hasArgument(buf, e, end)) {
            flags |= SETS_LAST_INSERT_ID;
          } else if (firstStatement) {
            flags |= LAST_INSERT_ID;
          }
        } else if (firstStatement && (is(buf, i, e, "row_count") || is(buf, i, e, "found_rows"))) {
          flags |= PREVIOUS_COUNTS;
        }
        token++;
        i = e;
      } else {
        i++;
      }
    }
    switch (first) {
      case SET:
        classifySet(buf.toString(firstStart, end - firstStart, StandardCharsets.UTF_8));
        break;
      case USE_FIRST:
        flags |= USE;
        break;
      case PREPARE:
        pin(PREPARED_STATEMENT);
        break;
      case LOCK:
        pin(TABLE_LOCK);
        break;
      case XA_FIRST:
        pin(XA);
        break;
      case HANDLER_FIRST:
        pin(HANDLER);
        break;
      default:
        break;
    }
    if (userVariable && (assignment || into)) {
      pin(USER_VARIABLE);
    }
  }

  /**
   * For the statements {@code SELECT ROW_COUNT()} and {@code SELECT FOUND_ROWS()} alone (any case,
   * optional semicolon), the column name the server would give the result ("ROW_COUNT()" as
   * written); null for anything else.
   */
  static String previousCountColumn(ByteBuf buf, int start, int end) {
    String sql = buf.toString(start, Math.min(end - start, 64), StandardCharsets.UTF_8).strip();
    if (sql.endsWith(";")) {
      sql = sql.substring(0, sql.length() - 1).strip();
    }
    if (sql.length() < 7
        || !sql.regionMatches(true, 0, "select", 0, 6)
        || !Character.isWhitespace(sql.charAt(6))) {
      return null;
    }
    String expression = sql.substring(7).strip();
    return expression.equalsIgnoreCase("row_count()") || expression.equalsIgnoreCase("found_rows()")
        ? expression
        : null;
  }

  private void pin(String reason) {
    if (pin == null) {
      pin = reason;
    }
  }

  // ---------------------------------------------------------------------------------------------------- SET forms

  /** Decides, from a SET statement's assignments, whether the proxy can carry what it changes. */
  private void classifySet(String sql) {
    List<String> names = assignedNames(sql);
    if (names == null) {
      return; // SET STATEMENT ... FOR: a per-statement change, left to the server's state tracking
    }
    boolean allCarried = true;
    for (String name : names) {
      if (name.equals("@")) {
        pin(USER_VARIABLE);
        allCarried = false;
      } else if (name.equals("next transaction")) {
        // Characteristics for the next transaction live on this connection until a transaction uses
        // them, and
        // when that is depends on the server: the client stays.
        pin(NEXT_TRANSACTION);
        allCarried = false;
      } else if (!carried.carries(name)) {
        if (pin == null) {
          pin = VARIABLE;
          pinDetail = name;
        }
        allCarried = false;
      }
    }
    if (allCarried) {
      flags |= CARRIED_SET;
    }
  }

  /**
   * The variables a SET statement assigns, lower case and without scope; "@" for a user variable,
   * "global x" for a global one, "next transaction" for SET TRANSACTION without scope; null for
   * MariaDB's SET STATEMENT.
   */
  static List<String> assignedNames(String sql) {
    List<String> names = new ArrayList<>(2);
    Lexer lx = new Lexer(sql);
    lx.word(); // SET
    if (lx.peekWord().equals("statement")) {
      return null;
    }
    while (!lx.atEnd()) {
      String scope = "";
      String w = lx.peekWord();
      if (w.equals("global")
          || w.equals("session")
          || w.equals("local")
          || w.equals("persist")
          || w.equals("persist_only")) {
        scope = w.equals("local") ? "session" : w;
        lx.word();
        w = lx.peekWord();
      }
      if (lx.peek() == '@') {
        if (lx.peekAt(1) == '@') {
          lx.skip(2);
          String name = lx.qualifiedName();
          int dot = name.indexOf('.');
          if (dot >= 0) {
            String prefix = name.substring(0, dot);
            scope = prefix.equals("local") ? "session" : prefix;
            name = name.substring(dot + 1);
          }
          names.add(
              scope.equals("global") || scope.startsWith("persist") ? "global " + name : name);
        } else {
          names.add("@");
        }
        lx.skipExpression();
        continue;
      }
      lx.word();
      if (w.equals("transaction")) {
        names.add(
            scope.isEmpty()
                ? "next transaction"
                : scope.equals("session") ? "transaction" : "global transaction");
        break; // its characteristics are comma-separated: the rest of the statement belongs to it
      }
      if (w.equals("character") && lx.peekWord().equals("set")) {
        lx.word();
        w = "character set";
      }
      names.add(scope.equals("global") || scope.startsWith("persist") ? "global " + w : w);
      lx.skipExpression();
    }
    return names;
  }

  /** A minimal SQL lexer for SET statements: words, quoted text, parentheses. */
  private static final class Lexer {
    private final String s;
    private int i;

    Lexer(String s) {
      this.s = s;
    }

    boolean atEnd() {
      skipSpace();
      return i >= s.length() || s.charAt(i) == ';';
    }

    char peek() {
      skipSpace();
      return i < s.length() ? s.charAt(i) : 0;
    }

    char peekAt(int offset) {
      return i + offset < s.length() ? s.charAt(i + offset) : 0;
    }

    void skip(int n) {
      i += n;
    }

    String peekWord() {
      int save = i;
      String w = word();
      i = save;
      return w;
    }

    String word() {
      skipSpace();
      int start = i;
      while (i < s.length() && isIdentifierByte(s.charAt(i))) {
        i++;
      }
      return s.substring(start, i).toLowerCase(Locale.ROOT);
    }

    String qualifiedName() {
      int start = i;
      while (i < s.length() && (isIdentifierByte(s.charAt(i)) || s.charAt(i) == '.')) {
        i++;
      }
      return s.substring(start, i).toLowerCase(Locale.ROOT);
    }

    /** Skips to just after the next top-level comma, or to the end of the statement. */
    void skipExpression() {
      int depth = 0;
      while (i < s.length()) {
        char c = s.charAt(i);
        if (c == '\'' || c == '"' || c == '`') {
          i = skipQuotedText(s, i, c);
          continue;
        }
        if (c == '(') {
          depth++;
        } else if (c == ')') {
          depth--;
        } else if (c == ';' && depth <= 0) {
          return;
        } else if (c == ',' && depth <= 0) {
          i++;
          return;
        }
        i++;
      }
    }

    private void skipSpace() {
      while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
        i++;
      }
    }
  }

  private static int skipQuotedText(String s, int i, char quote) {
    int j = i + 1;
    while (j < s.length()) {
      char c = s.charAt(j);
      if (c == '\\' && quote != '`') {
        j += 2;
      } else if (c == quote) {
        if (j + 1 < s.length() && s.charAt(j + 1) == quote) {
          j += 2;
        } else {
          return j + 1;
        }
      } else {
        j++;
      }
    }
    return j;
  }

  // ------------------------------------------------------------------------------------------------- byte helpers

  private static final int OTHER = 0;
  private static final int SET = 1;
  private static final int USE_FIRST = 2;
  private static final int PREPARE = 3;
  private static final int LOCK = 4;
  private static final int XA_FIRST = 5;
  private static final int HANDLER_FIRST = 6;
  private static final int FLUSH = 7;
  private static final int BACKUP = 8;
  private static final int CREATE = 11;

  private static int firstKeyword(ByteBuf buf, int s, int e) {
    if (is(buf, s, e, "set")) {
      return SET;
    } else if (is(buf, s, e, "use")) {
      return USE_FIRST;
    } else if (is(buf, s, e, "prepare")) {
      return PREPARE;
    } else if (is(buf, s, e, "lock")) {
      return LOCK;
    } else if (is(buf, s, e, "xa")) {
      return XA_FIRST;
    } else if (is(buf, s, e, "handler")) {
      return HANDLER_FIRST;
    } else if (is(buf, s, e, "flush")) {
      return FLUSH;
    } else if (is(buf, s, e, "backup")) {
      return BACKUP;
    } else if (is(buf, s, e, "create")) {
      return CREATE;
    }
    return OTHER;
  }

  private static boolean is(ByteBuf buf, int s, int e, String lowerKeyword) {
    if (e - s != lowerKeyword.length()) {
      return false;
    }
    for (int k = 0; k < lowerKeyword.length(); k++) {
      int b = buf.getByte(s + k);
      if (b >= 'A' && b <= 'Z') {
        b |= 0x20;
      }
      if (b != lowerKeyword.charAt(k)) {
        return false;
      }
    }
    return true;
  }

  private static boolean isIdentifierByte(int c) {
    return (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')
        || c == '_'
        || c == '$'
        || c >= 0x80;
  }

  private static int identifierEnd(ByteBuf buf, int i, int end) {
    while (i < end && (isIdentifierByte(buf.getByte(i) & 0xff) || buf.getByte(i) == '.')) {
      i++;
    }
    return i;
  }

  private static int indexOf(ByteBuf buf, int s, int e, char c) {
    for (int k = s; k < e; k++) {
      if (buf.getByte(k) == c) {
        return k;
      }
    }
    return -1;
  }

  /**
   * Whether the function name ending at {@code i} is called with an argument: {@code f(x)}, not
   * {@code f()}.
   */
  private static boolean hasArgument(ByteBuf buf, int i, int end) {
    int j = skipSpace(buf, i, end);
    if (j >= end || buf.getByte(j) != '(') {
      return false;
    }
    j = skipSpace(buf, j + 1, end);
    return j < end && buf.getByte(j) != ')';
  }

  private static int skipSpace(ByteBuf buf, int i, int end) {
    while (i < end && Character.isWhitespace(buf.getByte(i))) {
      i++;
    }
    return i;
  }

  private static int skipQuoted(ByteBuf buf, int i, int end, int quote) {
    int j = i + 1;
    while (j < end) {
      int c = buf.getByte(j);
      if (c == '\\' && quote != '`') {
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

  private static int skipLine(ByteBuf buf, int i, int end) {
    while (i < end && buf.getByte(i) != '\n') {
      i++;
    }
    return i;
  }

  /** Skips a comment; an executable comment's opening is skipped and its content scanned as SQL. */
  private static int skipComment(ByteBuf buf, int i, int end) {
    if (i + 2 < end && (buf.getByte(i + 2) == '!' || buf.getByte(i + 2) == 'M')) {
      int j = i + 3;
      while (j < end && (buf.getByte(j) == '!' || Character.isDigit(buf.getByte(j)))) {
        j++;
      }
      return j;
    }
    for (int j = i + 2; j + 1 < end; j++) {
      if (buf.getByte(j) == '*' && buf.getByte(j + 1) == '/') {
        return j + 2;
      }
    }
    return end;
  }
}
