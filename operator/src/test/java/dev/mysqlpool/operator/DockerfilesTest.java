package dev.mysqlpool.operator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mysqlpool.operator.render.RenderSettings;
import dev.mysqlpool.operator.testing.Fixtures;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * There is no Docker engine in CI, so the images are checked by reading: each Dockerfile copies the
 * jar its module's Maven build produces, runs as a numeric non-root user with container-aware JVM
 * flags, and the README builds and pushes them under the names the chart and the operator use.
 */
class DockerfilesTest {

  record Image(String dockerfile, String pom, String jar, String name) {}

  static final List<Image> IMAGES =
      List.of(
          new Image(
              "operator/Dockerfile",
              "operator/pom.xml",
              "operator.jar",
              "ghcr.io/mysqlpool/operator"),
          new Image(
              "proxy-runtime/Dockerfile",
              "proxy-runtime/pom.xml",
              "proxy-runtime.jar",
              "ghcr.io/mysqlpool/proxy-runtime"));

  @Test
  void eachImageCopiesTheJarItsMavenBuildProduces() {
    for (Image image : IMAGES) {
      String dockerfile = Fixtures.read(image.dockerfile());
      String pom = Fixtures.read(image.pom());
      String finalName = image.jar().replace(".jar", "");
      assertThat(pom)
          .as(image.pom() + " names its shaded jar " + image.jar())
          .contains("<finalName>" + finalName + "</finalName>", "maven-shade-plugin");
      assertThat(dockerfile)
          .as(image.dockerfile())
          .containsPattern(
              "(?m)^COPY target/"
                  + Pattern.quote(image.jar())
                  + " /app/"
                  + Pattern.quote(image.jar())
                  + "$")
          .containsPattern(
              "(?m)^ENTRYPOINT \\[\"java\", \"-jar\", \"/app/" + Pattern.quote(image.jar()) + "\"");
    }
    assertThat(
            Fixtures.read("operator/src/main/java/dev/mysqlpool/operator/render/Deployments.java"))
        .as("the proxy Deployment runs the jar where the proxy image puts it")
        .contains("\"/app/proxy-runtime.jar\"");
  }

  @Test
  void eachImageRunsAsANumericNonRootUserOnASmallJre() {
    for (Image image : IMAGES) {
      String dockerfile = Fixtures.read(image.dockerfile());
      Matcher from = Pattern.compile("(?m)^FROM (\\S+)").matcher(dockerfile);
      assertThat(from.find()).isTrue();
      assertThat(from.group(1))
          .as(image.dockerfile() + " base")
          .matches(
              "eclipse-temurin:17-jre(-\\w+)?|gcr\\.io/distroless/java17(-debian\\d+)?(:nonroot)?");
      Matcher user = Pattern.compile("(?m)^USER (\\S+)").matcher(dockerfile);
      assertThat(user.find()).as(image.dockerfile() + " sets USER").isTrue();
      String uid = user.group(1).split(":")[0];
      assertThat(uid)
          .as(image.dockerfile() + ": runAsNonRoot can verify only a numeric user")
          .matches("\\d+");
      assertThat(Integer.parseInt(uid)).isPositive();
      assertThat(dockerfile)
          .as(image.dockerfile() + ": heap sized from the container's memory limit")
          .contains("-XX:MaxRAMPercentage=", "-XX:+ExitOnOutOfMemoryError");
    }
  }

  @Test
  void theProxyImageCapsDirectMemoryExplicitly() {
    Matcher env =
        Pattern.compile("(?m)^ENV JAVA_TOOL_OPTIONS=\"([^\"]*)\"")
            .matcher(Fixtures.read("proxy-runtime/Dockerfile"));
    assertThat(env.find()).as("proxy-runtime/Dockerfile sets JAVA_TOOL_OPTIONS").isTrue();
    Matcher direct = Pattern.compile("-XX:MaxDirectMemorySize=(\\d+)m").matcher(env.group(1));
    assertThat(direct.find())
        .as("Netty's direct buffers are capped by the image, not left to default to the heap size")
        .isTrue();
    Matcher heap = Pattern.compile("-XX:MaxRAMPercentage=(\\d+)").matcher(env.group(1));
    assertThat(heap.find()).isTrue();
    long defaultLimitMib = 512;
    assertThat(
            defaultLimitMib * Integer.parseInt(heap.group(1)) / 100
                + Long.parseLong(direct.group(1)))
        .as("heap + direct fit the operator's default 512Mi limit with a third to spare")
        .isLessThanOrEqualTo(defaultLimitMib * 2 / 3);
  }

  @Test
  void theReadmeBuildsAndPushesTheImagesTheChartAndOperatorUse() {
    String version = System.getProperty("project.version", "").replace("-SNAPSHOT", "");
    String readme = Fixtures.read("README.md");
    String values = Fixtures.read("helm/mysqlpool-operator/values.yaml");
    for (Image image : IMAGES) {
      String module = image.dockerfile().substring(0, image.dockerfile().indexOf('/'));
      assertThat(readme)
          .as("README builds " + image.name())
          .contains("docker build -t " + image.name() + ":" + version + " " + module + "/")
          .contains("docker push " + image.name() + ":" + version);
      assertThat(values).contains("repository: " + image.name());
      assertThat(Fixtures.read(image.dockerfile())).contains(image.name());
    }
    assertThat(RenderSettings.DEFAULT_PROXY_IMAGE)
        .isEqualTo("ghcr.io/mysqlpool/proxy-runtime:" + version);
  }
}
