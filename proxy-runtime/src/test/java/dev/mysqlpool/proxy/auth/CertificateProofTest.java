package dev.mysqlpool.proxy.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import org.junit.jupiter.api.Test;

class CertificateProofTest {
  @Test
  void matchesAVectorComputedIndependentlyWithPythonHashlib() throws Exception {
    // python3: h = sha1(sha1(b'app-secret')); sha256(h + bytes(range(1, 21)) +
    // sha256(b'certificate'))
    byte[] seed = new byte[20];
    for (int i = 0; i < 20; i++) {
      seed[i] = (byte) (i + 1);
    }
    byte[] fingerprint =
        MessageDigest.getInstance("SHA-256")
            .digest("certificate".getBytes(StandardCharsets.US_ASCII));
    byte[] info =
        CertificateProof.nativePassword(
            "app-secret".getBytes(StandardCharsets.UTF_8), seed, fingerprint);
    assertThat(info[0]).as("0x01: SHA-256").isEqualTo((byte) 1);
    assertThat(new String(info, 1, info.length - 1, StandardCharsets.US_ASCII))
        .as("upper-case hex, which Connector/C compares case-sensitively")
        .isEqualTo("F92F09EDD0004F3B9141CF2E69B6848FA58DB453C518EF54875BF55B1B55AD90");
  }
}
