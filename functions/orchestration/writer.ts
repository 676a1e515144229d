/**
 * check-writer: is the target region's cluster the writer, and settled? The state machine loops
 * Wait -> CheckWriter until `ready`, and runs it again in Verify.
 */
import type { RDSClient } from "@aws-sdk/client-rds";
import { describeError, isRegionUnreachableError } from "../shared/errors";
import { REGION_ROLES, type RegionRole } from "../shared/region-roles";
import type { AutomationSettings } from "../shared/settings";
import {
  describeCluster,
  describeGlobalCluster,
  failoverStateOf,
  globalMemberOf,
  IN_PROGRESS_FAILOVER_STATUSES,
} from "./topology";

/**
 * DB cluster statuses of a detached cluster on its way to `available`. AWS lists cluster statuses
 * (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/accessing-monitoring.html#Aurora.Status)
 * but not which ones RemoveFromGlobalCluster passes through; these are the transitional ones.
 */
const DETACH_TRANSITION_STATUSES: readonly string[] = ["promoting", "modifying", "failing-over"];

export interface WriterDependencies {
  readonly settings: AutomationSettings;
  /** One RDS client per region role (only the target's is used). */
  readonly rds: Readonly<Record<RegionRole, RDSClient>>;
}

export interface WriterCheck {
  /**
   * True when the target cluster is the global cluster's writer (IsWriter) and the global
   * cluster is `available`; or, after detach-and-promote, the standalone cluster is `available`.
   */
  ready: boolean;
  writerRegion: RegionRole | "unknown";
  /** The global cluster's Status, or the standalone cluster's Status after a detach. */
  status: string;
  /** The target cluster is no longer in the global cluster (detach-and-promote). */
  detached: boolean;
  /**
   * Aurora reports a promotion of the target still running: a FailoverState towards it that is
   * `pending`, `switching-over` or `failing-over`, or (detached) the standalone cluster not yet
   * `available`. The workflow waits for as long as this holds, and gives up only when it does
   * not (the promotion was refused, cancelled or rolled back).
   */
  promotionRunning: boolean;
  clusterStatus: string | null;
  detail: string;
}

export interface WriterRequest {
  readonly target: RegionRole;
}

/** DescribeDBClusters + DescribeGlobalClusters in the target region; no mutating call. */
export async function checkWriter(
  deps: WriterDependencies,
  request: WriterRequest,
): Promise<WriterCheck> {
  const { settings } = deps;
  const target = settings.regions[request.target];
  const rds = deps.rds[request.target];
  const cluster = await describeCluster(rds, target.clusterIdentifier, target.region);
  const clusterStatus = cluster.Status ?? null;

  let global: Awaited<ReturnType<typeof describeGlobalCluster>>;
  try {
    global = await describeGlobalCluster(rds, settings.globalClusterIdentifier);
  } catch (error) {
    // The global view is needed unless the cluster itself says it left the global cluster.
    if (!isRegionUnreachableError(error) || cluster.GlobalClusterIdentifier) throw error;
    return detachedCheck(
      request.target,
      target.clusterIdentifier,
      clusterStatus,
      describeError(error),
    );
  }

  const member = globalMemberOf(global, target.clusterArn);
  if (!global || !member) {
    return detachedCheck(request.target, target.clusterIdentifier, clusterStatus, undefined);
  }
  const writer = REGION_ROLES.find(
    (role) => globalMemberOf(global, settings.regions[role].clusterArn)?.IsWriter === true,
  );
  const status = global.Status ?? "unknown";
  const ready = member.IsWriter === true && status === "available";
  // FailoverState: "empty unless a switchover or failover operation is scheduled or is in
  // progress"; ToDbClusterArn is the cluster "currently being promoted"
  // (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_FailoverState.html).
  const failover = failoverStateOf(global);
  const towardsTarget =
    failover !== null &&
    IN_PROGRESS_FAILOVER_STATUSES.includes(failover.status) &&
    failover.toClusterArn === target.clusterArn;
  // The target already writes but the global cluster has not settled yet: still under way. AWS
  // lists no values of GlobalCluster.Status
  // (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_GlobalCluster.html): anything
  // but `available` counts as not settled.
  const settling = member.IsWriter === true && status !== "available";
  const promotionRunning = !ready && (towardsTarget || settling);
  const running = promotionRunning && failover ? `; ${failover.status} towards it` : "";
  return {
    ready,
    writerRegion: writer ?? "unknown",
    status,
    detached: false,
    promotionRunning,
    clusterStatus,
    detail: ready
      ? `${target.clusterIdentifier} (${target.region}) is the writer and ${settings.globalClusterIdentifier} is available.`
      : `Not ready: writer is ${writer ?? "unknown"}, ${settings.globalClusterIdentifier} is ${status}${running}.`,
  };
}

function detachedCheck(
  target: RegionRole,
  clusterIdentifier: string,
  clusterStatus: string | null,
  globalReadProblem: string | undefined,
): WriterCheck {
  const ready = clusterStatus === "available";
  // RemoveFromGlobalCluster: the cluster "becomes a standalone cluster with read-write
  // capability"
  // (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_RemoveFromGlobalCluster.html);
  // while its status is a transition towards that, the promotion still runs.
  const promotionRunning =
    !ready && clusterStatus !== null && DETACH_TRANSITION_STATUSES.includes(clusterStatus);
  const why = globalReadProblem ? ` (global cluster not readable: ${globalReadProblem})` : "";
  return {
    ready,
    writerRegion: target,
    status: clusterStatus ?? "unknown",
    detached: true,
    promotionRunning,
    clusterStatus,
    detail: `${clusterIdentifier} is standalone (detached) and ${clusterStatus ?? "of unknown status"}${why}.`,
  };
}
