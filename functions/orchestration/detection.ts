/**
 * probe-primary: decides, from the secondary region, whether the primary region is down, and
 * publishes the verdict as the `PrimaryDown` metric whose alarm starts automatic failover
 * (dr-metrics.ts). Runs every minute; nothing it needs lives in the primary region or in
 * us-east-1 (the us-east-1 reading is optional, see `route53`).
 *
 * Three independent signals, each from its own vantage point, vote down, up or unknown:
 * - `endpoint`: the primary's load balancer over HTTPS from here (endpoint-probe.ts);
 * - `database`: the primary cluster through the RDS API of the primary region: down when it does
 *   not answer or answers with a status in which it takes no writes (`SOURCE_DOWN_STATUSES`);
 * - `route53`: Route 53's health checkers, which probe from several regions worldwide. Read from
 *   their `HealthCheckStatus` metric, which Route 53 publishes only in us-east-1
 *   (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/monitoring-health-checks.html),
 *   when that region answers; otherwise from the public name's DNS answer, which Route 53's
 *   globally distributed data plane gives from the same verdicts
 *   (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/route-53-concepts.html).
 *
 * The primary is down when at least `detection.quorum` signals say so and Route 53 does not say
 * it is up. The veto is what keeps a partition from promoting: cut off from the primary, the
 * endpoint and database signals both fail here, but Route 53's checkers still reach it. The
 * alarm then needs `automaticFailover.alarmMinutes` such minutes in a row (damping), and the
 * trigger keeps automatic failovers `minimumIntervalMinutes` apart.
 *
 * Every run also republishes the traffic fences from the ledger (traffic-fence.ts): Route 53
 * follows the fence metric's data stream, so a fence must keep flowing to hold.
 */
import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type MetricDatum,
  PutMetricDataCommand,
} from "@aws-sdk/client-cloudwatch";
import { DescribeDBClustersCommand, type RDSClient } from "@aws-sdk/client-rds";
import { callTimeout } from "../shared/aws-clients";
import {
  DETECTION_SIGNALS,
  type DetectionSignal,
  DR_METRIC_NAMESPACE,
  PRIMARY_DOWN_METRIC,
  PROBE_INTERVAL_SECONDS,
  PROBE_SIGNAL_METRIC,
  primaryDownDimensions,
  probeSignalDimensions,
  VETO_RECHECK_INTERVAL_SECONDS,
  VETO_RECHECK_SECONDS,
} from "../shared/dr-metrics";
import { type DataPlaneReaders, loadBalancerNames } from "../shared/endpoint-probe";
import { classifyError, describeError, isRegionUnreachableError } from "../shared/errors";
import { SOURCE_DOWN_STATUSES } from "../shared/operation";
import type { AutomationSettings } from "../shared/settings";
import type { Ledger } from "./ledger";
import { currentFences, type FenceState, publishFences } from "./traffic-fence";

/** Route 53 publishes its health-check metrics in this region only (see the module comment). */
export const ROUTE53_METRICS_REGION = "us-east-1";

export type SignalVote = "down" | "up" | "unknown";

export interface SignalReading {
  vote: SignalVote;
  /** What was read, in one sentence. */
  detail: string;
}

export interface DetectionDependencies extends DataPlaneReaders {
  readonly settings: AutomationSettings;
  readonly ledger: Ledger;
  /** RDS of the primary region. */
  readonly primaryRds: RDSClient;
  /** CloudWatch of the automation's region: where the verdict and the fences are published. */
  readonly cloudWatch: CloudWatchClient;
  /** CloudWatch of us-east-1, for Route 53's HealthCheckStatus metric (best effort). */
  readonly route53Metrics: CloudWatchClient;
  readonly now: () => Date;
  /** Waits between rereads of Route 53's view (injectable for tests). */
  readonly sleep: (milliseconds: number) => Promise<void>;
}

export interface DetectionReport {
  signals: Record<DetectionSignal, SignalReading>;
  downVotes: number;
  quorum: number;
  primaryDown: boolean;
  /** Why the verdict is what it is. */
  why: string;
  fences: FenceState;
}

/** The verdict from the votes (see the module comment). */
export function decidePrimaryDown(
  signals: Readonly<Record<DetectionSignal, SignalReading>>,
  quorum: number,
): { primaryDown: boolean; downVotes: number; why: string } {
  const down = DETECTION_SIGNALS.filter((signal) => signals[signal].vote === "down");
  const downVotes = down.length;
  if (signals.route53.vote === "up") {
    return {
      primaryDown: false,
      downVotes,
      why:
        downVotes > 0
          ? `Route 53's health checkers see the primary healthy while ${down.join(" and ")} ` +
            "fail from here: a partition between the regions, not an outage (no failover)"
          : "every signal sees the primary up",
    };
  }
  if (downVotes >= quorum) {
    return {
      primaryDown: true,
      downVotes,
      why: `${down.join(", ")} say the primary is down (${downVotes} of ${DETECTION_SIGNALS.length}, quorum ${quorum})`,
    };
  }
  return {
    primaryDown: false,
    downVotes,
    why:
      downVotes === 0
        ? "no signal says the primary is down"
        : `only ${down.join(", ")} say${downVotes === 1 ? "s" : ""} the primary is down (${downVotes}, quorum ${quorum})`,
  };
}

