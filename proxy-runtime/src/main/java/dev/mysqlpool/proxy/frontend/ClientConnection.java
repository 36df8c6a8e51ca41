package dev.mysqlpool.proxy.frontend;

/**
 * A client connection the frontend keeps track of, from accept to close: logging in ({@link
 * ClientLogin}) or logged in ({@link ClientSession}). Both methods may be called from any thread.
 */
interface ClientConnection {
  /** The connection id the proxy advertised in its greeting. */
  long id();

  /** Finish gracefully: at once when idle, else after the current transaction. */
  void drain();

  /** Close now. */
  void forceClose();
}
