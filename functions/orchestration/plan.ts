/**
 * The plan of an operation: what it would do, in order, and what stops it. Built from the two
 * reader results (read-topology, read-traffic); the dry run returns it, preflight evaluates it.
 * Pure: no clients, no clock, no environment.
 */
import {
  type CapacityReading,
  type OperationKind,
  type OperationMode,
  type Plan,
  SOURCE_DOWN_STATUSES,
  type TopologyReport,
  type TrafficReport,
  type WorkflowPlan,
} from "../shared/operation";
import { otherRole, type RegionRole } from "../shared/region-roles";
import type { AutomationSettings, CapacitySettings } from "../shared/settings";

export interface PlanRequest {
  kind: OperationKind;
  mode: OperationMode;
}

export interface PlanContext {
  settings: AutomationSettings;
  /** The operation holding the ledger lock, if any (the dry run reads it). */
  runningOperationId?: string;
}

/** Failover moves traffic primary -> secondary; failback secondary -> primary. */
export function directionOf(kind: OperationKind): { source: RegionRole; target: RegionRole } {
  return kind === "failover"
    ? { source: "primary", target: "secondary" }
    : { source: "secondary", target: "primary" };
}

/**
 * The writer wait's page threshold: at least this long, however small the estimate. A real
 * switchover or failover takes a minute or two; shorter bounds would page on normal ones.
 */
export const MIN_PAGE_AFTER_SECONDS = 300;
/** The page threshold is at least this many times the config's promotion estimate. */
export const PROMOTION_ESTIMATE_FACTOR = 3;
/**
 * Seconds of extra wait per second of replication lag. "Before Aurora starts the switchover
 * process, it waits for the target secondary Region clusters to be fully synchronized with the
 * primary Region cluster", and the lag "is directly proportional to the time it takes for Aurora
 * to complete the switchover"
 * (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database-disaster-recovery.html#aurora-global-database-disaster-recovery.managed-failover).
 * AWS gives no rate, so the margin is generous.
 */
export const LAG_WAIT_FACTOR = 10;
/** Lag assumed when neither lag metric was readable. */
export const UNKNOWN_LAG_SECONDS = 60;
/** @default of AutomationSettings.databasePromotionSeconds. */
const DEFAULT_PROMOTION_SECONDS = 60;

/**
 * How long a running promotion is waited for before the workflow pages: the config's estimate
 * (times {@link PROMOTION_ESTIMATE_FACTOR}, at least {@link MIN_PAGE_AFTER_SECONDS}) plus
 * {@link LAG_WAIT_FACTOR} seconds per second of lag. The workflow keeps waiting after the page for
 * as long as Aurora reports the promotion running, so the bound only decides when a person is told.
 */
export function writerWaitOf(
  topology: Pick<TopologyReport, "rpoLagSeconds" | "replicationLagSeconds">,
  settings: Pick<AutomationSettings, "databasePromotionSeconds">,
): Plan["writerWait"] {
  const estimate = settings.databasePromotionSeconds ?? DEFAULT_PROMOTION_SECONDS;
  const lags = [topology.rpoLagSeconds, topology.replicationLagSeconds].filter(
    (lag): lag is number => lag !== null,
  );
  const lag = lags.length > 0 ? Math.max(...lags) : null;
  const base = Math.max(MIN_PAGE_AFTER_SECONDS, PROMOTION_ESTIMATE_FACTOR * estimate);
  const pageAfterSeconds = Math.ceil(base + LAG_WAIT_FACTOR * (lag ?? UNKNOWN_LAG_SECONDS));
  const lagText = lag === null ? `lag unknown, ${UNKNOWN_LAG_SECONDS} s assumed` : `lag ${lag} s`;
  return {
    pageAfterSeconds,
    reason:
      `max(${MIN_PAGE_AFTER_SECONDS} s, ${PROMOTION_ESTIMATE_FACTOR} x the ${estimate} s promotion ` +
      `estimate) + ${LAG_WAIT_FACTOR} x replication ${lagText}`,
  };
}