/**
 * Reads the signals and the fences, decides, and publishes it all in one PutMetricData. While
 * Route 53's "up" alone holds the verdict back (it vetoes the other signals, or its vote would
 * complete their quorum), Route 53's view is read again every {@link VETO_RECHECK_INTERVAL_SECONDS} for up to
 * {@link VETO_RECHECK_SECONDS}: in an outage its checkers need their failure threshold of checks
 * to notice, and the next scheduled run would come a minute later.
 */
export async function probePrimary(deps: DetectionDependencies): Promise<DetectionReport> {
  const { settings } = deps;
  const timeoutMs = settings.detection.probeTimeoutSeconds * 1000;
  const startedAt = deps.now().getTime();
  // The fences first: the DNS reading needs them, and a run reads the ledger once.
  const fences = await currentFences(deps.ledger, settings);
  const [endpoint, database, firstRoute53] = await Promise.all([
    endpointSignal(deps, timeoutMs),
    databaseSignal(deps, timeoutMs),
    route53Signal(deps, timeoutMs, fences),
  ]);
  let route53 = firstRoute53;
  let rechecks = 0;
  const othersDown = [endpoint, database].filter((signal) => signal.vote === "down").length;
  // Route 53 alone stands between the others and the quorum: it vetoes them (an outage it has
  // not noticed yet, or a partition), or its vote is the one missing (a web-tier failure, where
  // the database answers).
  const { quorum } = settings.detection;
  const vetoOnly = () => route53.vote === "up" && othersDown > 0 && othersDown + 1 >= quorum;
  // Bounded both by time (the probes themselves take some) and by count (a clock that stands
  // still must not loop forever).
  const maxRechecks = Math.floor(VETO_RECHECK_SECONDS / VETO_RECHECK_INTERVAL_SECONDS);
  while (
    vetoOnly() &&
    rechecks < maxRechecks &&
    // A reread starts only if it can end, its own timeout included, inside the window.
    deps.now().getTime() - startedAt + VETO_RECHECK_INTERVAL_SECONDS * 1000 + timeoutMs <=
      VETO_RECHECK_SECONDS * 1000
  ) {
    await deps.sleep(VETO_RECHECK_INTERVAL_SECONDS * 1000);
    route53 = await route53Signal(deps, timeoutMs, fences);
    rechecks++;
  }
  if (rechecks > 0) {
    route53 = {
      ...route53,
      detail: `${route53.detail} (after ${rechecks} reread${rechecks === 1 ? "" : "s"})`,
    };
  }
  const signals = { endpoint, database, route53 };
  const verdict = decidePrimaryDown(signals, settings.detection.quorum);
  const now = deps.now();

  const datums: MetricDatum[] = [
    {
      MetricName: PRIMARY_DOWN_METRIC,
      Dimensions: primaryDownDimensions(settings.namePrefix),
      Timestamp: now,
      Value: verdict.primaryDown ? 1 : 0,
      Unit: "Count",
    },
    ...DETECTION_SIGNALS.filter((signal) => signals[signal].vote !== "unknown").map((signal) => ({
      MetricName: PROBE_SIGNAL_METRIC,
      Dimensions: probeSignalDimensions(settings.namePrefix, signal),
      Timestamp: now,
      Value: signals[signal].vote === "down" ? 1 : 0,
      Unit: "Count" as const,
    })),
  ];
  await Promise.all([
    deps.cloudWatch.send(
      new PutMetricDataCommand({ Namespace: DR_METRIC_NAMESPACE, MetricData: datums }),
      callTimeout(),
    ),
    publishFences(deps.cloudWatch, settings.namePrefix, fences, now),
  ]);
  return { signals, quorum: settings.detection.quorum, ...verdict, fences };
}

async function endpointSignal(
  deps: DetectionDependencies,
  timeoutMs: number,
): Promise<SignalReading> {
  const { settings } = deps;
  const host = settings.regions.primary.loadBalancer.dnsName;
  const reading = await deps.probeEndpoint({
    host,
    serverName: settings.recordName,
    path: settings.healthPath,
    timeoutMs,
  });
  return reading.healthy
    ? { vote: "up", detail: `${host}${settings.healthPath} answered 200` }
    : { vote: "down", detail: `${host}${settings.healthPath}: ${reading.reason ?? "unhealthy"}` };
}

