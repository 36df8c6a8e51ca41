package dev.mysqlpool.proxy.auth;

import static dev.mysqlpool.proxy.auth.AuthTestSupport.bytes;
import static dev.mysqlpool.proxy.auth.AuthTestSupport.hex;
import static dev.mysqlpool.proxy.auth.AuthTestSupport.unhex;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class NativePasswordTest {
  private static final byte[] PASSWORD = "password".getBytes(StandardCharsets.UTF_8);

  // Vector from eclipse-vertx/vertx-sql-client Native41AuthenticatorTest.testEncode; re-derived
  // independently
  // with python3 hashlib (sha1(pw) xor sha1(seed + sha1(sha1(pw)))) before being copied here.
  private static final byte[] VERTX_SEED_1 =
      bytes(
          0x18, 0x38, 0x55, 0x7e, 0x3a, 0x77, 0x65, 0x35, // part 1
          0x34, 0x1f, 0x44, 0x4a, 0x36, 0x60, 0x5d, 0x79, 0x5c, 0x09, 0x6c, 0x08); // part 2

  // Vector from eclipse-vertx/vertx-sql-client Native41AuthenticatorTest.testEncode2.
  private static final byte[] VERTX_SEED_2 =
      bytes(
          0x42, 0x0f, 0x34, 0x68, 0x6f, 0x77, 0x67, 0x18, //
          0x14, 0x57, 0x3d, 0x04, 0x39, 0x70, 0x1f, 0x46, 0x58, 0x51, 0x49, 0x31);

  // Vector from boostorg/mysql's mysql_native_password test ("values snooped using Wireshark"
  // against a real
  // server), password "root".
  private static final byte[] BOOST_SEED =
      bytes(
          0x79, 0x64, 0x3d, 0x12, 0x1d, 0x71, 0x74, 0x47, 0x5f, 0x48, 0x3e, 0x3e, 0x0b, 0x62, 0x0a,
          0x03, 0x3d, 0x27, 0x3a, 0x4c);

  @Test
  void scrambleMatchesVertxVectors() {
    assertThat(hex(NativePassword.scramble(PASSWORD, VERTX_SEED_1)))
        .withFailMessage("native scramble of 'password' must match Vert.x's first vector")
        .isEqualTo("f2671df1862aed0340be809405b30bb93d29142d");
    assertThat(hex(NativePassword.scramble(PASSWORD, VERTX_SEED_2)))
        .withFailMessage("native scramble of 'password' must match Vert.x's second vector")
        .isEqualTo("cc93fb6f68af2e9446dafc0a1667d015b0a49550");
  }

  @Test
  void scrambleMatchesReplyCapturedFromRealServer() {
    assertThat(hex(NativePassword.scramble("root".getBytes(StandardCharsets.UTF_8), BOOST_SEED)))
        .isEqualTo("f1b2fb1c8de75db8eba8126ad10fe9b11050d428");
  }

  @Test
  void emptyPasswordScramblesToEmptyReply() {
    assertThat(NativePassword.scramble(new byte[0], VERTX_SEED_1))
        .withFailMessage("the protocol sends a zero-length auth response for an empty password")
        .isEmpty();
  }

  @Test
  void verifyAcceptsOnlyTheExactReply() {
    byte[] reply = unhex("f2671df1862aed0340be809405b30bb93d29142d");
    assertThat(NativePassword.verify(PASSWORD, VERTX_SEED_1, reply)).isTrue();

    byte[] flipped = reply.clone();
    flipped[19] ^= 1;
    assertThat(NativePassword.verify(PASSWORD, VERTX_SEED_1, flipped)).isFalse();
    assertThat(NativePassword.verify(PASSWORD, VERTX_SEED_2, reply))
        .withFailMessage("a reply is bound to its seed and must not verify against another")
        .isFalse();
    assertThat(
            NativePassword.verify("Password".getBytes(StandardCharsets.UTF_8), VERTX_SEED_1, reply))
        .isFalse();
    assertThat(NativePassword.verify(PASSWORD, VERTX_SEED_1, new byte[0])).isFalse();
    assertThat(NativePassword.verify(PASSWORD, VERTX_SEED_1, Arrays.copyOf(reply, 19))).isFalse();
  }

  @Test
  void verifyHandlesEmptyPassword() {
    assertThat(NativePassword.verify(new byte[0], VERTX_SEED_1, new byte[0])).isTrue();
    assertThat(NativePassword.verify(new byte[0], VERTX_SEED_1, new byte[20]))
        .withFailMessage("an empty password must reject any non-empty reply")
        .isFalse();
  }

  @Test
  void scrambleDoesNotModifyItsArguments() {
    byte[] password = PASSWORD.clone();
    byte[] seed = VERTX_SEED_1.clone();
    NativePassword.scramble(password, seed);
    assertThat(password).isEqualTo(PASSWORD);
    assertThat(seed).isEqualTo(VERTX_SEED_1);
  }

  @Test
  void seedWithTrailingNulIsRejected() {
    byte[] withNul = Arrays.copyOf(VERTX_SEED_1, 21);
    assertThatThrownBy(() -> NativePassword.scramble(PASSWORD, withNul))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "mysql_native_password seed must be 20 bytes (auth-plugin-data parts 1 and 2 without the trailing"
                + " NUL), got 21");
  }
}
