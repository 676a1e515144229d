/**
 * read-topology: where the database writer is, what each cluster looks like and how far the
 * replica lags, read from both regions. A region that does not answer is reported, not thrown,
 * unless the caller asks for `onUnreachable: "throw"` (planned operations, so Step Functions retries).
 */
import { type CloudWatchClient, GetMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import {
  type DBCluster,
  DescribeDBClustersCommand,
  DescribeGlobalClustersCommand,
  type GlobalCluster,
  type RDSClient,
} from "@aws-sdk/client-rds";
import { callTimeout, REGION_CALL_TIMEOUT_MS } from "../shared/aws-clients";
import {
  classifyError,
  type OnUnreachable,
  type RegionRead,
  readRegion,
  stepFailures,
} from "../shared/errors";
import {
  globalDatabaseMetricQuery,
  REPLICATION_LAG_METRIC,
  RPO_LAG_METRIC,
} from "../shared/global-database-metrics";
import type { ClusterReading, TopologyReport, UnreachableRegion } from "../shared/operation";
import { otherRole, perRole, REGION_ROLES, type RegionRole } from "../shared/region-roles";
import type { AutomationSettings } from "../shared/settings";

/**
 * FailoverState.Status values of a switchover or failover that is still running: "pending",
 * "failing-over" and "switching-over"; the fourth, "cancelling", is handled on its own
 * (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_FailoverState.html).
 */
export const IN_PROGRESS_FAILOVER_STATUSES: readonly string[] = [
  "pending",
  "switching-over",
  "failing-over",
];

/** How far back read-topology looks for AuroraGlobalDBReplicationLag datapoints. */
export const LAG_WINDOW_MINUTES = 5;

export interface TopologyDependencies {
  readonly settings: AutomationSettings;
  /** One RDS client per region role. */
  readonly rds: Readonly<Record<RegionRole, RDSClient>>;
  /** One CloudWatch client per region role. */
  readonly cloudWatch: Readonly<Record<RegionRole, CloudWatchClient>>;
  readonly now: () => Date;
}

export interface ReaderOptions {
  readonly onUnreachable: OnUnreachable;
  /** Per-call abort timeout. @default REGION_CALL_TIMEOUT_MS (5 s) */
  readonly timeoutMs?: number;
}

/** Runs `read` for both region roles in parallel. */
export async function forBothRegions<Value>(
  read: (role: RegionRole) => Promise<Value>,
): Promise<Record<RegionRole, Value>> {
  const [primary, secondary] = await Promise.all(REGION_ROLES.map(read));
  return { primary, secondary } as Record<RegionRole, Value>;
}

/**
 * DescribeDBClusters for one cluster; throws `DBClusterNotFoundFault` when it does not exist:
 * "DBClusterIdentifier doesn't refer to an existing DB cluster"
 * (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBClusters.html#API_DescribeDBClusters_Errors).
 */
export async function describeCluster(
  rds: RDSClient,
  clusterIdentifier: string,
  region: string,
  timeoutMs: number = REGION_CALL_TIMEOUT_MS,
): Promise<DBCluster> {
  const output = await rds.send(
    new DescribeDBClustersCommand({ DBClusterIdentifier: clusterIdentifier }),
    callTimeout(timeoutMs),
  );
  const cluster = output.DBClusters?.[0];
  if (!cluster) throw stepFailures.clusterNotFound(clusterIdentifier, region);
  return cluster;
}

/** DescribeGlobalClusters for one global cluster; null when it does not exist. */
export async function describeGlobalCluster(
  rds: RDSClient,
  globalClusterIdentifier: string,
  timeoutMs: number = REGION_CALL_TIMEOUT_MS,
): Promise<GlobalCluster | null> {
  try {
    const output = await rds.send(
      new DescribeGlobalClustersCommand({ GlobalClusterIdentifier: globalClusterIdentifier }),
      callTimeout(timeoutMs),
    );
    return output.GlobalClusters?.[0] ?? null;
  } catch (error) {
    // "The GlobalClusterIdentifier doesn't refer to an existing global database cluster"
    // (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeGlobalClusters.html).
    if (classifyError(error).name === "GlobalClusterNotFoundFault") return null;
    throw error;
  }
}

/** The member entry of `clusterArn` in the global cluster, if it is a member. */
export function globalMemberOf(global: GlobalCluster | null, clusterArn: string) {
  return global?.GlobalClusterMembers?.find((member) => member.DBClusterArn === clusterArn);
}

/**
 * The global cluster's FailoverState: present while a switchover or failover is pending, running
 * or being cancelled (its Status is one of pending, switching-over, failing-over, cancelling).
 */
export function failoverStateOf(global: GlobalCluster | null): TopologyReport["failover"] {
  const state = global?.FailoverState;
  if (!state?.Status) return null;
  return {
    status: state.Status,
    fromClusterArn: state.FromDbClusterArn ?? null,
    toClusterArn: state.ToDbClusterArn ?? null,
    isDataLossAllowed: state.IsDataLossAllowed ?? null,
  };
}

/**
 * Reads the topology: DescribeDBClusters and DescribeGlobalClusters in both regions (in parallel;
 * the global cluster is taken from the secondary region's answer, else the primary's), then
 * AuroraGlobalDBReplicationLag of the non-writer cluster from its region's CloudWatch.
 */
export async function readTopology(
  deps: TopologyDependencies,
  options: ReaderOptions,
): Promise<TopologyReport> {
  const { settings } = deps;
  const timeoutMs = options.timeoutMs ?? REGION_CALL_TIMEOUT_MS;
  const unreachable: UnreachableRegion[] = [];
  const notes: string[] = [];
  const noteUnreachable = (role: RegionRole, read: RegionRead<unknown>) => {
    if (read.ok || unreachable.some((entry) => entry.role === role)) return;
    unreachable.push({ role, region: settings.regions[role].region, reason: read.reason });
  };

  const [clusters, globals] = await Promise.all([
    forBothRegions((role) =>
      readRegion(
        () =>
          describeCluster(
            deps.rds[role],
            settings.regions[role].clusterIdentifier,
            settings.regions[role].region,
            timeoutMs,
          ),
        options.onUnreachable,
      ),
    ),
    forBothRegions((role) =>
      readRegion(
        () => describeGlobalCluster(deps.rds[role], settings.globalClusterIdentifier, timeoutMs),
        options.onUnreachable,
      ),
    ),
  ]);
  for (const role of REGION_ROLES) {
    noteUnreachable(role, clusters[role]);
    noteUnreachable(role, globals[role]);
  }

  const globalRead = [globals.secondary, globals.primary].find((read) => read.ok);
  const globalKnown = globalRead !== undefined;
  const global = globalRead?.ok ? globalRead.value : null;
  if (!globalKnown) {
    notes.push(
      `Global cluster ${settings.globalClusterIdentifier} could not be read in either region.`,
    );
  } else if (global === null) {
    notes.push(`Global cluster ${settings.globalClusterIdentifier} does not exist.`);
  }

  const readings = perRole((role): ClusterReading => {
    const regionSettings = settings.regions[role];
    const clusterRead = clusters[role];
    const cluster = clusterRead.ok ? clusterRead.value : null;
    const member = globalMemberOf(global, regionSettings.clusterArn);
    let globalMember: boolean | null = null;
    if (globalKnown) globalMember = member !== undefined;
    else if (cluster?.GlobalClusterIdentifier === settings.globalClusterIdentifier) {
      globalMember = true;
    }
    if (!cluster) {
      notes.push(
        `The ${role} cluster's status is unknown: ${regionSettings.region} did not answer.`,
      );
    }
    return {
      role,
      clusterIdentifier: regionSettings.clusterIdentifier,
      clusterArn: regionSettings.clusterArn,
      status: cluster?.Status ?? null,
      globalMember,
      isWriter: globalKnown ? member?.IsWriter === true : null,
      synchronizationStatus: member?.SynchronizationStatus ?? null,
    };
  });

  const writer = REGION_ROLES.find((role) => readings[role].isWriter === true);
  const writerRegion = writer ?? "unknown";
  const lag = await readReplicationLag(
    deps,
    options,
    readings,
    writerRegion,
    unreachable,
    timeoutMs,
  );
  notes.push(...lag.notes);
  for (const entry of lag.unreachable) {
    if (!unreachable.some((existing) => existing.role === entry.role)) unreachable.push(entry);
  }

  return {
    globalClusterStatus: global?.Status ?? null,
    failover: failoverStateOf(global),
    writerRegion,
    clusters: readings,
    replicationLagSeconds: lag.seconds,
    rpoLagSeconds: lag.rpoSeconds,
    unreachable,
    notes,
  };
}

async function readReplicationLag(
  deps: TopologyDependencies,
  options: ReaderOptions,
  readings: Record<RegionRole, ClusterReading>,
  writerRegion: RegionRole | "unknown",
  unreachable: readonly UnreachableRegion[],
  timeoutMs: number,
): Promise<{
  seconds: number | null;
  rpoSeconds: number | null;
  notes: string[];
  unreachable: UnreachableRegion[];
}> {
  const readerRole = writerRegion === "unknown" ? "secondary" : otherRole(writerRegion);
  const reader = readings[readerRole];
  const region = deps.settings.regions[readerRole].region;
  if (reader.globalMember === false) {
    return {
      seconds: null,
      rpoSeconds: null,
      notes: [`Replication lag not read: the ${readerRole} cluster is not in the global cluster.`],
      unreachable: [],
    };
  }
  if (unreachable.some((entry) => entry.role === readerRole)) {
    return {
      seconds: null,
      rpoSeconds: null,
      notes: [`Replication lag unknown: ${region} (the ${readerRole} cluster) did not answer.`],
      unreachable: [],
    };
  }

  const now = deps.now();
  const read = await readRegion(
    () =>
      deps.cloudWatch[readerRole].send(
        new GetMetricDataCommand({
          MetricDataQueries: [
            {
              // Whatever dimension sets CloudWatch publishes it under (global-database-metrics.ts).
              Id: "lag",
              Expression: globalDatabaseMetricQuery(
                REPLICATION_LAG_METRIC,
                reader.clusterIdentifier,
              ),
              Period: 60,
              ReturnData: true,
            },
            {
              // What a failover with data loss would lose right now.
              Id: "rpo",
              Expression: globalDatabaseMetricQuery(RPO_LAG_METRIC, reader.clusterIdentifier),
              Period: 60,
              ReturnData: true,
            },
          ],
          StartTime: new Date(now.getTime() - LAG_WINDOW_MINUTES * 60_000),
          EndTime: now,
          ScanBy: "TimestampDescending",
        }),
        callTimeout(timeoutMs),
      ),
    options.onUnreachable,
  );
  if (!read.ok) {
    return {
      seconds: null,
      rpoSeconds: null,
      notes: [`Replication lag unknown: CloudWatch in ${region} did not answer.`],
      unreachable: [{ role: readerRole, region, reason: read.reason }],
    };
  }
  const newest = (id: string) =>
    read.value.MetricDataResults?.find((result) => result.Id === id)?.Values?.[0];
  const newestMilliseconds = newest("lag");
  const newestRpoMilliseconds = newest("rpo");
  const rpoSeconds = newestRpoMilliseconds === undefined ? null : newestRpoMilliseconds / 1000;
  if (newestMilliseconds === undefined) {
    return {
      seconds: null,
      rpoSeconds,
      notes: [
        `Replication lag unknown: no AuroraGlobalDBReplicationLag datapoints for ${reader.clusterIdentifier} in the last ${LAG_WINDOW_MINUTES} minutes.`,
      ],
      unreachable: [],
    };
  }
  return { seconds: newestMilliseconds / 1000, rpoSeconds, notes: [], unreachable: [] };
}