async function databaseSignal(
  deps: DetectionDependencies,
  timeoutMs: number,
): Promise<SignalReading> {
  const { clusterIdentifier, region } = deps.settings.regions.primary;
  try {
    const output = await deps.primaryRds.send(
      new DescribeDBClustersCommand({ DBClusterIdentifier: clusterIdentifier }),
      callTimeout(timeoutMs),
    );
    const status = output.DBClusters?.[0]?.Status ?? "unknown";
    return SOURCE_DOWN_STATUSES.includes(status)
      ? { vote: "down", detail: `${clusterIdentifier} is ${status}: it takes no writes` }
      : { vote: "up", detail: `${clusterIdentifier} answers from ${region} (${status})` };
  } catch (error) {
    if (isRegionUnreachableError(error) || classifyError(error).name === "DBClusterNotFoundFault") {
      return { vote: "down", detail: `${region} RDS: ${describeError(error)}` };
    }
    // Access denied, throttling, a bad request: says nothing about the primary's health.
    return { vote: "unknown", detail: `${region} RDS: ${describeError(error)}` };
  }
}

/**
 * Route 53's view from both readings: down as soon as either says down (each lags in its own
 * way: the metric by its one-minute period, the DNS answer not at all from the authoritative
 * servers), up when a reading says up and none says down, unknown otherwise.
 */
async function route53Signal(
  deps: DetectionDependencies,
  timeoutMs: number,
  fences: FenceState,
): Promise<SignalReading> {
  const [fromMetric, fromDns] = await Promise.all([
    route53MetricVote(deps, timeoutMs),
    route53DnsVote(deps, timeoutMs, fences),
  ]);
  const readings = [fromMetric, fromDns];
  const vote: SignalVote = readings.some((reading) => reading.vote === "down")
    ? "down"
    : readings.some((reading) => reading.vote === "up")
      ? "up"
      : "unknown";
  return { vote, detail: `${fromDns.detail}; ${fromMetric.detail}` };
}

/** Route 53's view from the public name's DNS answer (see {@link route53Signal}). */
async function route53DnsVote(
  deps: DetectionDependencies,
  timeoutMs: number,
  fences: FenceState,
): Promise<SignalReading> {
  const { settings } = deps;
  const loadBalancers = loadBalancerNames(settings.regions);
  const nameServers = settings.nameServers?.split(",").filter((name) => name.length > 0);
  const served = await deps.servedRegion(
    settings.recordName,
    loadBalancers,
    timeoutMs,
    nameServers,
  );
  if (served.region === "unknown") {
    return { vote: "unknown", detail: `DNS: ${served.reason}` };
  }
  const recordsPrimary = served.region === settings.primaryRecordRegion;
  if (served.region === "primary") {
    return { vote: "up", detail: `${settings.recordName} is served by the primary (DNS answer)` };
  }
  // Served by the secondary: Route 53 finds the primary's record unhealthy, unless a fence
  // (not its health) keeps it off, or the secondary holds the PRIMARY record anyway.
  if (fences.primary || recordsPrimary) {
    return {
      vote: "unknown",
      detail: `${settings.recordName} is served by the secondary, ${fences.primary ? "with the primary fenced" : "which holds the PRIMARY record"}: the answer says nothing of the primary's health`,
    };
  }
  return {
    vote: "down",
    detail: `${settings.recordName} is served by the secondary: Route 53 finds the primary unhealthy (DNS answer)`,
  };
}

/**
 * The primary endpoint check's latest HealthCheckStatus (1 healthy, 0 not), if us-east-1 answers:
 * namespace AWS/Route53, dimension HealthCheckId, published in us-east-1 only
 * (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/monitoring-health-checks.html).
 */
async function route53MetricVote(
  deps: DetectionDependencies,
  timeoutMs: number,
): Promise<SignalReading> {
  const now = deps.now().getTime();
  try {
    const output = await deps.route53Metrics.send(
      new GetMetricDataCommand({
        StartTime: new Date(now - 3 * PROBE_INTERVAL_SECONDS * 1000),
        EndTime: new Date(now),
        ScanBy: "TimestampDescending",
        MetricDataQueries: [
          {
            Id: "health",
            MetricStat: {
              Metric: {
                Namespace: "AWS/Route53",
                MetricName: "HealthCheckStatus",
                Dimensions: [
                  { Name: "HealthCheckId", Value: deps.settings.regions.primary.healthCheckId },
                ],
              },
              Period: PROBE_INTERVAL_SECONDS,
              Stat: "Minimum",
            },
          },
        ],
      }),
      callTimeout(timeoutMs),
    );
    const latest = output.MetricDataResults?.[0]?.Values?.[0];
    if (latest === undefined) {
      return { vote: "unknown", detail: "no recent HealthCheckStatus in us-east-1" };
    }
    return latest >= 1
      ? { vote: "up", detail: "Route 53's checkers see the primary healthy (HealthCheckStatus 1)" }
      : {
          vote: "down",
          detail: "Route 53's checkers see the primary unhealthy (HealthCheckStatus 0)",
        };
  } catch (error) {
    return {
      vote: "unknown",
      detail: `HealthCheckStatus unreadable in ${ROUTE53_METRICS_REGION}: ${describeError(error)}`,
    };
  }
}
