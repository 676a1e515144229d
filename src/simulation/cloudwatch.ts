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
 * Custom metrics: PutMetricData stores each datum (namespace, name, dimension set, timestamp,
 * value) in the region called; GetMetricData/GetMetricStatistics do not read them back (nothing
 * in the automation does), but {@link CloudWatchSimulation.latestValue} lets the Route 53 model
 * follow a metric's data stream, as a CloudWatch-alarm health check does.
 *
 * Route 53's `AWS/Route53` `HealthCheckStatus` (1 healthy, 0 not, dimension HealthCheckId) is
 * answered by GetMetricData in us-east-1 only: "Route 53 metrics are not available if you select
 * any other region" (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/monitoring-health-checks.html).
 *
 * Alarms: DescribeAlarms with `AlarmNames` answers the alarms set with {@link
 * CloudWatchSimulation.setAlarmState} or evaluated from a {@link MetricAlarmDefinition}, in the
 * region called, as `MetricAlarms` with `StateValue` (OK | ALARM | INSUFFICIENT_DATA); an unknown
 * name is left out of the answer, as CloudWatch does
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html).
 * A defined alarm is evaluated whenever a datum of its metric arrives, over one-minute periods:
 * "For any period of one minute or longer, an alarm is evaluated every minute"; with
 * `notBreaching`, missing periods count as good
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html).
 * Only the shape the automation's alarms use is modelled: Maximum, GreaterThanOrEqualToThreshold,
 * `datapointsToAlarm` of `evaluationPeriods`, missing data notBreaching. A state change is
 * handed to the listeners (EventBridge's "CloudWatch Alarm State Change", event-rules.ts), unless
 * the alarm's region is down.
 */
import type {
  DescribeAlarmsInput,
  Dimension,
  GetMetricDataInput,
  GetMetricStatisticsInput,
  PutMetricDataInput,
  StateValue,
} from "@aws-sdk/client-cloudwatch";
import {
  REPLICATION_LAG_METRIC,
  RPO_LAG_METRIC,
} from "../../functions/shared/global-database-metrics";
import { SimulatorUnsupportedError, serviceError } from "./errors";

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
  /** Route 53's verdict on a health check (1 healthy, 0 not), undefined for an unknown id. */
  healthCheckStatus(healthCheckId: string): 0 | 1 | undefined;
  isRegionUp(region: string): boolean;
}

/** A metric alarm the simulation evaluates (see the module comment for the modelled shape). */
export interface MetricAlarmDefinition {
  readonly region: string;
  readonly alarmName: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: readonly Dimension[];
  readonly threshold: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
}

/** An evaluated alarm's state change, as EventBridge would deliver it. */
export interface AlarmStateChange {
  readonly region: string;
  readonly alarmName: string;
  readonly previous: StateValue;
  readonly state: StateValue;
  /** Simulated epoch ms. */
  readonly at: number;
  readonly reason: string;
}

interface StoredDatum {
  readonly at: number;
  readonly value: number;
}

