package dev.mysqlpool.proxy.frontend;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * A {@link CharSequence} over bytes of a buffer, one char per byte (ISO-8859-1), so a regular
 * expression can search a packet's SQL without decoding it into a String. ASCII in UTF-8 text reads
 * as itself, so ASCII patterns match as written; a non-ASCII character is several chars here, and a
 * pattern that spells one literally never matches it. Reused: {@link #reset} points it at the next
 * statement. Reads only; the caller keeps the buffer.
 */
final class ByteChars implements CharSequence {
  private ByteBuf buf;
  private int start;
  private int length;

  /** Views {@code buf} between {@code start} and {@code end}; returns this. */
  ByteChars reset(ByteBuf buf, int start, int end) {
    this.buf = buf;
    this.start = start;
    this.length = end - start;
    return this;
  }

  /** Lets go of the buffer, so a view kept by a session does not keep a released packet. */
  void clear() {
    reset(null, 0, 0);
  }

  @Override
  public int length() {
    return length;
  }

  @Override
  public char charAt(int index) {
    if (index < 0 || index >= length) {
      throw new IndexOutOfBoundsException("index " + index + ", length " + length);
    }
    return (char) (buf.getByte(start + index) & 0xff);
  }

  /** A view of part of this one (allocates; the regex engine asks for it only in rare cases). */
  @Override
  public CharSequence subSequence(int from, int to) {
    if (from < 0 || to > length || from > to) {
      throw new IndexOutOfBoundsException("[" + from + ", " + to + ") of length " + length);
    }
    return new ByteChars().reset(buf, start + from, start + to);
  }

  @Override
  public String toString() {
    return length == 0 ? "" : buf.toString(start, length, StandardCharsets.ISO_8859_1);
  }
}
