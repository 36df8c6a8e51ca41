package dev.mysqlpool.proxy.backend;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mysqlpool.proxy.config.ProxyConfig.User;
import org.junit.jupiter.api.Test;

class PoolKeyTest {
  private static User app(String backendPassword) {
    return new User("app", "app-secret", "primary", "app", backendPassword);
  }

  @Test
  void keysOfTheSameAccountReadTwiceFromConfigAreOneKind() {
    // A reload builds new User objects: connections opened before it still serve the same account.
    PoolKey before = new PoolKey(app("backend-secret"), 0x1234, 45);
    PoolKey after = new PoolKey(app("backend-secret"), 0x1234, 45);

    assertThat(after).isEqualTo(before).hasSameHashCodeAs(before);
  }

  @Test
  void anotherPasswordCapabilityOrCollationIsAnotherKind() {
    PoolKey key = new PoolKey(app("backend-secret"), 0x1234, 45);

    assertThat(new PoolKey(app("rotated"), 0x1234, 45)).isNotEqualTo(key);
    assertThat(new PoolKey(key.user(), 0x1234 ^ 0x20000, 45)).isNotEqualTo(key);
    assertThat(new PoolKey(key.user(), 0x1234, 33)).isNotEqualTo(key);
  }

  @Test
  void itsTextNamesTheAccountButNoPassword() {
    String text = new PoolKey(app("backend-secret"), 0x1234, 45).toString();

    assertThat(text).contains("app").doesNotContain("secret");
  }
}
