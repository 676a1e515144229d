/**
 * promote-database: makes the target region's Aurora cluster the writer.
 *
 * The method follows the database's real state, not the requested mode:
 *
 * - planned: SwitchoverGlobalCluster (no data loss; both regions must be healthy and both clusters
 *   members of the global cluster: after a detach-and-promote a planned operation is refused).
 * - unplanned, but the source cluster answers as the available writer and the target member is
 *   `connected`: SwitchoverGlobalCluster all the same. Automatic failover fires on the web
 *   endpoint's health, so the database is often fine; a failover with data loss would throw
 *   away its unreplicated writes and leave no standby until the old primary resyncs.
 * - unplanned, source unreachable, gone, down (stopped, its key unusable, ...) or not the
 *   writer: FailoverGlobalCluster with AllowDataLoss; a source that answers in any other state
 *   (available with the target not connected, backing-up, an in-region failing-over) is refused
 *   (SourceNotDown): it may still write. When the failover fails with a terminal error,
 *   or the global cluster cannot be read at all, detach-and-promote: RemoveFromGlobalCluster on
 *   the target (it becomes a standalone writable cluster) and point the target region's
 *   `<parameterPath>db/writer-endpoint` parameter at its own endpoint. Never while the source
 *   cluster answers as available: that would make two writers (SourceStillAvailable).
 *
 * SwitchoverGlobalCluster goes to the source (current writer's) region, FailoverGlobalCluster and
 * RemoveFromGlobalCluster to the target's, as the Aurora User Guide's procedures say: for a
 * switchover "`--region` – Specify the AWS Region where the primary DB cluster of the Aurora global
 * database is running"; for a failover "the AWS Region where the secondary DB cluster that you want
 * to be the new primary ... is running"
 * (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database-disaster-recovery.html).
 * A switchover needs that region answering anyway. The source region is otherwise only asked
 * (DescribeDBClusters, bounded by the call timeout) whether its cluster is still the available
 * writer, before an unplanned promotion and before a detach. The real state is read first and
 * nothing is called when the target already is the writer, a switchover/failover towards it is
 * already running (calling again would only get InvalidGlobalClusterStateFault), or it was
 * already detached; so a re-run after a crash or a timed-out call resumes instead of repeating
 * the action.
 */
import {
  type DBCluster,
  FailoverGlobalClusterCommand,
  type GlobalCluster,
  type RDSClient,
  RemoveFromGlobalClusterCommand,
  SwitchoverGlobalClusterCommand,
} from "@aws-sdk/client-rds";
import { GetParameterCommand, PutParameterCommand, type SSMClient } from "@aws-sdk/client-ssm";
import { callTimeout } from "../shared/aws-clients";
import {
  classifyError,
  describeError,
  isRegionUnreachableError,
  stepFailures,
} from "../shared/errors";
import { type OperationMode, SOURCE_DOWN_STATUSES, type StepResult } from "../shared/operation";
import { otherRole, type RegionRole } from "../shared/region-roles";
import { WRITER_ENDPOINT_PARAMETER } from "../shared/resource-names";
import type { AutomationSettings, RegionSettings } from "../shared/settings";
import {
  describeCluster,
  describeGlobalCluster,
  failoverStateOf,
  globalMemberOf,
  IN_PROGRESS_FAILOVER_STATUSES,
} from "./topology";

export { WRITER_ENDPOINT_PARAMETER };

export interface PromoteDependencies {
  readonly settings: AutomationSettings;
  /** One RDS client per region role (the switchover goes to the source, the rest to the target). */
  readonly rds: Readonly<Record<RegionRole, RDSClient>>;
  /** One SSM client per region role (only the target's is used). */
  readonly ssm: Readonly<Record<RegionRole, SSMClient>>;
}

export interface PromoteRequest {
  readonly mode: OperationMode;
  readonly target: RegionRole;
}

