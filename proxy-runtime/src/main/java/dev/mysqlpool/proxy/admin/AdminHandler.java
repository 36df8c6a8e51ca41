package dev.mysqlpool.proxy.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.mysqlpool.proxy.digest.DigestSort;
import dev.mysqlpool.proxy.net.Buffers;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes aggregated requests to {@link AdminEndpoints}: GET or HEAD, except the digest reset, which
 * is a POST. Shared by all admin connections; it keeps no per-channel state. {@link
 * SimpleChannelInboundHandler} releases each request after {@link #channelRead0}.
 */
@Sharable
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
  static final String TEXT_PLAIN = "text/plain; charset=utf-8";
  static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
  static final String APPLICATION_JSON = "application/json";
  static final String ALLOW = "GET, HEAD";
  static final String DIGESTS = "/stats/digests";
  static final String DIGESTS_RESET = "/stats/digests/reset";
  static final int DEFAULT_DIGEST_LIMIT = 100;
  static final int MAX_DIGEST_LIMIT = 1_000_000;

  private static final Logger LOG = LoggerFactory.getLogger(AdminHandler.class);

  /**
   * ObjectMapper is thread-safe once configured; one instance avoids rebuilding serializers per
   * request.
   */
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final AdminEndpoints endpoints;

  AdminHandler(AdminEndpoints endpoints) {
    this.endpoints = endpoints;
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
    if (!request.decoderResult().isSuccess()) {
      // The connection's framing is no longer trustworthy, so answer once and close.
      writeAndClose(
          ctx,
          response(
              HttpVersion.HTTP_1_1,
              HttpResponseStatus.BAD_REQUEST,
              TEXT_PLAIN,
              utf8("bad request\n"),
              false));
      return;
    }
    boolean keepAlive = HttpUtil.isKeepAlive(request);
    boolean head = HttpMethod.HEAD.equals(request.method());
    String path = path(request.uri());
    FullHttpResponse response;
    try {
      response =
          path.equals(DIGESTS) || path.equals(DIGESTS_RESET)
              ? digests(request.protocolVersion(), request.method(), request.uri(), path, head)
              : route(request.protocolVersion(), request.method(), path, head);
    } catch (Exception e) {
      LOG.warn("admin endpoint {} {} failed", request.method(), path, e);
      response =
          response(
              request.protocolVersion(),
              HttpResponseStatus.INTERNAL_SERVER_ERROR,
              TEXT_PLAIN,
              utf8("internal error serving " + path + ", see the proxy log\n"),
              head);
    }
    HttpUtil.setKeepAlive(response, keepAlive);
    if (keepAlive) {
      ctx.writeAndFlush(response, ctx.voidPromise());
    } else {
      writeAndClose(ctx, response);
    }
  }

  private FullHttpResponse route(HttpVersion version, HttpMethod method, String path, boolean head)
      throws IOException {
    boolean known =
        path.equals("/healthz")
            || path.equals("/readyz")
            || path.equals("/backendz")
            || path.equals("/metrics")
            || path.equals("/stats");
    if (!known) {
      return response(version, HttpResponseStatus.NOT_FOUND, TEXT_PLAIN, utf8("not found\n"), head);
    }
    if (!head && !HttpMethod.GET.equals(method)) {
      FullHttpResponse response =
          response(
              version,
              HttpResponseStatus.METHOD_NOT_ALLOWED,
              TEXT_PLAIN,
              utf8("method not allowed\n"),
              false);
      response.headers().set(HttpHeaderNames.ALLOW, ALLOW);
      return response;
    }
    switch (path) {
      case "/healthz":
        return endpoints.alive()
            ? response(version, HttpResponseStatus.OK, TEXT_PLAIN, utf8("ok\n"), head)
            : response(
                version,
                HttpResponseStatus.SERVICE_UNAVAILABLE,
                TEXT_PLAIN,
                utf8(lineOf(endpoints.livenessDetail(), "not alive\n")),
                head);
      case "/readyz":
        if (endpoints.ready()) {
          return response(version, HttpResponseStatus.OK, TEXT_PLAIN, utf8("ready\n"), head);
        }
        return response(
            version,
            HttpResponseStatus.SERVICE_UNAVAILABLE,
            TEXT_PLAIN,
            utf8(lineOf(endpoints.readinessDetail(), "not ready\n")),
            head);
      case "/backendz":
        return response(
            version,
            endpoints.backendsUp() ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE,
            TEXT_PLAIN,
            utf8(lineOf(endpoints.backendDetail(), "backends unknown\n")),
            head);
      case "/metrics":
        return response(
            version,
            HttpResponseStatus.OK,
            PROMETHEUS_TEXT,
            utf8(endpoints.prometheusText()),
            head);
      default: // "/stats"
        return response(
            version, HttpResponseStatus.OK, APPLICATION_JSON, json(endpoints.stats()), head);
    }
  }

  /**
   * {@code GET /stats/digests?sort=total_time&limit=100} and {@code POST /stats/digests/reset}
   * (which starts the view over, so it is never a GET: a prefetch or a crawler must not reset it).
   */
  private FullHttpResponse digests(
      HttpVersion version, HttpMethod method, String uri, String path, boolean head)
      throws IOException {
    boolean reset = path.equals(DIGESTS_RESET);
    boolean allowed =
        reset ? HttpMethod.POST.equals(method) : head || HttpMethod.GET.equals(method);
    if (!allowed) {
      FullHttpResponse response =
          response(
              version,
              HttpResponseStatus.METHOD_NOT_ALLOWED,
              TEXT_PLAIN,
              utf8(
                  reset ? "method not allowed; POST resets the digests\n" : "method not allowed\n"),
              false);
      response.headers().set(HttpHeaderNames.ALLOW, reset ? "POST" : ALLOW);
      return response;
    }
    QueryStringDecoder query = new QueryStringDecoder(uri);
    String sortName = parameter(query, "sort", DigestSort.TOTAL_TIME.parameter());
    DigestSort sort = DigestSort.named(sortName);
    if (sort == null) {
      return badRequest(
          version,
          "sort: '" + sortName + "' is not an order of the digests; use " + DigestSort.names());
    }
    String limitText = parameter(query, "limit", String.valueOf(DEFAULT_DIGEST_LIMIT));
    int limit = limitText.matches("\\d{1,7}") ? Integer.parseInt(limitText) : 0;
    if (limit < 1 || limit > MAX_DIGEST_LIMIT) {
      return badRequest(
          version,
          "limit: '" + limitText + "' is not a whole number from 1 to " + MAX_DIGEST_LIMIT);
    }
    Object view =
        reset ? endpoints.resetQueryDigests(sort, limit) : endpoints.queryDigests(sort, limit);
    if (view == null) {
      return response(version, HttpResponseStatus.NOT_FOUND, TEXT_PLAIN, utf8("not found\n"), head);
    }
    return response(version, HttpResponseStatus.OK, APPLICATION_JSON, json(view), head);
  }

  private static String parameter(QueryStringDecoder query, String name, String otherwise) {
    List<String> values = query.parameters().get(name);
    return values == null || values.isEmpty() ? otherwise : values.get(values.size() - 1);
  }

  private static FullHttpResponse badRequest(HttpVersion version, String message) {
    return response(
        version, HttpResponseStatus.BAD_REQUEST, TEXT_PLAIN, utf8(message + "\n"), false);
  }

  private static byte[] json(Object value) throws IOException {
    byte[] json = JSON.writeValueAsBytes(value);
    byte[] body = new byte[json.length + 1];
    System.arraycopy(json, 0, body, 0, json.length);
    body[json.length] = '\n';
    return body;
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    Buffers.FAILURES.recordIfOutOfMemory(cause);
    // Reaches here for transport errors (resets, oversized headers already answered by the codec);
    // the
    // connection is of no further use, but the event loop and the other connections carry on.
    if (cause instanceof IOException) {
      LOG.debug("admin connection {} failed", ctx.channel().remoteAddress(), cause);
    } else {
      LOG.warn("admin connection {} failed", ctx.channel().remoteAddress(), cause);
    }
    ctx.close();
  }

  /**
   * Builds a response whose Content-Length is the body's even for HEAD, which sends the headers of
   * the GET without its body (RFC 9110 section 9.3.2).
   */
  private static FullHttpResponse response(
      HttpVersion version,
      HttpResponseStatus status,
      String contentType,
      byte[] body,
      boolean head) {
    ByteBuf content = head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(body);
    FullHttpResponse response = new DefaultFullHttpResponse(version, status, content);
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
    response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
    response.headers().set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE);
    return response;
  }

  private static void writeAndClose(ChannelHandlerContext ctx, FullHttpResponse response) {
    response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
  }

  /** The request target without its query string: scrapers may append parameters we ignore. */
  static String path(String uri) {
    int query = uri.indexOf('?');
    return query < 0 ? uri : uri.substring(0, query);
  }

  private static String lineOf(String detail, String fallback) {
    if (detail == null || detail.isEmpty()) {
      return fallback;
    }
    return detail.endsWith("\n") ? detail : detail + "\n";
  }

  private static byte[] utf8(String text) {
    return text == null ? new byte[0] : text.getBytes(StandardCharsets.UTF_8);
  }
}
