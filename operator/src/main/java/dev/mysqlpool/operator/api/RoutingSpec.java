package dev.mysqlpool.operator.api;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.SchemaFrom;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code spec.routing}: the read/write split, rendered as the proxy's {@code routing} section with
 * the same field names.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription(
    "The read/write split: reads that are safe to run on a replica go to spec.backend.readers, everything else to the writer. Left out: every statement goes to the writer.")
public class RoutingSpec {
  /** The most rules the proxy accepts: every statement is tried against them in turn. */
  public static final int MAX_RULES = 100;

  @Default("false")
  @JsonPropertyDescription(
      "true: autocommit SELECTs (and SHOW, DESC, EXPLAIN of a read) without locking clauses or side effects go to a reader; transactions, writes and sessions holding state that cannot move stay on the writer. Needs pool.mode: transaction and at least one reader.")
  public boolean readWriteSplit = false;

  @Pattern(MySQLPoolSpec.DURATION_PATTERN)
  @JsonPropertyDescription(
      "A reader further behind its source than this gets no reads; when every reader lags, reads go to the writer. Whole seconds from 1s to 1h (replicas report their lag in whole seconds). Proxy default: 5s.")
  public String maxReplicationLag;

  @SchemaFrom(type = SchemaEnums.ReadYourWrites.class)
  @JsonPropertyDescription(
      "session: after a client's write, its own reads see it (a GTID wait on the reader, or the writer until the reader caught up). none: no such promise. Proxy default: session.")
  public String readYourWrites;

  @Pattern(MySQLPoolSpec.DURATION_PATTERN)
  @JsonPropertyDescription(
      "How long a read after the client's own write may wait on a reader for that write (MASTER_GTID_WAIT) before the writer serves it; 0: never wait. At most 1m. Proxy default: 1s.")
  public String readYourWritesWait;

  @Size(max = MAX_RULES)
  @JsonPropertyDescription(
      "Rules tried in order before the statement classifier, first match wins, at most 100, e.g. {match: \"/\\\\* *mysqlpool:writer *\\\\*/\", to: writer} for a hint comment.")
  public List<Rule> rules = new ArrayList<>();

  /** A routing rule. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @JsonClassDescription(
      "Statements whose text (comments included) contains a match of match go to to, whatever the classifier says.")
  public static class Rule {
    @Required
    @Size(min = 1, max = 1000)
    @JsonPropertyDescription(
        "A Java regular expression searched in the statement text; ^ anchors at its start, (?i) ignores case.")
    public String match;

    @Required
    @SchemaFrom(type = SchemaEnums.RouteTarget.class)
    @JsonPropertyDescription("writer or reader.")
    public String to;

    public Rule() {}

    public Rule(String match, String to) {
      this.match = match;
      this.to = to;
    }
  }
}
