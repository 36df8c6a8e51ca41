package dev.mysqlpool.proxy.auth;

import dev.mysqlpool.proxy.config.ProxyConfig;
import dev.mysqlpool.proxy.config.ProxyConfig.AuthPlugin;
import dev.mysqlpool.proxy.config.ProxyConfig.User;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * The proxy's server side of one client authentication (at login, or for COM_CHANGE_USER), for
 * every plugin the proxy offers: which plugin the account uses, the AuthSwitchRequest when the
 * client answered with another, and the plugin's own exchange:
 *
 * <ul>
 *   <li>{@code mysql_native_password}: one challenge-response.
 *   <li>{@code caching_sha2_password}: the fast path ({@code 0x01 0x03}, then OK) for an account
 *       cached by an earlier full authentication; otherwise {@code 0x01 0x04} and the full path:
 *       the NUL-terminated password over TLS, or over plain TCP the password encrypted with the
 *       proxy's RSA key, which the client may first ask for ({@code 0x02}).
 * </ul>
 *
 * Login handlers drive it step by step and frame what it returns into packets, so a new plugin is
 * added here, not in the frontend. Unknown users and wrong passwords take the same steps, get the
 * same replies and cost the same work, so a client cannot tell them apart.
 *
 * <p>Threading: one instance per client connection, on its event loop; {@link #start} begins a new
 * exchange with the scramble of the greeting. The client's replies are not retained.
 */
public final class ClientAuthenticator {
  /** What the caller does next. */
  public enum Step {
    /** Send {@link #message()}, then hand the client's next packet to {@link #next}. */
    SEND_AND_WAIT,
    /** Authenticated: send {@link #message()} if there is one, then OK. */
    ACCEPTED,
    /** Wrong password or unknown user: send error 1045. */
    DENIED
  }

  private enum State {
    IDLE,
    /** An AuthSwitchRequest went out; the next packet answers it. */
    SWITCHED,
    /** caching_sha2_password asked for the full authentication. */
    FULL,
    /** caching_sha2_password sent its public key; the next packet is the encrypted password. */
    KEY_SENT
  }

  /** Unknown users are checked against this, so the answer takes the same path and time. */
  private static final byte[] UNKNOWN_USER_PASSWORD =
      "\u0000unknown".getBytes(StandardCharsets.UTF_8);

  private static final byte[] FAST_AUTH_SUCCESS = {0x01, CachingSha2Password.FAST_AUTH_SUCCESS};
  private static final byte[] PERFORM_FULL_AUTHENTICATION = {
    0x01, CachingSha2Password.PERFORM_FULL_AUTHENTICATION
  };

  private final byte[] seed;
  private final CachingSha2Server sha2;
  private boolean secure;

  private State state = State.IDLE;
  private User user;
  private byte[] password;
  private AuthPlugin plugin;
  private boolean usedPassword;
  private String path;
  private byte[] message;

  /**
   * @param seed the 20-byte scramble sent in the greeting (owned by this object from now on)
   * @param sha2 the proxy's caching_sha2_password cache and RSA key
   */
  public ClientAuthenticator(byte[] seed, CachingSha2Server sha2) {
    this.seed = seed;
    this.sha2 = sha2;
  }

  /** The connection is encrypted from now on (TLS after the SSLRequest). */
  public void secureTransport() {
    this.secure = true;
  }

  /**
   * Begins an exchange with the client's first answer.
   *
   * @param clientPlugin the plugin the client answered with
   * @param reply the client's answer to the scramble
   */
  public Step start(ProxyConfig config, String userName, String clientPlugin, byte[] reply) {
    user = config.user(userName);
    password =
        user == null ? UNKNOWN_USER_PASSWORD : user.password().getBytes(StandardCharsets.UTF_8);
    if (user != null) {
      plugin = config.authPlugin(user);
    } else {
      // An unknown user pretends to have the plugin the client tried, so the steps do not tell
      // "no such user" from "wrong password" (only a known user's differing plugin shows).
      AuthPlugin asked = AuthPlugin.named(clientPlugin);
      plugin = asked != null ? asked : config.frontend().defaultAuthPlugin();
    }
    usedPassword = reply.length > 0;
    path = null;
    if (!plugin.pluginName().equals(clientPlugin)) {
      state = State.SWITCHED;
      message = switchRequest();
      return Step.SEND_AND_WAIT;
    }
    return answer(reply);
  }

  /** The client's next packet (its payload) in an exchange that returned SEND_AND_WAIT. */
  public Step next(byte[] payload) {
    switch (state) {
      case SWITCHED:
        usedPassword = payload.length > 0;
        return answer(payload);
      case FULL:
        if (secure) {
          return fullAuthentication(CachingSha2Server.withoutNul(payload), "full_tls");
        }
        if (payload.length == 1 && payload[0] == CachingSha2Password.REQUEST_PUBLIC_KEY) {
          state = State.KEY_SENT;
          message = sha2.publicKeyMessage();
          return Step.SEND_AND_WAIT;
        }
        // A client that already has the proxy's public key sends the encrypted password at once.
        return fullAuthentication(sha2.decryptPassword(payload, seed), "full_rsa");
      case KEY_SENT:
        return fullAuthentication(sha2.decryptPassword(payload, seed), "full_rsa");
      default:
        throw new IllegalStateException("no authentication step is awaited (" + state + ")");
    }
  }

  private Step answer(byte[] reply) {
    if (plugin == AuthPlugin.MYSQL_NATIVE_PASSWORD) {
      boolean ok = NativePassword.verify(password, seed, reply);
      return end(ok && user != null, null, "challenge");
    }
    boolean fast = CachingSha2Password.verify(password, seed, reply);
    if (fast && user != null && sha2.cached(user.name(), password)) {
      return end(true, FAST_AUTH_SUCCESS, "fast");
    }
    if (reply.length == 0) {
      // An empty answer means an empty password, which no configured account has.
      return end(false, null, null);
    }
    state = State.FULL;
    message = PERFORM_FULL_AUTHENTICATION;
    return Step.SEND_AND_WAIT;
  }

  private Step fullAuthentication(byte[] candidate, String how) {
    boolean ok = candidate != null && MessageDigest.isEqual(password, candidate) && user != null;
    if (ok) {
      sha2.remember(user.name(), password);
    }
    return end(ok, null, how);
  }

  private Step end(boolean ok, byte[] last, String how) {
    state = State.IDLE;
    message = last;
    path = ok ? how : null;
    return ok ? Step.ACCEPTED : Step.DENIED;
  }

  /**
   * The payload to send before the client's next packet (SEND_AND_WAIT) or before the OK
   * (ACCEPTED); null when there is none. The caller frames it with the next sequence id.
   */
  public byte[] message() {
    return message;
  }

  /** The authenticated account (after ACCEPTED). */
  public User user() {
    return user;
  }

  /** The plugin the exchange ran (after ACCEPTED or DENIED). */
  public AuthPlugin plugin() {
    return plugin;
  }

  /**
   * How the accepted client proved its password, for metrics: {@code challenge}
   * (mysql_native_password), {@code fast}, {@code full_tls} or {@code full_rsa}.
   */
  public String path() {
    return path;
  }

  /** Whether the client sent a password, for error 1045's "(using password: YES|NO)". */
  public boolean usedPassword() {
    return usedPassword;
  }

  /**
   * The OK packet's info that lets MariaDB's clients verify a certificate they cannot check against
   * a CA ({@link CertificateProof}); null when the accepted plugin has no such proof.
   *
   * @param certificateFingerprint SHA-256 of the certificate this connection presented
   */
  public byte[] certificateProof(byte[] certificateFingerprint) {
    return plugin == AuthPlugin.MYSQL_NATIVE_PASSWORD && user != null
        ? CertificateProof.nativePassword(password, seed, certificateFingerprint)
        : null;
  }

  /**
   * AuthSwitchRequest: 0xFE, the plugin's name, the scramble and its NUL.
   *
   * @see <a
   *     href="https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase_packets_protocol_auth_switch_request.html">AuthSwitchRequest</a>
   */
  private byte[] switchRequest() {
    byte[] name = plugin.pluginName().getBytes(StandardCharsets.US_ASCII);
    byte[] out = new byte[1 + name.length + 1 + seed.length + 1];
    out[0] = (byte) 0xfe;
    System.arraycopy(name, 0, out, 1, name.length);
    System.arraycopy(seed, 0, out, name.length + 2, seed.length);
    return out;
  }
}
