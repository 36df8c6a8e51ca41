package dev.mysqlpool.proxy.backend;

/** A backend could not be reached, refused a login, or failed a command the proxy sent itself. */
public final class BackendException extends RuntimeException {
  public BackendException(String message) {
    super(message, null, false, false);
  }

  public BackendException(String message, Throwable cause) {
    super(message, cause, false, false);
  }
}
