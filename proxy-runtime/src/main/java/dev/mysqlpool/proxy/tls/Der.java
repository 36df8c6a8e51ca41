package dev.mysqlpool.proxy.tls;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;

/**
 * Just enough ASN.1 DER to write an X.509 certificate and to re-wrap the private key formats
 * OpenSSL and cert-manager write (PKCS#1, SEC1) as the PKCS#8 the JDK reads. Writing helpers return
 * complete TLVs; {@link Reader} walks definite-length DER. The JDK has no public API for either,
 * and this is all the proxy needs of a crypto library.
 *
 * <p>Pure functions, safe on any thread.
 *
 * @see <a href="https://www.itu.int/rec/T-REC-X.690">ITU-T X.690 (DER)</a>
 */
final class Der {
  static final int BOOLEAN = 0x01;
  static final int INTEGER = 0x02;
  static final int BIT_STRING = 0x03;
  static final int OCTET_STRING = 0x04;
  static final int NULL = 0x05;
  static final int OID = 0x06;
  static final int UTF8_STRING = 0x0c;
  static final int UTC_TIME = 0x17;
  static final int GENERALIZED_TIME = 0x18;
  static final int SEQUENCE = 0x30;
  static final int SET = 0x31;

  private static final DateTimeFormatter UTC_TIME_FORMAT =
      DateTimeFormatter.ofPattern("yyMMddHHmmss'Z'").withZone(ZoneOffset.UTC);
  private static final DateTimeFormatter GENERALIZED_TIME_FORMAT =
      DateTimeFormatter.ofPattern("yyyyMMddHHmmss'Z'").withZone(ZoneOffset.UTC);

