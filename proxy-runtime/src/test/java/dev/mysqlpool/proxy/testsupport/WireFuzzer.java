package dev.mysqlpool.proxy.testsupport;

import dev.mysqlpool.proxy.auth.NativePassword;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;

/**
 * A seeded, structure-aware generator of broken client traffic for the MySQL frontend:
 * HandshakeResponse41 packets that start valid and are then damaged the way a buggy driver, a
 * scanner or a truncated stream damages them, and command-phase packets with random command bytes,
 * lengths and sequence ids.
 *
 * <p>Every method draws only from the {@link Random} it is given, so a case is reproduced exactly
 * from its seed. Returned arrays are wire bytes (4-byte header included) unless a method says
 * otherwise.
 */
public final class WireFuzzer {
  /** Capability bits a Java driver sends; the base every handshake case mutates. */
  public static final int BASE_CAPABILITIES =
      1 /* LONG_PASSWORD */
          | 1 << 2 /* LONG_FLAG */
          | 1 << 3 /* CONNECT_WITH_DB */
          | 1 << 9 /* PROTOCOL_41 */
          | 1 << 13 /* TRANSACTIONS */
          | 1 << 15 /* SECURE_CONNECTION */
          | 1 << 17 /* MULTI_RESULTS */
          | 1 << 19 /* PLUGIN_AUTH */;

  private static final int PLUGIN_AUTH_LENENC = 1 << 21;
  private static final int CONNECT_ATTRS = 1 << 20;

  private final Random random;

  /** What the last call did, for the failure message of the case. */
  private final StringBuilder trace = new StringBuilder();

  public WireFuzzer(Random random) {
    this.random = random;
  }

  /** A short description of the mutations applied since the last {@link #resetTrace()}. */
  public String trace() {
    return trace.toString();
  }

  public void resetTrace() {
    trace.setLength(0);
  }

  public Random random() {
    return random;
  }

  // ------------------------------------------------------------------------------------------------ handshake

  /**
   * A well-formed HandshakeResponse41 payload (no header) answering {@code seed} for the given
   * account.
   */
  public static byte[] validHandshakePayload(
      int capabilities,
      String user,
      String password,
      byte[] seed,
      String database,
      boolean lenencAuth) {
    byte[] auth = NativePassword.scramble(password.getBytes(StandardCharsets.UTF_8), seed);
    ByteArrayOutputStream p = new ByteArrayOutputStream();
    int caps =
        capabilities | (lenencAuth ? PLUGIN_AUTH_LENENC : 0) | (database != null ? 1 << 3 : 0);
    writeIntLE(p, caps, 4);
    writeIntLE(p, 16 * 1024 * 1024, 4);
    p.write(45);
    p.writeBytes(new byte[23]);
    p.writeBytes(user.getBytes(StandardCharsets.UTF_8));
    p.write(0);
    p.write(auth.length);
    p.writeBytes(auth);
    if (database != null) {
      p.writeBytes(database.getBytes(StandardCharsets.UTF_8));
      p.write(0);
    }
    p.writeBytes(NativePassword.PLUGIN_NAME.getBytes(StandardCharsets.US_ASCII));
    p.write(0);
    return p.toByteArray();
  }

