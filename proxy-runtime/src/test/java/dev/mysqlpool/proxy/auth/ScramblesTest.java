package dev.mysqlpool.proxy.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.SecureRandom;
import org.junit.jupiter.api.Test;

class ScramblesTest {
  @Test
  void seedsAre20BytesInMySqlsSaltAlphabet() {
    SecureRandom random = new SecureRandom();
    boolean[] seen = new boolean[128];
    for (int round = 0; round < 2_000; round++) {
      byte[] seed = Scrambles.newSeed(random);
      assertThat(seed).hasSize(20);
      for (byte b : seed) {
        assertThat((int) b)
            .withFailMessage("seed byte 0x%02x must be in 1..127 and not '$'", b)
            .isBetween(1, 127)
            .isNotEqualTo((int) '$');
        seen[b] = true;
      }
    }
    int distinct = 0;
    for (boolean s : seen) {
      distinct += s ? 1 : 0;
    }
    // 40,000 draws over 126 values: every allowed value shows up unless the mapping is broken.
    assertThat(distinct)
        .withFailMessage("expected all 126 allowed byte values, saw %d", distinct)
        .isEqualTo(126);
  }

  @Test
  void mapsTheForbiddenBytesToTheirSuccessor() {
    // A fake random that emits exactly the bytes MySQL's generate_user_salt remaps.
    SecureRandom fixed =
        new SecureRandom() {
          private static final long serialVersionUID = 1L;

          @Override
          public void nextBytes(byte[] bytes) {
            for (int i = 0; i < bytes.length; i++) {
              bytes[i] = (byte) new int[] {0x00, '$', 0x80, 0xa4, 0xff}[i % 5];
            }
          }
        };
    byte[] seed = Scrambles.newSeed(fixed);
    assertThat(seed).startsWith((byte) 0x01, (byte) '%', (byte) 0x01, (byte) '%', (byte) 0x7f);
  }

  @Test
  void seedsWorkWithBothPlugins() {
    byte[] seed = Scrambles.newSeed(new SecureRandom());
    byte[] password = {'p', 'w'};
    assertThat(NativePassword.verify(password, seed, NativePassword.scramble(password, seed)))
        .isTrue();
    assertThat(
            CachingSha2Password.verify(
                password, seed, CachingSha2Password.scramble(password, seed)))
        .isTrue();
  }
}
