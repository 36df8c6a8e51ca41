package dev.mysqlpool.proxy.sql;

import io.netty.buffer.ByteBuf;

/**
 * Decides from a COM_QUERY's text whether it is safe to send to a replica (read/write split, issue
 * 15): a read is a statement whose answer any up-to-date copy of the data gives the same and that
 * leaves nothing behind on the server it ran on. Whether the client is in a transaction, pinned or
 * must read its own writes is the caller's to know; this class reads the text only.
 *
 * <p>{@link Route#READ}: {@code SELECT} (also {@code WITH ... SELECT}, parenthesised and {@code
 * UNION} selects), {@code VALUES}, {@code TABLE}, {@code HELP}, {@code SHOW} except what is listed
 * below, and {@code DESC}/{@code DESCRIBE}/{@code EXPLAIN} of a table or of a read. {@code EXPLAIN}
 * of anything else is a write: {@code EXPLAIN ANALYZE} runs the statement, and the plan a user
 * tunes is the writer's. A multi-statement packet is a read only when every statement is.
 *
 * <p>{@link Route#READ_ONLY_TRANSACTION}: {@code START TRANSACTION READ ONLY} alone in its packet;
 * the caller may send the whole transaction to a reader.
 *
 * <p>Everything else is {@link Route#WRITE}, with the first {@link Reason} found. Inside a read:
 *
 * <ul>
 *   <li>{@link Reason#LOCKING_READ}: {@code FOR UPDATE}, {@code FOR SHARE}, {@code LOCK IN SHARE
 *       MODE} (locks are taken where the rows are written);
 *   <li>{@link Reason#INTO}: {@code INTO @var}, {@code INTO OUTFILE|DUMPFILE} (a variable in the
 *       session, a file on the server);
 *   <li>{@link Reason#USER_VARIABLE}: any {@code @var}, read or assigned: user variables live in
 *       one server session, and transaction mode carries none; a session that set one is pinned by
 *       the caller, and a statement that reads one must go where it was set;
 *   <li>{@link Reason#SIDE_EFFECT_FUNCTION}: a call of one of {@link #SIDE_EFFECT_FUNCTIONS}, or
 *       {@code NEXT VALUE FOR}. Lock inspection ({@code IS_FREE_LOCK}, {@code IS_USED_LOCK}) is
 *       here because named locks exist only on the server that took them, the writer (GET_LOCK is a
 *       write): a replica would report every lock free. Sleeps and {@code BENCHMARK} are here as
 *       the issue lists sleeps: their only effect is time spent on the server the client waits on;
 *   <li>{@link Reason#SESSION_RESULT}: what the session's previous statement left: {@code
 *       FOUND_ROWS()}, {@code ROW_COUNT()}, {@code LAST_INSERT_ID()} without an argument, {@code
 *       LASTVAL()}/{@code PREVIOUS VALUE FOR}, {@code @@identity}, {@code @@last_insert_id}, {@code
 *       SQL_CALC_FOUND_ROWS} (it leaves one), {@code SHOW WARNINGS|ERRORS|PROFILE|PROFILES}: they
 *       must run where the previous statement ran, the writer unless the caller knows better;
 *   <li>{@link Reason#SERVER_STATE}: the state of one server rather than of the data: {@code SHOW}
 *       of {@code PROCESSLIST}, {@code STATUS}, {@code MASTER}/{@code SLAVE}/{@code REPLICA}/{@code
 *       BINARY LOG}/{@code BINLOG}/{@code RELAYLOG}, {@code ENGINE}, {@code EXPLAIN}/{@code ANALYZE
 *       FOR}; and {@code @@read_only}, {@code @@innodb_read_only}, {@code @@super_read_only}, which
 *       drivers read to decide whether they reach a writer.
 * </ul>
 *
 * <p>Knowingly read: {@code UUID()} and {@code UUID_SHORT()} (unique per server too), {@code
 * CONNECTION_ID()}, {@code @@server_id} and other {@code @@global} values (the serving server's,
 * which is how a test tells where a read went), {@code SHOW VARIABLES}, and stored functions called
 * in a SELECT: the text does not say whether one writes; route those with a rule or a {@code /*
 * mysqlpool:writer *}{@code /} hint.
 *
 * <p>The text is read in place by {@link SqlLexer}: strings, quoted identifiers and comments
 * (optimizer hints {@code /*+ ... *}{@code /} included) are skipped, executable comments {@code /*!
 * ... *}{@code /} are read as SQL. The scan stops at the first write. One instance per session,
 * reused, on that session's event loop; no allocation per statement; the caller keeps the buffer.
 */
