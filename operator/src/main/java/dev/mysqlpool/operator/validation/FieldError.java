package dev.mysqlpool.operator.validation;

/**
 * One problem with a MySQLPool, at a field path such as {@code spec.pool.maxIdle}, with a message
 * that says the fix.
 *
 * @param path the field, from the object's root
 * @param message what is wrong, with the observed values, and how to fix it
 */
public record FieldError(String path, String message) {
  @Override
  public String toString() {
    return path + ": " + message;
  }
}
