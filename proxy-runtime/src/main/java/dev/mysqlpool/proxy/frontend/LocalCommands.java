package dev.mysqlpool.proxy.frontend;

import dev.mysqlpool.proxy.auth.ClientAuthenticator;
import dev.mysqlpool.proxy.protocol.Commands;
import dev.mysqlpool.proxy.protocol.ErrorCodes;
import dev.mysqlpool.proxy.protocol.HandshakeResponse41;
import dev.mysqlpool.proxy.protocol.Packets;
import dev.mysqlpool.proxy.sql.Keyword;
import dev.mysqlpool.proxy.sql.KillStatement;
import dev.mysqlpool.proxy.sql.SqlLexer;
import io.netty.buffer.ByteBuf;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The commands a session answers itself rather than relaying: KILL (as COM_QUERY or
 * COM_PROCESS_KILL) with the connection ids the proxy advertised, COM_CHANGE_USER, which the proxy
 * authenticates as it does a login, COM_PING while no backend is lent, and the commands it does not
 * relay (1047); and the error before an idle client is disconnected. The session runs commands only
 * when no reply is owed, so their answers go out in order.
 *
 * <p>Threading: the session's event loop. Packets passed in are read, never released here.
 */
final class LocalCommands {
  private static final Logger log = LoggerFactory.getLogger(LocalCommands.class);
  private final ClientSession session;

  /** A COM_CHANGE_USER whose authentication exchange awaits the client's next packet, or null. */
  private HandshakeResponse41 pendingChangeUser;

  LocalCommands(ClientSession session) {
    this.session = session;
  }

  /**
   * Whether this COM_QUERY starts with KILL: every form is answered here, since an id the proxy
   * gave means nothing to a backend, and {@code KILL USER} there would hit the pool's own
   * connections.
   */
  static boolean isKill(ByteBuf packet) {
    return SqlLexer.firstKeyword(packet, start(packet), end(packet)) == Keyword.KILL;
  }

  private static int start(ByteBuf packet) {
    return packet.readerIndex() + Packets.HEADER_SIZE + 1;
  }

  private static int end(ByteBuf packet) {
    return packet.readerIndex() + Packets.HEADER_SIZE + Packets.payloadLength(packet);
  }

  /**
   * Answers a COM_CHANGE_USER, COM_PROCESS_KILL or KILL statement, a COM_PING while no backend is
   * lent, or a command the proxy does not relay.
   *
   * @throws RuntimeException for a malformed packet (the session closes)
   */
  void run(ByteBuf packet, int command) {
    int seq = Packets.sequenceId(packet);
    switch (command) {
      case Commands.COM_CHANGE_USER -> changeUser(packet);
      case Commands.COM_PROCESS_KILL ->
          kill(seq, packet.getUnsignedIntLE(packet.readerIndex() + Packets.HEADER_SIZE + 1), false);
      case Commands.COM_QUERY -> killStatement(packet, seq);
      case Commands.COM_PING ->
          session.writeLocal(
              Packets.ok(session.alloc(), seq + 1, session.lastStatus(), session.capabilities));
      default -> {
        session.metrics().error("unsupported_command");
        session.writeLocal(
            Packets.err(
                session.alloc(),
                seq + 1,
                ErrorCodes.UNKNOWN_COMMAND,
                "08S01",
                "mysqlpool proxy does not support " + Commands.name(command)));
      }
    }
  }

  private void killStatement(ByteBuf packet, int seq) {
    KillStatement k = KillStatement.parse(packet, start(packet), end(packet));
    if (k == null) {
      throw new IllegalStateException("not a KILL statement");
    } else if (!k.supported()) {
      session.writeLocal(
          Packets.err(
              session.alloc(),
              seq + 1,
              ErrorCodes.NOT_SUPPORTED_YET,
              "42000",
              "mysqlpool: only KILL [QUERY | CONNECTION] <id> alone in its statement is supported"
                  + " through the proxy, with an id from the proxy's greeting or CONNECTION_ID()"
                  + " as the driver saw it at connect"));
    } else if (k.threadId() < 0) {
      unknownThread(seq, k.idText());
    } else {
      kill(seq, k.threadId(), k.queryOnly());
    }
  }

  /** frontend.clientIdleTimeout passed with nothing in flight: error 4031, then close. */
  void disconnectIdle() {
    log.info(
        "client #{} ({}) idle for longer than frontend.clientIdleTimeout ({}); closing",
        session.id,
        session.describe(),
        session.frontend.config().frontend().clientIdleTimeout());
    session.metrics().error("client_idle_timeout");
    session
        .client
        .writeAndFlush(
            Packets.err(
                session.alloc(),
                0,
                ErrorCodes.CLIENT_IDLE_TIMEOUT,
                "HY000",
                "The client was disconnected by the server because of inactivity"
                    + " (frontend.clientIdleTimeout)"))
        .addListener(f -> session.close());
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