  /** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
  private static final Instant GENERALIZED_FROM = Instant.parse("2050-01-01T00:00:00Z");

  private Der() {}

  /** A TLV with this tag around the concatenated contents. */
  static byte[] tlv(int tag, byte[]... contents) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    for (byte[] c : contents) {
      body.writeBytes(c);
    }
    byte[] value = body.toByteArray();
    ByteArrayOutputStream out = new ByteArrayOutputStream(value.length + 6);
    out.write(tag);
    int n = value.length;
    if (n < 0x80) {
      out.write(n);
    } else {
      int bytes = (32 - Integer.numberOfLeadingZeros(n) + 7) / 8;
      out.write(0x80 | bytes);
      for (int i = bytes - 1; i >= 0; i--) {
        out.write(n >>> (8 * i));
      }
    }
    out.writeBytes(value);
    return out.toByteArray();
  }

  static byte[] sequence(byte[]... contents) {
    return tlv(SEQUENCE, contents);
  }

  static byte[] set(byte[]... contents) {
    return tlv(SET, contents);
  }

  static byte[] integer(BigInteger value) {
    return tlv(INTEGER, value.toByteArray());
  }

  static byte[] integer(long value) {
    return integer(BigInteger.valueOf(value));
  }

  static byte[] bool(boolean value) {
    return tlv(BOOLEAN, new byte[] {(byte) (value ? 0xff : 0)});
  }

  static byte[] nullValue() {
    return new byte[] {NULL, 0};
  }

  static byte[] octetString(byte[] value) {
    return tlv(OCTET_STRING, value);
  }

  /** A BIT STRING of whole bytes (a key, a signature): no unused bits. */
  static byte[] bitString(byte[] bytes) {
    return tlv(BIT_STRING, new byte[] {0}, bytes);
  }

  /**
   * A BIT STRING of named bits (key usage), bit 0 the most significant bit of the first byte;
   * trailing zero bits are dropped as DER requires.
   */
  static byte[] namedBits(int... bits) {
    int max = 0;
    for (int b : bits) {
      max = Math.max(max, b);
    }
    byte[] value = new byte[max / 8 + 1];
    for (int b : bits) {
      value[b / 8] |= (byte) (0x80 >>> (b % 8));
    }
    int unused = 7 - (max % 8);
    return tlv(BIT_STRING, new byte[] {(byte) unused}, value);
  }

  static byte[] utf8(String s) {
    return tlv(UTF8_STRING, s.getBytes(StandardCharsets.UTF_8));
  }

  static byte[] time(Instant t) {
    return t.isBefore(GENERALIZED_FROM)
        ? tlv(UTC_TIME, UTC_TIME_FORMAT.format(t).getBytes(StandardCharsets.US_ASCII))
        : tlv(
            GENERALIZED_TIME,
            GENERALIZED_TIME_FORMAT.format(t).getBytes(StandardCharsets.US_ASCII));
  }

  /** A context-specific constructed tag {@code [n]} around a complete TLV (EXPLICIT tagging). */
  static byte[] explicit(int n, byte[] inner) {
    return tlv(0xa0 | n, inner);
  }

  /** A context-specific primitive tag {@code [n]} in place of the universal one (IMPLICIT). */
  static byte[] implicit(int n, byte[] content) {
    return tlv(0x80 | n, content);
  }

  static byte[] oid(String dotted) {
    String[] parts = dotted.split("\\.");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    writeBase128(out, Long.parseLong(parts[0]) * 40 + Long.parseLong(parts[1]));
    for (int i = 2; i < parts.length; i++) {
      writeBase128(out, Long.parseLong(parts[i]));
    }
    return tlv(OID, out.toByteArray());
  }

  private static void writeBase128(ByteArrayOutputStream out, long v) {
    int groups = Math.max(1, (64 - Long.numberOfLeadingZeros(v) + 6) / 7);
    for (int i = groups - 1; i >= 0; i--) {
      int b = (int) ((v >>> (7 * i)) & 0x7f);
      out.write(i == 0 ? b : b | 0x80);
    }
  }

  /** Walks definite-length DER; every method throws IllegalArgumentException on malformed input. */
  static final class Reader {
    private final byte[] der;
    private int pos;
    private final int end;

    Reader(byte[] der) {
      this(der, 0, der.length);
    }

    private Reader(byte[] der, int pos, int end) {
      this.der = der;
      this.pos = pos;
      this.end = end;
    }

    boolean hasMore() {
      return pos < end;
    }

    /** The tag of the next element, without consuming it. */
    int peekTag() {
      if (pos >= end) {
        throw new IllegalArgumentException("malformed DER: truncated at byte " + pos);
      }
      return der[pos] & 0xff;
    }

    /** Reads the next element, which must carry {@code tag}, and returns its contents. */
    byte[] read(int tag) {
      int[] bounds = next(tag);
      return Arrays.copyOfRange(der, bounds[0], bounds[1]);
    }

    /** Enters the next element, which must carry {@code tag}: a reader over its contents. */
    Reader enter(int tag) {
      int[] bounds = next(tag);
      return new Reader(der, bounds[0], bounds[1]);
    }

    /** The next element whole, tag and length included. */
    byte[] readElement() {
      int start = pos;
      int[] bounds = next(peekTag());
      return Arrays.copyOfRange(der, start, bounds[1]);
    }

    String readOid() {
      byte[] v = read(OID);
      StringBuilder sb = new StringBuilder();
      long acc = 0;
      boolean first = true;
      for (byte b : v) {
        acc = (acc << 7) | (b & 0x7f);
        if ((b & 0x80) == 0) {
          if (first) {
            int top = (int) Math.min(2, acc / 40);
            sb.append(top).append('.').append(acc - 40L * top);
            first = false;
          } else {
            sb.append('.').append(acc);
          }
          acc = 0;
        }
      }
      return sb.toString();
    }

    private int[] next(int tag) {
      int t = peekTag();
      if (t != tag) {
        throw new IllegalArgumentException(
            String.format(
                "malformed DER: expected tag 0x%02x at byte %d, found 0x%02x", tag, pos, t));
      }
      pos++;
      if (pos >= end) {
        throw new IllegalArgumentException("malformed DER: no length at byte " + pos);
      }
      int first = der[pos++] & 0xff;
      int length;
      if (first < 0x80) {
        length = first;
      } else {
        int count = first & 0x7f;
        // Four length bytes already allow 2 GiB; more is garbage or an int overflow.
        if (count == 0 || count > 4 || pos + count > end) {
          throw new IllegalArgumentException("malformed DER: bad length at byte " + (pos - 1));
        }
        length = 0;
        for (int i = 0; i < count; i++) {
          length = (length << 8) | (der[pos++] & 0xff);
        }
      }
      if (length < 0 || length > end - pos) {
        throw new IllegalArgumentException(
            "malformed DER: length " + length + " runs past the end at byte " + pos);
      }
      int start = pos;
      pos += length;
      return new int[] {start, pos};
    }
  }
}
