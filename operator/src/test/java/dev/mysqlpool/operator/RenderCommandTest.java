package dev.mysqlpool.operator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mysqlpool.operator.render.RenderSettings;
import dev.mysqlpool.operator.testing.Fixtures;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RenderCommandTest {
  @TempDir Path dir;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int render(String... files) {
    return RenderCommand.run(
        List.of(files),
        RenderSettings.defaults(),
        new ByteArrayInputStream(new byte[0]),
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  /** The whole command line, as {@code java -jar operator.jar ARGS < stdin} runs it. */
  private int main(String stdin, String... args) {
    return Cli.commandLine(
            null,
            new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            o -> {
              throw new AssertionError("run must not start here");
            })
        .setOut(new java.io.PrintWriter(out, true, StandardCharsets.UTF_8))
        .setErr(new java.io.PrintWriter(err, true, StandardCharsets.UTF_8))
        .execute(args);
  }

  private String out() {
    return out.toString(StandardCharsets.UTF_8);
  }

  private String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void theExamplesRenderEveryManifest() {
    Path repo = Fixtures.repo();
    int status =
        render(
            repo.resolve("examples/basic-pool.yaml").toString(),
            repo.resolve("examples/basic-secret.yaml").toString());
    assertThat(status).withFailMessage("stderr: %s", err()).isZero();
    assertThat(out())
        .contains(
            "kind: ServiceAccount",
            "kind: ConfigMap",
            "kind: Service",
            "kind: Deployment",
            "kind: PodDisruptionBudget")
        .as("plain YAML as kubectl prints it: quotes only where YAML would misread a scalar")
        .contains("  name: orders\n", "  proxy.yaml: |\n", "mysqlpool.dev/config-hash: ")
        .contains("aws-load-balancer-healthcheck-port: \"9090\"")
        .doesNotContain("kind: \"")
        .contains(
            "# sizing (Computed): required 50 = ceil(1000 TPS x 50ms); total 100 = ceil(50 x 2); per replica"
                + " 50")
        .doesNotContain("change-me");
    assertThat(err()).isEmpty();
  }

  @Test
  void anUnknownFieldIsAnError() throws IOException {
    Path f = dir.resolve("pool.yaml");
    Files.writeString(
        f, Fixtures.read("examples/basic-pool.yaml").replace("replicas: 2", "replica: 2"));
    assertThat(render(f.toString())).isEqualTo(1);
    assertThat(err()).contains("document 1: spec.replica: unknown field");
  }

  @Test
  void anInvalidPoolIsReportedWithItsFields() throws IOException {
    Path f = dir.resolve("pool.yaml");
    Files.writeString(
        f, Fixtures.read("examples/basic-pool.yaml").replace("holdTime: 50ms", "holdTime: 50"));
    assertThat(render(f.toString())).isEqualTo(1);
    assertThat(err())
        .isEqualTo(
            "mysqlpool shop/orders is invalid:\n  - spec.workload.holdTime: '50' is not a positive"
                + " duration; write it like 50ms or 2s\n");
    assertThat(out()).isEmpty();
  }

  @Test
  void clashingTimeoutsAreRefusedLikeTheOperatorWould() throws IOException {
    Path f = dir.resolve("pool.yaml");
    Files.writeString(
        f,
        Fixtures.read("examples/basic-pool.yaml")
            .replace("  replicas: 2", "  replicas: 2\n  pool:\n    maxLifetime: 9h"));
    assertThat(render(f.toString())).isEqualTo(1);
    assertThat(err())
        .contains(
            "would be refused by the operator",
            "spec.pool.maxLifetime (9h) clashes with" + " spec.backend.waitTimeoutSeconds (28800)");
  }

  @Test
  void aFileWithoutPoolsSaysSo() throws IOException {
    Path repo = Fixtures.repo();
    assertThat(render(repo.resolve("examples/basic-secret.yaml").toString())).isEqualTo(1);
    assertThat(err()).startsWith("no MySQLPool (apiVersion mysqlpool.dev/v1alpha1) found in");
  }

  @Test
  void readsStdinWithDashF() {
    int status = main(Fixtures.read("examples/basic-pool.yaml"), "render", "-f", "-");
    assertThat(status).withFailMessage("stderr: %s", err()).isZero();
    assertThat(out()).contains("kind: Deployment", "# mysqlpool shop/orders");
  }

  @Test
  void helpListsTheCommandsAndOptions() {
    assertThat(main("", "--help")).isZero();
    assertThat(out()).contains("run", "render");
    out.reset();
    assertThat(main("", "render", "--help")).isZero();
    assertThat(out()).contains("-f, --filename=FILE", "- reads stdin", "--proxy-image=IMAGE");
  }

  @Test
  void aRefusedPoolExitsOneWithTheConditionsMessage() throws IOException {
    Path f = dir.resolve("pool.yaml");
    Files.writeString(
        f,
        Fixtures.read("examples/basic-pool.yaml")
            .replace("maxConnections: 500", "maxConnections: 22"));
    assertThat(main("", "render", "-f", f.toString())).isEqualTo(1);
    assertThat(err())
        .contains(
            "mysqlpool shop/orders would be refused by the operator:",
            "SizingValid=False (BackendTooSmall): the backend budget of 2");
    assertThat(out()).isEmpty();
  }

  @Test
  void usageErrorsExitTwoAndNameTheFix() {
    assertThat(main("", "render")).isEqualTo(2);
    assertThat(err()).contains("Missing required option: '--filename=FILE'");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> OperatorOptions.parse(new String[] {"run"}, null))
        .hasMessageContaining("set POD_NAMESPACE");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> OperatorOptions.parse(new String[] {"run", "--log-level", "LOUD"}, "ops"))
        .hasMessageContaining("--log-level: 'LOUD' is not one of TRACE, DEBUG, INFO, WARN, ERROR");
    assertThat(
            OperatorOptions.parse(
                new String[] {"run", "--namespaces", "a,b", "--proxy-image", "x"}, "ops"))
        .isEqualTo(
            new OperatorOptions(
                "x", 8080, true, "mysqlpool-operator", "ops", java.util.Set.of("a", "b"), "INFO"));
  }
}
