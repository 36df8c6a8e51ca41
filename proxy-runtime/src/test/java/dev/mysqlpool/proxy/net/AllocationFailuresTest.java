package dev.mysqlpool.proxy.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.DecoderException;
import io.netty.util.internal.OutOfDirectMemoryError;
import java.io.IOException;
import java.lang.reflect.Constructor;
import org.junit.jupiter.api.Test;

class AllocationFailuresTest {
  @Test
  void onlyOutOfMemoryCountsAndMakesTheProcessUnhealthy() throws Exception {
    AllocationFailures failures = new AllocationFailures();
    assertThat(failures.recordIfOutOfMemory(new IOException("Connection reset by peer")))
        .as("an ordinary connection error is not an allocation failure")
        .isFalse();
    assertThat(failures.count()).isZero();
    assertThat(failures.recentFailure()).as("healthy before any failure").isNull();

    assertThat(failures.recordIfOutOfMemory(new DecoderException(outOfDirectMemory())))
        .as("Netty's error, even wrapped by a decoder")
        .isTrue();
    assertThat(failures.recordIfOutOfMemory(new OutOfMemoryError("Cannot reserve 4194304 bytes")))
        .as("the JDK's direct-buffer limit")
        .isTrue();
    assertThat(failures.count()).isEqualTo(2);
    assertThat(failures.recentFailure())
        .as("unhealthy right after a failure, saying what failed")
        .contains("buffer allocation failed")
        .contains("2 failures since start")
        .contains("Cannot reserve 4194304 bytes");
  }

  /** Netty's own error; its constructor is not public. */
  private static OutOfDirectMemoryError outOfDirectMemory() throws Exception {
    Constructor<OutOfDirectMemoryError> c =
        OutOfDirectMemoryError.class.getDeclaredConstructor(String.class);
    c.setAccessible(true);
    return c.newInstance("failed to allocate 16777216 byte(s) of direct memory");
  }
}
