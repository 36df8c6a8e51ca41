package dev.mysqlpool.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The sizing gauge the chart's MySQLPoolSizingInvalid alert reads, as Prometheus scrapes it. */
class PoolMetricsTest {
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final PoolMetrics metrics = new PoolMetrics(registry);
  private final ResourceID orders = new ResourceID("orders", "shop");
  private final ResourceID billing = new ResourceID("billing", "finance");

  @Test
  void theGaugeFollowsTheSizingValidCondition() {
    metrics.sizing(orders, true);
    assertThat(registry.scrape())
        .withFailMessage("the alert rule queries exactly this series:%n%s", registry.scrape())
        .contains("mysqlpool_operator_sizing_valid{name=\"orders\",namespace=\"shop\"} 1.0");
    metrics.sizing(orders, false);
    assertThat(registry.scrape())
        .contains("mysqlpool_operator_sizing_valid{name=\"orders\",namespace=\"shop\"} 0.0");
  }

  @Test
  void aPoolWithoutSizingHasNoSeries() {
    metrics.sizing(orders, false);
    metrics.forget(orders);
    assertThat(registry.scrape()).doesNotContain("mysqlpool_operator_sizing_valid{");
    metrics.forget(orders); // forgetting twice is harmless
    metrics.sizing(orders, true);
    assertThat(registry.scrape())
        .contains("mysqlpool_operator_sizing_valid{name=\"orders\",namespace=\"shop\"} 1.0");
  }

  @Test
  void deletedPoolsAreDroppedAtTheNextReconciliation() {
    metrics.sizing(orders, true);
    metrics.sizing(billing, false);
    metrics.retain(Set.of(orders)::contains);
    assertThat(registry.scrape())
        .contains("name=\"orders\"")
        .withFailMessage("a deleted pool must not keep alerting")
        .doesNotContain("name=\"billing\"");
  }
}
