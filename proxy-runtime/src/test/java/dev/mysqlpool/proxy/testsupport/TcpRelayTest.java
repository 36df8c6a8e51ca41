package dev.mysqlpool.proxy.testsupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class TcpRelayTest {
  private EchoServer echo;
  private TcpRelay relay;

  @BeforeEach
  void start() throws IOException {
    echo = new EchoServer();
    relay = TcpRelay.start("127.0.0.1", echo.port());
  }

  @AfterEach
  void stop() throws IOException {
    relay.close();
    echo.close();
  }

  @Test
  void relaysBytesBothWays() throws Exception {
    try (Socket s = connect()) {
      s.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
      assertThat(new String(readExactly(s.getInputStream(), 5), StandardCharsets.US_ASCII))
          .withFailMessage("the echo must come back through the relay unchanged")
          .isEqualTo("hello");
    }
  }

  @Test
  void relaysMoreThanItsBuffersHoldWithoutLosingOrder() throws Exception {
    byte[] payload = new byte[4 * 1024 * 1024];
    new Random(7).nextBytes(payload);
    try (Socket s = connect()) {
      // Write and read at once, so back-pressure has to work in both directions.
      CompletableFuture<Void> writer =
          CompletableFuture.runAsync(
              () -> {
                try {
                  s.getOutputStream().write(payload);
                } catch (IOException e) {
                  throw new IllegalStateException(e);
                }
              });
      byte[] echoed = readExactly(s.getInputStream(), payload.length);
      writer.get(30, TimeUnit.SECONDS);
      assertThat(Arrays.equals(echoed, payload))
          .withFailMessage("4 MiB must come back byte for byte")
          .isTrue();
    }
  }

  @Test
  void cutAllResetsLiveConnectionsAndRefusesNewOnesUntilResume() throws Exception {
    try (Socket s = connect()) {
      roundTrip(s);
      assertThat(relay.connectionCount()).isEqualTo(1);

      relay.cutAll();

      assertThat(relay.connectionCount())
          .withFailMessage("cutAll closes every relayed connection")
          .isZero();
      assertThatThrownBy(
              () -> {
                s.getOutputStream().write(1);
                s.getInputStream().read();
              })
          .withFailMessage("a cut connection must fail with a reset, like a crashed server")
          .isInstanceOf(SocketException.class);
      assertThatThrownBy(this::connect)
          .withFailMessage("while cut, new connections must be refused")
          .isInstanceOf(ConnectException.class);
    }

    relay.resume();

    try (Socket s = connect()) {
      roundTrip(s);
    }
  }

  @Test
  void holdNewConnectsNothingUpstreamUntilReleasedAndLeavesRelayedConnectionsAlone()
      throws Exception {
    try (Socket before = connect()) {
      roundTrip(before);
      relay.holdNew();
      try (Socket held = connect()) {
        held.getOutputStream().write(7);
        held.setSoTimeout(300);
        assertThatThrownBy(() -> held.getInputStream().read())
            .withFailMessage("a held connection must not reach the server")
            .isInstanceOf(SocketTimeoutException.class);
        assertThat(relay.heldCount()).isEqualTo(1);
        roundTrip(before);

        relay.releaseHeld();

        held.setSoTimeout(30_000);
        assertThat(held.getInputStream().read())
            .withFailMessage("once released, what the client sent while held is relayed")
            .isEqualTo(7);
        assertThat(relay.heldCount()).isZero();
      }
    }
  }

  @Test
  void countsLiveConnections() throws Exception {
    List<Socket> sockets = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        Socket s = connect();
        roundTrip(s);
        sockets.add(s);
      }
      assertThat(relay.connectionCount()).isEqualTo(3);
      assertThat(relay.acceptedCount()).isEqualTo(3);
    } finally {
      for (Socket s : sockets) {
        s.close();
      }
    }
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(relay.connectionCount())
                    .withFailMessage("closed clients must leave the count")
                    .isZero());
  }

  @Test
  void passesAHalfCloseOn() throws Exception {
    try (Socket s = connect()) {
      s.getOutputStream().write("bye".getBytes(StandardCharsets.US_ASCII));
      s.shutdownOutput();
      InputStream in = s.getInputStream();
      assertThat(new String(readExactly(in, 3), StandardCharsets.US_ASCII)).isEqualTo("bye");
      assertThat(in.read())
          .withFailMessage("the echo server closes after our FIN; we must see its FIN")
          .isEqualTo(-1);
    }
  }

  private Socket connect() throws IOException {
    Socket s = new Socket();
    s.connect(new InetSocketAddress(InetAddress.getByName(relay.host()), relay.port()), 5_000);
    s.setSoTimeout(30_000);
    return s;
  }

  private static void roundTrip(Socket s) throws IOException {
    s.getOutputStream().write(42);
    assertThat(s.getInputStream().read()).isEqualTo(42);
  }

  private static byte[] readExactly(InputStream in, int n) throws IOException {
    byte[] b = in.readNBytes(n);
    assertThat(b.length)
        .withFailMessage("stream ended after %d of %d bytes", b.length, n)
        .isEqualTo(n);
    return b;
  }

  /**
   * Echoes every byte back, one thread per connection; closes a connection when its client
   * half-closes.
   */
  private static final class EchoServer implements AutoCloseable {
    private final ServerSocket server;
    private final List<Socket> accepted = new ArrayList<>();

    EchoServer() throws IOException {
      server = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
      Thread t = new Thread(this::acceptLoop, "echo-accept");
      t.setDaemon(true);
      t.start();
    }

    int port() {
      return server.getLocalPort();
    }

    private void acceptLoop() {
      try {
        while (true) {
          Socket s = server.accept();
          synchronized (accepted) {
            accepted.add(s);
          }
          Thread t = new Thread(() -> echo(s), "echo-" + s.getPort());
          t.setDaemon(true);
          t.start();
        }
      } catch (IOException e) {
        // closed
      }
    }

    private static void echo(Socket s) {
      try (s;
          InputStream in = s.getInputStream();
          OutputStream out = s.getOutputStream()) {
        in.transferTo(out);
      } catch (IOException e) {
        // reset by the relay: expected in the cut test
      }
    }

    @Override
    public void close() throws IOException {
      server.close();
      synchronized (accepted) {
        for (Socket s : accepted) {
          s.close();
        }
      }
    }
  }
}
