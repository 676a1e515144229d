/**
 * CloudWatch metrics of the simulated pair: `AWS/RDS` `AuroraGlobalDBReplicationLag` of the
 * global database's secondary cluster, in milliseconds, one datapoint per period. Any other metric
 * has no data (an empty result, as CloudWatch answers for a metric it has never seen).
 *
 * Sources: Aurora User Guide, "Monitoring Aurora Global Database" (AuroraGlobalDBReplicationLag,
 * milliseconds, DBClusterIdentifier dimension, emitted by the secondary clusters); CloudWatch API
 * Reference, GetMetricData (MetricDataResults with Timestamps/Values, StatusCode `Complete`,
 * newest first by default: ScanBy TimestampDescending) and GetMetricStatistics (Datapoints).
 */
import type {
  Dimension,
  GetMetricDataInput,
  GetMetricStatisticsInput,
} from "@aws-sdk/client-cloudwatch";
import { SimulatorUnsupportedError } from "./errors";

/** A cluster that currently emits the lag metric, and the lag it reports. */
export interface LagSource {
  readonly region: string;
  readonly clusterIdentifier: string;
  readonly lagMs: number;
}

export interface CloudWatchEnvironment {
  /** The secondary clusters emitting AuroraGlobalDBReplicationLag right now. */
  lagSources(): readonly LagSource[];
}

export const REPLICATION_LAG_METRIC = "AuroraGlobalDBReplicationLag";

export class CloudWatchSimulation {
  private readonly env: CloudWatchEnvironment;

  constructor(env: CloudWatchEnvironment) {
    this.env = env;
  }

  handle(operation: string, input: Record<string, unknown>, region: string): unknown {
    switch (operation) {
      case "GetMetricData":
        return this.getMetricData(input as unknown as GetMetricDataInput, region);
      case "GetMetricStatistics":
        return this.getMetricStatistics(input as unknown as GetMetricStatisticsInput, region);
      default:
        throw new SimulatorUnsupportedError(`CloudWatch ${operation} is not modelled`);
    }
  }

  private getMetricData(input: GetMetricDataInput, region: string) {
    const start = toMs(input.StartTime);
    const end = toMs(input.EndTime);
    const results = (input.MetricDataQueries ?? []).map((query) => {
      if (query.Expression) {
        throw new SimulatorUnsupportedError("GetMetricData math expressions are not modelled");
      }
      const stat = query.MetricStat;
      const metric = stat?.Metric;
      const lag = this.lagFor(region, metric?.Namespace, metric?.MetricName, metric?.Dimensions);
      const period = (stat?.Period ?? 60) * 1000;
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

  private lagFor(
    region: string,
    namespace: string | undefined,
    metricName: string | undefined,
    dimensions: Dimension[] | undefined,
  ): number | undefined {
    if (namespace !== "AWS/RDS" || metricName !== REPLICATION_LAG_METRIC) return undefined;
    const cluster = dimensions?.find(
      (dimension) => dimension.Name === "DBClusterIdentifier",
    )?.Value;
    if (dimensions?.length !== 1 || cluster === undefined) return undefined;
    return this.env
      .lagSources()
      .find((source) => source.region === region && source.clusterIdentifier === cluster)?.lagMs;
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