/**
 * The plan as the workflow's plan-operation step returns it: what the Choice and Pass states read
 * besides the plan. The dry run and the real run build the same plan from the same readings.
 */
export function workflowPlan(plan: Plan, writerCheckIntervalSeconds: number): WorkflowPlan {
  return {
    ...plan,
    blocked: plan.blockers.length > 0,
    blockerSummary: plan.blockers.join("; "),
    pageAfterChecks: Math.ceil(plan.writerWait.pageAfterSeconds / writerCheckIntervalSeconds),
  };
}

/**
 * Builds the plan.
 *
 * Blockers, in this order:
 * - another operation is running;
 * - the global cluster is already switching over / failing over, other than towards the target
 *   (one towards the target, which an earlier run started, is adopted and waited for);
 * - the target region did not answer (every kind needs it: the promotion happens there);
 * - (when the writer already is in the target region, nothing else: an earlier run promoted it,
 *   and the idempotent steps complete what that run left undone, e.g. after a crash);
 * - unplanned failover: the source region does not answer while Route 53 sees it healthy (a
 *   partition, which must not promote with data loss), or the source answers and may still
 *   write but cannot switch over yet (not down, see SOURCE_DOWN_STATUSES);
 * - planned failover: the source region did not answer, or the writer is not (known to be) in the
 *   source, or the target cluster is not an available global member;
 * - failback (always planned): a region did not answer, an endpoint is not healthy (except a
 *   fenced primary's, whose group is at zero), the writer is not (known to be) in the secondary,
 *   or the primary cluster is not an available connected global member.
 *
 * An unplanned failover proceeds with unknowns about the source region: that is what it is for.
 */
export function buildPlan(
  request: PlanRequest,
  topology: TopologyReport,
  traffic: TrafficReport,
  context: PlanContext,
): Plan {
  const { source, target } = directionOf(request.kind);
  const writerWait = writerWaitOf(topology, context.settings);
  return {
    kind: request.kind,
    mode: request.mode,
    source,
    target,
    writerRegion: topology.writerRegion,
    replicationLagSeconds: topology.replicationLagSeconds,
    rpoLagSeconds: topology.rpoLagSeconds,
    health: traffic.health,
    capacity: traffic.capacity,
    writerWait,
    steps: planSteps(request, topology, traffic, writerWait, context.settings),
    blockers: planBlockers(request, topology, traffic, context),
  };
}

function planSteps(
  request: PlanRequest,
  topology: TopologyReport,
  traffic: TrafficReport,
  writerWait: Plan["writerWait"],
  settings: AutomationSettings,
): string[] {
  const { source, target } = directionOf(request.kind);
  const targetRegion = settings.regions[target];
  const sourceRegion = settings.regions[source];
  const steps = [
    promotionStep(request.mode, topology, settings, target),
    `in parallel, ${scaleStep(target, targetRegion.activeCapacity, traffic.capacity[target], settings)}`,
    `wait until ${targetRegion.clusterIdentifier} is the writer, with the lock held for as long as ` +
      `Aurora reports the promotion running; page if it runs longer than ` +
      `${writerWait.pageAfterSeconds} s`,
    `point ${settings.recordName} at ${target} (${targetRegion.region}) as PRIMARY and ${source} ` +
      `(${sourceRegion.region}) as SECONDARY`,
    `verify that ${targetRegion.clusterIdentifier} is the writer and read both endpoints' health`,
  ];
  if (request.kind === "failback") {
    steps.push(scaleStep(source, sourceRegion.standbyCapacity, traffic.capacity[source], settings));
  }
  steps.push("record the operation in the ledger and notify by SNS");
  return steps;
}