export type PromoteAction =
  | "already-writer"
  | "switchover-started"
  | "switchover-in-progress"
  | "failover-started"
  | "failover-in-progress"
  | "detached"
  | "already-detached";

export interface PromoteResult extends StepResult<PromoteAction> {
  target: RegionRole;
  targetClusterArn: string;
  /**
   * What ran (or runs): a switchover loses nothing; failover and detach may lose writes;
   * `unknown`: an unplanned request found the target already the writer.
   */
  method: "switchover" | "failover" | "detach" | "unknown";
  /** Why an unplanned request chose this method, from the state read before acting. */
  decision?: string;
  /** Why an unplanned failover fell back to detach-and-promote. */
  fallbackReason?: string;
  /** Detach-and-promote only: the writer endpoint parameter in the target region. */
  writerEndpointParameter?: { name: string; value: string; updated: boolean };
}

/** `<cluster> (<region>)`, as the results and reasons name a cluster. */
function clusterInRegion(region: RegionSettings): string {
  return `${region.clusterIdentifier} (${region.region})`;
}

/** What the global cluster read found: known (maybe null = does not exist) or unreachable. */
type GlobalRead = { known: true; global: GlobalCluster | null } | { known: false; reason: string };

interface PromoteContext {
  readonly deps: PromoteDependencies;
  readonly request: PromoteRequest;
  readonly target: RegionSettings;
  readonly rds: RDSClient;
  readonly cluster: DBCluster;
}

/** Promotes the target region's cluster to writer (see the module comment). */
export async function promoteDatabase(
  deps: PromoteDependencies,
  request: PromoteRequest,
): Promise<PromoteResult> {
  const target = deps.settings.regions[request.target];
  const rds = deps.rds[request.target];
  const cluster = await describeCluster(rds, target.clusterIdentifier, target.region);
  const context: PromoteContext = { deps, request, target, rds, cluster };
  const globalRead = await readGlobal(context);

  if (!globalRead.known) {
    // Unplanned only (planned rethrows): without the global cluster's view, the target's own
    // DescribeDBClusters says whether it still belongs to the global cluster.
    if (cluster.GlobalClusterIdentifier !== deps.settings.globalClusterIdentifier) {
      return ensureWriterEndpoint(context, "already-detached", undefined);
    }
    return detachAndPromote(
      context,
      `global cluster ${deps.settings.globalClusterIdentifier} could not be read: ${globalRead.reason}`,
    );
  }

  const member = globalMemberOf(globalRead.global, target.clusterArn);
  if (!member) {
    if (request.mode === "planned") {
      throw stepFailures.targetNotInGlobalCluster(
        target.clusterArn,
        deps.settings.globalClusterIdentifier,
      );
    }
    return ensureWriterEndpoint(context, "already-detached", undefined);
  }
  if (request.mode === "planned") {
    // A switchover moves the writer between two members. A source that left the global cluster
    // (detach-and-promote) is a standalone writer with writes the target lacks: "the target is
    // already the writer" would then move traffic onto stale data.
    const source = deps.settings.regions[otherRole(request.target)];
    if (!globalMemberOf(globalRead.global, source.clusterArn)) {
      throw stepFailures.sourceNotInGlobalCluster(
        source.clusterArn,
        target.clusterArn,
        deps.settings.globalClusterIdentifier,
      );
    }
  }
  const settled = settledPromotion(context, globalRead.global);
  if (settled) return settled;
  if (request.mode === "planned") return switchover(context);
  const healthy = await switchoverPossible(context, globalRead.global);
  return healthy.possible ? switchover(context, healthy.reason) : failover(context, healthy.reason);
}

