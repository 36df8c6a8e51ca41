package dev.mysqlpool.proxy.it;

import dev.mysqlpool.proxy.tls.KeyMaterial;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * A man in the middle of MySQL-over-TLS connections, as an attacker on the path would run it: it
 * relays the greeting and the client's SSLRequest, then ends the client's TLS with a self-signed
 * certificate of its own and opens its own TLS toward the real server, reading everything in
 * between. A client that verifies the server must refuse it.
 */
final class TlsInterceptor implements AutoCloseable {
  private final ServerSocket listener;
  private final String targetHost;
  private final int targetPort;
  private final SSLContext towardClient;
  private final SSLContext towardServer;
  private final ExecutorService threads =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "tls-interceptor");
            t.setDaemon(true);
            return t;
          });

  private TlsInterceptor(String listenHost, String targetHost, int targetPort)
      throws IOException, GeneralSecurityException {
    this.targetHost = targetHost;
    this.targetPort = targetPort;
    KeyMaterial own = KeyMaterial.selfSigned(Instant.now());
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setKeyEntry("mitm", own.key(), new char[0], own.chain().toArray(new X509Certificate[0]));
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, new char[0]);
    towardClient = SSLContext.getInstance("TLS");
    towardClient.init(kmf.getKeyManagers(), null, null);
    towardServer = SSLContext.getInstance("TLS");
    towardServer.init(null, new TrustManager[] {new TrustEverything()}, null);
    listener = new ServerSocket();
    listener.bind(new InetSocketAddress(listenHost, 0));
    threads.execute(this::acceptLoop);
  }

  static TlsInterceptor start(String listenHost, String targetHost, int targetPort) {
    try {
      return new TlsInterceptor(listenHost, targetHost, targetPort);
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot start the interceptor", e);
    }
  }

  int port() {
    return listener.getLocalPort();
  }

  private void acceptLoop() {
    while (!listener.isClosed()) {
      try {
        Socket client = listener.accept();
        threads.execute(() -> intercept(client));
      } catch (IOException e) {
        return;
      }
    }
  }

  private void intercept(Socket client) {
    try (client;
        Socket server = new Socket(targetHost, targetPort)) {
      // Raw streams only: a buffered reader would swallow the first bytes of the TLS handshake.
      forwardPacket(server.getInputStream(), client.getOutputStream()); // greeting
      byte[] request = readPacket(client.getInputStream());
      server.getOutputStream().write(request);
      if (request.length != 4 + 32) {
        pump(client, server); // no SSLRequest: relay in the clear
        return;
      }
      SSLSocket up =
          (SSLSocket)
              towardServer.getSocketFactory().createSocket(server, targetHost, targetPort, true);
      up.setUseClientMode(true);
      up.startHandshake();
      SSLSocket down = (SSLSocket) towardClient.getSocketFactory().createSocket(client, null, true);
      down.setUseClientMode(false);
      down.startHandshake();
      pump(down, up);
    } catch (IOException e) {
      // The client refused the certificate, or a side closed: the interception ends.
    }
  }

  private void pump(Socket a, Socket b) throws IOException {
    var other = threads.submit(() -> copy(b, a));
    copy(a, b);
    other.cancel(true);
  }

  private static Void copy(Socket from, Socket to) {
    try {
      InputStream in = from.getInputStream();
      OutputStream out = to.getOutputStream();
      byte[] buf = new byte[16384];
      int n;
      while ((n = in.read(buf)) >= 0) {
        out.write(buf, 0, n);
        out.flush();
      }
    } catch (IOException e) {
      // one side went away
    }
    try {
      from.close();
      to.close();
    } catch (IOException e) {
      // closing anyway
    }
    return null;
  }

  private static void forwardPacket(InputStream in, OutputStream out) throws IOException {
    out.write(readPacket(in));
    out.flush();
  }

  private static byte[] readPacket(InputStream in) throws IOException {
    byte[] header = in.readNBytes(4);
    if (header.length < 4) {
      throw new IOException("closed before a packet");
    }
    int length = (header[0] & 0xff) | (header[1] & 0xff) << 8 | (header[2] & 0xff) << 16;
    byte[] packet = new byte[4 + length];
    System.arraycopy(header, 0, packet, 0, 4);
    if (in.readNBytes(packet, 4, length) < length) {
      throw new IOException("closed inside a packet");
    }
    return packet;
  }

  @Override
  public void close() {
    try {
      listener.close();
    } catch (IOException e) {
      // closing anyway
    }
    threads.shutdownNow();
  }

  /** What an attacker's client side does: accept any certificate. */
  private static final class TrustEverything implements X509TrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
