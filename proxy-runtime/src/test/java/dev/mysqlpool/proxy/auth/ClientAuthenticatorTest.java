package dev.mysqlpool.proxy.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mysqlpool.proxy.auth.ClientAuthenticator.Step;
import dev.mysqlpool.proxy.config.ConfigLoader;
import dev.mysqlpool.proxy.config.ProxyConfig;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The server side of each plugin's exchange, step by step, answered with the client-side functions
 * this project uses toward backends (which real servers accept).
 */
class ClientAuthenticatorTest {
  private static final ProxyConfig CONFIG =
      ConfigLoader.parse(
          """
          backends: [{name: db, host: db}]
          users:
            - {name: native, password: n-secret}
            - {name: sha2, password: s-secret, authPlugin: caching_sha2_password}
          """,
          null);

  private final CachingSha2Server server = new CachingSha2Server();
  private final byte[] seed = Scrambles.newSeed(new SecureRandom());

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private byte[] sha2Scramble(String password) {
    return CachingSha2Password.scramble(utf8(password), seed);
  }

  @Test
  void nativePasswordIsOneChallengeResponse() {
    ClientAuthenticator a = new ClientAuthenticator(seed, server);
    byte[] reply = NativePassword.scramble(utf8("n-secret"), seed);
    assertThat(a.start(CONFIG, "native", "mysql_native_password", reply)).isEqualTo(Step.ACCEPTED);
    assertThat(a.message()).isNull();
    assertThat(a.path()).isEqualTo("challenge");
    assertThat(a.user().name()).isEqualTo("native");
  }

  @Test
  void aClientAnsweringWithAnotherPluginIsSwitchedWithTheSameSeed() {
    ClientAuthenticator a = new ClientAuthenticator(seed, server);
    assertThat(a.start(CONFIG, "native", "caching_sha2_password", sha2Scramble("n-secret")))
        .isEqualTo(Step.SEND_AND_WAIT);
    byte[] expected = new byte[1 + 21 + 1 + 20 + 1];
    expected[0] = (byte) 0xfe;
    System.arraycopy(utf8("mysql_native_password"), 0, expected, 1, 21);
    System.arraycopy(seed, 0, expected, 23, 20);
    assertThat(a.message()).isEqualTo(expected);
    assertThat(a.next(NativePassword.scramble(utf8("n-secret"), seed))).isEqualTo(Step.ACCEPTED);
  }

  @Test
  void cachingSha2OverTlsIsAFullAuthenticationOnceThenTheFastPath() {
    ClientAuthenticator first = new ClientAuthenticator(seed, server);
    first.secureTransport();
    assertThat(first.start(CONFIG, "sha2", "caching_sha2_password", sha2Scramble("s-secret")))
        .isEqualTo(Step.SEND_AND_WAIT);
    assertThat(first.message()).containsExactly(0x01, 0x04);
    assertThat(first.next(utf8("s-secret\0"))).isEqualTo(Step.ACCEPTED);
    assertThat(first.path()).isEqualTo("full_tls");

    byte[] seed2 = Scrambles.newSeed(new SecureRandom());
    ClientAuthenticator second = new ClientAuthenticator(seed2, server);
    assertThat(
            second.start(
                CONFIG,
                "sha2",
                "caching_sha2_password",
                CachingSha2Password.scramble(utf8("s-secret"), seed2)))
        .isEqualTo(Step.ACCEPTED);
    assertThat(second.message()).as("fast auth success before the OK").containsExactly(0x01, 0x03);
    assertThat(second.path()).isEqualTo("fast");
    assertThat(second.certificateProof(new byte[32]))
        .as("MariaDB's clients have no proof for caching_sha2_password")
        .isNull();
  }

  @Test
  void cachingSha2WithoutTlsHandsOutThePublicKeyAndDecryptsThePassword() {
    ClientAuthenticator a = new ClientAuthenticator(seed, server);
    assertThat(a.start(CONFIG, "sha2", "caching_sha2_password", sha2Scramble("s-secret")))
        .isEqualTo(Step.SEND_AND_WAIT);
    assertThat(a.next(new byte[] {CachingSha2Password.REQUEST_PUBLIC_KEY}))
        .isEqualTo(Step.SEND_AND_WAIT);
    byte[] key = a.message();
    assertThat(key[0]).isEqualTo((byte) 0x01);
    String pem = new String(key, 1, key.length - 1, StandardCharsets.US_ASCII);
    assertThat(pem).startsWith("-----BEGIN PUBLIC KEY-----\n");
    assertThat(a.next(CachingSha2Password.encryptPassword(utf8("s-secret"), seed, pem)))
        .isEqualTo(Step.ACCEPTED);
    assertThat(a.path()).isEqualTo("full_rsa");
  }

  @Test
  void wrongPasswordsAndUnknownUsersTakeTheSameStepsToTheSameDenial() {
    for (String user : new String[] {"sha2", "nobody"}) {
      ClientAuthenticator a = new ClientAuthenticator(seed, server);
      a.secureTransport();
      // An unknown user pretends to have the plugin the client tried.
      assertThat(a.start(CONFIG, user, "caching_sha2_password", sha2Scramble("guess")))
          .isEqualTo(Step.SEND_AND_WAIT);
      assertThat(a.message()).as("perform full authentication").containsExactly(0x01, 0x04);
      assertThat(a.next(utf8("guess\0"))).isEqualTo(Step.DENIED);
      assertThat(a.usedPassword()).isTrue();
    }
  }

  @Test
  void theCacheHoldsOnlyForTheSamePassword() {
    ClientAuthenticator full = new ClientAuthenticator(seed, server);
    full.secureTransport();
    full.start(CONFIG, "sha2", "caching_sha2_password", sha2Scramble("s-secret"));
    assertThat(full.next(utf8("s-secret\0"))).isEqualTo(Step.ACCEPTED);

    ProxyConfig rotated =
        ConfigLoader.parse(
            """
            backends: [{name: db, host: db}]
            users: [{name: sha2, password: rotated, authPlugin: caching_sha2_password}]
            """,
            null);
    ClientAuthenticator old = new ClientAuthenticator(seed, server);
    assertThat(old.start(rotated, "sha2", "caching_sha2_password", sha2Scramble("s-secret")))
        .as("the old password's scramble is not a fast path any more")
        .isEqualTo(Step.SEND_AND_WAIT);
    ClientAuthenticator fresh = new ClientAuthenticator(seed, server);
    assertThat(fresh.start(rotated, "sha2", "caching_sha2_password", sha2Scramble("rotated")))
        .as("nor is the new one, until it is proven in full")
        .isEqualTo(Step.SEND_AND_WAIT);
  }

  @Test
  void anEmptyAnswerIsAnEmptyPasswordWhichNoAccountHas() {
    ClientAuthenticator a = new ClientAuthenticator(seed, server);
    assertThat(a.start(CONFIG, "sha2", "caching_sha2_password", new byte[0]))
        .isEqualTo(Step.DENIED);
    assertThat(a.usedPassword()).isFalse();
  }

  @Test
  void theCertificateProofOfANativeLoginCoversItsPasswordSeedAndCertificate() {
    ClientAuthenticator a = new ClientAuthenticator(seed, server);
    a.start(
        CONFIG, "native", "mysql_native_password", NativePassword.scramble(utf8("n-secret"), seed));
    byte[] fp = new byte[32];
    Arrays.fill(fp, (byte) 7);
    assertThat(a.certificateProof(fp))
        .isEqualTo(CertificateProof.nativePassword(utf8("n-secret"), seed, fp));
  }
}
