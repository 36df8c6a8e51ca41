package dev.mysqlpool.proxy.frontend;

import dev.mysqlpool.proxy.codec.MySQLPacketDecoder;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.timeout.IdleStateHandler;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The pipeline of one accepted client connection: {@code decoder} (MySQL packets, reassembled),
 * {@code idle} (frontend.clientIdleTimeout, when set), then {@code login} ({@link ClientLogin}),
 * which replaces itself with {@code session} ({@link ClientSession}) once the client is
 * authenticated. TLS, when the client asks for it, goes in front of the decoder ({@code tls}, added
 * by the login).
 */
public final class ClientChannelInitializer extends ChannelInitializer<SocketChannel> {
  private final Frontend frontend;

  public ClientChannelInitializer(Frontend frontend) {
    this.frontend = frontend;
  }

  @Override
  protected void initChannel(SocketChannel ch) {
    MySQLPacketDecoder decoder = new MySQLPacketDecoder();
    // Until the client has logged in, nothing it sends may be large (see ClientLogin).
    decoder.maxPayload(ClientLogin.MAX_LOGIN_PACKET);
    ch.pipeline().addLast("decoder", decoder);
    Duration idle = frontend.config().frontend().clientIdleTimeout();
    if (!idle.isZero()) {
      ch.pipeline()
          .addLast(
              "idle", new IdleStateHandler(false, idle.toMillis(), 0, 0, TimeUnit.MILLISECONDS));
    }
    ch.pipeline().addLast("login", frontend.newLogin());
  }
}