/**
 * Whether an unplanned request can still switch over: the source cluster is the global
 * cluster's writer and answers DescribeDBClusters in its own region as `available`, and the
 * target member's SynchronizationStatus is `connected` (not `pending-resync`). Not possible, with
 * data loss allowed: the source does not answer, is gone or is down. Refused (SourceNotDown): it
 * answers in any other state, as it may still take writes. A switchover demotes the source only
 * after the target has caught up, so nothing is lost
 * (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database-disaster-recovery.html#aurora-global-database-disaster-recovery.managed-failover,
 * SynchronizationStatus: https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_GlobalClusterMember.html).
 * Unreachable (timeout, network, 5xx) or gone means the outage a failover is for; throttling is
 * thrown, so Step Functions retries rather than choosing data loss for want of an answer.
 */
async function switchoverPossible(
  context: PromoteContext,
  global: GlobalCluster | null,
): Promise<{ possible: boolean; reason: string }> {
  const { deps, request, target } = context;
  const sourceRole = otherRole(request.target);
  const source = deps.settings.regions[sourceRole];
  const sourceName = clusterInRegion(source);
  if (globalMemberOf(global, source.clusterArn)?.IsWriter !== true) {
    return { possible: false, reason: `${sourceName} is not the writer of the global cluster` };
  }
  const sync = globalMemberOf(global, target.clusterArn)?.SynchronizationStatus;
  let cluster: DBCluster;
  try {
    cluster = await describeCluster(deps.rds[sourceRole], source.clusterIdentifier, source.region);
  } catch (error) {
    const { name } = classifyError(error);
    if (isRegionUnreachableError(error) || name === "DBClusterNotFoundFault") {
      return {
        possible: false,
        reason: `${sourceName} did not answer (${describeError(error)})`,
      };
    }
    throw error;
  }
  const status = cluster.Status ?? "unknown";
  if (SOURCE_DOWN_STATUSES.includes(status)) {
    return { possible: false, reason: `${sourceName} is ${status}` };
  }
  if (status !== "available") {
    throw stepFailures.sourceNotDown(
      sourceName,
      `is ${status}, not down: it may still take writes, and a switchover needs it available`,
    );
  }
  if (sync !== undefined && sync !== "connected") {
    throw stepFailures.sourceNotDown(
      sourceName,
      `is the available writer, while ${target.clusterIdentifier} is ${sync}, not connected: a switchover cannot start yet`,
    );
  }
  return {
    possible: true,
    reason: `unplanned request, but ${sourceName} answers as the available writer and ${target.clusterIdentifier} is connected: switchover, no data loss`,
  };
}

/**
 * DescribeGlobalClusters in the target region. Planned: any error is thrown (retried). Unplanned:
 * a timeout, network error or 5xx is returned as `known: false`, so the caller can detach.
 */
async function readGlobal(context: PromoteContext): Promise<GlobalRead> {
  const { deps, request, rds } = context;
  try {
    return {
      known: true,
      global: await describeGlobalCluster(rds, deps.settings.globalClusterIdentifier),
    };
  } catch (error) {
    if (request.mode === "unplanned" && isRegionUnreachableError(error)) {
      return { known: false, reason: describeError(error) };
    }
    throw error;
  }
}

/**
 * The result to return without calling anything when the target already is the writer or a
 * switchover/failover towards it is running; null when a call is needed. Throws when another
 * operation holds the global cluster.
 */