public final class ReadScan {
  /**
   * The functions whose call makes a SELECT a write ({@link Reason#SIDE_EFFECT_FUNCTION}): named
   * locks, sequences, sleeps, waits for a replication position.
   */
  public static final Keyword[] SIDE_EFFECT_FUNCTIONS = {
    Keyword.GET_LOCK,
    Keyword.RELEASE_LOCK,
    Keyword.RELEASE_ALL_LOCKS,
    Keyword.IS_FREE_LOCK,
    Keyword.IS_USED_LOCK,
    Keyword.NEXTVAL,
    Keyword.SETVAL,
    Keyword.SLEEP,
    Keyword.BENCHMARK,
    Keyword.MASTER_POS_WAIT,
    Keyword.SOURCE_POS_WAIT,
    Keyword.MASTER_GTID_WAIT,
    Keyword.WAIT_FOR_EXECUTED_GTID_SET,
    Keyword.WAIT_UNTIL_SQL_THREAD_AFTER_GTIDS,
  };

  private static final boolean[] SIDE_EFFECT = new boolean[Keyword.values().length];

  static {
    for (Keyword k : SIDE_EFFECT_FUNCTIONS) {
      SIDE_EFFECT[k.ordinal()] = true;
    }
  }

  /** Where a statement may go. */
  public enum Route {
    /** Any up-to-date reader, or the writer. */
    READ,
    /** The writer. */
    WRITE,
    /** A reader for the whole transaction this statement starts. */
    READ_ONLY_TRANSACTION
  }

  /** Why a statement goes where it goes; {@link #label()} is the metric label. */
  public enum Reason {
    READ(Route.READ, "read"),
    READ_ONLY_TRANSACTION_START(Route.READ_ONLY_TRANSACTION, "read_only_transaction_start"),
    /** Not a read statement at all (INSERT, DDL, SET, CALL, START TRANSACTION, empty...). */
    WRITE(Route.WRITE, "write"),
    LOCKING_READ(Route.WRITE, "locking_read"),
    INTO(Route.WRITE, "into"),
    USER_VARIABLE(Route.WRITE, "user_variable"),
    SIDE_EFFECT_FUNCTION(Route.WRITE, "side_effect_function"),
    SESSION_RESULT(Route.WRITE, "session_result"),
    SERVER_STATE(Route.WRITE, "server_state"),
    /** {@code START TRANSACTION READ ONLY} with other statements in one packet. */
    MULTI_STATEMENT(Route.WRITE, "multi_statement");

    private final Route route;
    private final String label;

    Reason(Route route, String label) {
      this.route = route;
      this.label = label;
    }

    /** Where a statement with this reason goes. */
    public Route route() {
      return route;
    }

    /** The value of the routing metric's reason label. */
    public String label() {
      return label;
    }
  }

  private final SqlLexer lexer = new SqlLexer();