  /**
   * A damaged HandshakeResponse41, as wire bytes with sequence id 1 unless the damage is to the
   * sequence id. One or two of: random capability flags, a length-encoded auth length pointing far
   * past the end (up to 2^63), missing NUL terminators, truncation at a random byte, a length
   * header larger or smaller than the payload (up to 0xFFFFFF), a wrong sequence id, bit flips,
   * random bytes appended, or random bytes instead of the whole packet.
   */
  public byte[] brokenHandshakeResponse(String user, String password, byte[] seed) {
    int caps = BASE_CAPABILITIES;
    boolean lenenc = random.nextBoolean();
    byte[] payload = validHandshakePayload(caps, user, password, seed, "app", lenenc);
    int mutations = 1 + random.nextInt(2);
    Integer headerLength = null;
    int seq = 1;
    for (int m = 0; m < mutations; m++) {
      switch (random.nextInt(10)) {
        case 0 -> {
          int flags = random.nextInt() | (random.nextInt(4) == 0 ? 0 : 1 << 9);
          note("caps=0x%08x", flags);
          setIntLE(payload, 0, flags);
        }
        case 1 -> {
          // Length-encoded auth data whose length points past the end of the packet.
          int userEnd = indexOf(payload, 32, (byte) 0);
          if (userEnd < 0) {
            payload = random(payload.length);
            note("random-instead");
            break;
          }
          setIntLE(payload, 0, getIntLE(payload, 0) | PLUGIN_AUTH_LENENC);
          byte[] len = randomHugeLenenc();
          note("lenenc-auth=%s", hex(len));
          payload = splice(payload, userEnd + 1, 1 + (payload[userEnd + 1] & 0xff), len);
        }
        case 2 -> {
          // The user name without its NUL: the parser runs to the end.
          int userEnd = indexOf(payload, 32, (byte) 0);
          if (userEnd > 0) {
            note("no-user-nul");
            payload = splice(payload, userEnd, 1, new byte[0]);
          }
        }
        case 3 -> {
          int cut = random.nextInt(payload.length + 1);
          note("truncate@%d", cut);
          payload = Arrays.copyOf(payload, cut);
        }
        case 4 -> {
          headerLength =
              random.nextBoolean()
                  ? 0xFFFFFF - random.nextInt(3)
                  : random.nextInt(payload.length + 64);
          note("header-len=%d", headerLength);
        }
        case 5 -> {
          seq = random.nextInt(256);
          note("seq=%d", seq);
        }
        case 6 -> {
          int flips = 1 + random.nextInt(8);
          note("flips=%d", flips);
          for (int i = 0; i < flips && payload.length > 0; i++) {
            payload[random.nextInt(payload.length)] ^= (byte) (1 << random.nextInt(8));
          }
        }
        case 7 -> {
          note("append");
          payload = concat(payload, random(1 + random.nextInt(64)));
        }
        case 8 -> {
          // Connection attributes announced, with a length-encoded total that lies.
          setIntLE(payload, 0, getIntLE(payload, 0) | CONNECT_ATTRS);
          byte[] len = randomHugeLenenc();
          note("attrs-len=%s", hex(len));
          payload = concat(payload, len, random(random.nextInt(16)));
        }
        default -> {
          payload = random(random.nextInt(200));
          note("random(%d)", payload.length);
        }
      }
    }
    return packet(payload, seq, headerLength == null ? payload.length : headerLength);
  }

  /** A length-encoded integer from 0xfb up to 2^63 and beyond (negative as a signed long). */
  private byte[] randomHugeLenenc() {
    switch (random.nextInt(5)) {
      case 0:
        return new byte[] {(byte) 0xfc, (byte) random.nextInt(256), (byte) random.nextInt(256)};
      case 1:
        return new byte[] {
          (byte) 0xfd,
          (byte) random.nextInt(256),
          (byte) random.nextInt(256),
          (byte) random.nextInt(256)
        };
      case 2:
        {
          // Just below Integer.MAX_VALUE: a parser that allocates first asks for a 2 GiB array.
          long v = Integer.MAX_VALUE - random.nextInt(64);
          return lenenc8(v);
        }
      case 3:
        return lenenc8(random.nextLong());
      default:
        return new byte[] {(byte) (0xfb + random.nextInt(5))};
    }
  }

  private static byte[] lenenc8(long v) {
    byte[] b = new byte[9];
    b[0] = (byte) 0xfe;
    for (int i = 0; i < 8; i++) {
      b[1 + i] = (byte) (v >>> (8 * i));
    }
    return b;
  }

  // -------------------------------------------------------------------------------------------------- commands

