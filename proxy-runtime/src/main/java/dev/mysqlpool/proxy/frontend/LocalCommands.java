package dev.mysqlpool.proxy.frontend;

import dev.mysqlpool.proxy.auth.ClientAuthenticator;
import dev.mysqlpool.proxy.protocol.Commands;
import dev.mysqlpool.proxy.protocol.ErrorCodes;
import dev.mysqlpool.proxy.protocol.HandshakeResponse41;
import dev.mysqlpool.proxy.protocol.Packets;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The commands a session answers itself rather than relaying: KILL (as COM_QUERY or
 * COM_PROCESS_KILL) with the connection ids the proxy advertised, and COM_CHANGE_USER, which the
 * proxy authenticates as it does a login. The session runs them only when no reply is owed, so
 * their answers go out in order.
 *
 * <p>Threading: the session's event loop. Packets passed in are read, never released here.
 */
final class LocalCommands {
  private static final Pattern KILL =
      Pattern.compile(
          "\\s*KILL\\s+(?:(QUERY|CONNECTION)\\s+)?(\\d+)\\s*;?\\s*", Pattern.CASE_INSENSITIVE);
  private static final Pattern LOAD_LOCAL =
      Pattern.compile(
          "\\s*LOAD\\s+(?:DATA|XML)\\s+(?:LOW_PRIORITY\\s+|CONCURRENT\\s+)?LOCAL\\s.*",
          Pattern.CASE_INSENSITIVE | Pattern.DOTALL);

  private final ClientSession session;

  /** A COM_CHANGE_USER whose authentication exchange awaits the client's next packet, or null. */
  private HandshakeResponse41 pendingChangeUser;

  LocalCommands(ClientSession session) {
    this.session = session;
  }

  /** Whether this COM_QUERY is a KILL the proxy must map to its own connection ids. */
  static boolean isKill(ByteBuf packet) {
    int start = packet.readerIndex() + Packets.HEADER_SIZE + 1;
    int len = Packets.payloadLength(packet) - 1;
    if (len < 6 || len > 64) {
      return false;
    }
    int i = start;
    while (i < start + len && Character.isWhitespace(packet.getByte(i))) {
      i++;
    }
    return i < start + len
        && (packet.getByte(i) | 0x20) == 'k'
        && KILL.matcher(packet.toString(start, len, StandardCharsets.UTF_8)).matches();
  }

  /** Whether the statement from {@code i} to {@code end} is a LOAD DATA|XML ... LOCAL. */
  static boolean isLoadLocal(ByteBuf packet, int i, int end) {
    return LOAD_LOCAL
        .matcher(packet.toString(i, Math.min(end - i, 256), StandardCharsets.UTF_8))
        .matches();
  }

  /**
   * Answers a COM_CHANGE_USER, COM_PROCESS_KILL or KILL statement.
   *
   * @throws RuntimeException for a malformed packet (the session closes)
   */
  void run(ByteBuf packet, int command) {
    int seq = Packets.sequenceId(packet);
    if (command == Commands.COM_CHANGE_USER) {
      changeUser(packet);
    } else if (command == Commands.COM_PROCESS_KILL) {
      kill(seq, packet.getUnsignedIntLE(packet.readerIndex() + Packets.HEADER_SIZE + 1), false);
    } else {
      Matcher m =
          KILL.matcher(
              packet.toString(
                  packet.readerIndex() + Packets.HEADER_SIZE + 1,
                  Packets.payloadLength(packet) - 1,
                  StandardCharsets.UTF_8));
      if (!m.matches()) {
        throw new IllegalStateException("not a KILL statement");
      }
      long target;
      try {
        target = Long.parseLong(m.group(2));
      } catch (NumberFormatException tooLong) {
        unknownThread(seq, m.group(2));
        return;
      }
      kill(seq, target, "QUERY".equalsIgnoreCase(m.group(1)));
    }
  }

  /**
   * KILL with the connection id the proxy advertised: KILL QUERY cancels the statement running on
   * whichever backend serves that client (over a side connection, as drivers' query timeouts
   * expect); KILL CONNECTION ends that client session, never a pooled backend.
   */
  private void kill(int seq, long targetId, boolean queryOnly) {
    ClientConnection found = session.frontend.connection(targetId);
    if (found == null) {
      unknownThread(seq, Long.toString(targetId));
      return;
    }
    if (!(found instanceof ClientSession target)
        || !target.user.name().equals(session.user.name())) {
      session.writeLocal(
          Packets.err(
              session.alloc(),
              seq + 1,
              ErrorCodes.KILL_DENIED,
              "HY000",
              "You are not owner of thread " + targetId));
      return;
    }
    if (target == session && !queryOnly) {
      session.close();
      return;
    }
    session.writeLocal(
        Packets.ok(session.alloc(), seq + 1, session.lastStatus(), session.capabilities));
    if (queryOnly) {
      target.cancelRunningCommand();
    } else {
      target.forceClose();
    }
  }

  private void unknownThread(int seq, String id) {
    session.writeLocal(
        Packets.err(
            session.alloc(),
            seq + 1,
            ErrorCodes.NO_SUCH_THREAD,
            "HY000",
            "Unknown thread id: " + id));
  }

  private void changeUser(ByteBuf packet) {
    HandshakeResponse41 hello =
        HandshakeResponse41.parseChangeUser(packet, session.capabilities, session.collation);
    pendingChangeUser = hello;
    // The client answers the scramble of the login's greeting; one without plugin names can only
    // answer with the 4.1 scramble.
    String plugin = hello.authPlugin() != null ? hello.authPlugin() : "mysql_native_password";
    changeUserStep(
        Packets.sequenceId(packet) + 1,
        session.authenticator.start(
            session.frontend.config(), hello.user(), plugin, hello.authResponse()));
  }

  /** Whether the next client packet continues this command's authentication exchange. */
  boolean awaitingAuthSwitch() {
    return pendingChangeUser != null;
  }

  /** The client's next packet in the authentication exchange of a COM_CHANGE_USER. */
  void onAuthSwitchReply(ByteBuf packet) {
    changeUserStep(
        Packets.sequenceId(packet) + 1, session.authenticator.next(Packets.payload(packet)));
  }

  private void changeUserStep(int seq, ClientAuthenticator.Step step) {
    HandshakeResponse41 hello = pendingChangeUser;
    byte[] message = session.authenticator.message();
    switch (step) {
      case SEND_AND_WAIT -> session.writeLocal(Packets.packet(session.alloc(), seq, message));
      case DENIED -> {
        pendingChangeUser = null;
        session.frontend.failedLogin(session.id, session.remoteHost, hello.user());
        session.closeWithError(
            seq,
            ErrorCodes.ACCESS_DENIED,
            "28000",
            ClientLogin.accessDenied(
                hello.user(), session.remoteHost, session.authenticator.usedPassword()));
      }
      case ACCEPTED -> {
        pendingChangeUser = null;
        if (message != null) {
          session.writeLocal(Packets.packet(session.alloc(), seq++, message));
        }
        session.changedUser(session.authenticator.user(), hello.collation(), hello.database());
        session.writeLocal(
            Packets.ok(session.alloc(), seq, session.lastStatus(), session.capabilities));
      }
    }
  }
}
