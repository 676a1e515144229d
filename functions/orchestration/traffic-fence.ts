/**
 * flip-dns: moves the shop's traffic to the target region through Route 53's data plane, with
 * no Route 53 API call.
 *
 * Each region's failover record carries a calculated health check that is healthy only while
 * both the region's endpoint check and its traffic-fence check are (src/constructs/dns.ts). The
 * fence check follows the `TrafficFenced` metric of that region in the automation's region
 * (dr-metrics.ts). So fencing a region is a PutMetricData of 1 there: Route 53 then treats its
 * record as unhealthy, whatever its endpoint answers, and answers with the other record. Route
 * 53's control plane (the API, in us-east-1) is not involved: "During a control plane
 * impairment, CRUDL-type operations for Route 53 may not work, but DNS resolution and health
 * checks, and updates to routing resulting from changes in health checks, will continue to
 * work" (AWS Fault Isolation Boundaries, Appendix B,
 * https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/appendix-b---edge-network-global-service-guidance.html);
 * Well-Architected REL11-BP04 asks for exactly that
 * (https://docs.aws.amazon.com/wellarchitected/latest/framework/rel_withstand_component_failures_avoid_control_plane.html).
 *
 * Route 53 evaluates the alarm's *data stream*, not its state ("Route 53 doesn't wait for the
 * CloudWatch alarm to go into the ALARM state ... you can't force the status of a health check
 * to change by using the CloudWatch SetAlarmState API operation",
 * https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/health-checks-types.html). A fence
 * therefore lives as long as its metric keeps flowing: the fences are stored in the ledger
 * (`TRAFFIC#FENCES`) and probe-primary republishes them every minute; the health checks'
 * `LastKnownStatus` bridges a missed minute, not hours.
 *
 * Which region is fenced: moving traffic to a region clears its own fence; the other region is
 * fenced when it is the one the PRIMARY record points at (`primaryRecordRegion`), since Route 53
 * prefers PRIMARY while it is healthy. A move to the PRIMARY record's region fences nothing: the
 * other region stays the healthy SECONDARY that DNS fails over to by itself.
 *
 * Two kinds of fence, because the records move with `activeRegion` (a deploy) and the fences
 * with the operations:
 * - after an unplanned failover the old primary's fence is a *safety* fence: it may still hold
 *   writes of its own, so it stays off DNS until a planned failback clears the fence, whichever
 *   record it holds by then (issue 12's fencing of traffic, by the same lever);
 * - any other fence only *steers* traffic away from the PRIMARY record's region, and counts only
 *   while that region holds it: once a deploy moves the PRIMARY record elsewhere (`activeRegion`
 *   set after a failover or a failback, as docs/dr-plan.md says), the region is the SECONDARY,
 *   and fencing it would take away DNS's own failover target.
 * {@link currentFences} applies that rule, so flip-dns, probe-primary and read-traffic agree.
 */
import { type CloudWatchClient, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { callTimeout } from "../shared/aws-clients";
import {
  DR_METRIC_NAMESPACE,
  TRAFFIC_FENCE_METRIC,
  trafficFenceDimensions,
} from "../shared/dr-metrics";
import type { StepResult } from "../shared/operation";
import { REGION_ROLES, type RegionRole } from "../shared/region-roles";
import type { AutomationSettings } from "../shared/settings";
import { getTrafficFences, type Ledger, putTrafficFences } from "./ledger";

export interface TrafficFenceDependencies {
  readonly settings: AutomationSettings;
  readonly ledger: Ledger;
  /** CloudWatch of the automation's own region, where the fence alarms live. */
  readonly cloudWatch: CloudWatchClient;
  readonly now: () => Date;
}

export interface ShiftTrafficRequest {
  /** The region that must receive traffic. */
  readonly target: RegionRole;
  readonly operationId: string;
  /** An unplanned failover: the region it leaves gets a safety fence (see the module comment). */
  readonly unplanned: boolean;
}

/** Which regions are fenced (true: no traffic). */
export type FenceState = Record<RegionRole, boolean>;

export type ShiftTrafficAction = "fenced" | "already-fenced";

export interface ShiftTrafficResult extends StepResult<ShiftTrafficAction> {
  target: RegionRole;
  fences: FenceState;
}

/** The fences that send traffic to `target` (see the module comment). */
export function fencesFor(settings: AutomationSettings, target: RegionRole): FenceState {
  const fences = { primary: false, secondary: false };
  for (const role of REGION_ROLES) {
    fences[role] = role !== target && role === settings.primaryRecordRegion;
  }
  return fences;
}

/**
 * The fences in force: a stored fence counts while its region holds the PRIMARY record, or when
 * it is a safety fence (see the module comment). Both clear when never set.
 */
export async function currentFences(
  ledger: Ledger,
  settings: Pick<AutomationSettings, "primaryRecordRegion">,
): Promise<FenceState> {
  const stored = await getTrafficFences(ledger);
  const fences = { primary: false, secondary: false };
  for (const role of REGION_ROLES) {
    fences[role] =
      (stored?.[role] ?? false) &&
      (role === settings.primaryRecordRegion || (stored?.safety ?? []).includes(role));
  }
  return fences;
}

/**
 * Stores the fences for `target`, then publishes them. Idempotent: a re-run stores and publishes
 * the same values (publishing again is harmless and refreshes the data Route 53 evaluates).
 */
export async function shiftTraffic(
  deps: TrafficFenceDependencies,
  request: ShiftTrafficRequest,
): Promise<ShiftTrafficResult> {
  const { settings, ledger } = deps;
  const wanted = fencesFor(settings, request.target);
  const safety = REGION_ROLES.filter((role) => wanted[role] && request.unplanned);
  const stored = await getTrafficFences(ledger);
  const changed =
    REGION_ROLES.some((role) => (stored?.[role] ?? false) !== wanted[role]) ||
    safety.join() !== (stored?.safety ?? []).join();
  const now = deps.now();
  if (changed) {
    await putTrafficFences(ledger, {
      ...wanted,
      safety,
      operationId: request.operationId,
      updatedAt: now.toISOString(),
    });
  }
  await publishFences(deps.cloudWatch, settings.namePrefix, wanted, now);
  const described = REGION_ROLES.map(
    (role) => `${role} (${settings.regions[role].region}) ${wanted[role] ? "fenced" : "serving"}`,
  ).join(", ");
  return {
    action: changed ? "fenced" : "already-fenced",
    changed,
    detail: changed
      ? `Traffic fences set: ${described}; Route 53 answers ${settings.recordName} from ${request.target} once its health checks see the metric.`
      : `Traffic fences already set: ${described}; republished.`,
    target: request.target,
    fences: wanted,
  };
}

/** One PutMetricData with both regions' `TrafficFenced` datapoints. */
export async function publishFences(
  cloudWatch: CloudWatchClient,
  namePrefix: string,
  fences: FenceState,
  timestamp: Date,
): Promise<void> {
  await cloudWatch.send(
    new PutMetricDataCommand({
      Namespace: DR_METRIC_NAMESPACE,
      MetricData: REGION_ROLES.map((role) => ({
        MetricName: TRAFFIC_FENCE_METRIC,
        Dimensions: trafficFenceDimensions(namePrefix, role),
        Timestamp: timestamp,
        Value: fences[role] ? 1 : 0,
        Unit: "Count",
      })),
    }),
    callTimeout(),
  );
}
