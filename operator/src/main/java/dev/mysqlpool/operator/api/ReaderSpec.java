package dev.mysqlpool.operator.api;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/**
 * One entry of {@code spec.backend.readers}: a read replica, or an endpoint in front of several (an
 * Aurora reader endpoint, whose DNS spreads new connections over the replicas), rendered as a proxy
 * backend with {@code role: reader}.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription(
    "A read replica, or an endpoint in front of several such as an Aurora reader endpoint (its DNS spreads the proxies' connections over the replicas). Reads go here only with spec.routing.readWriteSplit.")
public class ReaderSpec {
  /** The name pattern of a proxy backend. */
  public static final String NAME_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";

  /** The largest read weight the proxy accepts. */
  public static final int MAX_WEIGHT = 1000;

  @Required
  @Size(min = 1, max = 253)
  @JsonPropertyDescription(
      "Host name or IP address of the replica or reader endpoint, e.g. orders.cluster-ro-abc.eu-west-1.rds.amazonaws.com.")
  public String host;

  @Min(1)
  @Max(65535)
  @JsonPropertyDescription("MySQL port. Default: spec.backend.port.")
  public Integer port;

  @Default("1")
  @Min(1)
  @Max(MAX_WEIGHT)
  @JsonPropertyDescription(
      "This reader's share of the reads relative to the other readers (1 to 1000): with weights 2 and 1 the first gets two thirds.")
  public int weight = 1;

  @Size(min = 1, max = 63)
  @Pattern(NAME_PATTERN)
  @JsonPropertyDescription(
      "The backend's name in the proxies' /stats and metrics: lower-case letters, digits and '-'. Default: reader-1, reader-2, ... by position.")
  public String name;

  @Min(1)
  @Max(100000)
  @JsonPropertyDescription(
      "The replica's max_connections. Default: spec.backend.maxConnections (replicas of the same instance class have the same). Each proxy's reader pool is as large as its writer pool (pool.maxConnections is per backend), so the operator checks every proxy's pool, during a rolling update too, against this minus spec.backend.reservedConnections, and clamps pool.maxConnections when it does not fit.")
  public Integer maxConnections;

  public ReaderSpec() {}

  /**
   * The backend's name in the proxy config: {@link #name}, or reader-1, reader-2, ... by its
   * position {@code index} (from 0) in spec.backend.readers.
   */
  public String backendName(int index) {
    return name != null ? name : "reader-" + (index + 1);
  }

  public ReaderSpec(String host) {
    this.host = host;
  }
}