  /**
   * Classifies the SQL text in {@code buf} between {@code start} and {@code end}; {@code
   * noBackslashEscapes} is the server's status flag of that name from the session's last OK. Reads
   * only those bytes and leaves the buffer's indexes and reference count alone.
   */
  public Reason scan(ByteBuf buf, int start, int end, boolean noBackslashEscapes) {
    lexer.reset(buf, start, end, noBackslashEscapes);
    Reason packet = null;
    int statements = 0;
    for (Token t = lexer.next(); ; t = lexer.next()) {
      Reason r = statement(t);
      if (r != null) {
        statements++;
        if (r.route == Route.WRITE) {
          return r; // the first write decides the packet: nothing after it can make it a read
        }
        if (packet == null || r.route == Route.READ_ONLY_TRANSACTION) {
          packet = r;
        }
      }
      if (lexer.token() == Token.END) {
        break;
      }
    }
    if (packet == null) {
      return Reason.WRITE; // empty: the server's error comes from the writer like any other
    }
    return packet.route == Route.READ_ONLY_TRANSACTION && statements > 1
        ? Reason.MULTI_STATEMENT
        : packet;
  }

  /**
   * One statement from its first token to its {@code ;} or the end; null when it is empty (a
   * trailing {@code ;}). A write may return before the end: the caller stops there.
   */
  private Reason statement(Token t) {
    boolean parenthesised = false;
    while (lexer.isSymbol('(')) {
      parenthesised = true;
      t = lexer.next();
    }
    if (t == Token.END || lexer.isSymbol(';')) {
      return parenthesised ? Reason.WRITE : null;
    }
    if (t != Token.WORD || lexer.keyword() == null) {
      return Reason.WRITE;
    }
    switch (lexer.keyword()) {
      case SELECT:
      case WITH:
      case VALUES:
      case TABLE:
        return select();
      case HELP:
        return parenthesised ? Reason.WRITE : select();
      case SHOW:
        return parenthesised ? Reason.WRITE : show();
      case DESC:
      case DESCRIBE:
      case EXPLAIN:
        return parenthesised ? Reason.WRITE : explain();
      case START:
        return parenthesised ? Reason.WRITE : start();
      default:
        return Reason.WRITE;
    }
  }

  /** The rest of a read statement: anything that makes it a write. */
  private Reason select() {
    for (Token t = lexer.next(); t != Token.END && !lexer.isSymbol(';'); t = lexer.next()) {
      if (t == Token.USER_VARIABLE || t == Token.ASSIGN) {
        return Reason.USER_VARIABLE;
      }
      Keyword k = lexer.keyword();
      if (k == null) {
        continue;
      }
      if (t == Token.SYSTEM_VARIABLE) {
        if (k == Keyword.IDENTITY || k == Keyword.LAST_INSERT_ID) {
          return Reason.SESSION_RESULT;
        }
        if (k == Keyword.READ_ONLY
            || k == Keyword.INNODB_READ_ONLY
            || k == Keyword.SUPER_READ_ONLY) {
          return Reason.SERVER_STATE;
        }
        continue;
      }
      Reason r = word(k);
      if (r != null) {
        return r;
      }
    }
    return Reason.READ;
  }

  /** What a keyword inside a read statement makes of it, or null when nothing. */
  private Reason word(Keyword k) {
    switch (k) {
      case INTO:
        return Reason.INTO;
      case LOCK: // LOCK IN SHARE MODE; LOCK is reserved, so it is nothing else here
        return Reason.LOCKING_READ;
      case FOR:
        return followedBy(Keyword.UPDATE) || followedBy(Keyword.SHARE) ? Reason.LOCKING_READ : null;
      case UPDATE:
      case DELETE:
        return Reason.WRITE; // WITH ... UPDATE/DELETE (MySQL 8); FOR UPDATE is caught above
      case SQL_CALC_FOUND_ROWS:
        return Reason.SESSION_RESULT;
      case FOUND_ROWS:
      case ROW_COUNT:
      case LASTVAL:
        return call() ? Reason.SESSION_RESULT : null;
      case LAST_INSERT_ID:
        if (!call()) {
          return null;
        }
        return followedBySymbol(')') ? Reason.SESSION_RESULT : Reason.SIDE_EFFECT_FUNCTION;
      case PREVIOUS:
        return followedBy(Keyword.VALUE) ? Reason.SESSION_RESULT : null;
      case NEXT:
        return followedBy(Keyword.VALUE) ? Reason.SIDE_EFFECT_FUNCTION : null;
      default:
        return SIDE_EFFECT[k.ordinal()] && call() ? Reason.SIDE_EFFECT_FUNCTION : null;
    }
  }

