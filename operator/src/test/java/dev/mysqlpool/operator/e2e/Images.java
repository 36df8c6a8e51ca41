package dev.mysqlpool.operator.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.images.builder.ImageFromDockerfile;
import org.testcontainers.k3s.K3sContainer;
import org.testcontainers.utility.MountableFile;

/**
 * Builds the operator's and the proxy's images from their Dockerfiles, with the jars this build
 * produced, and imports them into k3s's containerd: there is no registry, so a pod finds the image
 * only there.
 */
final class Images {
  static final String TAG = "e2e";
  static final String OPERATOR = "ghcr.io/mysqlpool/operator";
  static final String PROXY = "ghcr.io/mysqlpool/proxy-runtime";

  private Images() {}

  /** Builds {@code name:e2e} from {@code module}'s Dockerfile and {@code jar}; returns the name. */
  static String build(String name, Path module, Path jar) {
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(
          jar
              + " is missing: the end-to-end tier runs after the package phase (failsafe), e.g. "
              + RequiresDocker.HOW);
    }
    String image = name + ":" + TAG;
    new ImageFromDockerfile(image, false)
        .withFileFromPath("Dockerfile", module.resolve("Dockerfile"))
        .withFileFromPath("target/" + jar.getFileName(), jar)
        .get();
    return image;
  }

  /** Copies {@code image} from the Docker engine into k3s's containerd. */
  static void importInto(K3sContainer k3s, String image) {
    try {
      Path tar = Files.createTempFile("mysqlpool-image-", ".tar");
      try (InputStream in = DockerClientFactory.instance().client().saveImageCmd(image).exec()) {
        Files.copy(in, tar, StandardCopyOption.REPLACE_EXISTING);
      }
      String inContainer = "/tmp/" + tar.getFileName();
      k3s.copyFileToContainer(MountableFile.forHostPath(tar), inContainer);
      ExecResult r = k3s.execInContainer("ctr", "-n", "k8s.io", "images", "import", inContainer);
      if (r.getExitCode() != 0) {
        throw new IllegalStateException(
            "importing " + image + " into k3s failed: " + r.getStdout() + r.getStderr());
      }
      Files.deleteIfExists(tar);
    } catch (IOException e) {
      throw new UncheckedIOException("while importing " + image + " into k3s", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while importing " + image, e);
    }
  }
}