function promotionStep(
  mode: OperationMode,
  topology: TopologyReport,
  settings: AutomationSettings,
  target: RegionRole,
): string {
  const cluster = `${settings.regions[target].clusterIdentifier} (${settings.regions[target].region})`;
  if (topology.writerRegion === target) {
    return (
      `no promotion: ${cluster} already is the writer (an earlier run promoted it); the steps ` +
      "below complete what that run left undone"
    );
  }
  const running = topology.failover;
  if (
    running !== null &&
    running.status !== "cancelling" &&
    running.toClusterArn === settings.regions[target].clusterArn
  ) {
    const method = running.isDataLossAllowed === true ? "failover" : "switchover";
    return (
      `wait for the ${method} of ${settings.globalClusterIdentifier} to ${cluster} that is ` +
      `already ${running.status} (an earlier run started it); nothing is called again`
    );
  }
  if (mode === "planned") {
    return (
      `switch over the global database ${settings.globalClusterIdentifier} to ${cluster} ` +
      "(SwitchoverGlobalCluster: no data loss)"
    );
  }
  // promote-database decides again from the state it reads; this is what today's reading implies.
  const source = topology.clusters[otherRole(target)];
  if (source.status === "available" && source.isWriter === true) {
    return (
      `switch over the global database ${settings.globalClusterIdentifier} to ${cluster} ` +
      `(SwitchoverGlobalCluster: no data loss, as the ${otherRole(target)} cluster answers as the ` +
      "available writer; a failover with AllowDataLoss only if it stops answering or goes down)"
    );
  }
  const lag = topology.rpoLagSeconds ?? topology.replicationLagSeconds;
  const loss =
    lag === null
      ? "an unknown amount of the latest writes may be lost (RPO lag unknown)"
      : `writes from the last ${lag} s may be lost (RPO lag at preflight)`;
  return (
    `fail over the global database ${settings.globalClusterIdentifier} to ${cluster} ` +
    `(FailoverGlobalCluster with AllowDataLoss, detach-and-promote if that fails): ${loss}`
  );
}

function scaleStep(
  role: RegionRole,
  sizes: CapacitySettings,
  current: CapacityReading | null,
  settings: AutomationSettings,
): string {
  const region = settings.regions[role];
  const already =
    current !== null &&
    current.minSize === sizes.minSize &&
    current.desiredCapacity === sizes.desiredCapacity &&
    current.maxSize === sizes.maxSize;
  return (
    `scale ${region.autoScalingGroupName} (${region.region}) to min ${sizes.minSize} / desired ` +
    `${sizes.desiredCapacity} / max ${sizes.maxSize}${already ? " (already at that size: no change)" : ""}`
  );
}

