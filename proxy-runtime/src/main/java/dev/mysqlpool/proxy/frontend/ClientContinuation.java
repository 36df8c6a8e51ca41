package dev.mysqlpool.proxy.frontend;

import dev.mysqlpool.proxy.protocol.Packets;

/**
 * Which client packets continue a command instead of starting one: the rest of a payload of 16 MiB
 * or more (sent as packets of {@link Packets#MAX_PAYLOAD} bytes and a shorter last one), and the
 * file a LOAD DATA LOCAL statement uploads once the server asks for it, up to its empty packet.
 * Also the guard against a server that asks for a local file no statement of the client's named: it
 * gets as many uploads as the client sent LOAD DATA LOCAL statements, and no more.
 *
 * <p>Threading: the session's event loop.
 */
final class ClientContinuation {
  private boolean largePayload;
  private boolean uploading;

  /** LOAD DATA LOCAL statements sent on the lent connection whose file was not asked for yet. */
  private int loadLocalStatements;

  /** Whether the client's next packet continues the last command. */
  boolean expected() {
    return largePayload || uploading;
  }

  boolean uploading() {
    return uploading;
  }

  /** A LOAD DATA LOCAL statement went to the server, which may ask for the file. */
  void loadLocalSent() {
    loadLocalStatements++;
  }

  /**
   * The server asks for a local file: the client's next packets are the upload. False when no LOAD
   * DATA LOCAL statement of the client's is waiting for its request (the server must not read a
   * file the client did not offer).
   */
  boolean uploadStarts() {
    if (loadLocalStatements == 0) {
      return false;
    }
    loadLocalStatements--;
    uploading = true;
    return true;
  }

  /**
   * A client packet of {@code payloadLength} bytes went out: true when it was the empty packet that
   * ends an upload.
   */
  boolean sent(int payloadLength) {
    if (uploading && payloadLength == 0) {
      uploading = false;
      return true;
    }
    if (!uploading) {
      largePayload = payloadLength == Packets.MAX_PAYLOAD;
    }
    return false;
  }

  /** The lend ended or its statement is sent again elsewhere: nothing continues. */
  void reset() {
    largePayload = false;
    uploading = false;
    loadLocalStatements = 0;
  }
}
