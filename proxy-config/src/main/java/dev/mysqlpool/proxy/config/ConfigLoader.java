package dev.mysqlpool.proxy.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.mysqlpool.proxy.config.ProxyConfig.Admin;
import dev.mysqlpool.proxy.config.ProxyConfig.Backend;
import dev.mysqlpool.proxy.config.ProxyConfig.Frontend;
import dev.mysqlpool.proxy.config.ProxyConfig.Listen;
import dev.mysqlpool.proxy.config.ProxyConfig.Pool;
import dev.mysqlpool.proxy.config.ProxyConfig.Shutdown;
import dev.mysqlpool.proxy.config.ProxyConfig.Stats;
import dev.mysqlpool.proxy.config.ProxyConfig.User;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads the proxy's YAML config and validates all of it at once: every problem is reported with its
 * field path and the fix, and nothing is silently coerced to a default.
 */
public final class ConfigLoader {
  public static final int DEFAULT_LISTEN_PORT = 6033;
  public static final int DEFAULT_ADMIN_PORT = 9090;

  private final List<String> problems = new ArrayList<>();
  private final Path baseDir;
  private final boolean readPasswordFiles;
  private final FrontendSecurity security = new FrontendSecurity(this);

  private ConfigLoader(Path baseDir, boolean readPasswordFiles) {
    this.baseDir = baseDir;
    this.readPasswordFiles = readPasswordFiles;
  }

