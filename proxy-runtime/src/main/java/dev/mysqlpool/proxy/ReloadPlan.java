package dev.mysqlpool.proxy;

import dev.mysqlpool.proxy.config.Durations;
import dev.mysqlpool.proxy.config.ProxyConfig;
import dev.mysqlpool.proxy.config.ProxyConfig.Backend;
import dev.mysqlpool.proxy.config.ProxyConfig.Pool;
import dev.mysqlpool.proxy.config.ProxyConfig.User;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What a changed config file means for the running proxy: which changes apply now and which wait
 * for a restart. Applied live: {@code users} (a password rotated in a mounted Secret, users added
 * or removed) and the pool's sizes and timers ({@link #LIVE_POOL_FIELDS}). Everything else needs a
 * restart and is named field by field.
 *
 * <p>{@code applied} is the running configuration with every live field taken from the file, so
 * each check compares the file with what is in force, not with the previous file: changes apply in
 * any order, and one that waits for a restart holds up none of the others.
 *
 * @param applied the configuration to put in force (equal to the running one if nothing applies)
 * @param applies the live changes, e.g. {@code pool.maxConnections 10 -> 4}; passwords not shown
 * @param needsRestart the fields whose new values wait for a restart
 */
record ReloadPlan(ProxyConfig applied, List<String> applies, List<String> needsRestart) {

  /** The pool fields a reload applies; the README's reload section lists the same. */
  static final List<String> LIVE_POOL_FIELDS =
      List.of(
          "maxConnections",
          "minIdle",
          "maxIdle",
          "idleTimeout",
          "maxLifetime",
          "connectTimeout",
          "acquireTimeout",
          "validationInterval",
          "maxConcurrentConnects");