  /**
   * Command-phase traffic after a successful login: random command bytes (except {@code excluded})
   * with random arguments, malformed COM_CHANGE_USER and COM_PROCESS_KILL, wrong sequence ids,
   * truncated packets, length headers up to 0xFFFFFF, and raw random bytes. May contain several
   * packets.
   */
  public byte[] brokenCommands(int... excluded) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int packets = 1 + random.nextInt(3);
    for (int i = 0; i < packets; i++) {
      int seq = random.nextInt(4) == 0 ? random.nextInt(256) : 0;
      if (seq != 0) {
        note("seq=%d", seq);
      }
      switch (random.nextInt(8)) {
        case 0, 1 -> {
          int cmd;
          do {
            cmd = random.nextInt(256);
          } while (contains(excluded, cmd));
          byte[] payload = concat(new byte[] {(byte) cmd}, random(random.nextInt(40)));
          note("cmd=0x%02x+%d", cmd, payload.length - 1);
          out.writeBytes(packet(payload, seq, payload.length));
        }
        case 2 -> {
          byte[] payload = changeUser();
          out.writeBytes(packet(payload, seq, payload.length));
        }
        case 3 -> {
          // COM_PROCESS_KILL with a short or random id; ids far above any session this test opens.
          int len = random.nextInt(6);
          byte[] payload = new byte[1 + len];
          payload[0] = 0x0c;
          for (int b = 1; b < payload.length; b++) {
            payload[b] = (byte) random.nextInt(256);
          }
          if (len >= 4) {
            payload[4] = (byte) (0x40 | random.nextInt(0x40));
          }
          note("process-kill(%d)", len);
          out.writeBytes(packet(payload, seq, payload.length));
        }
        case 4 -> {
          // A COM_QUERY of random text.
          byte[] sql = new byte[random.nextInt(64)];
          for (int b = 0; b < sql.length; b++) {
            sql[b] = (byte) (32 + random.nextInt(95));
          }
          byte[] payload = concat(new byte[] {0x03}, sql);
          note("query(%d)", sql.length);
          out.writeBytes(packet(payload, seq, payload.length));
        }
        case 5 -> {
          // The header promises more than follows (up to a full 16 MiB packet).
          int promised = random.nextBoolean() ? 0xFFFFFF : 1 + random.nextInt(100_000);
          byte[] payload =
              concat(new byte[] {(byte) random.nextInt(0x20)}, random(random.nextInt(32)));
          note("short-packet(%d of %d)", payload.length, promised);
          out.writeBytes(packet(payload, seq, promised));
          return out.toByteArray();
        }
        case 6 -> {
          int len = random.nextInt(5);
          note("partial-header(%d)", len);
          out.writeBytes(random(len));
          return out.toByteArray();
        }
        default -> {
          byte[] junk = random(1 + random.nextInt(300));
          note("junk(%d)", junk.length);
          out.writeBytes(junk);
          return out.toByteArray();
        }
      }
    }
    return out.toByteArray();
  }

  /** A COM_CHANGE_USER payload that is valid up to a random point, then truncated or corrupted. */
  private byte[] changeUser() {
    ByteArrayOutputStream p = new ByteArrayOutputStream();
    p.write(0x11);
    p.writeBytes("app".getBytes(StandardCharsets.US_ASCII));
    if (random.nextBoolean()) {
      p.write(0);
    }
    p.write(random.nextBoolean() ? 20 : random.nextInt(256)); // auth length, maybe past the end
    p.writeBytes(random(random.nextInt(24)));
    if (random.nextBoolean()) {
      p.writeBytes("app\0".getBytes(StandardCharsets.US_ASCII));
      p.writeBytes(random(random.nextInt(4)));
      p.writeBytes(
          random.nextBoolean()
              ? "caching_sha2_password\0".getBytes(StandardCharsets.US_ASCII)
              : random(random.nextInt(10)));
    }
    byte[] payload = p.toByteArray();
    int cut = 1 + random.nextInt(payload.length);
    note("change-user(%d of %d)", cut, payload.length);
    return Arrays.copyOf(payload, cut);
  }

  // ---------------------------------------------------------------------------------------------------- bytes

  /** Random bytes of the given length. */
  public byte[] random(int length) {
    byte[] b = new byte[length];
    random.nextBytes(b);
    return b;
  }

  /**
   * A packet: header with the given length field (which may lie) and sequence id, then the payload.
   */
  public static byte[] packet(byte[] payload, int seq, int headerLength) {
    byte[] out = new byte[4 + payload.length];
    out[0] = (byte) headerLength;
    out[1] = (byte) (headerLength >>> 8);
    out[2] = (byte) (headerLength >>> 16);
    out[3] = (byte) seq;
    System.arraycopy(payload, 0, out, 4, payload.length);
    return out;
  }

  private void note(String format, Object... args) {
    if (trace.length() > 0) {
      trace.append(' ');
    }
    trace.append(String.format(format, args));
  }

  private static boolean contains(int[] values, int v) {
    for (int x : values) {
      if (x == v) {
        return true;
      }
    }
    return false;
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  private static byte[] splice(byte[] a, int at, int remove, byte[] insert) {
    int end = Math.min(a.length, at + remove);
    return concat(Arrays.copyOfRange(a, 0, at), insert, Arrays.copyOfRange(a, end, a.length));
  }

  private static int indexOf(byte[] a, int from, byte b) {
    for (int i = from; i < a.length; i++) {
      if (a[i] == b) {
        return i;
      }
    }
    return -1;
  }

  private static void writeIntLE(ByteArrayOutputStream p, int v, int bytes) {
    for (int i = 0; i < bytes; i++) {
      p.write(v >>> (8 * i));
    }
  }

  private static void setIntLE(byte[] a, int at, int v) {
    for (int i = 0; i < 4 && at + i < a.length; i++) {
      a[at + i] = (byte) (v >>> (8 * i));
    }
  }

  private static int getIntLE(byte[] a, int at) {
    int v = 0;
    for (int i = 0; i < 4 && at + i < a.length; i++) {
      v |= (a[at + i] & 0xff) << (8 * i);
    }
    return v;
  }

  private static String hex(byte[] b) {
    StringBuilder sb = new StringBuilder();
    for (byte x : b) {
      sb.append(String.format("%02x", x & 0xff));
    }
    return sb.toString();
  }
}
