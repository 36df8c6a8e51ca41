package dev.mysqlpool.proxy.testsupport;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What one run of the {@code mariadb} command-line client printed, as returned by {@link
 * EmbeddedMariaDb#runCli(String, int, String, String, String, String, String...)}.
 *
 * @param exitCode the client's exit status; 0 when every statement succeeded
 * @param stdout the batch-mode output: tab-separated rows, the first one the column names unless
 *     {@code --skip-column-names} was passed
 * @param stderr the client's error messages, e.g. {@code ERROR 1045 (28000): Access denied ...}
 */
public record CliResult(int exitCode, String stdout, String stderr) {

  /**
   * This result when the client exited with 0; otherwise an {@link AssertionError} carrying both
   * streams.
   */
  public CliResult requireSuccess() {
    if (exitCode != 0) {
      throw new AssertionError(
          "mariadb client exited with " + exitCode + "\nstderr: " + stderr + "\nstdout: " + stdout);
    }
    return this;
  }

  /**
   * The output rows split on tabs, in order; blank lines are dropped. Column names are row 0 unless
   * skipped.
   */
  public List<List<String>> rows() {
    List<List<String>> rows = new ArrayList<>();
    for (String line : stdout.split("\n")) {
      if (!line.isBlank()) {
        rows.add(Arrays.asList(line.split("\t", -1)));
      }
    }
    return rows;
  }
}
