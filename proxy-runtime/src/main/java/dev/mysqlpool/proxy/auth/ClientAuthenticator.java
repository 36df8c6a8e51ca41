package dev.mysqlpool.proxy.auth;

import dev.mysqlpool.proxy.config.ProxyConfig;
import dev.mysqlpool.proxy.config.ProxyConfig.User;
import dev.mysqlpool.proxy.protocol.Packets;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;

/**
 * The proxy's server side of one client authentication (at login, or for COM_CHANGE_USER): which
 * plugin it asks for, the AuthSwitchRequest when the client answered with another, and the check of
 * the answer against the configured users. Login handlers ask this class, so a new plugin is added
 * here, not in the frontend.
 *
 * <p>Threading: one instance per exchange, on the client's event loop. Holds the scramble sent in
 * the greeting; the client's replies are not retained.
 */
public final class ClientAuthenticator {
  /** The plugin the greeting names and AuthSwitchRequest asks for. */
  public static final String PLUGIN = NativePassword.PLUGIN_NAME;

  /** Unknown users are checked against this, so the answer takes the same path and time. */
  private static final byte[] UNKNOWN_USER_PASSWORD =
      "\u0000unknown".getBytes(StandardCharsets.UTF_8);

  private final byte[] seed;

  /**
   * @param seed the 20-byte scramble sent in the greeting (owned by this object from now on)
   */
  public ClientAuthenticator(byte[] seed) {
    this.seed = seed;
  }

  /**
   * Whether a client that answered with {@code clientPlugin} must first be switched to {@link
   * #PLUGIN} (null: the client named none, and answered with the greeting's plugin).
   */
  public boolean needsSwitch(String clientPlugin) {
    return clientPlugin != null && !PLUGIN.equals(clientPlugin);
  }

  /**
   * The AuthSwitchRequest asking the client to answer this scramble with {@link #PLUGIN}; the
   * caller writes (and so releases) it.
   *
   * @see <a
   *     href="https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_auth_switch_request.html">AuthSwitchRequest</a>
   */
  public ByteBuf switchRequest(ByteBufAllocator alloc, int seq) {
    ByteBuf buf = Packets.start(alloc, 32 + PLUGIN.length(), seq);
    buf.writeByte(Packets.EOF);
    Packets.writeStringNul(buf, PLUGIN);
    buf.writeBytes(seed);
    buf.writeByte(0);
    return Packets.finish(buf);
  }

  /**
   * Checks the client's answer, in the same time for an unknown user as for a wrong password.
   *
   * @return the user, or null when the account is unknown or the answer wrong
   */
  public User verify(ProxyConfig config, String userName, byte[] reply) {
    User u = config.user(userName);
    byte[] password =
        u == null ? UNKNOWN_USER_PASSWORD : u.password().getBytes(StandardCharsets.UTF_8);
    boolean ok = NativePassword.verify(password, seed, reply);
    return ok ? u : null;
  }
}