  /**
   * Loads and validates the file; relative {@code passwordFile}s resolve against the file's folder.
   */
  public static ProxyConfig load(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ConfigException(List.of("--config " + file + ": cannot read the file (" + e + ")"));
    }
    Path dir = file.toAbsolutePath().getParent();
    return parse(text, dir);
  }

  /** Validates YAML text; relative {@code passwordFile}s resolve against {@code baseDir}. */
  public static ProxyConfig parse(String yaml, Path baseDir) {
    return validate(yaml, baseDir, true);
  }

  /**
   * Validates YAML text exactly as {@link #parse} does, except that password files are not opened:
   * whoever renders a config (the operator) has no access to the Secret mounted under them. The
   * users of the result have a null password where the file names one.
   *
   * @throws ConfigException with every problem, when the proxy would refuse to start with it
   */
  public static ProxyConfig check(String yaml) {
    return validate(yaml, null, false);
  }

  private static ProxyConfig validate(String yaml, Path baseDir, boolean readPasswordFiles) {
    JsonNode root;
    try {
      root = new YAMLMapper().readTree(yaml);
    } catch (JsonProcessingException e) {
      throw new ConfigException(List.of("(file): not valid YAML: " + e.getOriginalMessage()));
    }
    if (root == null || root.isMissingNode() || root.isNull()) {
      root = new YAMLMapper().createObjectNode();
    }
    ConfigLoader loader = new ConfigLoader(baseDir, readPasswordFiles);
    ProxyConfig config = loader.read(root);
    if (!loader.problems.isEmpty()) {
      throw new ConfigException(loader.problems);
    }
    return config;
  }

  private ProxyConfig read(JsonNode root) {
    Obj top =
        obj(
            root,
            "",
            Set.of(
                "listen",
                "admin",
                "backends",
                "users",
                "pool",
                "frontend",
                "shutdown",
                "routing",
                "stats"));

    Obj l = top.child("listen", Set.of("host", "port"));
    Listen listen =
        new Listen(l.string("host", "0.0.0.0"), l.integer("port", DEFAULT_LISTEN_PORT, 0, 65535));
    Obj a = top.child("admin", Set.of("host", "port", "maxConnections", "idleTimeout"));
    Admin admin =
        new Admin(
            a.string("host", "0.0.0.0"),
            a.integer("port", DEFAULT_ADMIN_PORT, 0, 65535),
            a.integer("maxConnections", Admin.DEFAULT_MAX_CONNECTIONS, 1, 100_000),
            a.duration("idleTimeout", Admin.DEFAULT_IDLE_TIMEOUT, true));
    if (listen.port() == admin.port() && listen.port() > 0) {
      problems.add(
          "admin.port: "
              + admin.port()
              + " is also listen.port; give the admin HTTP endpoint its own port");
    }

    List<Backend> backends = new BackendSettings(this).backends(top);
    Pool pool = new PoolSettings(this).pool(top);
    Routing routing = new RoutingSettings(this).routing(top, backends, pool);
    List<User> users = readUsers(top, backends, routing);

    Frontend frontend = security.frontend(top);

    Obj s = top.child("shutdown", Set.of("drainTimeout", "loadBalancerWait"));
    Shutdown shutdown =
        new Shutdown(
            s.duration("drainTimeout", Duration.ofSeconds(30), true),
            s.duration("loadBalancerWait", Duration.ZERO, true));
    return new ProxyConfig(
        listen, admin, backends, users, pool, frontend, shutdown, routing, stats(top));
  }

  private Stats stats(Obj top) {
    Obj s = top.child("stats", Set.of("queryDigests", "maxQueryDigests"));
    boolean digests = s.bool("queryDigests", Stats.DEFAULT.queryDigests());
    int max =
        s.integer("maxQueryDigests", Stats.DEFAULT_MAX_QUERY_DIGESTS, 1, Stats.MAX_QUERY_DIGESTS);
    if (!digests && s.has("maxQueryDigests")) {
      problems.add(
          s.path("maxQueryDigests")
              + ": has no effect with stats.queryDigests: false; remove it, or turn queryDigests"
              + " on");
    }
    return new Stats(digests, max);
  }

  private List<User> readUsers(Obj top, List<Backend> backends, Routing routing) {
    List<User> users = new ArrayList<>();
    List<Obj> items =
        top.list(
            "users",
            Set.of(
                "name",
                "password",
                "passwordFile",
                "backend",
                "backendUser",
                "backendPassword",
                "backendPasswordFile",
                "authPlugin"));
    if (items.isEmpty()) {
      problems.add(
          "users: required; list at least one user with name and passwordFile (or password)");
    }
    Set<String> names = new HashSet<>();
    for (Obj u : items) {
      String name = u.requiredString("name");
      if (name != null && !names.add(name)) {
        problems.add(u.path("name") + ": '" + name + "' is used twice; user names must be unique");
      }
      String password = secret(u, "password", "passwordFile", true);
      if (password != null && password.isEmpty()) {
        // Anyone who knows the user name could log in; MySQL's own default accounts were the
        // classic hole.
        problems.add(
            u.path(u.has("password") ? "password" : "passwordFile")
                + ": the password is empty; the proxy refuses accounts without a password, set"
                + " one");
      }
      String backend = u.string("backend", RoutingSettings.defaultBackend(backends, routing));
      Backend named = null;
      for (Backend b : backends) {
        if (b.name() != null && b.name().equals(backend)) {
          named = b;
        }
      }
      if (backend != null && named == null) {
        problems.add(
            u.path("backend")
                + ": no backend is named '"
                + backend
                + "'; use one of the names under backends");
      } else if (named != null
          && u.has("backend")
          && routing.readWriteSplit()
          && named.role() == ProxyConfig.BackendRole.READER) {
        problems.add(
            u.path("backend")
                + ": '"
                + backend
                + "' is a reader; with routing.readWriteSplit a user's backend is where its writes"
                + " go, so name the writer (or leave backend out) and reads are split from there");
      }
      String backendUser = u.string("backendUser", name);
      String backendPassword = secret(u, "backendPassword", "backendPasswordFile", false);
      users.add(
          new User(
              name,
              password,
              backend,
              backendUser,
              backendPassword == null ? password : backendPassword,
              security.authPlugin(u, "authPlugin", null)));
    }
    return users;
  }

  /**
   * Exactly one of the inline field or the file field; a file's trailing newline is not part of the
   * secret.
   */
  private String secret(Obj o, String inline, String fileField, boolean required) {
    boolean hasInline = o.has(inline);
    boolean hasFile = o.has(fileField);
    if (hasInline && hasFile) {
      problems.add(o.path(inline) + ": set either " + inline + " or " + fileField + ", not both");
      return null;
    }
    if (hasInline) {
      return o.string(inline, null);
    }
    if (hasFile) {
      String f = o.string(fileField, null);
      if (f == null || !readPasswordFiles) {
        return null;
      }
      Path p = baseDir == null ? Path.of(f) : baseDir.resolve(f);
      try {
        String s = Files.readString(p, StandardCharsets.UTF_8);
        return s.replaceAll("[\r\n]+$", "");
      } catch (IOException e) {
        problems.add(
            o.path(fileField)
                + ": cannot read "
                + p
                + " ("
                + e.getClass().getSimpleName()
                + "); mount the Secret there or fix the path");
        return null;
      }
    }
    if (required) {
      problems.add(
          o.path(fileField)
              + ": required; point it at a file holding the password (a mounted Secret),"
              + " or set "
              + inline);
    }
    return null;
  }

  /** Records a problem: the field's path, what is wrong and the fix. */
  void problem(String message) {
    problems.add(message);
  }

  /**
   * A readable file named by a field, as an absolute path (relative ones resolve against the
   * config's folder); null when the field is absent, a problem when the file cannot be read.
   */
  String readableFile(Obj o, String field) {
    String f = o.string(field, null);
    if (f == null) {
      return null;
    }
    Path p = resolve(f).toAbsolutePath();
    if (readPasswordFiles) {
      try {
        Files.newInputStream(p).close();
      } catch (IOException e) {
        problems.add(
            o.path(field)
                + ": cannot read "
                + p
                + " ("
                + e.getClass().getSimpleName()
                + "); mount the Secret there or fix the path");
      }
    }
    return p.toString();
  }

  /** A path from the config file, resolved against the file's folder. */
  Path resolve(String file) {
    return baseDir == null ? Path.of(file) : baseDir.resolve(file);
  }

  private Obj obj(JsonNode node, String path, Set<String> allowed) {
    return new Obj(node, path, allowed);
  }

  /** A YAML mapping being read, which knows its own path and which keys it allows. */
  final class Obj {
    private final JsonNode node;
    private final String path;

    Obj(JsonNode node, String path, Set<String> allowed) {
      this.path = path;
      if (node != null && !node.isObject() && !node.isNull()) {
        problems.add(
            (path.isEmpty() ? "(top level)" : path)
                + ": expected a mapping of fields, found "
                + node.getNodeType().name().toLowerCase());
        node = null;
      }
      this.node = node;
      if (node != null) {
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
          String key = it.next().getKey();
          if (!allowed.contains(key)) {
            String hint = closest(key, allowed);
            problems.add(
                path(key)
                    + ": unknown field"
                    + (hint == null ? "" : "; did you mean " + hint + "?"));
          }
        }
      }
    }

    String path(String key) {
      return path.isEmpty() ? key : path + "." + key;
    }

    boolean has(String key) {
      return node != null && node.has(key) && !node.get(key).isNull();
    }

    Obj child(String key, Set<String> allowed) {
      return new Obj(has(key) ? node.get(key) : null, path(key), allowed);
    }

    List<Obj> list(String key, Set<String> allowed) {
      List<Obj> out = new ArrayList<>();
      if (!has(key)) {
        return out;
      }
      JsonNode n = node.get(key);
      if (!n.isArray()) {
        problems.add(path(key) + ": expected a list");
        return out;
      }
      for (int i = 0; i < n.size(); i++) {
        out.add(new Obj(n.get(i), path(key) + "[" + i + "]", allowed));
      }
      return out;
    }

    String string(String key, String def) {
      if (!has(key)) {
        return def;
      }
      JsonNode n = node.get(key);
      if (!n.isValueNode()) {
        problems.add(path(key) + ": expected a string");
        return def;
      }
      return n.asText();
    }

    String requiredString(String key) {
      String s = string(key, null);
      if (s == null || s.isBlank()) {
        problems.add(path(key) + ": required");
        return null;
      }
      return s;
    }

    int integer(String key, int def, int min, int max) {
      if (!has(key)) {
        return def;
      }
      JsonNode n = node.get(key);
      if (!n.canConvertToInt() || !(n.isIntegralNumber() || n.asText().matches("-?\\d+"))) {
        problems.add(path(key) + ": '" + n.asText() + "' is not a whole number");
        return def;
      }
      int v = n.isIntegralNumber() ? n.intValue() : Integer.parseInt(n.asText());
      if (v < min || v > max) {
        problems.add(
            path(key) + ": " + v + " is out of range; use a value from " + min + " to " + max);
        return def;
      }
      return v;
    }

    boolean bool(String key, boolean def) {
      if (!has(key)) {
        return def;
      }
      JsonNode n = node.get(key);
      if (n.isBoolean()) {
        return n.booleanValue();
      }
      String t = n.asText();
      if (t.equals("true") || t.equals("false")) {
        return Boolean.parseBoolean(t);
      }
      problems.add(path(key) + ": '" + t + "' is not a boolean; use true or false");
      return def;
    }

    int port(String key, int def) {
      return integer(key, def, 1, 65535);
    }

    Duration duration(String key, Duration def, boolean zeroAllowed) {
      if (!has(key)) {
        return def;
      }
      String text = node.get(key).asText();
      Duration d = Durations.parse(text);
      if (d == null) {
        problems.add(
            path(key) + ": '" + text + "' is not a duration; write it like 500ms, 30s, 5m or 1h");
        return def;
      }
      if (d.isZero() && !zeroAllowed) {
        problems.add(path(key) + ": must be greater than 0, e.g. 5s");
        return def;
      }
      return d;
    }
  }

  private static String closest(String key, Set<String> allowed) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String candidate : allowed) {
      int d = distance(key.toLowerCase(), candidate.toLowerCase());
      if (d < bestDistance) {
        bestDistance = d;
        best = candidate;
      }
    }
    return bestDistance <= Math.max(2, key.length() / 3) ? best : null;
  }

  private static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
