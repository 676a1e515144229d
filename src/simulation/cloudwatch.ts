/**
 * CloudWatch metrics of the simulated pair: `AWS/RDS` `AuroraGlobalDBReplicationLag` and
 * `AuroraGlobalDBRPOLag` of the global database's secondary cluster, in milliseconds, one
 * datapoint per period. Any other metric has no data (an empty result, as CloudWatch answers for a
 * metric it has never seen).
 *
 * Sources: Aurora User Guide, "Monitoring Aurora Global Database" and "CloudWatch metrics for
 * Aurora" (both metrics in milliseconds, emitted by the secondary clusters in their own Regions,
 * https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.AuroraMonitoring.Metrics.html);
 * CloudWatch API Reference, GetMetricData (MetricDataResults with Timestamps/Values, StatusCode
 * `Complete`, newest first by default: ScanBy TimestampDescending; a query's Expression may be a
 * Metrics Insights query) and GetMetricStatistics (Datapoints).
 *
 * Dimension sets: AWS does not document which sets these metrics are published with (see
 * functions/shared/global-database-metrics.ts). The simulator publishes them under
 * `DBClusterIdentifier, SourceRegion` only, the set AWS's Aurora workshop finds, so a reader that
 * names `DBClusterIdentifier` alone (an assumption AWS never made) gets no data here, as it might
 * in AWS. The RPO lag is modelled equal to the replication lag: both are the lag set on the pair.
 *
 * Alarms: DescribeAlarms with `AlarmNames` answers the alarms set with {@link
 * CloudWatchSimulation.setAlarmState} in the region called, as `MetricAlarms` with `StateValue`
 * (OK | ALARM | INSUFFICIENT_DATA); an unknown name is left out of the answer, as CloudWatch does
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html).
 * Alarms are not evaluated: a test or the game day sets the state the alarm would reach.
 */
import type {
  DescribeAlarmsInput,
  Dimension,
  GetMetricDataInput,
  GetMetricStatisticsInput,
  StateValue,
} from "@aws-sdk/client-cloudwatch";
import {
  REPLICATION_LAG_METRIC,
  RPO_LAG_METRIC,
} from "../../functions/shared/global-database-metrics";
import { SimulatorUnsupportedError } from "./errors";

/** A cluster that currently emits the lag metrics, and the lag it reports. */
export interface LagSource {
  readonly region: string;
  readonly clusterIdentifier: string;
  /** The writer's region: the `SourceRegion` dimension. */
  readonly sourceRegion: string;
  readonly lagMs: number;
}

export interface CloudWatchEnvironment {
  /** The secondary clusters emitting the global-database lag metrics right now. */
  lagSources(): readonly LagSource[];
}

export { REPLICATION_LAG_METRIC };

const LAG_METRICS: readonly string[] = [REPLICATION_LAG_METRIC, RPO_LAG_METRIC];

/**
 * The one Metrics Insights shape the simulator answers: `SELECT MAX(<metric>) FROM "<namespace>"
 * WHERE <dimension> = '<value>'` (syntax:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-metrics-insights-querylanguage.html).
 * Without SCHEMA() the query covers every dimension set of the metric that has the dimension.
 */
const METRICS_INSIGHTS_QUERY = /^SELECT MAX\((\w+)\) FROM "([\w/]+)" WHERE (\w+) = '([^']*)'$/;

export class CloudWatchSimulation {
  private readonly env: CloudWatchEnvironment;
  /** `<region>/<alarm name>` -> state. */
  private readonly alarms = new Map<string, StateValue>();

  constructor(env: CloudWatchEnvironment) {
    this.env = env;
  }

  /** Sets the state an alarm has reached (the simulation does not evaluate alarms). */
  setAlarmState(region: string, alarmName: string, state: StateValue): void {
    this.alarms.set(`${region}/${alarmName}`, state);
  }

  handle(operation: string, input: Record<string, unknown>, region: string): unknown {
    switch (operation) {
      case "DescribeAlarms":
        return this.describeAlarms(input as unknown as DescribeAlarmsInput, region);
      case "GetMetricData":
        return this.getMetricData(input as unknown as GetMetricDataInput, region);
      case "GetMetricStatistics":
        return this.getMetricStatistics(input as unknown as GetMetricStatisticsInput, region);
      default:
        throw new SimulatorUnsupportedError(`CloudWatch ${operation} is not modelled`);
    }
  }

