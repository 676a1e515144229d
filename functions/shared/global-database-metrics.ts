/**
 * The CloudWatch metrics of an Aurora global database, and the one query every reader uses (the
 * alarms, the dashboard, the topology step), so none of them depends on a dimension set that
 * CloudWatch may not publish. No imports: synth and the Lambda bundles share it.
 *
 * What AWS documents (Aurora User Guide, https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.AuroraMonitoring.Metrics.html
 * and https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database-monitoring.html):
 * the metrics are in `AWS/RDS`, in milliseconds, and only the secondary clusters emit them, in
 * their own Regions. The dimensions page (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/dimensions.html)
 * lists `DBClusterIdentifier` and `SourceRegion` but not which sets each metric is published with;
 * AWS's Aurora workshop finds them under `DBClusterIdentifier, SourceRegion`. A metric alarm must
 * name the exact set, and an alarm on a set that is never published stays in INSUFFICIENT_DATA,
 * which `treat_missing_data = notBreaching` turns into OK forever. A Metrics Insights query over
 * the namespace matches every set that carries the cluster's dimension
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-metrics-insights-querylanguage.html),
 * and alarms (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Create_Metrics_Insights_Alarm.html),
 * dashboards and GetMetricData all take one.
 */

/** How far the secondary's storage is behind the primary's (ms). */
export const REPLICATION_LAG_METRIC = "AuroraGlobalDBReplicationLag";

/**
 * The recovery point objective lag: how far the newest commit the secondary holds is behind the
 * primary's (ms). It is what a failover with data loss would lose, so the RPO alarm reads it.
 */
export const RPO_LAG_METRIC = "AuroraGlobalDBRPOLag";

export type GlobalDatabaseMetric = typeof REPLICATION_LAG_METRIC | typeof RPO_LAG_METRIC;

/**
 * `SELECT MAX(<metric>) FROM "AWS/RDS" WHERE DBClusterIdentifier = '<cluster>'`: one series, the
 * largest value any published dimension set of the cluster reports.
 */
export function globalDatabaseMetricQuery(
  metric: GlobalDatabaseMetric,
  clusterIdentifier: string,
): string {
  return `SELECT MAX(${metric}) FROM "AWS/RDS" WHERE DBClusterIdentifier = '${clusterIdentifier}'`;
}
