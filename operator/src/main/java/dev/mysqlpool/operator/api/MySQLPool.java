package dev.mysqlpool.operator.api;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * A pool of MySQL proxies in front of one writer: the user declares the workload, the operator
 * sizes the pools, derives the timeout chain and runs the proxies behind an AWS NLB (or a ClusterIP
 * Service). The printer columns appear in the order declared here (the CRD generation keeps it).
 */
@Group(MySQLPool.GROUP)
@Version(MySQLPool.VERSION)
@Kind("MySQLPool")
@Plural("mysqlpools")
@Singular("mysqlpool")
@ShortNames("mpool")
@AdditionalPrinterColumn(
    name = "Ready",
    type = AdditionalPrinterColumn.Type.STRING,
    jsonPath = ".status.conditions[?(@.type==\"Ready\")].status")
@AdditionalPrinterColumn(
    name = "Replicas",
    type = AdditionalPrinterColumn.Type.INTEGER,
    jsonPath = ".spec.replicas")
@AdditionalPrinterColumn(
    name = "Max Conns/Replica",
    type = AdditionalPrinterColumn.Type.INTEGER,
    jsonPath = ".status.sizing.perReplica")
@AdditionalPrinterColumn(
    name = "Endpoint",
    type = AdditionalPrinterColumn.Type.STRING,
    jsonPath = ".status.endpoint")
@AdditionalPrinterColumn(
    name = "Writer",
    type = AdditionalPrinterColumn.Type.STRING,
    jsonPath = ".status.writer.address")
@AdditionalPrinterColumn(
    name = "Age",
    type = AdditionalPrinterColumn.Type.DATE,
    jsonPath = ".metadata.creationTimestamp")
@AdditionalPrinterColumn(
    name = "Message",
    type = AdditionalPrinterColumn.Type.STRING,
    jsonPath = ".status.conditions[?(@.type==\"Ready\")].message")
@JsonClassDescription(
    "A pool of MySQL proxies in front of one MySQL writer. You declare the writer's limits, a Secret of users and"
        + " the workload (peak TPS, hold time); the operator sizes each proxy's backend pool by Little's Law,"
        + " checks it against max_connections, derives the timeout chain and runs the proxies behind an AWS NLB or"
        + " a ClusterIP Service. kubectl get mpool shows Ready, the replicas, the pool size per replica, the"
        + " endpoint, the writer address the proxies reach and why a pool is not ready.")
public class MySQLPool extends CustomResource<MySQLPoolSpec, MySQLPoolStatus>
    implements Namespaced {
  public static final String GROUP = "mysqlpool.dev";
  public static final String VERSION = "v1alpha1";
  private static final long serialVersionUID = 1L;

  @Override
  protected MySQLPoolStatus initStatus() {
    return new MySQLPoolStatus();
  }
}
