package dev.mysqlpool.operator.render;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mysqlpool.operator.api.MySQLPoolSpec;
import dev.mysqlpool.operator.testing.Fixtures;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The proxy JVM's settings: the image runs what the operator renders for the default memory limit
 * (so bench/run.sh, which reads the image's, measures what pods run), the archive the flags name is
 * the one the image writes, and a pod without a CPU limit is told how many processors it has
 * instead of counting the node's.
 */
class ProxyJvmOptionsTest {
  private static final Pattern ENV_LINE =
      Pattern.compile("(?m)^ENV ([A-Z_][A-Z0-9_]*)=(?:\"([^\"]*)\"|(\\S+))\\s*$");

  @SafeVarargs
  private static Container proxy(Consumer<MySQLPoolSpec>... mutators) {
    return Deployments.deployment(Plan.of(Fixtures.pool(mutators), RenderSettings.defaults()))
        .getSpec()
        .getTemplate()
        .getSpec()
        .getContainers()
        .get(0);
  }

  private static Map<String, String> env(Container c) {
    Map<String, String> env = new LinkedHashMap<>();
    for (EnvVar e : c.getEnv()) {
      env.put(e.getName(), e.getValue());
    }
    return env;
  }

  private static Map<String, String> imageEnv() {
    Map<String, String> env = new LinkedHashMap<>();
    Matcher m = ENV_LINE.matcher(Fixtures.read("proxy-runtime/Dockerfile"));
    while (m.find()) {
      env.put(m.group(1), m.group(2) != null ? m.group(2) : m.group(3));
    }
    return env;
  }

  @Test
  void theImageRunsWhatPodsOfTheDefaultMemoryLimitAreRenderedWith() {
    ResourceRequirements limited =
        new ResourceRequirementsBuilder()
            .addToLimits("memory", new Quantity("512Mi"))
            .addToLimits("cpu", new Quantity("2"))
            .build();
    assertThat(imageEnv())
        .as(
            "proxy-runtime/Dockerfile's ENV lines are the Deployment's env for a 512Mi, 2-CPU limit;"
                + " bench/run.sh measures the proxy with the image's, so the figures hold for pods")
        .isEqualTo(env(proxy(s -> s.pod.resources = limited)));
  }

  @Test
  void theArchiveTheFlagsNameIsTheOneTheImageWrites() {
    String dockerfile = Fixtures.read("proxy-runtime/Dockerfile");
    assertThat(Deployments.PROXY_JVM_OPTIONS)
        .contains("-XX:SharedArchiveFile=/app/proxy-runtime.jsa");
    assertThat(dockerfile)
        .as("the image writes the archive with the jar at the path the Deployment runs")
        .containsPattern(
            "(?m)^RUN sh /tmp/cds-archive.sh /app/proxy-runtime.jar /app/proxy-runtime.jsa\\b")
        .containsPattern("(?m)^COPY cds-archive.sh /tmp/cds-archive.sh$");
    assertThat(Fixtures.read("proxy-runtime/cds-archive.sh"))
        .as("the archive is written at the JVM's exit, after a start that reached the listener")
        .contains("-XX:ArchiveClassesAtExit=", "listening on", "kill -TERM");
  }

  @ParameterizedTest(name = "limits {0}, requests {1}: {2} processors")
  @CsvSource({
    "'', '', 2",
    "'', 250m, 2",
    "'', 1, 2",
    "'', 2500m, 3",
    "'', 8, 8",
    "4, 1, 0",
    "500m, '', 0",
  })
  void withoutACpuLimitTheProcessorCountFollowsTheRequest(
      String cpuLimit, String cpuRequest, int processors) {
    ResourceRequirementsBuilder b =
        new ResourceRequirementsBuilder().addToLimits("memory", new Quantity("512Mi"));
    if (!cpuLimit.isEmpty()) {
      b.addToLimits("cpu", new Quantity(cpuLimit));
    }
    if (!cpuRequest.isEmpty()) {
      b.addToRequests("cpu", new Quantity(cpuRequest));
    }
    ResourceRequirements resources = b.build();
    String options = env(proxy(s -> s.pod.resources = resources)).get("JAVA_TOOL_OPTIONS");
    if (processors == 0) {
      assertThat(options)
          .as("with a CPU limit the JVM counts its processors from the limit itself")
          .doesNotContain("ActiveProcessorCount");
    } else {
      assertThat(options)
          .as(
              "without a CPU limit the JVM would count the node's cores, and the proxy would start an"
                  + " event loop and a 4 MiB direct-memory arena for each")
          .endsWith(" -XX:ActiveProcessorCount=" + processors);
    }
  }

  @Test
  void theDefaultResourcesRunTwoEventLoops() {
    assertThat(env(proxy()).get("JAVA_TOOL_OPTIONS"))
        .as("the default 250m request and no CPU limit")
        .endsWith("-XX:MaxDirectMemorySize=128m -XX:ActiveProcessorCount=2");
  }
}