function planBlockers(
  request: PlanRequest,
  topology: TopologyReport,
  traffic: TrafficReport,
  context: PlanContext,
): string[] {
  const { settings } = context;
  const { source, target } = directionOf(request.kind);
  const blockers: string[] = [];
  const unreachable = unreachableReasons(topology, traffic);
  const describe = (role: RegionRole) => `${role} (${settings.regions[role].region})`;

  if (context.runningOperationId !== undefined) {
    blockers.push(
      `an operation is running: ${context.runningOperationId}; wait for it to finish ` +
        `(GET /operations/${context.runningOperationId})`,
    );
  }
  // A promotion towards the target that an earlier run started is adopted (promote-database
  // reports it with the method Aurora shows, and the run waits for it); anything else that
  // holds the global cluster must finish first.
  const adoptable =
    topology.failover !== null &&
    topology.failover.status !== "cancelling" &&
    topology.failover.toClusterArn === topology.clusters[target].clusterArn;
  if (topology.failover !== null && !adoptable) {
    blockers.push(
      `the global cluster ${settings.globalClusterIdentifier} is already ${topology.failover.status}: ` +
        "wait for it to finish, then read GET /status",
    );
  }
  const sourceCluster = topology.clusters[source];
  if (request.mode === "planned" && sourceCluster.globalMember === false) {
    // After a detach-and-promote the global cluster still names its old writer, which lacks the
    // writes the detached cluster took since: "already the writer" would be the wrong answer.
    blockers.push(
      `the ${source} cluster ${sourceCluster.clusterIdentifier} was detached from the global ` +
        `cluster ${settings.globalClusterIdentifier} (detach-and-promote) and takes writes on its ` +
        `own; the global cluster's ${target} cluster lacks them, so a planned ${request.kind} ` +
        "would leave them behind. Rebuilding the global database is a manual, reviewed change " +
        '(docs/dr-plan.md, "After a detach-and-promote")',
    );
    return blockers;
  }
  // What the promotion and the scale-up need of the target region: its cluster and its Auto
  // Scaling group read. A failed lag read (CloudWatch) there does not stop a failover.
  if (topology.clusters[target].status === null || traffic.capacity[target] === null) {
    blockers.push(
      `the ${describe(target)} region did not answer, and the promotion happens there: ` +
        (unreachable[target] ?? "its cluster or its Auto Scaling group could not be read"),
    );
  }
  if (topology.writerRegion === target) return blockers;

  if (request.kind === "failover" && request.mode === "unplanned") {
    blockers.push(...partitionBlockers(source, topology, traffic, unreachable, describe));
    blockers.push(...sourceNotDownBlockers(source, target, topology, describe));
  }

  if (request.kind === "failover" && request.mode === "planned") {
    if (unreachable[source] !== undefined) {
      blockers.push(
        `a planned failover needs the ${describe(source)} region reachable, and it did not answer: ` +
          `${unreachable[source]}. If that region is down, request mode "unplanned"`,
      );
    }
    blockers.push(...writerBlockers("a planned failover", source, topology, describe));
    blockers.push(...memberBlockers(target, topology, settings));
  }

  if (request.kind === "failback") {
    if (unreachable[source] !== undefined) {
      blockers.push(
        `a failback needs the ${describe(source)} region reachable, and it did not answer: ${unreachable[source]}`,
      );
    }
    for (const role of [target, source]) {
      // A fenced old primary (its group at zero after an unplanned failover) has no instance to
      // answer its health check: the failback scales it up and Verify checks it.
      const fenced = role === target && traffic.capacity[role]?.desiredCapacity === 0;
      if (traffic.health[role] !== "healthy" && !fenced) {
        blockers.push(
          `a failback needs both endpoints healthy, and the ${describe(role)} endpoint is ` +
            `${traffic.health[role]}: fix it (or wait for its health check) first`,
        );
      }
    }
    blockers.push(...writerBlockers("a failback", source, topology, describe));
    blockers.push(...memberBlockers(target, topology, settings));
  }
  return blockers;
}

/**
 * An unplanned failover that would lose data (the source cluster is not confirmed as the
 * available writer) is refused while the source region merely does not answer from here but
 * Route 53's health checkers see its endpoint healthy. Those "in locations around the world"
 * call an endpoint healthy only when more than 18% of them do, "to ensure that health checkers in
 * multiple regions consider the endpoint healthy"
 * (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html): that is a partition between the regions (or this region's network), not an outage, and
 * a failover with data loss would leave the source writing on its own. When the source region
 * answers, its cluster's status decides (promote-database switches over or fails over from it);
 * when Route 53's view is unknown, nothing contradicts the outage.
 */
function partitionBlockers(
  source: RegionRole,
  topology: TopologyReport,
  traffic: TrafficReport,
  unreachable: Partial<Record<RegionRole, string>>,
  describe: (role: RegionRole) => string,
): string[] {
  // Route 53's own verdict only (its API, else the DNS answer): this region's probe of the
  // source fails in a partition too, so it cannot tell a partition from an outage.
  if (topology.clusters[source].status !== null || traffic.route53Health[source] !== "healthy") {
    return [];
  }
  const why = unreachable[source] ?? "its cluster's status could not be read";
  return [
    `the ${describe(source)} region did not answer from here (${why}), but Route ` +
      `53's health checkers see its endpoint healthy: that is a partition between the regions, ` +
      "not an outage, and a failover with data loss now could leave two writers. Nothing was " +
      "changed; if the region really is down its health check fails within minutes, then retry " +
      "(or request a planned failover once it answers again)",
  ];
}

/**
 * An unplanned failover whose source answers and is not down (SOURCE_DOWN_STATUSES) may only
 * switch over, as it may still take writes: refused while a switchover cannot start (the source
 * not available, or the target not connected). promote-database refuses the same (SourceNotDown).
 */
