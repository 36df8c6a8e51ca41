package dev.mysqlpool.operator.render;

/**
 * What the renderers need from the operator's own configuration, passed in rather than read from
 * globals.
 *
 * @param proxyImage the proxy image used when a pool does not name one
 */
public record RenderSettings(String proxyImage) {
  /** The image a pool runs when neither the pool nor the operator names one. */
  public static final String DEFAULT_PROXY_IMAGE = "ghcr.io/mysqlpool/proxy-runtime:0.1.0";

  /** Settings with the default proxy image. */
  public static RenderSettings defaults() {
    return new RenderSettings(DEFAULT_PROXY_IMAGE);
  }
}
