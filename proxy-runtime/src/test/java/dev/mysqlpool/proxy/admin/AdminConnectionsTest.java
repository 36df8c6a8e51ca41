package dev.mysqlpool.proxy.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.mysqlpool.proxy.config.ProxyConfig.Admin;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** admin.maxConnections makes room for a new connection by closing the least recently active. */
class AdminConnectionsTest {
  private EventLoopGroup group;
  private AdminServer server;

  @BeforeEach
  void start() throws InterruptedException {
    group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    server =
        AdminServer.start(
            new Admin("127.0.0.1", 0, 2, Duration.ZERO),
            group,
            new AdminServerTest.FakeEndpoints());
  }

  @AfterEach
  void stop() {
    server.close();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  @Test
  void aNewConnectionBeyondTheCapClosesTheLeastRecentlyActiveNotTheOldest() throws Exception {
    try (Socket oldest = connect();
        Socket idle = connect()) {
      await().atMost(Duration.ofSeconds(5)).until(() -> server.openConnections() == 2);
      // The oldest connection is used (a keep-alive scrape): the idle one is now least active.
      oldest
          .getOutputStream()
          .write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      assertThat(readLine(oldest.getInputStream())).isEqualTo("HTTP/1.1 200 OK");
      try (Socket probe = connect()) {
        probe
            .getOutputStream()
            .write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        assertThat(readLine(probe.getInputStream()))
            .as("the probe beyond the cap is served")
            .isEqualTo("HTTP/1.1 200 OK");
        assertThat(closedByServer(idle)).as("the idle connection made room").isTrue();
        assertThat(closedByServer(oldest)).as("the recently used one stays open").isFalse();
        assertThat(server.openConnections()).isEqualTo(2);
      }
    }
  }

  private Socket connect() throws IOException {
    Socket s = new Socket("127.0.0.1", server.port());
    s.setSoTimeout(5000);
    return s;
  }

  private static String readLine(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    for (int b = in.read(); b != '\n' && b >= 0; b = in.read()) {
      if (b != '\r') {
        sb.append((char) b);
      }
    }
    return sb.toString();
  }

  /** True once the server closed the connection; false if it is still open after 1 s of quiet. */
  private static boolean closedByServer(Socket s) throws IOException {
    s.setSoTimeout(1000);
    InputStream in = s.getInputStream();
    try {
      while (true) {
        int b = in.read();
        if (b < 0) {
          return true;
        }
      }
    } catch (SocketTimeoutException stillOpen) {
      return false;
    } catch (IOException reset) {
      return true;
    }
  }
}