function settledPromotion(
  context: PromoteContext,
  global: GlobalCluster | null,
): PromoteResult | null {
  const { deps, request, target } = context;
  const globalId = deps.settings.globalClusterIdentifier;
  if (globalMemberOf(global, target.clusterArn)?.IsWriter === true) {
    // A planned request only ever calls a switchover. An unplanned one may find the writer moved
    // by an attempt whose answer was lost, by either method: the report must not claim "no data
    // loss" for what may have been a failover with data loss.
    const method = request.mode === "planned" ? "switchover" : "unknown";
    return result(context, {
      action: "already-writer",
      changed: false,
      method,
      detail: `${clusterInRegion(target)} already is the writer of ${globalId}; nothing to do${method === "unknown" ? " (how it became the writer is not known here: data loss is reported as the RPO lag at preflight)" : ""}.`,
    });
  }
  const state = failoverStateOf(global);
  if (!state) return null;
  if (state.status === "cancelling") throw stepFailures.operationCancelling(globalId);
  if (!IN_PROGRESS_FAILOVER_STATUSES.includes(state.status)) return null;
  if (state.toClusterArn !== target.clusterArn) {
    throw stepFailures.globalClusterBusy(globalId, state.status, state.toClusterArn ?? "");
  }
  const runningMethod = state.isDataLossAllowed === true ? "failover" : "switchover";
  return result(context, {
    action: runningMethod === "failover" ? "failover-in-progress" : "switchover-in-progress",
    changed: false,
    method: runningMethod,
    detail: `A ${runningMethod} of ${globalId} to ${clusterInRegion(target)} is already ${state.status}; not calling again.`,
  });
}

async function switchover(context: PromoteContext, decision?: string): Promise<PromoteResult> {
  const { deps, target, rds, request } = context;
  const globalId = deps.settings.globalClusterIdentifier;
  const sourceRds = deps.rds[otherRole(request.target)];
  try {
    await sourceRds.send(
      new SwitchoverGlobalClusterCommand({
        GlobalClusterIdentifier: globalId,
        TargetDbClusterIdentifier: target.clusterArn,
      }),
      callTimeout(),
    );
  } catch (error) {
    // A switchover started by an earlier attempt whose answer was lost: re-read and report it.
    // AWS documents the fault only as "The global cluster is in an invalid state and can't
    // perform the requested operation"
    // (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_SwitchoverGlobalCluster.html),
    // so the state read decides: anything but a settled promotion is thrown as it came.
    if (classifyError(error).name === "InvalidGlobalClusterStateFault") {
      const settled = settledPromotion(context, await describeGlobalCluster(rds, globalId));
      if (settled) return settled;
    }
    throw error;
  }
  return result(context, {
    action: "switchover-started",
    changed: true,
    method: "switchover",
    detail: `SwitchoverGlobalCluster of ${globalId} to ${clusterInRegion(target)} started.`,
    ...(decision === undefined ? {} : { decision }),
  });
}

async function failover(context: PromoteContext, decision: string): Promise<PromoteResult> {
  const { deps, target, rds } = context;
  const globalId = deps.settings.globalClusterIdentifier;
  try {
    await rds.send(
      new FailoverGlobalClusterCommand({
        GlobalClusterIdentifier: globalId,
        TargetDbClusterIdentifier: target.clusterArn,
        AllowDataLoss: true,
      }),
      callTimeout(),
    );
  } catch (error) {
    // Throttling, 5xx, timeouts: Step Functions retries, and the next attempt reads the state
    // first, so a failover that did start is not requested twice. Any other error (those listed at
    // https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_FailoverGlobalCluster.html#API_FailoverGlobalCluster_Errors:
    // the cluster or global cluster not found, either in an invalid state) is terminal here.
    if (classifyError(error).retryable) throw error;
    const again = await readGlobal(context);
    if (again.known) {
      const settled = settledPromotion(context, again.global);
      if (settled) return settled;
    }
    return detachAndPromote(context, `FailoverGlobalCluster failed: ${describeError(error)}`);
  }
  return result(context, {
    action: "failover-started",
    changed: true,
    method: "failover",
    detail: `FailoverGlobalCluster (AllowDataLoss) of ${globalId} to ${clusterInRegion(target)} started.`,
    decision: `${decision}: failover with data loss`,
  });
}

async function detachAndPromote(
  context: PromoteContext,
  fallbackReason: string,
): Promise<PromoteResult> {
  const { deps, target, rds } = context;
  await refuseWhileSourceIsAvailable(context, fallbackReason);
  await rds.send(
    new RemoveFromGlobalClusterCommand({
      GlobalClusterIdentifier: deps.settings.globalClusterIdentifier,
      DbClusterIdentifier: target.clusterArn,
    }),
    callTimeout(),
  );
  return ensureWriterEndpoint(context, "detached", fallbackReason);
}