function sourceNotDownBlockers(
  source: RegionRole,
  target: RegionRole,
  topology: TopologyReport,
  describe: (role: RegionRole) => string,
): string[] {
  const cluster = topology.clusters[source];
  const status = cluster.status;
  if (status === null || SOURCE_DOWN_STATUSES.includes(status) || cluster.isWriter !== true) {
    return [];
  }
  const why =
    status !== "available"
      ? `is ${status}, not down: it may still take writes, and a switchover needs it available`
      : topology.clusters[target].synchronizationStatus !== null &&
          topology.clusters[target].synchronizationStatus !== "connected"
        ? `is the available writer, while the ${target} cluster is ` +
          `${topology.clusters[target].synchronizationStatus}, not connected: a switchover cannot start yet`
        : undefined;
  if (why === undefined) return [];
  return [
    `the ${describe(source)} cluster ${cluster.clusterIdentifier} answers and ${why}. A failover ` +
      "with data loss is only for a source that does not answer or is down: wait until a " +
      "switchover can start (GET /status), then request it again",
  ];
}

/** The planned kinds switch over from the current writer, which must be in `source`. */
function writerBlockers(
  what: string,
  source: RegionRole,
  topology: TopologyReport,
  describe: (role: RegionRole) => string,
): string[] {
  if (topology.writerRegion === source) return [];
  const why = topology.notes.length > 0 ? `: ${topology.notes.join("; ")}` : "";
  return [
    `${what} needs the writer in ${describe(source)}, and the writer region is unknown${why}`,
  ];
}

/** A switchover target must be an available member of the global cluster. */
function memberBlockers(
  target: RegionRole,
  topology: TopologyReport,
  settings: AutomationSettings,
): string[] {
  const cluster = topology.clusters[target];
  const blockers: string[] = [];
  if (cluster.globalMember === false) {
    blockers.push(
      `the ${target} cluster ${cluster.clusterIdentifier} is not a member of the global cluster ` +
        `${settings.globalClusterIdentifier} (detached by an unplanned failover?): a detached ` +
        "cluster cannot rejoin; rebuilding the global database is a manual, reviewed change " +
        '(docs/dr-plan.md, "After a detach-and-promote") before any switchover',
    );
  }
  if (cluster.status !== null && cluster.status !== "available") {
    blockers.push(
      `the ${target} cluster ${cluster.clusterIdentifier} is ${cluster.status}: a switchover ` +
        "needs it available; wait and retry",
    );
  }
  // A switchover "waits for the target secondary Region clusters to be fully synchronized"
  // (aurora-global-database-disaster-recovery.html, above). AWS lists `pending-resync` as a
  // SynchronizationStatus without saying more
  // (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_GlobalClusterMember.html); an
  // old primary that Aurora is rebuilding after a failover is not synchronized, and a switchover to
  // it would wait for as long as the rebuild ("a few minutes to several hours") takes.
  const sync = cluster.synchronizationStatus;
  if (cluster.globalMember !== false && sync !== null && sync !== "connected") {
    blockers.push(
      `the ${target} cluster ${cluster.clusterIdentifier} is ${sync}, not connected: a ` +
        "switchover needs it replicating from the writer; wait until GET /status shows it connected",
    );
  }
  return blockers;
}

/** The reasons each region did not answer, from both readers, joined per region. */
function unreachableReasons(
  topology: TopologyReport,
  traffic: TrafficReport,
): Partial<Record<RegionRole, string>> {
  const reasons: Partial<Record<RegionRole, string[]>> = {};
  for (const entry of [...topology.unreachable, ...traffic.unreachable]) {
    const list = reasons[entry.role] ?? [];
    if (!list.includes(entry.reason)) list.push(entry.reason);
    reasons[entry.role] = list;
  }
  return Object.fromEntries(
    Object.entries(reasons).map(([role, list]) => [role, (list ?? []).join("; ")]),
  );
}
