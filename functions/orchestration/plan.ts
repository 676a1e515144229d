/**
 * The plan of an operation: what it would do, in order, and what stops it. Built from the two
 * reader results (read-topology, read-traffic); the dry run returns it, preflight evaluates it.
 * Pure: no clients, no clock, no environment.
 */
import {
  type CapacityReading,
  type OperationKind,
  type OperationMode,
  otherRole,
  type Plan,
  type RegionRole,
  type TopologyReport,
  type TrafficReport,
} from "../shared/operation";
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

/** How long the state machine waits for the new writer (WaitForWriter 15 s x 80 checks). */
const WRITER_WAIT_MINUTES = 20;

/**
 * Builds the plan.
 *
 * Blockers, in this order:
 * - another operation is running;
 * - the global cluster is already switching over / failing over;
 * - nothing to do: the writer already is in the target region;
 * - the target region did not answer (every kind needs it: the promotion happens there);
 * - planned failover: the source region did not answer, or the writer is not (known to be) in the
 *   source, or the target cluster is not an available global member;
 * - failback (always planned): a region did not answer, an endpoint is not healthy, the writer is
 *   not (known to be) in the secondary, or the primary cluster is not an available global member.
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
  return {
    kind: request.kind,
    mode: request.mode,
    source,
    target,
    writerRegion: topology.writerRegion,
    replicationLagSeconds: topology.replicationLagSeconds,
    health: traffic.health,
    capacity: traffic.capacity,
    steps: planSteps(request, topology, traffic, context.settings),
    blockers: planBlockers(request, topology, traffic, context),
  };
}

function planSteps(
  request: PlanRequest,
  topology: TopologyReport,
  traffic: TrafficReport,
  settings: AutomationSettings,
): string[] {
  const { source, target } = directionOf(request.kind);
  const targetRegion = settings.regions[target];
  const sourceRegion = settings.regions[source];
  const steps = [
    promotionStep(request.mode, topology, settings, target),
    `in parallel, ${scaleStep(target, targetRegion.activeCapacity, traffic.capacity[target], settings)}`,
    `wait until ${targetRegion.clusterIdentifier} is the writer (up to ${WRITER_WAIT_MINUTES} minutes)`,
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
      "available writer; a failover with AllowDataLoss only if it stops answering or the target " +
      "is not connected)"
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
  if (topology.failover !== null) {
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
  if (topology.writerRegion === target) {
    blockers.push(`nothing to do: the writer is already in ${describe(target)}`);
    return blockers;
  }
  if (unreachable[target] !== undefined) {
    blockers.push(
      `the ${describe(target)} region did not answer, and the promotion happens there: ${unreachable[target]}`,
    );
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
      if (traffic.health[role] !== "healthy") {
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
