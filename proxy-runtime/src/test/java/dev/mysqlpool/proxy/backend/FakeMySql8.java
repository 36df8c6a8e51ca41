package dev.mysqlpool.proxy.backend;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.Cipher;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * A MySQL 8.4 server reduced to one account ({@link #USER} / {@link #PASSWORD}, plugin
 * caching_sha2_password) and the commands a pool sends. One thread per connection with blocking
 * sockets; every packet in either direction is appended to that connection's transcript.
 */
final class FakeMySql8 implements AutoCloseable {
  static final String USER = "app";
  static final String PASSWORD = "s3cret-pässword";
  static final int WAIT_TIMEOUT = 28800;
  static final int UTF8MB4_0900_AI_CI = 255;

  /** The server's RSA key pair (caching_sha2_password_private_key_path), one per test JVM. */
  static final KeyPair KEYS = rsaKeys();

  static final String GREET_CACHING_SHA2 = "caching_sha2_password";
  static final String GREET_NATIVE = "mysql_native_password";

  // Values from MySQL's include/mysql_com.h, written out here so the fake does not share the
  // proxy's constants.
  static final int CLIENT_CONNECT_WITH_DB = 8;
  static final int CLIENT_PROTOCOL_41 = 512;
  static final int CLIENT_SSL = 2048;
  static final int CLIENT_SECURE_CONNECTION = 32768;
  static final int CLIENT_PLUGIN_AUTH = 1 << 19;
  static final int CLIENT_CONNECT_ATTRS = 1 << 20;
  static final int CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA = 1 << 21;
  static final int CLIENT_SESSION_TRACK = 1 << 23;
  static final int CLIENT_DEPRECATE_EOF = 1 << 24;

  /**
   * What MySQL 8.4 offers without TLS configured: every flag but CLIENT_SSL and
   * CLIENT_SSL_VERIFY_SERVER_CERT.
   */
  static final int SERVER_CAPABILITIES = 0xDFFFF7FF;

  static final int SERVER_STATUS_AUTOCOMMIT = 0x0002;
  static final String RSA_ACCEPTED = "password+NUL XOR the ";

  static final int COM_QUIT = 0x01;
  static final int COM_QUERY = 0x03;
  static final int COM_PING = 0x0e;
  static final int COM_RESET_CONNECTION = 0x1f;

  final List<Session> sessions = new CopyOnWriteArrayList<>();
  final AtomicInteger pingsAnswered = new AtomicInteger();
  private final ServerSocket server;
  private final String greetingPlugin;
  private final boolean accountCached;
  private final SecureRandom random = new SecureRandom();
  private final AtomicInteger connectionIds = new AtomicInteger(7);

  /** Set: the greeting offers CLIENT_SSL and an SSLRequest turns the connection to TLS. */
  private final SSLContext tls;

  private FakeMySql8(String greetingPlugin, boolean accountCached, SSLContext tls)
      throws IOException {
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    this.greetingPlugin = greetingPlugin;
    this.accountCached = accountCached;
    this.tls = tls;
  }

  /**
   * @param greetingPlugin the server's default plugin named in HandshakeV10
   * @param accountCached whether the server has the account in its in-memory cache (fast path
   *     possible)
   */
  static FakeMySql8 start(String greetingPlugin, boolean accountCached) throws IOException {
    return start(greetingPlugin, accountCached, null);
  }

  /**
   * @param tls a server context: the fake offers TLS as MySQL with a certificate configured does
   */
  static FakeMySql8 start(String greetingPlugin, boolean accountCached, SSLContext tls)
      throws IOException {
    FakeMySql8 fake = new FakeMySql8(greetingPlugin, accountCached, tls);
    Thread acceptor = new Thread(fake::acceptLoop, "fake-mysql8-accept");
    acceptor.setDaemon(true);
    acceptor.start();
    return fake;
  }

  int port() {
    return server.getLocalPort();
  }

  /**
   * For failure messages: the first connection's transcript (retries look alike) and how many there
   * were.
   */
  String transcripts() {
    return sessions.isEmpty()
        ? "no connection"
        : sessions.size() + " connection(s), the first: " + sessions.get(0).transcript();
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket socket = server.accept();
        Session session = new Session(socket);
        sessions.add(session);
        Thread t = new Thread(session, "fake-mysql8-conn-" + sessions.size());
        t.setDaemon(true);
        t.start();
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    for (Session s : sessions) {
      s.socket.close();
    }
  }

  /** The seed MySQL generates: 20 printable 7-bit characters, never NUL or '$'. */
  private byte[] newSeed() {
    byte[] seed = new byte[20];
    for (int i = 0; i < seed.length; i++) {
      byte b;
      do {
        b = (byte) (0x21 + random.nextInt(0x7f - 0x21));
      } while (b == '$');
      seed[i] = b;
    }
    return seed;
  }

  /** One client connection: the connection phase, then commands until the client leaves. */
  final class Session implements Runnable {
    final Socket socket;
    volatile boolean finished;
    private final List<String> transcript = Collections.synchronizedList(new ArrayList<>());
    private DataInputStream in;
    private OutputStream out;
    private int nextSeq;
    private int clientCapabilities;
    private byte[] greetingSeed;
    private byte[] switchSeed;
    private byte[] lastAuthResponse;
    private String lastClientPlugin;
    private int lastClientSeq;
    private boolean encrypted;

    Session(Socket socket) {
      this.socket = socket;
    }

    List<String> transcript() {
      synchronized (transcript) {
        return new ArrayList<>(transcript);
      }
    }

    @Override
    public void run() {
      try (Socket s = socket) {
        in = new DataInputStream(s.getInputStream());
        out = new BufferedOutputStream(s.getOutputStream());
        if (login()) {
          commands();
        }
        transcript.add("server closed the connection");
      } catch (EOFException | SocketException e) {
        transcript.add("client closed the connection");
      } catch (IOException | GeneralSecurityException | RuntimeException e) {
        transcript.add("fake server failed: " + e);
      } finally {
        finished = true;
      }
    }

    /** Returns true when the client is logged in; after an ERR the caller closes the connection. */
    private boolean login() throws IOException, GeneralSecurityException {
      greetingSeed = newSeed();
      write("HandshakeV10 plugin=" + greetingPlugin, handshakeV10());
      flush();

      byte[] response = read();
      if (response == null) {
        return false;
      }
      if (tls != null && response.length == 32) {
        record("SSLRequest");
        SSLSocket secure =
            (SSLSocket) tls.getSocketFactory().createSocket(socket, null, socket.getPort(), false);
        secure.setUseClientMode(false);
        secure.startHandshake();
        transcript.add("TLS " + secure.getSession().getProtocol());
        encrypted = true;
        in = new DataInputStream(secure.getInputStream());
        out = new BufferedOutputStream(secure.getOutputStream());
        response = read();
        if (response == null) {
          return false;
        }
      }
      if (!parseHandshakeResponse(response)) {
        return false;
      }
      byte[] auth = lastAuthResponse;
      byte[] authSeed = greetingSeed;
      if (!"caching_sha2_password".equals(lastClientPlugin)) {
        // The account's plugin differs from the one the client answered with: switch, with a
        // fresh nonce.
        switchSeed = newSeed();
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        p.write(0xFE);
        p.writeBytes("caching_sha2_password".getBytes(StandardCharsets.US_ASCII));
        p.write(0);
        p.writeBytes(switchSeed);
        p.write(0);
        write("AuthSwitchRequest plugin=caching_sha2_password with a new seed", p.toByteArray());
        flush();
        auth = read();
        if (auth == null) {
          return false;
        }
        record("auth=" + describeScramble(auth));
        authSeed = switchSeed;
      }

      if (auth.length != 32) {
        return accessDenied();
      }
      if (accountCached && MessageDigest.isEqual(auth, sha2Scramble(PASSWORD, authSeed))) {
        write("AuthMoreData 0x03 fast_auth_success", new byte[] {0x01, 0x03});
        flush();
        return ok("OK");
      }
      // Not cached, or the scramble did not match: MySQL falls back to full authentication either
      // way.
      write("AuthMoreData 0x04 perform_full_authentication", new byte[] {0x01, 0x04});
      flush();
      byte[] request = read();
      if (request == null) {
        return false;
      }
      if (this.encrypted) {
        byte[] expected = PASSWORD.getBytes(StandardCharsets.UTF_8);
        boolean clear = Arrays.equals(request, Arrays.copyOf(expected, expected.length + 1));
        record(clear ? "cleartext password+NUL over TLS" : request.length + " bytes over TLS");
        return clear ? ok("OK") : accessDenied();
      }
      byte[] encrypted;
      if (request.length == 1 && request[0] == 0x02) {
        record("0x02 request_public_key");
        byte[] pem = publicKeyPem().getBytes(StandardCharsets.US_ASCII);
        byte[] keyPacket = new byte[1 + pem.length];
        keyPacket[0] = 0x01;
        System.arraycopy(pem, 0, keyPacket, 1, pem.length);
        write("AuthMoreData PEM public key", keyPacket);
        flush();
        encrypted = read();
        if (encrypted == null) {
          return false;
        }
      } else {
        // A client holding the key already (pinned) sends the encrypted password at once.
        encrypted = request;
      }
      String outcome = decryptPassword(encrypted, authSeed);
      record("RSA-encrypted password: " + outcome);
      if (!outcome.startsWith(RSA_ACCEPTED)) {
        return accessDenied();
      }
      return ok("OK");
    }

    /**
     * Parses HandshakeResponse41 independently of the proxy's parser and records it. Returns false
     * (after an ERR) when the login cannot go on.
     */
    private boolean parseHandshakeResponse(byte[] packet) throws IOException {
      List<String> problems = new ArrayList<>();
      ByteBuffer b = ByteBuffer.wrap(packet).order(ByteOrder.LITTLE_ENDIAN);
      clientCapabilities = b.getInt();
      int maxPacket = b.getInt();
      b.get(); // collation
      byte[] filler = new byte[23];
      b.get(filler);
      if ((clientCapabilities & CLIENT_PROTOCOL_41) == 0) {
        problems.add("no CLIENT_PROTOCOL_41");
      }
      if ((clientCapabilities & CLIENT_SSL) != 0 && !encrypted) {
        problems.add("CLIENT_SSL without TLS");
      }
      if ((clientCapabilities & ~serverCapabilities()) != 0) {
        problems.add(
            "flags the server did not offer: 0x"
                + Integer.toHexString(clientCapabilities & ~serverCapabilities()));
      }
      if (maxPacket <= 0) {
        problems.add("max packet size " + maxPacket);
      }
      if (!Arrays.equals(filler, new byte[23])) {
        problems.add("non-zero filler");
      }
      String user = readStringNul(b);
      if ((clientCapabilities & CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA) != 0) {
        lastAuthResponse = new byte[(int) readLenenc(b)];
        b.get(lastAuthResponse);
      } else if ((clientCapabilities & CLIENT_SECURE_CONNECTION) != 0) {
        lastAuthResponse = new byte[b.get() & 0xff];
        b.get(lastAuthResponse);
      } else {
        lastAuthResponse = readStringNul(b).getBytes(StandardCharsets.ISO_8859_1);
      }
      if ((clientCapabilities & CLIENT_CONNECT_WITH_DB) != 0) {
        problems.add("database '" + readStringNul(b) + "'");
      }
      lastClientPlugin = (clientCapabilities & CLIENT_PLUGIN_AUTH) != 0 ? readStringNul(b) : null;
      if ((clientCapabilities & CLIENT_CONNECT_ATTRS) != 0) {
        long attrs = readLenenc(b);
        b.position(b.position() + (int) attrs);
      }
      if (b.hasRemaining()) {
        problems.add(b.remaining() + " trailing bytes");
      }
      record(
          "HandshakeResponse41 user="
              + user
              + " plugin="
              + lastClientPlugin
              + " auth="
              + describeScramble(lastAuthResponse)
              + (problems.isEmpty() ? "" : " PROBLEMS: " + problems));
      return USER.equals(user) || accessDenied();
    }

    /** Names which scramble of the account's password, over which seed, the client sent. */
    private String describeScramble(byte[] auth) {
      for (String seedName : List.of("greeting", "switch")) {
        byte[] seed = seedName.equals("greeting") ? greetingSeed : switchSeed;
        if (seed == null) {
          continue;
        }
        if (MessageDigest.isEqual(auth, sha2Scramble(PASSWORD, seed))) {
          return "caching_sha2_password scramble of the " + seedName + " seed";
        }
        if (MessageDigest.isEqual(auth, nativeScramble(PASSWORD, seed))) {
          return "mysql_native_password scramble of the " + seedName + " seed";
        }
      }
      return auth.length + " bytes that are no scramble of the account's password";
    }

    /**
     * The server side of the RSA step: decrypt with OAEP (SHA-1, MGF1), undo the XOR with the seed
     * of this exchange. Returns how the plaintext relates to the password; the server accepts only
     * {@link #RSA_ACCEPTED}.
     */
    private String decryptPassword(byte[] encrypted, byte[] seed) throws GeneralSecurityException {
      if (encrypted.length != 256) {
        return encrypted.length + " bytes, not one 2048-bit RSA block";
      }
      Cipher cipher = Cipher.getInstance("RSA/ECB/OAEPWithSHA-1AndMGF1Padding");
      cipher.init(Cipher.DECRYPT_MODE, KEYS.getPrivate());
      byte[] plain;
      try {
        plain = cipher.doFinal(encrypted);
      } catch (GeneralSecurityException e) {
        return "undecryptable with OAEP: " + e;
      }
      byte[] password = PASSWORD.getBytes(StandardCharsets.UTF_8);
      byte[] expected = Arrays.copyOf(password, password.length + 1);
      if (Arrays.equals(xorCyclic(plain, seed), expected)) {
        return seed == greetingSeed ? RSA_ACCEPTED + "greeting seed" : RSA_ACCEPTED + "switch seed";
      }
      // Named so that a proxy XORing with a stale seed after an AuthSwitchRequest is told apart
      // from a wrong password.
      for (byte[] other : Arrays.asList(greetingSeed, switchSeed)) {
        if (other != null && other != seed && Arrays.equals(xorCyclic(plain, other), expected)) {
          return "stale seed: password+NUL XOR the "
              + (other == greetingSeed ? "greeting" : "switch")
              + " seed instead of the "
              + (seed == greetingSeed ? "greeting" : "switch")
              + " seed";
        }
      }
      return "not the account's password";
    }

    private void commands() throws IOException {
      boolean deprecateEof = (clientCapabilities & CLIENT_DEPRECATE_EOF) != 0;
      while (true) {
        byte[] command = readCommand();
        if (command == null) {
          return;
        }
        int code = command.length == 0 ? -1 : command[0] & 0xff;
        switch (code) {
          case COM_QUERY:
            {
              String sql = new String(command, 1, command.length - 1, StandardCharsets.UTF_8);
              record("COM_QUERY " + sql);
              if (!sql.equals("SELECT @@SESSION.wait_timeout")) {
                err(
                    1064,
                    "42000",
                    "You have an error in your SQL syntax (this fake knows one query)");
                break;
              }
              write("column count 1", new byte[] {0x01});
              write(
                  "column definition @@SESSION.wait_timeout",
                  columnDefinition("@@SESSION.wait_timeout"));
              if (!deprecateEof) {
                write("EOF", eof());
              }
              byte[] value = Integer.toString(WAIT_TIMEOUT).getBytes(StandardCharsets.US_ASCII);
              ByteArrayOutputStream row = new ByteArrayOutputStream();
              row.write(value.length);
              row.writeBytes(value);
              write("row '" + WAIT_TIMEOUT + "'", row.toByteArray());
              if (deprecateEof) {
                write("OK terminator (0xFE)", okPayload(0xFE));
              } else {
                write("EOF", eof());
              }
              flush();
              break;
            }
          case COM_RESET_CONNECTION:
            record("COM_RESET_CONNECTION");
            ok("OK");
            break;
          case COM_PING:
            record("COM_PING");
            ok("OK");
            pingsAnswered.incrementAndGet();
            break;
          case COM_QUIT:
            record("COM_QUIT");
            return;
          default:
            record("command 0x" + Integer.toHexString(code));
            err(1047, "08S01", "Unknown command");
        }
      }
    }

    /** A command starts a new sequence at 0; returns null after answering one that does not. */
    private byte[] readCommand() throws IOException {
      nextSeq = 0;
      return read();
    }

    /**
     * Reads one packet the client must number {@link #nextSeq}; on a wrong id it answers as MySQL
     * does (ERR 1156) and returns null.
     */
    private byte[] read() throws IOException {
      int b0 = in.read();
      if (b0 < 0) {
        throw new EOFException();
      }
      int length = b0 | in.readUnsignedByte() << 8 | in.readUnsignedByte() << 16;
      lastClientSeq = in.readUnsignedByte();
      byte[] payload = new byte[length];
      in.readFully(payload);
      if (lastClientSeq != nextSeq) {
        transcript.add("C" + lastClientSeq + " out of order: expected sequence id " + nextSeq);
        nextSeq = lastClientSeq + 1;
        err(1156, "08S01", "Got packets out of order");
        return null;
      }
      nextSeq = lastClientSeq + 1;
      return payload;
    }

    private void record(String what) {
      transcript.add("C" + lastClientSeq + " " + what);
    }

    private void write(String what, byte[] payload) throws IOException {
      transcript.add("S" + nextSeq + " " + what);
      out.write(payload.length & 0xff);
      out.write((payload.length >>> 8) & 0xff);
      out.write((payload.length >>> 16) & 0xff);
      out.write(nextSeq);
      out.write(payload);
      nextSeq = (nextSeq + 1) & 0xff;
    }

    private void flush() throws IOException {
      out.flush();
    }

    private boolean ok(String what) throws IOException {
      write(what, okPayload(0x00));
      flush();
      return true;
    }

    private boolean accessDenied() throws IOException {
      String host = socket.getInetAddress().getHostAddress();
      err(
          1045,
          "28000",
          "Access denied for user '" + USER + "'@'" + host + "' (using password: YES)");
      return false;
    }

    private void err(int code, String sqlState, String message) throws IOException {
      ByteArrayOutputStream p = new ByteArrayOutputStream();
      p.write(0xFF);
      p.write(code & 0xff);
      p.write(code >>> 8);
      p.write('#');
      p.writeBytes(sqlState.getBytes(StandardCharsets.US_ASCII));
      p.writeBytes(message.getBytes(StandardCharsets.UTF_8));
      write("ERR " + code + " (" + sqlState + ") " + message, p.toByteArray());
      flush();
    }

    private byte[] handshakeV10() {
      ByteArrayOutputStream p = new ByteArrayOutputStream();
      p.write(10);
      p.writeBytes("8.4.3\0".getBytes(StandardCharsets.US_ASCII));
      int id = connectionIds.incrementAndGet();
      p.write(id);
      p.write(id >>> 8);
      p.write(id >>> 16);
      p.write(id >>> 24);
      p.write(greetingSeed, 0, 8);
      p.write(0);
      p.write(serverCapabilities() & 0xff);
      p.write((serverCapabilities() >>> 8) & 0xff);
      p.write(UTF8MB4_0900_AI_CI);
      p.write(SERVER_STATUS_AUTOCOMMIT);
      p.write(0);
      p.write((serverCapabilities() >>> 16) & 0xff);
      p.write((serverCapabilities() >>> 24) & 0xff);
      p.write(21); // auth-plugin-data length: 20-byte nonce plus its NUL
      p.writeBytes(new byte[10]);
      p.write(greetingSeed, 8, 12);
      p.write(0);
      p.writeBytes(greetingPlugin.getBytes(StandardCharsets.US_ASCII));
      p.write(0);
      return p.toByteArray();
    }

    /**
     * OK (header 0x00) or the CLIENT_DEPRECATE_EOF terminator (0xFE); MySQL omits an empty info
     * string.
     */
    private byte[] okPayload(int header) {
      return new byte[] {(byte) header, 0, 0, SERVER_STATUS_AUTOCOMMIT, 0, 0, 0};
    }

    private byte[] eof() {
      return new byte[] {(byte) 0xFE, 0, 0, SERVER_STATUS_AUTOCOMMIT, 0};
    }

    /** Protocol::ColumnDefinition41 as MySQL describes a BIGINT UNSIGNED system variable. */
    private byte[] columnDefinition(String name) {
      ByteArrayOutputStream p = new ByteArrayOutputStream();
      writeLenencString(p, "def");
      writeLenencString(p, "");
      writeLenencString(p, "");
      writeLenencString(p, "");
      writeLenencString(p, name);
      writeLenencString(p, "");
      p.write(0x0c);
      p.write(63); // binary
      p.write(0);
      p.writeBytes(new byte[] {21, 0, 0, 0}); // display length
      p.write(0x08); // MYSQL_TYPE_LONGLONG
      p.write(0x20 | 0x80); // UNSIGNED | BINARY
      p.write(0);
      p.write(0); // decimals
      p.writeBytes(new byte[2]);
      return p.toByteArray();
    }
  }

  private int serverCapabilities() {
    return tls != null ? SERVER_CAPABILITIES | CLIENT_SSL : SERVER_CAPABILITIES;
  }

  private static KeyPair rsaKeys() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
      generator.initialize(2048);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The server's public key as MySQL writes public_key.pem. */
  static String publicKeyPem() {
    return "-----BEGIN PUBLIC KEY-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(KEYS.getPublic().getEncoded())
        + "\n-----END PUBLIC KEY-----\n";
  }

  // Independent implementations of the two scrambles, from MySQL's documentation.

  /** caching_sha2_password: SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) || nonce). */
  static byte[] sha2Scramble(String password, byte[] nonce) {
    byte[] pw = password.getBytes(StandardCharsets.UTF_8);
    byte[] h1 = digest("SHA-256", pw);
    byte[] h2 = digest("SHA-256", h1);
    byte[] mask = digest("SHA-256", h2, nonce);
    return xor(h1, mask);
  }

  /** mysql_native_password: SHA1(pw) XOR SHA1(nonce || SHA1(SHA1(pw))). */
  static byte[] nativeScramble(String password, byte[] nonce) {
    byte[] pw = password.getBytes(StandardCharsets.UTF_8);
    byte[] h1 = digest("SHA-1", pw);
    byte[] h2 = digest("SHA-1", h1);
    byte[] mask = digest("SHA-1", nonce, h2);
    return xor(h1, mask);
  }

  private static byte[] digest(String algorithm, byte[]... parts) {
    try {
      MessageDigest md = MessageDigest.getInstance(algorithm);
      for (byte[] p : parts) {
        md.update(p);
      }
      return md.digest();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] xor(byte[] a, byte[] b) {
    byte[] out = new byte[a.length];
    for (int i = 0; i < a.length; i++) {
      out[i] = (byte) (a[i] ^ b[i]);
    }
    return out;
  }

  private static byte[] xorCyclic(byte[] data, byte[] seed) {
    byte[] out = data.clone();
    for (int i = 0; i < out.length; i++) {
      out[i] ^= seed[i % seed.length];
    }
    return out;
  }

  private static String readStringNul(ByteBuffer b) {
    int start = b.position();
    while (b.get() != 0) {
      // scan to the NUL
    }
    return new String(b.array(), start, b.position() - 1 - start, StandardCharsets.UTF_8);
  }

  private static long readLenenc(ByteBuffer b) {
    int first = b.get() & 0xff;
    if (first < 0xfb) {
      return first;
    }
    switch (first) {
      case 0xfc:
        return b.getShort() & 0xffff;
      case 0xfd:
        return (b.get() & 0xff) | (b.get() & 0xff) << 8 | (b.get() & 0xff) << 16;
      case 0xfe:
        return b.getLong();
      default:
        throw new IllegalArgumentException(
            "bad length-encoded integer 0x" + Integer.toHexString(first));
    }
  }

  private static void writeLenencString(ByteArrayOutputStream out, String s) {
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    out.write(bytes.length); // every string here is shorter than 251 bytes
    out.writeBytes(bytes);
  }
}
