package dev.mysqlpool.bench;

import dev.mysqlpool.proxy.testsupport.EmbeddedMariaDb;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.Random;

/**
 * sysbench's {@code sbtest1} table, made by the harness in sysbench's own layout and value format
 * (so no {@code sysbench prepare} is needed): ids 1..rows, a random {@code k}, {@code c} and {@code
 * pad} as groups of 11 digits. Seeded, so every run and every server gets the same rows.
 */
final class SbTest {
  private SbTest() {}

  /** Drops and creates {@code sbtest1} in the app database of {@code db} with {@code rows} rows. */
  static void create(EmbeddedMariaDb db, int rows) throws SQLException {
    long t0 = System.nanoTime();
    try (Connection c = db.appConnection();
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS sbtest1");
      s.execute(
          "CREATE TABLE sbtest1 (id INT NOT NULL AUTO_INCREMENT, k INT NOT NULL DEFAULT 0,"
              + " c CHAR(120) NOT NULL DEFAULT '', pad CHAR(60) NOT NULL DEFAULT '', PRIMARY KEY (id), KEY k_1 (k))"
              + " ENGINE=InnoDB");
      Random random = new Random(42);
      int batch = 1000;
      for (int start = 1; start <= rows; start += batch) {
        StringBuilder sql = new StringBuilder("INSERT INTO sbtest1 (id, k, c, pad) VALUES ");
        for (int id = start; id < Math.min(start + batch, rows + 1); id++) {
          sql.append(id == start ? "" : ",")
              .append('(')
              .append(id)
              .append(',')
              .append(1 + random.nextInt(rows))
              .append(",'")
              .append(digits(random, 11, 10))
              .append("','")
              .append(digits(random, 11, 5))
              .append("')");
        }
        s.execute(sql.toString());
      }
      s.execute("ANALYZE TABLE sbtest1");
    }
    System.out.printf(
        Locale.ROOT,
        "sbtest1 filled with %d rows on %s in %.1f s%n",
        rows,
        db,
        (System.nanoTime() - t0) / 1e9);
  }

  /** sysbench's value format: groups of 11 digits joined by '-'. */
  private static String digits(Random random, int group, int groups) {
    StringBuilder b = new StringBuilder();
    for (int g = 0; g < groups; g++) {
      if (g > 0) {
        b.append('-');
      }
      for (int i = 0; i < group; i++) {
        b.append((char) ('0' + random.nextInt(10)));
      }
    }
    return b.toString();
  }
}
