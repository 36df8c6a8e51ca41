package dev.mysqlpool.proxy.codec;

import io.netty.handler.codec.DecoderException;

/** A packet header announced more than {@link MySQLPacketDecoder#maxPayload} allows. */
public final class PacketTooLargeException extends DecoderException {
  PacketTooLargeException(int announced, int limit) {
    super("packet of " + announced + " bytes announced, more than the " + limit + " allowed here");
  }
}
