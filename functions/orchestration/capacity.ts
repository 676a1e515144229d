/**
 * scale-capacity: sets one region's Auto Scaling group to the given sizes, once. Reads the group
 * first and makes no call when it already satisfies them, so a re-run never scales twice.
 *
 * Fencing ({@link fenceRegion}): after an unplanned failover the old primary's group is scaled to
 * zero as soon as its region's API answers, so its web tier takes no traffic and no writes when
 * the region comes back; only a planned failback scales it up again.
 */
import {
  type AutoScalingClient,
  type AutoScalingGroup,
  DescribeAutoScalingGroupsCommand,
  UpdateAutoScalingGroupCommand,
} from "@aws-sdk/client-auto-scaling";
import { callTimeout, REGION_CALL_TIMEOUT_MS } from "../shared/aws-clients";
import { capacityFailures, describeError, isRegionUnreachableError } from "../shared/errors";
import type {
  CapacityReading,
  CapacitySizes,
  ScaleCapacityEvent,
  StepResult,
} from "../shared/operation";
import type { RegionRole } from "../shared/region-roles";
import type { AutomationSettings } from "../shared/settings";
import { acquireLock, getLatestOperationId, type Ledger, releaseLock } from "./ledger";

export interface CapacityDependencies {
  readonly settings: AutomationSettings;
  /** One Auto Scaling client per region role. */
  readonly autoScaling: Readonly<Record<RegionRole, AutoScalingClient>>;
}

export interface ScaleRequest {
  readonly role: RegionRole;
  readonly sizes: CapacitySizes;
}

export type ScaleAction = "scaled" | "already-at-capacity";

export interface ScaleResult extends StepResult<ScaleAction> {
  role: RegionRole;
  autoScalingGroupName: string;
  requested: CapacitySizes;
  /** The group as read before any change. */
  before: CapacityReading;
}

/**
 * The sizes of a fenced region: no instance at all. UpdateAutoScalingGroup only needs
 * min <= desired <= max, and a desired capacity below the current size terminates instances by
 * the group's termination policy
 * (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_UpdateAutoScalingGroup.html).
 */
export const FENCED_SIZES: CapacitySizes = { minSize: 0, desiredCapacity: 0, maxSize: 0 };

/** The sizes `active`/`standby`/`fenced` stand for in a region (from settings), or the given sizes. */
export function resolveSizes(
  settings: AutomationSettings,
  role: RegionRole,
  capacity: ScaleCapacityEvent["capacity"],
): CapacitySizes {
  if (capacity === "active") return settings.regions[role].activeCapacity;
  if (capacity === "standby") return settings.regions[role].standbyCapacity;
  if (capacity === "fenced") return FENCED_SIZES;
  return capacity;
}

export interface FenceRequest {
  readonly role: RegionRole;
  /** The unplanned operation that moved the writer away from `role`. */
  readonly operationId: string;
}

export type FenceResult =
  | (ScaleResult & { fenced: true })
  | {
      /**
       * skipped: a later operation owns the region now, never try again; busy (another operation
       * holds the lock) or unreachable (the region does not answer): try again later.
       */
      action: "skipped" | "busy" | "unreachable";
      changed: false;
      fenced: false;
      detail: string;
      role: RegionRole;
    };

/**
 * Scales `role`'s group to zero, holding the operation lock while it does (as `<id>-fence`).
 * Only while the fencing operation is still the latest one: once a later operation (a failback)
 * has started, that one owns the region, running or finished, and the fence is over for good.
 * Another holder of the lock (an operation starting, not yet the latest) means try again later;
 * the fence's own lock (a retry after a timed-out attempt) is taken over. A fence lock left by a
 * crash has no execution, so the next operation takes it over after start-operation's grace
 * period.
 */
