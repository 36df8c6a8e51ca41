package dev.mysqlpool.proxy.auth;

import java.util.HexFormat;

/** Helpers shared by the auth tests. */
final class AuthTestSupport {
  private AuthTestSupport() {}

  static byte[] bytes(int... values) {
    byte[] out = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = (byte) values[i];
    }
    return out;
  }

  static String hex(byte[] bytes) {
    return HexFormat.of().formatHex(bytes);
  }

  static byte[] unhex(String hex) {
    return HexFormat.of().parseHex(hex);
  }
}
