package dev.mysqlpool.operator.render;

import dev.mysqlpool.operator.api.BackendTlsSpec;
import dev.mysqlpool.operator.api.FrontendTlsSpec;
import dev.mysqlpool.operator.api.MySQLPoolSpec;
import dev.mysqlpool.operator.api.ReaderSpec;
import dev.mysqlpool.operator.api.RoutingSpec;
import dev.mysqlpool.operator.common.Names;
import dev.mysqlpool.operator.validation.FieldError;
import dev.mysqlpool.proxy.config.ConfigException;
import dev.mysqlpool.proxy.config.ConfigFile;
import dev.mysqlpool.proxy.config.Durations;
import dev.mysqlpool.proxy.config.ProxyConfig.PoolMode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Renders the proxy's config file through the proxy's own typed model ({@link ConfigFile}, from
 * proxy-config) and checks it with the proxy's own validation, so a file the proxy would refuse is
 * reported before it reaches a ConfigMap. Only values the operator decides or the user overrode are
 * written; everything else keeps the proxy's default. Passwords are never written: each user points
 * at a file of the mounted Secret, relative to the config file's folder.
 */
public final class ProxyConfigs {
  /** The backend's name in the proxy config. */
  public static final String BACKEND_NAME = Names.WRITER_BACKEND;

  /** The backend's role in the proxy config: spec.backend is the writer endpoint. */
  public static final String BACKEND_ROLE = "writer";

  /** The role of each of spec.backend.readers in the proxy config. */
  public static final String READER_ROLE = "reader";

  private static final Pattern PROXY_FIELD =
      Pattern.compile("^([A-Za-z]+)(\\[(\\d+)\\])?(\\.(\\w+))?");

  private ProxyConfigs() {}

  /** The config file's text. */
  public static String yaml(Plan plan) {
    return file(plan).toYaml();
  }

  /** The part of the config file a change of which needs a restart (see ConfigFile). */
  public static String restartRelevantYaml(Plan plan) {
    return file(plan).restartRelevantYaml();
  }

  /**
   * What the proxy would refuse in the rendered file, each at the spec field it was rendered from
   * and with the proxy's own fix; empty when the proxy starts with it.
   */
  public static List<FieldError> problems(Plan plan) {
    try {
      file(plan).check();
      return List.of();
    } catch (ConfigException e) {
      List<FieldError> out = new ArrayList<>();
      for (String p : e.problems()) {
        out.add(
            new FieldError(specField(p), "the proxy would refuse the rendered proxy.yaml: " + p));
      }
      return out;
    }
  }

