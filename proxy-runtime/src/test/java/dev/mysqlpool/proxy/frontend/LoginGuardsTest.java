package dev.mysqlpool.proxy.frontend;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mysqlpool.proxy.frontend.PendingLogins.Admission;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** The small guards of the login: log-safe user names and the counts of logins in progress. */
class LoginGuardsTest {
  @Test
  void aUserNameCannotForgeALogLine() {
    assertThat(LogText.escape("eve\n2026-01-01 INFO admin logged in\r"))
        .isEqualTo("eve\\n2026-01-01 INFO admin logged in\\r");
    assertThat(LogText.escape("it's \\ \t\u0000\u2028é"))
        .isEqualTo("it\\'s \\\\ \\t\\u0000\\u2028\\u00e9");
    assertThat(LogText.escape("x".repeat(100))).isEqualTo("x".repeat(64) + "...");
    assertThat(LogText.escape(null)).isEqualTo("(null)");
  }

  @Test
  void perAddressAndTotalLimitsHoldAndReleasedAddressesAreForgotten() {
    PendingLogins p = new PendingLogins();
    Object a = PendingLogins.key(new InetSocketAddress("127.0.0.1", 1000));
    Object b = PendingLogins.key(new InetSocketAddress("127.0.0.2", 1000));
    assertThat(p.tryAcquire(a, 3, 2)).isEqualTo(Admission.ADMITTED);
    assertThat(p.tryAcquire(a, 3, 2)).isEqualTo(Admission.ADMITTED);
    assertThat(p.tryAcquire(a, 3, 2)).isEqualTo(Admission.ADDRESS_LIMIT);
    assertThat(p.tryAcquire(b, 3, 2)).isEqualTo(Admission.ADMITTED);
    assertThat(p.tryAcquire(b, 3, 2)).as("3 in total").isEqualTo(Admission.TOTAL_LIMIT);
    assertThat(p.total()).isEqualTo(3);
    p.release(a);
    p.release(a);
    p.release(b);
    assertThat(p.total()).isZero();
    assertThat(p.addresses()).as("no entry outlives its logins").isZero();
  }

  @Test
  void ipv6ClientsCountPerSlash64() {
    Object one = PendingLogins.key(new InetSocketAddress("2001:db8:1:2::10", 1));
    Object sameNetwork = PendingLogins.key(new InetSocketAddress("2001:db8:1:2:ffff::1", 1));
    Object other = PendingLogins.key(new InetSocketAddress("2001:db8:1:3::10", 1));
    assertThat(one).isEqualTo(sameNetwork).isNotEqualTo(other);
    PendingLogins p = new PendingLogins();
    assertThat(p.tryAcquire(one, 10, 1)).isEqualTo(Admission.ADMITTED);
    assertThat(p.tryAcquire(sameNetwork, 10, 1)).isEqualTo(Admission.ADDRESS_LIMIT);
    assertThat(p.tryAcquire(other, 10, 1)).isEqualTo(Admission.ADMITTED);
  }
}
