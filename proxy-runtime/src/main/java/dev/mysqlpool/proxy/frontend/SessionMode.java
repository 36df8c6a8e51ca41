package dev.mysqlpool.proxy.frontend;

import dev.mysqlpool.proxy.backend.BackendConnection;
import dev.mysqlpool.proxy.protocol.ResponseTracker;
import io.netty.buffer.ByteBuf;

/**
 * What a pool mode decides at the few points where the modes differ. The session calls these on its
 * event loop at its decision points; {@link #SESSION} (session mode: a client keeps one backend
 * connection until it leaves) decides nothing, so the relay path holds no mode branches.
 */
interface SessionMode {
  /**
   * A COM_QUERY is about to go to the backend.
   *
   * @return the statement's {@link StatementScan} flags, or -1 when the mode answered it itself
   *     (the packet is then released)
   */
  int onQuery(ByteBuf packet);

  /**
   * A client command arrived (called for each, before anything else): the mode may take the
   * statement commands (COM_STMT_PREPARE, EXECUTE, SEND_LONG_DATA, CLOSE, RESET, FETCH).
   *
   * @return true when the mode took the packet (answered it, sent it, or holds it until it can);
   *     false to relay it as any other command, after borrowing a backend connection when none is
   *     lent (the mode is then asked again)
   */
  boolean onStatementCommand(ByteBuf packet, int command);

  /** Another command that the backend answers is about to go; returns its flags. */
  int onCommand(int command);

  /** A backend connection was just lent to the client: give it what the client carries. */
  void onLent(BackendConnection backend);

  /**
   * An OK packet of a client command's reply says the server's session state changed.
   *
   * @return the packet the client should see instead (a new buffer the caller writes), or null to
   *     forward the server's own; never takes ownership of {@code ok}
   */
  ByteBuf onStateChange(int flags, ByteBuf ok);

  /** The reply to a client command with these flags is complete. */
  void onReplyDone(int flags, ResponseTracker tracker);

  /**
   * Nothing is in flight and no transaction is open: the mode may hand the backend connection back
   * now, or send what must run first.
   */
  void onIdle();

  /**
   * Whether the client's session could continue on another backend connection now (nothing pins
   * it): a statement a read-only server refused is then sent again to the new writer.
   */
  boolean movable();

  /** Why the client keeps its backend connection, for the leak warning. */
  String holdReason();

  /** The client starts over as a fresh login would (COM_CHANGE_USER). */
  void forget();

  /** The session ends. */
  void close();

  /** Session mode. */
  SessionMode SESSION =
      new SessionMode() {
        @Override
        public int onQuery(ByteBuf packet) {
          return 0;
        }

        @Override
        public boolean onStatementCommand(ByteBuf packet, int command) {
          return false; // statement ids are the server's, relayed untouched
        }

        @Override
        public int onCommand(int command) {
          return 0;
        }

        @Override
        public void onLent(BackendConnection backend) {}

        @Override
        public ByteBuf onStateChange(int flags, ByteBuf ok) {
          return null;
        }

        @Override
        public void onReplyDone(int flags, ResponseTracker tracker) {}

        @Override
        public void onIdle() {}

        @Override
        public boolean movable() {
          return false;
        }

        @Override
        public String holdReason() {
          return "in session mode a client keeps its backend until it disconnects, so an application"
              + " that never closes its connections holds the pool";
        }

        @Override
        public void forget() {}

        @Override
        public void close() {}
      };
}