  /** SHOW: the previous statement's diagnostics and one server's own state go to the writer. */
  private Reason show() {
    for (Token t = lexer.next(); t != Token.END && !lexer.isSymbol(';'); t = lexer.next()) {
      if (t == Token.USER_VARIABLE) {
        return Reason.USER_VARIABLE;
      }
      Keyword k = t == Token.WORD ? lexer.keyword() : null;
      if (k == null) {
        continue;
      }
      switch (k) {
        case WARNINGS:
        case ERRORS:
        case PROFILE:
        case PROFILES:
          return Reason.SESSION_RESULT;
        case PROCESSLIST:
        case STATUS:
        case MASTER:
        case SLAVE:
        case SLAVES:
        case REPLICA:
        case REPLICAS:
        case BINARY:
        case BINLOG:
        case RELAYLOG:
        case ENGINE:
        case EXPLAIN:
        case ANALYZE:
          return Reason.SERVER_STATE;
        default:
          break;
      }
    }
    return Reason.READ;
  }

  /**
   * DESC/DESCRIBE/EXPLAIN: past its options ({@code EXTENDED}, {@code PARTITIONS}, {@code ANALYZE},
   * {@code FORMAT = x}), a read statement is read on; a table name is a read; anything else ({@code
   * FOR CONNECTION}, INSERT, UPDATE...) is a write.
   */
  private Reason explain() {
    Token t = lexer.next();
    while (t == Token.WORD) {
      Keyword k = lexer.keyword();
      if (k == Keyword.EXTENDED || k == Keyword.PARTITIONS || k == Keyword.ANALYZE) {
        t = lexer.next();
      } else if (k == Keyword.FORMAT && followedBySymbol('=')) {
        lexer.next(); // the format's name
        t = lexer.next();
      } else {
        break;
      }
    }
    boolean parenthesised = false;
    while (lexer.isSymbol('(')) {
      parenthesised = true;
      t = lexer.next();
    }
    Keyword k = t == Token.WORD ? lexer.keyword() : null;
    if (k == Keyword.SELECT || k == Keyword.WITH || k == Keyword.TABLE || k == Keyword.VALUES) {
      return select();
    }
    if (parenthesised
        || k == Keyword.FOR
        || k == Keyword.INSERT
        || k == Keyword.REPLACE
        || k == Keyword.UPDATE
        || k == Keyword.DELETE
        || (t != Token.WORD && t != Token.QUOTED_IDENTIFIER)) {
      return Reason.WRITE;
    }
    return select(); // DESC t [column]: what follows the table is read on like a select's rest
  }

  /** START TRANSACTION with READ ONLY among its characteristics; any other START is a write. */
  private Reason start() {
    if (!followedBy(Keyword.TRANSACTION)) {
      return Reason.WRITE;
    }
    boolean readOnly = false;
    for (Token t = lexer.next(); t != Token.END && !lexer.isSymbol(';'); t = lexer.next()) {
      if (t == Token.WORD && lexer.keyword() == Keyword.READ) {
        readOnly = followedBy(Keyword.ONLY);
      }
    }
    return readOnly ? Reason.READ_ONLY_TRANSACTION_START : Reason.WRITE;
  }

  /** Whether the next token is {@code k}; consumes it only if so. */
  private boolean followedBy(Keyword k) {
    int mark = lexer.mark();
    if (lexer.next() == Token.WORD && lexer.keyword() == k) {
      return true;
    }
    lexer.rewind(mark);
    return false;
  }

  /** Whether the next token is the symbol {@code c}; consumes it only if so. */
  private boolean followedBySymbol(char c) {
    int mark = lexer.mark();
    lexer.next();
    if (lexer.isSymbol(c)) {
      return true;
    }
    lexer.rewind(mark);
    return false;
  }

  /** Whether the word just read is called as a function: {@code (} follows (consumed). */
  private boolean call() {
    return followedBySymbol('(');
  }
}
