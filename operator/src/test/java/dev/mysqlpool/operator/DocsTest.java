package dev.mysqlpool.operator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mysqlpool.operator.api.MySQLPoolSpec;
import dev.mysqlpool.operator.testing.Fixtures;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The docs cannot fall behind the API: every MySQLPool spec field is in the reference table, links
 * resolve.
 */
class DocsTest {

  /** Every field path of the spec, e.g. backend.host, credentials.users[].name, pod.resources. */
  static List<String> fields(Class<?> type, String prefix) {
    List<String> out = new ArrayList<>();
    for (Field f : type.getDeclaredFields()) {
      if (Modifier.isStatic(f.getModifiers()) || !Modifier.isPublic(f.getModifiers())) {
        continue;
      }
      String path = prefix + f.getName();
      Class<?> t = f.getType();
      if (List.class.isAssignableFrom(t)
          && f.getGenericType() instanceof ParameterizedType p
          && p.getActualTypeArguments()[0] instanceof Class<?> e
          && (e.getEnclosingClass() == MySQLPoolSpec.class
              || e.getPackage() == MySQLPoolSpec.class.getPackage())) {
        out.addAll(fields(e, path + "[]."));
      } else if (t.getEnclosingClass() == MySQLPoolSpec.class
          || t.getPackage() == MySQLPoolSpec.class.getPackage()) {
        out.addAll(fields(t, path + "."));
      } else {
        out.add(path);
      }
    }
    return out;
  }

  @Test
  void everySpecFieldIsInTheReferenceTable() {
    String readme = Fixtures.read("operator/README.md");
    String table =
        readme.substring(
            readme.indexOf("| Field | Default | Meaning |"), readme.indexOf("\nStatus:"));
    List<String> fields = fields(MySQLPoolSpec.class, "");
    assertThat(fields)
        .contains(
            "backend.host",
            "credentials.users[].backendUser",
            "pool.maxLifetime",
            "service.sourceRanges",
            "pod.resources",
            "replicas",
            "tls.secretName",
            "backend.tls.ca.configMapName");
    List<String> missing = fields.stream().filter(f -> !table.contains("`" + f + "`")).toList();
    assertThat(missing)
        .withFailMessage("operator/README.md's MySQLPool table lacks %s", missing)
        .isEmpty();
  }

  @Test
  void relativeLinksInTheDocsResolve() throws Exception {
    Pattern link = Pattern.compile("\\]\\(([^)#:]+)(#[^)]*)?\\)");
    for (String doc :
        List.of(
            "README.md",
            "docs/sizing.md",
            "docs/timeouts.md",
            "docs/troubleshooting.md",
            "docs/gitops.md",
            "operator/README.md",
            "helm/mysqlpool-operator/README.md")) {
      var base = Fixtures.repo().resolve(doc).getParent();
      Matcher m = link.matcher(Fixtures.read(doc));
      while (m.find()) {
        assertThat(Files.exists(base.resolve(m.group(1))))
            .as(doc + " links " + m.group(1))
            .isTrue();
      }
    }
  }
}
