package dev.mysqlpool.proxy.it;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Sits between the proxy and a real MariaDB (no TLS) and makes the server answer chosen
 * COM_STMT_EXECUTEs with error 1615 ("Prepared statement needs to be re-prepared"), which MariaDB
 * 11.4 gives only under races in its table definition cache (MDEV-17124, MDEV-34669) that a test
 * cannot provoke at will. While armed, an execute goes to the server with an unknown statement id,
 * so the server does not run it and answers in order with error 1243, which goes back as 1615;
 * everything else is relayed untouched.
 */
final class NeedReprepareInjector implements AutoCloseable {
  private static final int COM_STMT_EXECUTE = 0x17;
  private static final int UNKNOWN_STMT_HANDLER = 1243;
  private static final int UNKNOWN_ID = 0x7ffffff0;

  private final ServerSocket listener;
  private final String targetHost;
  private final int targetPort;
  private final AtomicInteger armed = new AtomicInteger();
  private final AtomicInteger owed = new AtomicInteger();
  private final AtomicInteger injected = new AtomicInteger();
  private final ExecutorService threads =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "reprepare-injector");
            t.setDaemon(true);
            return t;
          });

  NeedReprepareInjector(String targetHost, int targetPort) throws IOException {
    this.targetHost = targetHost;
    this.targetPort = targetPort;
    listener = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
    threads.execute(this::acceptLoop);
  }

  int port() {
    return listener.getLocalPort();
  }

  /** The next {@code executes} COM_STMT_EXECUTEs, on any connection, get error 1615. */
  void arm(int executes) {
    armed.set(executes);
  }

  /** Executes answered with 1615 so far. */
  int injected() {
    return injected.get();
  }

  private void acceptLoop() {
    while (!listener.isClosed()) {
      try {
        Socket proxySide = listener.accept();
        Socket serverSide = new Socket(targetHost, targetPort);
        proxySide.setTcpNoDelay(true);
        serverSide.setTcpNoDelay(true);
        threads.execute(() -> pump(proxySide, serverSide, true));
        threads.execute(() -> pump(serverSide, proxySide, false));
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  /** Copies packets one by one, rewriting as described above; closes both sockets at the end. */
  private void pump(Socket from, Socket to, boolean towardServer) {
    try (from;
        to) {
      DataInputStream in = new DataInputStream(from.getInputStream());
      OutputStream out = to.getOutputStream();
      byte[] header = new byte[4];
      while (true) {
        in.readFully(header);
        int length = (header[0] & 0xff) | (header[1] & 0xff) << 8 | (header[2] & 0xff) << 16;
        byte[] payload = new byte[length];
        in.readFully(payload);
        if (towardServer) {
          if (length >= 5
              && length < 0xffffff
              && (payload[0] & 0xff) == COM_STMT_EXECUTE
              && armed.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            owed.incrementAndGet();
            writeIntLe(payload, 1, UNKNOWN_ID);
          }
        } else if (length >= 3
            && (payload[0] & 0xff) == 0xff
            && ((payload[1] & 0xff) | (payload[2] & 0xff) << 8) == UNKNOWN_STMT_HANDLER
            && owed.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
          injected.incrementAndGet();
          payload = needReprepare();
          header[0] = (byte) payload.length;
          header[1] = (byte) (payload.length >> 8);
          header[2] = (byte) (payload.length >> 16);
        }
        byte[] packet = new byte[4 + payload.length];
        System.arraycopy(header, 0, packet, 0, 4);
        System.arraycopy(payload, 0, packet, 4, payload.length);
        out.write(packet);
      }
    } catch (EOFException e) {
      // one side closed
    } catch (IOException e) {
      // closed under the pump
    }
  }

  private static byte[] needReprepare() {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.write(0xff);
    b.write(1615 & 0xff);
    b.write(1615 >> 8);
    b.writeBytes("#HY000".getBytes(StandardCharsets.US_ASCII));
    b.writeBytes("Prepared statement needs to be re-prepared".getBytes(StandardCharsets.US_ASCII));
    return b.toByteArray();
  }

  private static void writeIntLe(byte[] b, int at, int v) {
    for (int i = 0; i < 4; i++) {
      b[at + i] = (byte) (v >> (8 * i));
    }
  }

  @Override
  public void close() throws IOException {
    listener.close();
    threads.shutdownNow();
  }
}