  private describeAlarms(input: DescribeAlarmsInput, region: string) {
    if (input.AlarmNames === undefined) {
      throw new SimulatorUnsupportedError("DescribeAlarms is modelled with AlarmNames only");
    }
    const MetricAlarms = input.AlarmNames.flatMap((name) => {
      const state = this.alarms.get(`${region}/${name}`);
      return state === undefined ? [] : [{ AlarmName: name, StateValue: state }];
    });
    return { MetricAlarms, CompositeAlarms: [] };
  }

  private getMetricData(input: GetMetricDataInput, region: string) {
    const start = toMs(input.StartTime);
    const end = toMs(input.EndTime);
    const results = (input.MetricDataQueries ?? []).map((query) => {
      const stat = query.MetricStat;
      const metric = stat?.Metric;
      const lag = query.Expression
        ? this.queryLag(region, query.Expression)
        : this.lagFor(region, metric?.Namespace, metric?.MetricName, metric?.Dimensions);
      const period = ((query.Expression ? query.Period : stat?.Period) ?? 60) * 1000;
      const timestamps = lag === undefined ? [] : periodStarts(start, end, period);
      if (input.ScanBy !== "TimestampAscending") timestamps.reverse();
      return {
        Id: query.Id,
        Label: query.Label ?? metric?.MetricName,
        Timestamps: timestamps.map((time) => new Date(time)),
        Values: timestamps.map(() => lag as number),
        StatusCode: "Complete" as const,
        Messages: [],
      };
    });
    return {
      MetricDataResults: results.filter(
        (_, index) => input.MetricDataQueries?.[index]?.ReturnData !== false,
      ),
      Messages: [],
    };
  }

  private getMetricStatistics(input: GetMetricStatisticsInput, region: string) {
    const lag = this.lagFor(region, input.Namespace, input.MetricName, input.Dimensions);
    const period = (input.Period ?? 60) * 1000;
    const timestamps =
      lag === undefined ? [] : periodStarts(toMs(input.StartTime), toMs(input.EndTime), period);
    return {
      Label: input.MetricName,
      Datapoints: timestamps.map((time) => ({
        Timestamp: new Date(time),
        Unit: "Milliseconds" as const,
        ...Object.fromEntries(
          (input.Statistics ?? ["Average"]).map((statistic) => [statistic, lag]),
        ),
        ...(input.Statistics?.includes("SampleCount") ? { SampleCount: 1 } : {}),
      })),
    };
  }

  /** A metric named by its exact dimension set: only the published set has data. */
  private lagFor(
    region: string,
    namespace: string | undefined,
    metricName: string | undefined,
    dimensions: Dimension[] | undefined,
  ): number | undefined {
    if (namespace !== "AWS/RDS" || !LAG_METRICS.includes(metricName ?? "")) return undefined;
    const value = (name: string) => dimensions?.find((dimension) => dimension.Name === name)?.Value;
    const cluster = value("DBClusterIdentifier");
    const sourceRegion = value("SourceRegion");
    if (dimensions?.length !== 2 || cluster === undefined || sourceRegion === undefined) {
      return undefined;
    }
    return this.env
      .lagSources()
      .find(
        (source) =>
          source.region === region &&
          source.clusterIdentifier === cluster &&
          source.sourceRegion === sourceRegion,
      )?.lagMs;
  }

  /** A Metrics Insights query: every dimension set carrying the filtered dimension matches. */
  private queryLag(region: string, expression: string): number | undefined {
    const query = METRICS_INSIGHTS_QUERY.exec(expression.trim());
    if (!query) {
      throw new SimulatorUnsupportedError(
        `GetMetricData expression ${JSON.stringify(expression)} is not modelled; only SELECT MAX(metric) FROM "namespace" WHERE dimension = 'value'`,
      );
    }
    const [, metricName, namespace, dimension, value] = query;
    if (namespace !== "AWS/RDS" || !LAG_METRICS.includes(metricName)) return undefined;
    const matching = this.env
      .lagSources()
      .filter(
        (source) =>
          source.region === region &&
          ((dimension === "DBClusterIdentifier" && source.clusterIdentifier === value) ||
            (dimension === "SourceRegion" && source.sourceRegion === value)),
      );
    return matching.length === 0 ? undefined : Math.max(...matching.map((source) => source.lagMs));
  }
}

function toMs(time: Date | string | number | undefined): number {
  if (time === undefined)
    throw new SimulatorUnsupportedError("metric queries need StartTime and EndTime");
  return time instanceof Date ? time.getTime() : new Date(time).getTime();
}

/** Period starts aligned to the period, within [start, end). */
function periodStarts(start: number, end: number, period: number): number[] {
  const times: number[] = [];
  for (let time = Math.ceil(start / period) * period; time < end; time += period) times.push(time);
  return times;
}