const PERIOD_MS = 60_000;

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
  private readonly now: () => number;
  /** `<region>/<alarm name>` -> state. */
  private readonly alarms = new Map<string, StateValue>();
  /** Datums by {@link metricKey}, in arrival order. */
  private readonly data = new Map<string, StoredDatum[]>();
  private readonly definitions: MetricAlarmDefinition[] = [];
  private readonly listeners: ((change: AlarmStateChange) => void)[] = [];

  constructor(env: CloudWatchEnvironment, now: () => number) {
    this.env = env;
    this.now = now;
  }

  /** Evaluates `definition` from now on; it starts in INSUFFICIENT_DATA, as a new alarm does. */
  defineAlarm(definition: MetricAlarmDefinition): void {
    this.definitions.push(definition);
    this.alarms.set(`${definition.region}/${definition.alarmName}`, "INSUFFICIENT_DATA");
  }

  /** Calls `listener` on every evaluated state change; returns the unsubscribe function. */
  onAlarmStateChange(listener: (change: AlarmStateChange) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const index = this.listeners.indexOf(listener);
      if (index >= 0) this.listeners.splice(index, 1);
    };
  }

  /**
   * The latest value of a custom metric published at or before `atOrBefore` (epoch ms), with
   * exactly these dimensions; undefined when none was.
   */
  latestValue(
    region: string,
    namespace: string,
    metricName: string,
    dimensions: readonly Dimension[],
    atOrBefore: number = this.now(),
  ): number | undefined {
    const datums = this.data.get(metricKey(region, namespace, metricName, dimensions)) ?? [];
    let latest: StoredDatum | undefined;
    for (const datum of datums) {
      if (datum.at <= atOrBefore && (latest === undefined || datum.at >= latest.at)) latest = datum;
    }
    return latest?.value;
  }

  /** The state of an alarm, undefined when it was never set or defined. */
  alarmState(region: string, alarmName: string): StateValue | undefined {
    return this.alarms.get(`${region}/${alarmName}`);
  }

  /** Sets the state an alarm has reached (the simulation does not evaluate alarms). */
  setAlarmState(region: string, alarmName: string, state: StateValue): void {
    this.alarms.set(`${region}/${alarmName}`, state);
  }

  handle(operation: string, input: Record<string, unknown>, region: string): unknown {
    switch (operation) {
      case "DescribeAlarms":
        return this.describeAlarms(input as unknown as DescribeAlarmsInput, region);
      case "PutMetricData":
        return this.putMetricData(input as unknown as PutMetricDataInput, region);
      case "GetMetricData":
        return this.getMetricData(input as unknown as GetMetricDataInput, region);
      case "GetMetricStatistics":
        return this.getMetricStatistics(input as unknown as GetMetricStatisticsInput, region);
      default:
        throw new SimulatorUnsupportedError(`CloudWatch ${operation} is not modelled`);
    }
  }

  /**
   * Stores the datums. CloudWatch refuses namespaces starting with `AWS/` and more than 1,000
   * datums per call (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html).
   */
  private putMetricData(input: PutMetricDataInput, region: string) {
    const namespace = input.Namespace ?? "";
    if (namespace === "" || namespace.startsWith("AWS/")) {
      throw serviceError(
        "cloudwatch",
        "InvalidParameterValue",
        `The value ${namespace} for parameter Namespace is invalid.`,
        { httpStatusCode: 400 },
      );
    }
    const datums = input.MetricData ?? [];
    if (datums.length > 1000) {
      throw serviceError(
        "cloudwatch",
        "InvalidParameterValue",
        "The collection MetricData must not have a size greater than 1000.",
        { httpStatusCode: 400 },
      );
    }
    for (const datum of datums) {
      const key = metricKey(region, namespace, datum.MetricName ?? "", datum.Dimensions ?? []);
      const at = datum.Timestamp === undefined ? this.now() : toMs(datum.Timestamp);
      const list = this.data.get(key) ?? [];
      list.push({ at, value: datum.Value ?? 0 });
      this.data.set(key, list);
    }
    for (const definition of this.definitions) {
      if (
        definition.region === region &&
        definition.namespace === namespace &&
        datums.some(
          (datum) =>
            datum.MetricName === definition.metricName &&
            sameDimensions(datum.Dimensions ?? [], definition.dimensions),
        )
      ) {
        this.evaluate(definition);
      }
    }
    return {};
  }

  /** One evaluation over the last `evaluationPeriods` one-minute periods (see the module comment). */
  private evaluate(definition: MetricAlarmDefinition): void {
    if (!this.env.isRegionUp(definition.region)) return;
    const now = this.now();
    const currentPeriod = Math.floor(now / PERIOD_MS);
    const datums =
      this.data.get(
        metricKey(
          definition.region,
          definition.namespace,
          definition.metricName,
          definition.dimensions,
        ),
      ) ?? [];
    let breaching = 0;
    for (
      let period = currentPeriod - definition.evaluationPeriods + 1;
      period <= currentPeriod;
      period++
    ) {
      const values = datums
        .filter((datum) => Math.floor(datum.at / PERIOD_MS) === period)
        .map((datum) => datum.value);
      if (values.length > 0 && Math.max(...values) >= definition.threshold) breaching++;
    }
    const state: StateValue = breaching >= definition.datapointsToAlarm ? "ALARM" : "OK";
    const key = `${definition.region}/${definition.alarmName}`;
    const previous = this.alarms.get(key) ?? "INSUFFICIENT_DATA";
    if (previous === state) return;
    this.alarms.set(key, state);
    const change: AlarmStateChange = {
      region: definition.region,
      alarmName: definition.alarmName,
      previous,
      state,
      at: now,
      reason: `Threshold Crossed: ${breaching} of the last ${definition.evaluationPeriods} datapoints were >= ${definition.threshold}`,
    };
    for (const listener of [...this.listeners]) listener(change);
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
        : (this.route53HealthFor(
            region,
            metric?.Namespace,
            metric?.MetricName,
            metric?.Dimensions,
          ) ?? this.lagFor(region, metric?.Namespace, metric?.MetricName, metric?.Dimensions));
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

  /** `AWS/Route53` `HealthCheckStatus` of one health check, in us-east-1 only. */
  private route53HealthFor(
    region: string,
    namespace: string | undefined,
    metricName: string | undefined,
    dimensions: Dimension[] | undefined,
  ): number | undefined {
    if (
      region !== "us-east-1" ||
      namespace !== "AWS/Route53" ||
      metricName !== "HealthCheckStatus"
    ) {
      return undefined;
    }
    const id = dimensions?.find((dimension) => dimension.Name === "HealthCheckId")?.Value;
    return dimensions?.length === 1 && id !== undefined
      ? this.env.healthCheckStatus(id)
      : undefined;
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

function metricKey(
  region: string,
  namespace: string,
  metricName: string,
  dimensions: readonly Dimension[],
): string {
  const sorted = [...dimensions]
    .map((dimension) => `${dimension.Name}=${dimension.Value}`)
    .sort()
    .join(",");
  return `${region}|${namespace}|${metricName}|${sorted}`;
}

function sameDimensions(a: readonly Dimension[], b: readonly Dimension[]): boolean {
  return metricKey("", "", "", a) === metricKey("", "", "", b);
}
