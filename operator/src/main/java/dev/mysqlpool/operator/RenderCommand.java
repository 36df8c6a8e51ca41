package dev.mysqlpool.operator;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.mysqlpool.operator.api.MySQLPool;
import dev.mysqlpool.operator.render.Admission;
import dev.mysqlpool.operator.render.KubectlYaml;
import dev.mysqlpool.operator.render.Manifests;
import dev.mysqlpool.operator.render.Plan;
import dev.mysqlpool.operator.render.RenderSettings;
import dev.mysqlpool.operator.validation.MySQLPoolValidator;
import dev.mysqlpool.proxy.config.Durations;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code render -f pool.yaml}: prints every manifest the operator would apply for the MySQLPools in
 * the files (or stdin, {@code -f -}), as kubectl prints YAML, without a cluster, for GitOps review
 * and CI diffs. Other kinds in the files (a Secret, say) are skipped. A pool that the operator
 * would refuse (invalid spec, clashing timeouts, a backend too small) is reported on stderr and
 * makes the exit status 1.
 */
public final class RenderCommand {
  private static final ObjectMapper STRICT =
      new ObjectMapper().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private RenderCommand() {}

  /**
   * Renders the files ({@code -} is {@code in}) to {@code out}; problems go to {@code err}. Returns
   * the exit status: 0, or 1 when a file cannot be read or a pool would be refused.
   */
  public static int run(
      List<String> files,
      RenderSettings settings,
      InputStream in,
      PrintStream out,
      PrintStream err) {
    MySQLPoolOperator.level("WARN"); // manifests on stdout; only warnings may reach stderr
    List<MySQLPool> pools = new ArrayList<>();
    int status = 0;
    for (String file : files) {
      try {
        String text =
            file.equals("-")
                ? new String(in.readAllBytes(), StandardCharsets.UTF_8)
                : Files.readString(Path.of(file));
        pools.addAll(read(text));
      } catch (IOException | IllegalArgumentException e) {
        err.println((file.equals("-") ? "stdin" : file) + ": " + e.getMessage());
        status = 1;
      }
    }
    if (pools.isEmpty() && status == 0) {
      err.println(
          "no MySQLPool (apiVersion "
              + MySQLPool.GROUP
              + "/"
              + MySQLPool.VERSION
              + ") found in "
              + String.join(", ", files));
      return 1;
    }
    for (MySQLPool pool : pools) {
      String id =
          "mysqlpool "
              + (pool.getMetadata().getNamespace() == null
                  ? "default"
                  : pool.getMetadata().getNamespace())
              + "/"
              + pool.getMetadata().getName();
      Admission admission = Admission.of(pool, settings, pools, List.of());
      if (admission.plan() == null) {
        err.println(id + " is invalid:");
        MySQLPoolValidator.validate(pool).forEach(e -> err.println("  - " + e));
        status = 1;
        continue;
      }
      if (!admission.renders()) {
        err.println(id + " would be refused by the operator:");
        for (Admission.Check c : admission.checks()) {
          if (!c.ok() && c.blocks()) {
            err.println("  - " + c.type() + "=False (" + c.reason() + "): " + c.message());
          }
        }
        status = 1;
        continue;
      }
      Plan plan = admission.plan();
      for (Admission.Check c : admission.checks()) {
        if (!c.ok()) {
          err.println(id + ": " + c.type() + "=False (" + c.reason() + "): " + c.message());
        }
      }
      out.println("# " + id);
      out.println("# sizing (" + plan.sizing().source() + "): " + plan.sizing().message());
      out.println(
          "# timeouts: clientIdleTimeout "
              + Durations.format(plan.timeouts().clientIdleTimeout())
              + ", tcpKeepAliveIdle "
              + Durations.format(plan.timeouts().tcpKeepAliveIdle())
              + ", idleTimeout "
              + Durations.format(plan.timeouts().idleTimeout())
              + ", maxLifetime "
              + Durations.format(plan.timeouts().maxLifetime())
              + ", drainTimeout "
              + Durations.format(plan.timeouts().drainTimeout())
              + ", loadBalancerWait "
              + Durations.format(plan.timeouts().loadBalancerWait())
              + ", preStop "
              + plan.timeouts().preStopDelaySeconds()
              + "s"
              + ", terminationGracePeriodSeconds "
              + plan.timeouts().terminationGracePeriodSeconds());
      out.print(KubectlYaml.print(Manifests.all(plan)));
    }
    return status;
  }

  /**
   * The MySQLPools among the YAML documents of {@code text}; unknown fields in a pool are an error.
   */
  static List<MySQLPool> read(String text) throws IOException {
    List<MySQLPool> pools = new ArrayList<>();
    YAMLMapper mapper = new YAMLMapper();
    try (MappingIterator<JsonNode> docs = mapper.readerFor(JsonNode.class).readValues(text)) {
      int index = 0;
      while (docs.hasNext()) {
        JsonNode doc = docs.next();
        index++;
        if (doc == null
            || doc.isNull()
            || doc.isMissingNode()
            || !"MySQLPool".equals(doc.path("kind").asText())) {
          continue;
        }
        String apiVersion = doc.path("apiVersion").asText();
        if (!apiVersion.equals(MySQLPool.GROUP + "/" + MySQLPool.VERSION)) {
          throw new IllegalArgumentException(
              "document "
                  + index
                  + ": apiVersion '"
                  + apiVersion
                  + "' is not "
                  + MySQLPool.GROUP
                  + "/"
                  + MySQLPool.VERSION);
        }
        try {
          pools.add(STRICT.treeToValue(doc, MySQLPool.class));
        } catch (JsonMappingException e) {
          String field = path(e);
          String what =
              e instanceof UnrecognizedPropertyException ? "unknown field" : e.getOriginalMessage();
          throw new IllegalArgumentException("document " + index + ": " + field + ": " + what, e);
        }
      }
    }
    return pools;
  }

  private static String path(JsonMappingException e) {
    StringBuilder sb = new StringBuilder();
    for (JsonMappingException.Reference r : e.getPath()) {
      if (r.getFieldName() != null) {
        sb.append(sb.length() == 0 ? "" : ".").append(r.getFieldName());
      } else if (r.getIndex() >= 0) {
        sb.append('[').append(r.getIndex()).append(']');
      }
    }
    return sb.length() == 0 ? "(document)" : sb.toString();
  }
}
