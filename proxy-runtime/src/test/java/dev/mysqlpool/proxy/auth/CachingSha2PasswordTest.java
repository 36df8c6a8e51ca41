package dev.mysqlpool.proxy.auth;

import static dev.mysqlpool.proxy.auth.AuthTestSupport.bytes;
import static dev.mysqlpool.proxy.auth.AuthTestSupport.hex;
import static dev.mysqlpool.proxy.auth.AuthTestSupport.unhex;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.MGF1ParameterSpec;
import java.util.Arrays;
import java.util.Base64;
import javax.crypto.Cipher;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class CachingSha2PasswordTest {
  private static final byte[] PASSWORD = "password".getBytes(StandardCharsets.UTF_8);

  // Vectors from eclipse-vertx/vertx-sql-client CachingSha2AuthenticatorTest (password "password");
  // re-derived
  // independently with python3 hashlib before being copied here.
  private static final byte[] VERTX_SEED_1 =
      bytes(
          0x36, 0x47, 0x48, 0x05, 0x03, 0x6c, 0x6e, 0x60, // part 1
          0x54, 0x73, 0x50, 0x61, 0x2b, 0x1b, 0x12, 0x04, 0x6e, 0x5a, 0x79, 0x60); // part 2
  private static final byte[] VERTX_SEED_2 =
      bytes(
          0x6f, 0x2d, 0x5c, 0x6d, 0x66, 0x04, 0x10, 0x70, //
          0x2b, 0x71, 0x37, 0x76, 0x63, 0x39, 0x2a, 0x02, 0x6d, 0x4a, 0x25, 0x47);

  // Vector from boostorg/mysql's caching_sha2_password test, captured from a real MySQL server
  // exchange
  // (password "hola"). A server accepted this reply, so it pins the order of the inner hash inputs.
  private static final byte[] BOOST_HASH_SEED =
      bytes(
          0x3e, 0x3b, 0x04, 0x55, 0x04, 0x70, 0x16, 0x3a, 0x4c, 0x15, 0x35, 0x03, 0x15, 0x76, 0x73,
          0x22, 0x46, 0x08, 0x18, 0x01);

  // Seed of boostorg/mysql's csha2p_encrypt_password tests, whose expected pre-RSA buffers
  // ((password || NUL) XOR seed, cyclic) are reused below; python3 agrees with both.
  private static final byte[] BOOST_RSA_SEED =
      bytes(
          0x0f, 0x64, 0x4f, 0x2f, 0x2b, 0x3b, 0x27, 0x6b, 0x45, 0x5c, 0x53, 0x01, 0x13, 0x7e, 0x4f,
          0x10, 0x26, 0x23, 0x5d, 0x27);

  private static KeyPair rsa;
  private static String spkiPem;

  @BeforeAll
  static void generateKeys() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
    generator.initialize(2048);
    rsa = generator.generateKeyPair();
    spkiPem = pem("PUBLIC KEY", rsa.getPublic().getEncoded());
  }

  @Test
  void scrambleMatchesVertxVectors() {
    assertThat(hex(CachingSha2Password.scramble(PASSWORD, VERTX_SEED_1)))
        .isEqualTo("83ad20dc9b0c61f959fb93f451a42fc2d15ab811b882d667fe8f0fcd0a8acaeb");
    assertThat(hex(CachingSha2Password.scramble(PASSWORD, VERTX_SEED_2)))
        .isEqualTo("3d58c194ffdaf1f80a6c5ef67700608b07f9a29d37c9e2307aaf690c6e5526ab");
  }

  @Test
  void scrambleMatchesReplyCapturedFromRealServer() {
    assertThat(
            hex(
                CachingSha2Password.scramble(
                    "hola".getBytes(StandardCharsets.UTF_8), BOOST_HASH_SEED)))
        .withFailMessage(
            "inner hash must be SHA256(SHA256(SHA256(pw)) || seed), the order servers accept")
        .isEqualTo("a1c1e1e91bb6544ba7374b9c566d693e06ca070298acd10618c690389d88e120");
  }

  @Test
  void emptyPasswordScramblesToEmptyReply() {
    assertThat(CachingSha2Password.scramble(new byte[0], VERTX_SEED_1)).isEmpty();
  }

  @Test
  void verifyAcceptsOnlyTheExactReply() {
    byte[] reply = unhex("83ad20dc9b0c61f959fb93f451a42fc2d15ab811b882d667fe8f0fcd0a8acaeb");
    assertThat(CachingSha2Password.verify(PASSWORD, VERTX_SEED_1, reply)).isTrue();
    byte[] flipped = reply.clone();
    flipped[0] ^= (byte) 0x80;
    assertThat(CachingSha2Password.verify(PASSWORD, VERTX_SEED_1, flipped)).isFalse();
    assertThat(CachingSha2Password.verify(PASSWORD, VERTX_SEED_2, reply)).isFalse();
    assertThat(CachingSha2Password.verify(new byte[0], VERTX_SEED_1, new byte[0])).isTrue();
    assertThat(CachingSha2Password.verify(new byte[0], VERTX_SEED_1, reply)).isFalse();
  }

  @Test
  void protocolConstantsMatchTheDocumentedBytes() {
    assertThat(CachingSha2Password.REQUEST_PUBLIC_KEY).isEqualTo((byte) 0x02);
    assertThat(CachingSha2Password.FAST_AUTH_SUCCESS).isEqualTo((byte) 0x03);
    assertThat(CachingSha2Password.PERFORM_FULL_AUTHENTICATION).isEqualTo((byte) 0x04);
  }

  @Test
  void encryptPasswordRoundTripsThroughOaepWithBoostVector() throws GeneralSecurityException {
    byte[] encrypted =
        CachingSha2Password.encryptPassword(
            "csha2p_password".getBytes(StandardCharsets.UTF_8), BOOST_RSA_SEED, spkiPem);

    assertThat(encrypted).hasSize(256);
    assertThat(hex(decrypt(rsa.getPrivate(), encrypted)))
        .withFailMessage("decrypted buffer must be (password || NUL) XOR seed")
        .isEqualTo("6c17274e194b781b242f20767c0c2b10");
  }

  @Test
  void encryptPasswordRepeatsTheSeedForLongPasswords() throws GeneralSecurityException {
    byte[] password =
        "kjaski829380jvnnM,ka;::_kshf93IJCLIJO)jcjsnaklO?a".getBytes(StandardCharsets.UTF_8);
    byte[] encrypted = CachingSha2Password.encryptPassword(password, BOOST_RSA_SEED, spkiPem);
    assertThat(hex(decrypt(rsa.getPrivate(), encrypted)))
        .isEqualTo(
            "640e2e5c40521f597c6f6b317908217e6b0f3646345e757040484f0d7c6f1a4b5032065a690a37446517214e40576854245c");
  }

  @Test
  void encryptPasswordRecoversThePasswordByXorWithTheSeed() throws GeneralSecurityException {
    byte[] password =
        "s3cr€t with a longer tail than twenty bytes".getBytes(StandardCharsets.UTF_8);
    byte[] seed = Scrambles.newSeed(new SecureRandom());
    byte[] decrypted =
        decrypt(rsa.getPrivate(), CachingSha2Password.encryptPassword(password, seed, spkiPem));

    for (int i = 0; i < decrypted.length; i++) {
      decrypted[i] ^= seed[i % seed.length];
    }
    byte[] expected = Arrays.copyOf(password, password.length + 1);
    assertThat(decrypted)
        .withFailMessage("XOR with the seed must give back the NUL-terminated password")
        .isEqualTo(expected);
  }

  @Test
  void encryptPasswordHandlesEmptyPassword() throws GeneralSecurityException {
    byte[] encrypted = CachingSha2Password.encryptPassword(new byte[0], BOOST_RSA_SEED, spkiPem);
    assertThat(decrypt(rsa.getPrivate(), encrypted)).containsExactly(0x0f);
  }

  @Test
  void encryptPasswordIsRandomizedByOaep() {
    byte[] first = CachingSha2Password.encryptPassword(PASSWORD, BOOST_RSA_SEED, spkiPem);
    byte[] second = CachingSha2Password.encryptPassword(PASSWORD, BOOST_RSA_SEED, spkiPem);
    assertThat(first)
        .withFailMessage("OAEP padding is random, so two encryptions must differ")
        .isNotEqualTo(second);
  }

  @Test
  void acceptsPkcs1RsaPublicKey() throws GeneralSecurityException {
    byte[] spki = rsa.getPublic().getEncoded();
    // A 2048-bit SubjectPublicKeyInfo is a fixed 24-byte prefix (SEQUENCE, rsaEncryption
    // AlgorithmIdentifier,
    // BIT STRING header) around the PKCS#1 RSAPublicKey, so slicing gives an independent PKCS#1
    // encoding.
    assertThat(hex(Arrays.copyOf(spki, 24)))
        .isEqualTo("30820122300d06092a864886f70d01010105000382010f00");
    String pkcs1Pem = pem("RSA PUBLIC KEY", Arrays.copyOfRange(spki, 24, spki.length));

    assertThat(CachingSha2Password.parsePublicKey(pkcs1Pem)).isEqualTo(rsa.getPublic());
    byte[] encrypted =
        CachingSha2Password.encryptPassword(
            "csha2p_password".getBytes(StandardCharsets.UTF_8), BOOST_RSA_SEED, pkcs1Pem);
    assertThat(hex(decrypt(rsa.getPrivate(), encrypted)))
        .isEqualTo("6c17274e194b781b242f20767c0c2b10");
  }

  @Test
  void ignoresTextAroundThePemBlock() {
    // The server's key packet text can carry a trailing NUL; configs add comments.
    String padded = "# orders-rw public key\n" + spkiPem + "\0";
    assertThat(CachingSha2Password.parsePublicKey(padded)).isEqualTo(rsa.getPublic());
  }

  @Test
  void rejectsPasswordTooLongForTheKey() {
    byte[] fits = new byte[213];
    Arrays.fill(fits, (byte) 'a');
    assertThat(CachingSha2Password.encryptPassword(fits, BOOST_RSA_SEED, spkiPem)).hasSize(256);

    byte[] tooLong = new byte[214];
    Arrays.fill(tooLong, (byte) 'a');
    assertThatThrownBy(() -> CachingSha2Password.encryptPassword(tooLong, BOOST_RSA_SEED, spkiPem))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "password too long for the server's 2048-bit RSA key: OAEP fits 214 bytes, the password plus its NUL"
                + " is 215");
  }

  @Test
  void rejectsTextThatIsNotPem() {
    assertThatThrownBy(
            () -> CachingSha2Password.encryptPassword(PASSWORD, BOOST_RSA_SEED, "not a key"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("server RSA public key is not PEM: no '-----BEGIN ' line in 9 characters");
    assertThatThrownBy(() -> CachingSha2Password.parsePublicKey(""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("server RSA public key is empty");
  }

  @Test
  void rejectsMissingEndLine() {
    String truncated = spkiPem.substring(0, spkiPem.indexOf("-----END"));
    assertThatThrownBy(() -> CachingSha2Password.parsePublicKey(truncated))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("server RSA public key is not PEM: no '-----END PUBLIC KEY-----' line");
  }

  @Test
  void rejectsOtherPemTypes() {
    String certificate = pem("CERTIFICATE", new byte[] {1, 2, 3});
    assertThatThrownBy(() -> CachingSha2Password.parsePublicKey(certificate))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "server RSA public key has PEM type 'CERTIFICATE', expected 'PUBLIC KEY' or 'RSA PUBLIC KEY'");
  }

  @Test
  void rejectsInvalidBase64() {
    String corrupted = "-----BEGIN PUBLIC KEY-----\nMIIB*IjAN\n-----END PUBLIC KEY-----\n";
    assertThatThrownBy(() -> CachingSha2Password.parsePublicKey(corrupted))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("server public key (PEM type 'PUBLIC KEY') has invalid base64: ");
  }

  @Test
  void rejectsGarbageDer() {
    String garbage = pem("PUBLIC KEY", new byte[] {0x30, 0x03, 0x02, 0x01, 0x01});
    assertThatThrownBy(() -> CachingSha2Password.parsePublicKey(garbage))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(
            "server public key (PEM type 'PUBLIC KEY') is not a valid RSA public key: ");
  }

  @Test
  void rejectsNonRsaKey() throws GeneralSecurityException {
    KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
    ec.initialize(new ECGenParameterSpec("secp256r1"));
    String ecPem = pem("PUBLIC KEY", ec.generateKeyPair().getPublic().getEncoded());
    assertThatThrownBy(() -> CachingSha2Password.parsePublicKey(ecPem))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(
            "server public key (PEM type 'PUBLIC KEY') is not a valid RSA public key: ");
  }

  @Test
  void rejectsMalformedPkcs1() {
    byte[] spki = rsa.getPublic().getEncoded();
    byte[] pkcs1 = Arrays.copyOfRange(spki, 24, spki.length);
    String truncated = pem("RSA PUBLIC KEY", Arrays.copyOf(pkcs1, pkcs1.length - 3));
    assertThatThrownBy(() -> CachingSha2Password.parsePublicKey(truncated))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "server public key (PEM type 'RSA PUBLIC KEY') is malformed PKCS#1: malformed DER:"
                + " length 266 runs past the end at byte 4");

    String notASequence = pem("RSA PUBLIC KEY", new byte[] {0x02, 0x01, 0x01});
    assertThatThrownBy(() -> CachingSha2Password.parsePublicKey(notASequence))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "server public key (PEM type 'RSA PUBLIC KEY') is malformed PKCS#1: malformed DER:"
                + " expected tag 0x30 at byte 0, found 0x02");
  }

  @Test
  void seedWithTrailingNulIsRejected() {
    byte[] withNul = Arrays.copyOf(VERTX_SEED_1, 21);
    assertThatThrownBy(() -> CachingSha2Password.scramble(PASSWORD, withNul))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("caching_sha2_password seed must be 20 bytes");
    assertThatThrownBy(() -> CachingSha2Password.encryptPassword(PASSWORD, withNul, spkiPem))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("got 21");
  }

  /**
   * OAEP as MySQL (OpenSSL's RSA_PKCS1_OAEP_PADDING) defines it: SHA-1 for the label hash and for
   * MGF1.
   */
  private static byte[] decrypt(PrivateKey key, byte[] ciphertext) throws GeneralSecurityException {
    Cipher cipher = Cipher.getInstance("RSA/ECB/OAEPPadding");
    cipher.init(
        Cipher.DECRYPT_MODE,
        key,
        new OAEPParameterSpec("SHA-1", "MGF1", MGF1ParameterSpec.SHA1, PSource.PSpecified.DEFAULT));
    return cipher.doFinal(ciphertext);
  }

  private static String pem(String label, byte[] der) {
    return "-----BEGIN "
        + label
        + "-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END "
        + label
        + "-----\n";
  }
}
