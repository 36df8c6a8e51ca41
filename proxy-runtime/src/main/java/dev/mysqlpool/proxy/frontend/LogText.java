package dev.mysqlpool.proxy.frontend;

/**
 * Text a client chose (a user name), made safe to log: control characters, quotes, backslashes and
 * anything outside printable ASCII are escaped, and the length is capped, so a client can neither
 * forge log lines (a newline followed by a fake entry) nor flood the log with one field.
 */
final class LogText {
  /** Longer values are cut here and marked with "...". */
  static final int MAX_CHARS = 64;

  private LogText() {}

  /** {@code s} with every character outside {@code 0x20..0x7e} (and ' and \) escaped. */
  static String escape(String s) {
    if (s == null) {
      return "(null)";
    }
    StringBuilder out = new StringBuilder(Math.min(s.length(), MAX_CHARS) + 8);
    int n = Math.min(s.length(), MAX_CHARS);
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      switch (c) {
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '\\' -> out.append("\\\\");
        case '\'' -> out.append("\\'");
        default -> {
          if (c >= 0x20 && c < 0x7f) {
            out.append(c);
          } else {
            out.append(String.format("\\u%04x", (int) c));
          }
        }
      }
    }
    if (s.length() > MAX_CHARS) {
      out.append("...");
    }
    return out.toString();
  }
}