/**
 * Detach-and-promote is for a source region that is gone. While the source cluster still answers
 * and is available it keeps accepting writes through the global writer endpoint, so detaching the
 * target would leave two writers with diverging data (split brain), e.g. when only the primary's
 * web tier failed its health check and automatic failover fired. Unreachable (timeout, 5xx): the
 * outage detach exists for. Gone (not found): nothing to split from. Throttled: retried.
 */
async function refuseWhileSourceIsAvailable(
  context: PromoteContext,
  fallbackReason: string,
): Promise<void> {
  const { deps, request } = context;
  const sourceRole = otherRole(request.target);
  const source = deps.settings.regions[sourceRole];
  let cluster: DBCluster;
  try {
    cluster = await describeCluster(deps.rds[sourceRole], source.clusterIdentifier, source.region);
  } catch (error) {
    const { name } = classifyError(error);
    if (isRegionUnreachableError(error) || name === "DBClusterNotFoundFault") return;
    throw error;
  }
  if (cluster.Status === "available") {
    throw stepFailures.sourceStillAvailable(
      source.clusterIdentifier,
      source.region,
      deps.settings.globalClusterIdentifier,
      fallbackReason,
    );
  }
}

/**
 * Points `<parameterPath>db/writer-endpoint` in the target region at the detached cluster's own
 * writer endpoint (the global writer endpoint no longer reaches it); no call when it already does.
 */
async function ensureWriterEndpoint(
  context: PromoteContext,
  action: "detached" | "already-detached",
  fallbackReason: string | undefined,
): Promise<PromoteResult> {
  const { deps, request, target, cluster } = context;
  const endpoint = cluster.Endpoint;
  if (!endpoint) {
    throw stepFailures.writerEndpointUnknown(target.clusterIdentifier, target.region);
  }
  const ssm = deps.ssm[request.target];
  const name = `${deps.settings.parameterPath}${WRITER_ENDPOINT_PARAMETER}`;
  const current = await readParameter(ssm, name);
  const updated = current !== endpoint;
  if (updated) {
    await ssm.send(
      new PutParameterCommand({ Name: name, Value: endpoint, Type: "String", Overwrite: true }),
      callTimeout(),
    );
  }
  const detachedText =
    action === "detached"
      ? `Detached ${target.clusterIdentifier} from ${deps.settings.globalClusterIdentifier} (RemoveFromGlobalCluster); it is now a standalone writer.`
      : `${target.clusterIdentifier} is already detached from ${deps.settings.globalClusterIdentifier}.`;
  const parameterText = updated
    ? `Set ${name} in ${target.region} to ${endpoint}.`
    : `${name} in ${target.region} already is ${endpoint}.`;
  return result(context, {
    action,
    changed: action === "detached" || updated,
    method: "detach",
    detail: `${detachedText} ${parameterText}`,
    ...(fallbackReason === undefined ? {} : { fallbackReason }),
    writerEndpointParameter: { name, value: endpoint, updated },
  });
}

async function readParameter(ssm: SSMClient, name: string): Promise<string | undefined> {
  try {
    const output = await ssm.send(new GetParameterCommand({ Name: name }), callTimeout());
    return output.Parameter?.Value;
  } catch (error) {
    // "The parameter couldn't be found"
    // (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html).
    if (classifyError(error).name === "ParameterNotFound") return undefined;
    throw error;
  }
}

function result(
  context: PromoteContext,
  fields: Omit<PromoteResult, "target" | "targetClusterArn">,
): PromoteResult {
  return {
    ...fields,
    target: context.request.target,
    targetClusterArn: context.target.clusterArn,
  };
}