export async function fenceRegion(
  deps: CapacityDependencies & { readonly ledger: Ledger },
  request: FenceRequest,
  now: Date,
): Promise<FenceResult> {
  const not = (action: "skipped" | "busy", detail: string): FenceResult => ({
    action,
    changed: false,
    fenced: false,
    role: request.role,
    detail,
  });
  const latest = await getLatestOperationId(deps.ledger);
  if (latest !== undefined && latest !== request.operationId) {
    return not(
      "skipped",
      `Not fenced: ${latest} started since and owns the ${request.role} region now.`,
    );
  }
  const lockId = `${request.operationId}-fence`;
  const lock = await acquireLock(deps.ledger, {
    operationId: lockId,
    acquiredAt: now.toISOString(),
  });
  if (!lock.acquired && lock.holder.operationId !== lockId) {
    return not("busy", `Not fenced yet: ${lock.holder.operationId} holds the operation lock.`);
  }
  try {
    const result = await scaleCapacity(deps, { role: request.role, sizes: FENCED_SIZES });
    return { ...result, fenced: true };
  } catch (error) {
    // Expected while the old primary's region is down: not an error, a "not yet".
    if (!isRegionUnreachableError(error)) throw error;
    return {
      action: "unreachable",
      changed: false,
      fenced: false,
      role: request.role,
      detail: `Not fenced yet: the ${request.role} region did not answer (${describeError(error)}).`,
    };
  } finally {
    await releaseLock(deps.ledger, lockId);
  }
}

/** DescribeAutoScalingGroups for one group; throws `AutoScalingGroupNotFound` when missing. */
export async function describeAutoScalingGroup(
  autoScaling: AutoScalingClient,
  groupName: string,
  region: string,
  timeoutMs: number = REGION_CALL_TIMEOUT_MS,
): Promise<AutoScalingGroup> {
  const output = await autoScaling.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [groupName] }),
    callTimeout(timeoutMs),
  );
  const group = output.AutoScalingGroups?.[0];
  if (!group) throw capacityFailures.autoScalingGroupNotFound(groupName, region);
  return group;
}

/** Sizes and in-service instance count of a group. */
export function capacityOf(group: AutoScalingGroup): CapacityReading {
  return {
    minSize: group.MinSize ?? 0,
    desiredCapacity: group.DesiredCapacity ?? 0,
    maxSize: group.MaxSize ?? 0,
    inService: (group.Instances ?? []).filter((instance) => instance.LifecycleState === "InService")
      .length,
  };
}

/**
 * True when the group already has the requested min and max and a desired capacity between the
 * requested one and max: a scaling policy that has since scaled out is not undone by a re-run.
 */
export function satisfiesSizes(current: CapacitySizes, requested: CapacitySizes): boolean {
  return (
    current.minSize === requested.minSize &&
    current.maxSize === requested.maxSize &&
    current.desiredCapacity >= requested.desiredCapacity &&
    current.desiredCapacity <= requested.maxSize
  );
}

/** UpdateAutoScalingGroup to the requested sizes, unless the group already satisfies them. */
export async function scaleCapacity(
  deps: CapacityDependencies,
  request: ScaleRequest,
): Promise<ScaleResult> {
  const { role, sizes } = request;
  const { region, autoScalingGroupName } = deps.settings.regions[role];
  const client = deps.autoScaling[role];
  const before = capacityOf(await describeAutoScalingGroup(client, autoScalingGroupName, region));
  const describe = (target: CapacitySizes) =>
    `min ${target.minSize} / desired ${target.desiredCapacity} / max ${target.maxSize}`;

  if (satisfiesSizes(before, sizes)) {
    return {
      action: "already-at-capacity",
      changed: false,
      detail: `${autoScalingGroupName} (${region}) already at ${describe(before)}; nothing to do.`,
      role,
      autoScalingGroupName,
      requested: sizes,
      before,
    };
  }
  await client.send(
    new UpdateAutoScalingGroupCommand({
      AutoScalingGroupName: autoScalingGroupName,
      MinSize: sizes.minSize,
      DesiredCapacity: sizes.desiredCapacity,
      MaxSize: sizes.maxSize,
    }),
    callTimeout(),
  );
  return {
    action: "scaled",
    changed: true,
    detail: `${autoScalingGroupName} (${region}) set from ${describe(before)} to ${describe(sizes)}.`,
    role,
    autoScalingGroupName,
    requested: sizes,
    before,
  };
}
