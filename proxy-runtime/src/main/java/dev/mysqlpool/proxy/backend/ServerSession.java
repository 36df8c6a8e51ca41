package dev.mysqlpool.proxy.backend;

import dev.mysqlpool.proxy.stmt.ServerStatements;
import java.util.List;

/**
 * What one backend connection's server session holds, as far as the proxy knows: its default
 * database and, in transaction mode, the carried variables ({@link SessionVariables}) and whose
 * LAST_INSERT_ID() it has. The pool records it at login and after a reset; the session that holds
 * the connection records what it changes. Read and written only by whoever holds the connection
 * (the pool while it is idle, the borrower while lent), so it needs no lock.
 */
public final class ServerSession {
  private String schema;
  private boolean schemaKnown = true;

  /** Transaction mode only (null in session mode): the server family's carried variables. */
  private SessionVariables variables;

  private String[] baseline;

  /** The carried variables as they are now; null when unknown (the connection is not reused). */
  private String[] current;

  private long lastInsertIdOwner;

  /** Transaction mode: the shared prepared statements the server holds for this session. */
  private final ServerStatements statements = new ServerStatements();

  /**
   * A fresh login (or a reset) left this snapshot: the default database, the carried variables in
   * {@link SessionVariables} order, and LAST_INSERT_ID().
   *
   * @return false when the row does not have that shape
   */
  boolean recordSnapshot(SessionVariables vars, List<String> row, boolean asBaseline) {
    if (row == null || row.size() != vars.size() + 2) {
      return false;
    }
    variables = vars;
    current = vars.canonical(row.subList(1, vars.size() + 1).toArray(new String[0]));
    if (asBaseline) {
      baseline = current;
    }
    schemaIs(row.get(0));
    lastInsertIdOwner = 0;
    return true;
  }

  /**
   * The default database; null when there is none or it is not known (see {@link #schemaKnown}).
   */
  public String schema() {
    return schemaKnown ? schema : null;
  }

  /** Whether {@link #schema()} is certain; false after a statement the proxy did not follow. */
  public boolean schemaKnown() {
    return schemaKnown;
  }

  /** Whether the session surely has no default database (what a login without one expects). */
  boolean surelyNoSchema() {
    return schemaKnown && schema == null;
  }

  /** The default database is now {@code name} (COM_INIT_DB sent, or read back). */
  public void schemaIs(String name) {
    schema = name;
    schemaKnown = true;
  }

  /** A statement may have changed the default database (USE, or one the proxy cannot see into). */
  public void schemaUnknown() {
    schema = null;
    schemaKnown = false;
  }

  /** Transaction mode: the carried variables of this server family; null in session mode. */
  public SessionVariables variables() {
    return variables;
  }

  /** Transaction mode: the carried variables as a fresh login has them. */
  public String[] baseline() {
    return baseline;
  }

  /** Whether the carried variables are known, which a connection needs to be lent again. */
  public boolean variablesKnown() {
    return current != null;
  }

  /**
   * Transaction mode: the one SET that gives this session the {@code target} variables, or null
   * when it has them already; from then on they are recorded as the session's.
   */
  public String restore(String[] target) {
    String sql = variables.restoreStatement(target, current);
    // Equal values or not, the session now has the target's (arrays are never changed in place).
    current = target;
    return sql;
  }

  /** The last restore failed: what the session holds is unknown, so it will not be reused. */
  public void variablesUnknown() {
    current = null;
  }

  /** The client's variables and database as read back before the connection goes. */
  public void record(String schema, String[] vars) {
    schemaIs(schema);
    current = vars;
  }

  /**
   * The owner token of the client session whose statement last set this session's LAST_INSERT_ID(),
   * or 0.
   */
  public long lastInsertIdOwner() {
    return lastInsertIdOwner;
  }

  public void lastInsertIdOwner(long ownerToken) {
    lastInsertIdOwner = ownerToken;
  }

  /** Transaction mode: the shared prepared statements this session holds. */
  public ServerStatements statements() {
    return statements;
  }
}
