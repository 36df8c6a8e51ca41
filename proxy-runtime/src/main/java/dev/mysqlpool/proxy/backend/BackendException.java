package dev.mysqlpool.proxy.backend;

/** A backend could not be reached, refused a login, or failed a command the proxy sent itself. */
public final class BackendException extends RuntimeException {
  private volatile boolean serverAnswered;

  public BackendException(String message) {
    super(message, null, false, false);
  }

  public BackendException(String message, Throwable cause) {
    super(message, cause, false, false);
  }

  /** The server answered (a login it refused, with 1040 or a locked account): it is not gone. */
  void markServerAnswered() {
    serverAnswered = true;
  }

  /** Whether the server answered before this failure; false for timeouts and refused sockets. */
  boolean serverAnswered() {
    return serverAnswered;
  }
}
