package dev.mysqlpool.proxy.stmt;

/**
 * What makes two COM_STMT_PREPAREs interchangeable: the backend and account they run as, the
 * capability flags and collation of the connections (which shape the reply: EOF packets, column
 * character sets), the default database the statement's names resolve in, how the server lexes
 * (NO_BACKSLASH_ESCAPES) and the SQL text's bytes (held as ISO-8859-1, one char per byte, so equal
 * bytes are equal keys whatever the client's character set).
 */
public record StatementKey(
    String backend,
    Object account,
    int capabilities,
    int collation,
    String schema,
    boolean noBackslashEscapes,
    String sql) {}