  /**
   * A short hash of config text; a pod template annotation, so a change the proxy cannot reload
   * rolls the pods.
   */
  public static String hash(String configText) {
    try {
      byte[] d =
          MessageDigest.getInstance("SHA-256").digest(configText.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  /** The typed config file of a pool. */
  static ConfigFile file(Plan plan) {
    MySQLPoolSpec spec = plan.spec();
    ConfigFile f = new ConfigFile();
    f.listen.host = "0.0.0.0";
    f.listen.port = Names.MYSQL_PORT;
    f.admin.host = "0.0.0.0";
    f.admin.port = Names.ADMIN_PORT;
    f.backends.add(
        new ConfigFile.Backend(
            BACKEND_NAME,
            spec.backend.host,
            spec.backend.port,
            // spec.backend names the writer endpoint (the schema says so): the proxy checks it is
            // writable and follows it through a failover.
            BACKEND_ROLE,
            backendTls(spec),
            null));
    if (spec.readWriteSplit()) {
      for (int i = 0; i < spec.backend.readers.size(); i++) {
        ReaderSpec r = spec.backend.readers.get(i);
        // The readers get the writer's TLS settings: an Aurora or RDS cluster's replicas carry
        // certificates from the same CA, and their names are in them.
        f.backends.add(
            new ConfigFile.Backend(
                r.backendName(i),
                r.host,
                Plan.readerPort(spec, r),
                READER_ROLE,
                backendTls(spec),
                null,
                r.weight == 1 ? null : r.weight));
      }
    }
    for (MySQLPoolSpec.User u : spec.credentials.users) {
      f.users.add(new ConfigFile.User(u.name, Names.PASSWORD_DIR + "/" + u.name, u.backendUser));
    }
    MySQLPoolSpec.Pool p = spec.pool;
    f.pool.mode = "transaction".equals(p.mode) ? PoolMode.TRANSACTION : PoolMode.SESSION;
    f.pool.maxConnections = plan.sizing().perReplica();
    f.pool.minIdle = plan.sizing().minIdle();
    f.pool.maxIdle = plan.sizing().maxIdle();
    f.pool.idleTimeout = plan.timeouts().idleTimeout();
    f.pool.maxLifetime = plan.timeouts().maxLifetime();
    f.pool.connectTimeout = Durations.parse(p.connectTimeout);
    f.pool.acquireTimeout = Durations.parse(p.acquireTimeout);
    f.pool.validationInterval = Durations.parse(p.validationInterval);
    f.pool.leakDetectionThreshold = Durations.parse(p.leakDetectionThreshold);
    f.pool.maxConcurrentConnects = p.maxConcurrentConnects;
    f.pool.switchoverTimeout = Durations.parse(p.switchoverTimeout);
    f.pool.dnsTtl = Durations.parse(p.dnsTtl);
    f.pool.maxPreparedStatementsPerConnection = p.maxPreparedStatementsPerConnection;
    f.pool.tcpKeepAliveIdle = Durations.parse(p.tcpKeepAliveIdle);
    f.pool.tcpKeepAliveInterval = Durations.parse(p.tcpKeepAliveInterval);
    f.pool.tcpKeepAliveCount = p.tcpKeepAliveCount;
    f.frontend.maxClientConnections = spec.frontend.maxClientConnections;
    f.frontend.clientIdleTimeout = plan.timeouts().clientIdleTimeout();
    f.frontend.handshakeTimeout = Durations.parse(spec.frontend.handshakeTimeout);
    f.frontend.tcpKeepAliveIdle = plan.timeouts().tcpKeepAliveIdle();
    f.frontend.tls = frontendTls(spec);
    f.shutdown.drainTimeout = plan.timeouts().drainTimeout();
    Duration lbWait = plan.timeouts().loadBalancerWait();
    f.shutdown.loadBalancerWait = lbWait.isZero() ? null : lbWait;
    RoutingSpec routing = spec.routing;
    if (routing != null && routing.readWriteSplit) {
      f.routing.readWriteSplit = true;
      f.routing.maxReplicationLag = Durations.parse(routing.maxReplicationLag);
      f.routing.readYourWrites = routing.readYourWrites;
      f.routing.readYourWritesWait = Durations.parse(routing.readYourWritesWait);
      for (RoutingSpec.Rule rule : routing.rules) {
        f.routing.rules.add(new ConfigFile.Rule(rule.match, rule.to));
      }
    }
    return f;
  }

  /**
   * The files of spec.tls's Secret, where the pod's projected volume puts them (Deployments); null
   * keeps the proxy's default, optional with a self-signed certificate. The paths never change, so
   * a renewed certificate changes neither this file nor the pod template: the proxy re-reads the
   * files.
   */
  static ConfigFile.FrontendTls frontendTls(MySQLPoolSpec spec) {
    FrontendTlsSpec t = spec.tls;
    if (t == null) {
      return null;
    }
    if (t.secretName == null) {
      return new ConfigFile.FrontendTls(t.mode, null, null);
    }
    return new ConfigFile.FrontendTls(
        t.mode,
        FrontendTlsSpec.DIR + "/" + FrontendTlsSpec.CERT_KEY,
        FrontendTlsSpec.DIR + "/" + FrontendTlsSpec.KEY_KEY);
  }

  /** spec.backend.tls with the CA's file, or null for the proxy's default (preferred). */
  static ConfigFile.BackendTls backendTls(MySQLPoolSpec spec) {
    BackendTlsSpec t = spec.backend.tls;
    if (t == null) {
      return null;
    }
    return new ConfigFile.BackendTls(t.mode, t.ca == null ? null : caFile(t.ca));
  }

  /** The CA bundle's file, relative to the config file's folder: named like its key. */
  static String caFile(BackendTlsSpec.CaSource ca) {
    return BackendTlsSpec.DIR + "/" + ca.key;
  }

  /**
   * The spec field a proxy config field was rendered from, e.g. pool.maxIdle: spec.pool.maxIdle.
   */
  static String specField(String problem) {
    Matcher m = PROXY_FIELD.matcher(problem);
    if (!m.find()) {
      return "spec";
    }
    String section = m.group(1);
    String field = m.group(5);
    switch (section) {
      case "frontend":
        return "tls".equals(field)
            ? "spec.tls"
            : "spec.frontend" + (field == null ? "" : "." + field);
      case "pool", "shutdown":
        return "spec." + section + (field == null ? "" : "." + field);
      case "backends":
        // The writer is rendered first, the readers after it in spec order.
        String backend =
            m.group(3) == null || m.group(3).equals("0")
                ? "spec.backend"
                : "spec.backend.readers[" + (Integer.parseInt(m.group(3)) - 1) + "]";
        return backend
            + (field == null || field.equals("name") || field.equals("role") ? "" : "." + field);
      case "routing":
        int colon = problem.indexOf(':');
        return "spec." + (colon < 0 ? "routing" : problem.substring(0, colon));
      case "users":
        return "spec.credentials.users"
            + (m.group(3) == null ? "" : "[" + m.group(3) + "]")
            + (field == null || field.equals("passwordFile") ? "" : "." + field);
      default:
        return "spec";
    }
  }
}
