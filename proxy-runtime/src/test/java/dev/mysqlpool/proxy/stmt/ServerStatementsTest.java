package dev.mysqlpool.proxy.stmt;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

class ServerStatementsTest {
  private final StatementCache cache = new StatementCache(new SimpleMeterRegistry());

  private SharedStatement statement(String sql) {
    return cache.add(
        new StatementKey("b", "u", 0, 45, "app", false, sql), new byte[16], 0, 1, 0, null, null);
  }

  @Test
  void theLeastRecentlyUsedStatementIsEvictedBeyondTheBound() {
    ServerStatements lru = new ServerStatements();
    SharedStatement a = statement("SELECT 1");
    SharedStatement b = statement("SELECT 2");
    SharedStatement c = statement("SELECT 3");
    assertThat(lru.put(a, 11, 2, cache)).isEqualTo(-1);
    assertThat(lru.put(b, 12, 2, cache)).isEqualTo(-1);
    assertThat(lru.get(a).serverId).isEqualTo(11); // a is now the most recently used
    assertThat(lru.put(c, 13, 2, cache)).as("b's server id, to close").isEqualTo(12);
    assertThat(lru.get(b)).isNull();
    assertThat(cache.stats().open()).isEqualTo(2);
    assertThat(cache.stats().evictions()).isEqualTo(1);
    lru.clear();
    assertThat(cache.stats().open()).as("a reset or a closed connection drops them all").isZero();
  }

  @Test
  void theCacheKeepsOneStatementPerKeyUntilItsShapeChanges() {
    SharedStatement a = statement("SELECT 1");
    assertThat(statement("SELECT 1")).isSameAs(a);
    StatementKey key = a.key();
    SharedStatement wider = cache.add(key, new byte[16], 0, 2, 0, null, null);
    assertThat(wider).as("another column count replaces the entry").isNotSameAs(a);
    assertThat(cache.get(key)).isSameAs(wider);
    cache.invalidate(a);
    assertThat(cache.get(key)).as("invalidating an old entry leaves the new one").isSameAs(wider);
    cache.invalidate(wider);
    assertThat(cache.get(key)).isNull();
  }
}
