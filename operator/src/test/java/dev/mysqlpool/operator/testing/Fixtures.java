package dev.mysqlpool.operator.testing;

import dev.mysqlpool.operator.api.MySQLPool;
import dev.mysqlpool.operator.api.MySQLPoolSpec;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/** Pools for tests: the seed's workload, changed by mutators (CNPG's suite_test.go style). */
public final class Fixtures {
  public static final String NAMESPACE = "shop";

  private Fixtures() {}

  /** The repository's root, from the surefire property or the working directory. */
  public static Path repo() {
    String dir = System.getProperty("repo.dir");
    if (dir != null) {
      return Path.of(dir).toAbsolutePath().normalize();
    }
    Path cwd = Path.of("").toAbsolutePath();
    return Files.exists(cwd.resolve("crds")) ? cwd : cwd.getParent();
  }

  /** A file of the repository as text. */
  public static String read(String relative) {
    try {
      return Files.readString(repo().resolve(relative));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The seed's pool: 1000 TPS, 50ms, x2, 2 replicas, max_connections 500, 20 reserved, users app
   * and reporting, an internal NLB; each mutator then changes it.
   */
  @SafeVarargs
  public static MySQLPool pool(Consumer<MySQLPoolSpec>... mutators) {
    MySQLPool pool = new MySQLPool();
    pool.setMetadata(new ObjectMetaBuilder().withName("orders").withNamespace(NAMESPACE).build());
    MySQLPoolSpec spec = new MySQLPoolSpec();
    spec.backend = new MySQLPoolSpec.Backend();
    spec.backend.host = "orders.cluster-abc123.eu-west-1.rds.amazonaws.com";
    spec.backend.maxConnections = 500;
    spec.backend.reservedConnections = 20;
    spec.credentials = new MySQLPoolSpec.Credentials();
    spec.credentials.secretName = "orders-db-users";
    spec.credentials.users =
        new java.util.ArrayList<>(
            List.of(new MySQLPoolSpec.User("app"), new MySQLPoolSpec.User("reporting")));
    spec.workload = new MySQLPoolSpec.Workload();
    spec.workload.peakTps = 1000;
    spec.workload.holdTime = "50ms";
    spec.workload.safetyFactor = 2;
    spec.replicas = 2;
    for (Consumer<MySQLPoolSpec> m : mutators) {
      m.accept(spec);
    }
    pool.setSpec(spec);
    return pool;
  }

  /** The Secret the seed's pool needs. */
  public static Secret secret() {
    return new SecretBuilder()
        .withNewMetadata()
        .withName("orders-db-users")
        .withNamespace(NAMESPACE)
        .endMetadata()
        .addToData("app", "Y2hhbmdlLW1lLWFwcA==")
        .addToData("reporting", "Y2hhbmdlLW1lLXJlcG9ydGluZw==")
        .build();
  }
}
