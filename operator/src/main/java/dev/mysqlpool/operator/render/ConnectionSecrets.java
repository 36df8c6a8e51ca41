package dev.mysqlpool.operator.render;

import dev.mysqlpool.operator.api.MySQLPoolSpec;
import dev.mysqlpool.operator.common.Names;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.TreeMap;

/**
 * The Secret applications mount to reach the pool, as MaxScale and CloudNativePG give one: {@code
 * host} and {@code port} of the Service (its cluster DNS name, for clients in the cluster; clients
 * outside use {@code status.endpoint}), and per user {@code <user>.uri} ({@code
 * mysql://user:password@host:port/}) and {@code <user>.jdbcUrl}. User names and passwords are
 * percent-encoded in both.
 */
public final class ConnectionSecrets {
  private ConnectionSecrets() {}

  /**
   * The pool's connection Secret.
   *
   * @param passwords each user's password, from the pool's credentials Secret
   */
  public static Secret secret(Plan plan, Map<String, String> passwords) {
    MySQLPoolSpec spec = plan.spec();
    String host = Names.proxy(plan.name()) + "." + plan.namespace() + ".svc";
    int port = spec.service.port;
    Map<String, String> data = new TreeMap<>();
    data.put("host", host);
    data.put("port", String.valueOf(port));
    for (MySQLPoolSpec.User u : spec.credentials.users) {
      String user = encode(u.name);
      String password = encode(passwords.getOrDefault(u.name, ""));
      data.put(u.name + ".uri", "mysql://" + user + ":" + password + "@" + host + ":" + port + "/");
      data.put(
          u.name + ".jdbcUrl",
          "jdbc:mysql://" + host + ":" + port + "/?user=" + user + "&password=" + password);
    }
    Map<String, String> encoded = new TreeMap<>();
    data.forEach(
        (k, v) ->
            encoded.put(k, Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.UTF_8))));
    return new SecretBuilder()
        .withNewMetadata()
        .withName(Names.connection(plan.name()))
        .withNamespace(plan.namespace())
        .withLabels(Names.labels(plan.name()))
        .endMetadata()
        .withType("Opaque")
        .withData(encoded)
        .build();
  }

  /** Percent-encoding that is valid in a URI's user info and in a query value alike. */
  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
