/**
 * check-writer: is the target region's cluster the writer, and settled? The state machine loops
 * Wait -> CheckWriter until `ready`, and runs it again in Verify.
 */
import type { RDSClient } from "@aws-sdk/client-rds";
import { describeError, isRegionUnreachableError } from "../shared/errors";
import { REGION_ROLES, type RegionRole } from "../shared/operation";
import type { AutomationSettings } from "../shared/settings";
import { describeCluster, describeGlobalCluster, globalMemberOf } from "./topology";

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
  return {
    ready,
    writerRegion: writer ?? "unknown",
    status,
    detached: false,
    clusterStatus,
    detail: ready
      ? `${target.clusterIdentifier} (${target.region}) is the writer and ${settings.globalClusterIdentifier} is available.`
      : `Not ready: writer is ${writer ?? "unknown"}, ${settings.globalClusterIdentifier} is ${status}.`,
  };
}

function detachedCheck(
  target: RegionRole,
  clusterIdentifier: string,
  clusterStatus: string | null,
  globalReadProblem: string | undefined,
): WriterCheck {
  const ready = clusterStatus === "available";
  const why = globalReadProblem ? ` (global cluster not readable: ${globalReadProblem})` : "";
  return {
    ready,
    writerRegion: target,
    status: clusterStatus ?? "unknown",
    detached: true,
    clusterStatus,
    detail: `${clusterIdentifier} is standalone (detached) and ${clusterStatus ?? "of unknown status"}${why}.`,
  };
}
