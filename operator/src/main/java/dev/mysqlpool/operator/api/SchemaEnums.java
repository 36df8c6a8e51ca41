package dev.mysqlpool.operator.api;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * The allowed values of the spec's string enums, as schema sources ({@code @SchemaFrom}): the CRD
 * lists them under {@code enum}, so {@code kubectl explain} shows them and the API server refuses
 * anything else. The Java fields stay strings, so a file given to {@code render} with a wrong value
 * still gets the validator's message naming the field and the values.
 */
final class SchemaEnums {
  private SchemaEnums() {}

  /** spec.pool.mode. */
  enum PoolMode {
    @JsonProperty("session")
    SESSION,
    @JsonProperty("transaction")
    TRANSACTION
  }

  /** spec.service.type. */
  enum ServiceType {
    @JsonProperty("LoadBalancer")
    LOAD_BALANCER,
    @JsonProperty("ClusterIP")
    CLUSTER_IP
  }

  /** spec.service.scheme. */
  enum Scheme {
    @JsonProperty("internal")
    INTERNAL,
    @JsonProperty("internet-facing")
    INTERNET_FACING
  }

  /** spec.tls.mode. */
  enum FrontendTlsMode {
    @JsonProperty("disabled")
    DISABLED,
    @JsonProperty("optional")
    OPTIONAL,
    @JsonProperty("required")
    REQUIRED
  }

  /** spec.backend.tls.mode: MySQL's ssl-mode names. */
  enum BackendTlsMode {
    @JsonProperty("disabled")
    DISABLED,
    @JsonProperty("preferred")
    PREFERRED,
    @JsonProperty("required")
    REQUIRED,
    @JsonProperty("verify-ca")
    VERIFY_CA,
    @JsonProperty("verify-identity")
    VERIFY_IDENTITY
  }

  /** spec.routing.readYourWrites. */
  enum ReadYourWrites {
    @JsonProperty("none")
    NONE,
    @JsonProperty("session")
    SESSION
  }

  /** spec.routing.rules[].to. */
  enum RouteTarget {
    @JsonProperty("writer")
    WRITER,
    @JsonProperty("reader")
    READER
  }
}
