package dev.mysqlpool.proxy.stmt;

/**
 * A statement one client prepared, under the id the proxy gave it: which shared statement it is,
 * the parameter types it last bound (so an execute that does not repeat them can go to a backend
 * that never saw them), and whether it holds its backend (an open cursor, long data sent). Owned by
 * one client session, on its event loop.
 */
public final class ClientStatement {
  /** The id the client knows. */
  public final int id;

  /** Null while the client's prepare is in flight. */
  public SharedStatement shared;

  /** The parameter types last bound (2 bytes each), or null before the first execute. */
  public byte[] types;

  /** A cursor is open on the server for it (the client fetches from it next). */
  public boolean cursorOpen;

  /** COM_STMT_SEND_LONG_DATA was sent for its next execute. */
  public boolean longData;

  public ClientStatement(int id, SharedStatement shared) {
    this.id = id;
    this.shared = shared;
  }
}
