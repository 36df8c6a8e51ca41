package dev.mysqlpool.bench;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * A MySQL client on a plain {@link Socket}, just enough to log in with {@code
 * mysql_native_password} and send a query: 10,000 of these cost the harness a file descriptor and a
 * few KiB each, where 10,000 JDBC connections would cost hundreds of MiB. Not thread-safe; one
 * thread per client.
 *
 * @see <a
 *     href="https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase.html">Connection
 *     phase</a>
 */
final class RawMySqlClient implements AutoCloseable {
  private static final int CLIENT_LONG_PASSWORD = 1;
  private static final int CLIENT_CONNECT_WITH_DB = 1 << 3;
  private static final int CLIENT_PROTOCOL_41 = 1 << 9;
  private static final int CLIENT_TRANSACTIONS = 1 << 13;
  private static final int CLIENT_SECURE_CONNECTION = 1 << 15;
  private static final int CLIENT_PLUGIN_AUTH = 1 << 19;
  private static final int UTF8MB4_GENERAL_CI = 45;
  private static final String NATIVE = "mysql_native_password";

  private final Socket socket;
  private final DataInputStream in;
  private final OutputStream out;
  private int seq;

  private RawMySqlClient(Socket socket) throws IOException {
    this.socket = socket;
    this.in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 512));
    this.out = socket.getOutputStream();
  }

  /**
   * Connects and logs in; throws when the server answers with anything but OK.
   *
   * @param receiveBuffer SO_RCVBUF in bytes, or 0 for the default (a slow reader wants a small one)
   */
  static RawMySqlClient login(int port, String user, String password, String db, int receiveBuffer)
      throws IOException {
    Socket s = new Socket();
    try {
      if (receiveBuffer > 0) {
        s.setReceiveBufferSize(receiveBuffer);
      }
      s.setTcpNoDelay(true);
      s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
      s.setSoTimeout(30_000);
      RawMySqlClient c = new RawMySqlClient(s);
      c.handshake(user, password, db);
      return c;
    } catch (IOException | RuntimeException e) {
      s.close();
      throw e;
    }
  }

  private void handshake(String user, String password, String db) throws IOException {
    byte[] greeting = readPacket();
    if ((greeting[0] & 0xff) == 0xff) {
      throw new IOException("server refused the connection: " + errorMessage(greeting));
    }
    int p = 1;
    while (greeting[p] != 0) {
      p++; // server version
    }
    p += 1 + 4; // NUL, connection id
    byte[] seed = new byte[20];
    System.arraycopy(greeting, p, seed, 0, 8);
    p +=
        8 + 1 + 2 + 1 + 2 + 2 + 1
            + 10; // part 1, filler, caps low, charset, status, caps high, length, reserved
    System.arraycopy(greeting, p, seed, 8, 12);

    int caps =
        CLIENT_LONG_PASSWORD
            | CLIENT_PROTOCOL_41
            | CLIENT_TRANSACTIONS
            | CLIENT_SECURE_CONNECTION
            | CLIENT_PLUGIN_AUTH
            | (db == null ? 0 : CLIENT_CONNECT_WITH_DB);
    byte[] userBytes = user.getBytes(StandardCharsets.UTF_8);
    byte[] scramble = scramble(password, seed);
    byte[] dbBytes = db == null ? new byte[0] : db.getBytes(StandardCharsets.UTF_8);
    byte[] plugin = NATIVE.getBytes(StandardCharsets.US_ASCII);
    byte[] r =
        new byte
            [32
                + userBytes.length
                + 1
                + 1
                + scramble.length
                + (db == null ? 0 : dbBytes.length + 1)
                + plugin.length
                + 1];
    int i = 0;
    i = putInt4(r, i, caps);
    i = putInt4(r, i, 1 << 24);
    r[i] = (byte) UTF8MB4_GENERAL_CI;
    i = 32;
    System.arraycopy(userBytes, 0, r, i, userBytes.length);
    i += userBytes.length + 1;
    r[i++] = (byte) scramble.length;
    System.arraycopy(scramble, 0, r, i, scramble.length);
    i += scramble.length;
    if (db != null) {
      System.arraycopy(dbBytes, 0, r, i, dbBytes.length);
      i += dbBytes.length + 1;
    }
    System.arraycopy(plugin, 0, r, i, plugin.length);
    writePacket(r);

    byte[] reply = readPacket();
    if ((reply[0] & 0xff) == 0xfe) { // AuthSwitchRequest: plugin name, NUL, new seed
      int nul = 1;
      while (reply[nul] != 0) {
        nul++;
      }
      String name = new String(reply, 1, nul - 1, StandardCharsets.US_ASCII);
      if (!name.equals(NATIVE)) {
        throw new IOException(
            "server asked for auth plugin " + name + "; this client speaks only " + NATIVE);
      }
      writePacket(scramble(password, Arrays.copyOfRange(reply, nul + 1, nul + 21)));
      reply = readPacket();
    }
    if ((reply[0] & 0xff) != 0) {
      throw new IOException("login as '" + user + "' failed: " + errorMessage(reply));
    }
  }

  /** Sends COM_QUERY without reading the reply. */
  void sendQuery(String sql) throws IOException {
    byte[] q = sql.getBytes(StandardCharsets.UTF_8);
    byte[] payload = new byte[q.length + 1];
    payload[0] = 0x03;
    System.arraycopy(q, 0, payload, 1, q.length);
    seq = 0;
    writePacket(payload);
  }

  /** The raw stream, for a reader that paces itself. */
  InputStream stream() {
    return in;
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }

  private byte[] readPacket() throws IOException {
    int len = in.readUnsignedByte() | in.readUnsignedByte() << 8 | in.readUnsignedByte() << 16;
    seq = in.readUnsignedByte() + 1;
    byte[] payload = new byte[len];
    in.readFully(payload);
    return payload;
  }

  private void writePacket(byte[] payload) throws IOException {
    byte[] packet = new byte[4 + payload.length];
    packet[0] = (byte) payload.length;
    packet[1] = (byte) (payload.length >>> 8);
    packet[2] = (byte) (payload.length >>> 16);
    packet[3] = (byte) seq++;
    System.arraycopy(payload, 0, packet, 4, payload.length);
    out.write(packet);
    out.flush();
  }

  private static int putInt4(byte[] b, int i, int v) {
    b[i] = (byte) v;
    b[i + 1] = (byte) (v >>> 8);
    b[i + 2] = (byte) (v >>> 16);
    b[i + 3] = (byte) (v >>> 24);
    return i + 4;
  }

  /** SHA1(password) XOR SHA1(seed + SHA1(SHA1(password))). */
  private static byte[] scramble(String password, byte[] seed) {
    try {
      MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
      byte[] stage1 = sha1.digest(password.getBytes(StandardCharsets.UTF_8));
      byte[] stage2 = sha1.digest(stage1);
      sha1.update(seed);
      sha1.update(stage2);
      byte[] x = sha1.digest();
      for (int i = 0; i < x.length; i++) {
        x[i] ^= stage1[i];
      }
      return x;
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-1 is missing from this JDK", e);
    }
  }

  private static String errorMessage(byte[] err) {
    if ((err[0] & 0xff) != 0xff || err.length < 3) {
      return "unexpected packet 0x"
          + Integer.toHexString(err[0] & 0xff)
          + " of "
          + err.length
          + " bytes";
    }
    int code = (err[1] & 0xff) | (err[2] & 0xff) << 8;
    int start = err.length > 3 && err[3] == '#' ? 9 : 3;
    return code + " " + new String(err, start, err.length - start, StandardCharsets.UTF_8);
  }
}
