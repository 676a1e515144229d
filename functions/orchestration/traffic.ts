/**
 * read-traffic: Route 53 health of both load balancers and the Auto Scaling capacity of both
 * regions. A region that does not answer is reported as unknown/null, not thrown, unless the
 * caller asks for `onUnreachable: "throw"`.
 */
import type { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import { GetHealthCheckStatusCommand, type Route53Client } from "@aws-sdk/client-route-53";
import { callTimeout, REGION_CALL_TIMEOUT_MS } from "../shared/aws-clients";
import { readRegion } from "../shared/errors";
import {
  type CapacityReading,
  type HealthState,
  REGION_ROLES,
  type RegionRole,
  type TrafficReport,
  type UnreachableRegion,
} from "../shared/operation";
import type { AutomationSettings } from "../shared/settings";
import { capacityOf, describeAutoScalingGroup } from "./capacity";
import { forBothRegions, type ReaderOptions } from "./topology";

/**
 * Route 53 considers an endpoint healthy when more than 18% of its health checkers report it
 * healthy (Route 53 Developer Guide, "How Amazon Route 53 determines whether a health check is
 * healthy").
 */
export const HEALTHY_CHECKER_FRACTION = 0.18;

export interface TrafficDependencies {
  readonly settings: AutomationSettings;
  /** Route 53 is global: one client. */
  readonly route53: Route53Client;
  /** One Auto Scaling client per region role. */
  readonly autoScaling: Readonly<Record<RegionRole, AutoScalingClient>>;
}

export interface TrafficOptions extends ReaderOptions {
  /** When set, the report's `targetHealth` is this region's health. */
  readonly target?: RegionRole;
}

/** Healthy/unhealthy from one GetHealthCheckStatus answer, by the 18% rule. */
export function healthFromObservations(statuses: readonly string[]): HealthState {
  if (statuses.length === 0) return "unknown";
  const healthy = statuses.filter((status) => status.startsWith("Success")).length;
  return healthy / statuses.length > HEALTHY_CHECKER_FRACTION ? "healthy" : "unhealthy";
}

/** GetHealthCheckStatus for both health checks and DescribeAutoScalingGroups in both regions. */
export async function readTraffic(
  deps: TrafficDependencies,
  options: TrafficOptions,
): Promise<TrafficReport> {
  const { settings } = deps;
  const timeoutMs = options.timeoutMs ?? REGION_CALL_TIMEOUT_MS;
  const unreachable: UnreachableRegion[] = [];
  const notes: string[] = [];

  const [healthReads, capacityReads] = await Promise.all([
    forBothRegions((role) =>
      readRegion(
        () =>
          deps.route53.send(
            new GetHealthCheckStatusCommand({
              HealthCheckId: settings.regions[role].healthCheckId,
            }),
            callTimeout(timeoutMs),
          ),
        options.onUnreachable,
      ),
    ),
    forBothRegions((role) =>
      readRegion(
        () =>
          describeAutoScalingGroup(
            deps.autoScaling[role],
            settings.regions[role].autoScalingGroupName,
            settings.regions[role].region,
            timeoutMs,
          ),
        options.onUnreachable,
      ),
    ),
  ]);

  const health = {} as Record<RegionRole, HealthState>;
  const capacity = {} as Record<RegionRole, CapacityReading | null>;
  for (const role of REGION_ROLES) {
    const { region, healthCheckId, autoScalingGroupName } = settings.regions[role];
    const healthRead = healthReads[role];
    if (healthRead.ok) {
      const statuses = (healthRead.value.HealthCheckObservations ?? []).map(
        (observation) => observation.StatusReport?.Status ?? "",
      );
      health[role] = healthFromObservations(statuses);
      if (statuses.length === 0) {
        notes.push(`Health check ${healthCheckId} (${role}) has no observations yet.`);
      }
    } else {
      health[role] = "unknown";
      notes.push(
        `Health of the ${role} region unknown: Route 53 did not answer (${healthRead.reason}).`,
      );
    }

    const capacityRead = capacityReads[role];
    if (capacityRead.ok) {
      capacity[role] = capacityOf(capacityRead.value);
    } else {
      capacity[role] = null;
      unreachable.push({ role, region, reason: capacityRead.reason });
      notes.push(`Capacity of ${autoScalingGroupName} unknown: ${region} did not answer.`);
    }
  }

  return {
    health,
    ...(options.target ? { targetHealth: health[options.target] } : {}),
    capacity,
    unreachable,
    notes,
  };
}