  static ReloadPlan of(ProxyConfig running, ProxyConfig file) {
    List<String> applies = new ArrayList<>();
    List<String> restart = new ArrayList<>();
    differs(restart, "listen.host", running.listen().host(), file.listen().host());
    differs(restart, "listen.port", running.listen().port(), file.listen().port());
    differs(restart, "admin.host", running.admin().host(), file.admin().host());
    differs(restart, "admin.port", running.admin().port(), file.admin().port());
    differs(
        restart,
        "admin.maxConnections",
        running.admin().maxConnections(),
        file.admin().maxConnections());
    differs(
        restart, "admin.idleTimeout", running.admin().idleTimeout(), file.admin().idleTimeout());
    differs(restart, "backends", running.backends(), file.backends());
    // Which pools exist and how clients move between them is decided at start, as for backends.
    differs(restart, "routing", running.routing(), file.routing());
    // The digest tables are sized and switched on when the frontend starts.
    differs(restart, "stats", running.stats(), file.stats());
    Pool rp = running.pool();
    Pool fp = file.pool();
    differs(restart, "pool.mode", rp.mode(), fp.mode());
    differs(
        restart,
        "pool.leakDetectionThreshold",
        rp.leakDetectionThreshold(),
        fp.leakDetectionThreshold());
    differs(restart, "pool.tcpKeepAliveIdle", rp.tcpKeepAliveIdle(), fp.tcpKeepAliveIdle());
    differs(
        restart, "pool.tcpKeepAliveInterval", rp.tcpKeepAliveInterval(), fp.tcpKeepAliveInterval());
    differs(restart, "pool.tcpKeepAliveCount", rp.tcpKeepAliveCount(), fp.tcpKeepAliveCount());
    differs(restart, "pool.switchoverTimeout", rp.switchoverTimeout(), fp.switchoverTimeout());
    differs(restart, "pool.dnsTtl", rp.dnsTtl(), fp.dnsTtl());
    differs(
        restart,
        "pool.maxPreparedStatementsPerConnection",
        rp.maxPreparedStatementsPerConnection(),
        fp.maxPreparedStatementsPerConnection());
    var rf = running.frontend();
    var ff = file.frontend();
    differs(
        restart,
        "frontend.maxClientConnections",
        rf.maxClientConnections(),
        ff.maxClientConnections());
    differs(restart, "frontend.clientIdleTimeout", rf.clientIdleTimeout(), ff.clientIdleTimeout());
    differs(restart, "frontend.handshakeTimeout", rf.handshakeTimeout(), ff.handshakeTimeout());
    differs(restart, "frontend.tcpKeepAliveIdle", rf.tcpKeepAliveIdle(), ff.tcpKeepAliveIdle());
    differs(
        restart,
        "shutdown.drainTimeout",
        running.shutdown().drainTimeout(),
        file.shutdown().drainTimeout());
    differs(
        restart,
        "shutdown.loadBalancerWait",
        running.shutdown().loadBalancerWait(),
        file.shutdown().loadBalancerWait());

    Pool pool =
        new Pool(
            rp.mode(),
            fp.maxConnections(),
            fp.minIdle(),
            fp.maxIdle(),
            fp.idleTimeout(),
            fp.maxLifetime(),
            fp.connectTimeout(),
            fp.acquireTimeout(),
            fp.validationInterval(),
            rp.leakDetectionThreshold(),
            fp.maxConcurrentConnects(),
            rp.tcpKeepAliveIdle(),
            rp.tcpKeepAliveInterval(),
            rp.tcpKeepAliveCount(),
            rp.switchoverTimeout(),
            rp.dnsTtl(),
            rp.maxPreparedStatementsPerConnection());
    changed(applies, "pool.maxConnections", rp.maxConnections(), fp.maxConnections());
    changed(applies, "pool.minIdle", rp.minIdle(), fp.minIdle());
    changed(applies, "pool.maxIdle", rp.maxIdle(), fp.maxIdle());
    changed(applies, "pool.idleTimeout", rp.idleTimeout(), fp.idleTimeout());
    changed(applies, "pool.maxLifetime", rp.maxLifetime(), fp.maxLifetime());
    changed(applies, "pool.connectTimeout", rp.connectTimeout(), fp.connectTimeout());
    changed(applies, "pool.acquireTimeout", rp.acquireTimeout(), fp.acquireTimeout());
    changed(applies, "pool.validationInterval", rp.validationInterval(), fp.validationInterval());
    changed(
        applies,
        "pool.maxConcurrentConnects",
        rp.maxConcurrentConnects(),
        fp.maxConcurrentConnects());

    List<User> users = users(running, file, restart);
    if (!users.equals(running.users())) {
      // Names only: the values are passwords.
      applies.add("users");
    }
    ProxyConfig applied =
        new ProxyConfig(
            running.listen(),
            running.admin(),
            running.backends(),
            List.copyOf(users),
            pool,
            running.frontend(),
            running.shutdown(),
            running.routing(),
            running.stats());
    return new ReloadPlan(applied, List.copyOf(applies), List.copyOf(restart));
  }

  /**
   * The file's users, except one that names a backend the proxy does not run (added to {@code
   * backends}, which needs a restart): it keeps its running definition, or waits if it is new.
   */
  private static List<User> users(ProxyConfig running, ProxyConfig file, List<String> restart) {
    List<User> out = new ArrayList<>();
    for (User u : file.users()) {
      if (runs(running, u.backend())) {
        out.add(u);
        continue;
      }
      restart.add("users[" + u.name() + "].backend");
      User before = running.user(u.name());
      if (before != null) {
        out.add(before);
      }
    }
    return out;
  }

  private static boolean runs(ProxyConfig running, String backend) {
    for (Backend b : running.backends()) {
      if (b.name().equals(backend)) {
        return true;
      }
    }
    return false;
  }

  private static void differs(List<String> out, String field, Object running, Object file) {
    if (!Objects.equals(running, file)) {
      out.add(field);
    }
  }

  private static void changed(List<String> out, String field, Object running, Object file) {
    if (!Objects.equals(running, file)) {
      out.add(field + " " + show(running) + " -> " + show(file));
    }
  }

  private static String show(Object value) {
    if (value instanceof Duration d) {
      return Durations.format(d);
    }
    return value == null ? "(derived)" : value.toString();
  }
}
