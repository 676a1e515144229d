/**
 * read-traffic: where the shop's traffic goes and whether each region can take it, read through
 * the data plane first:
 * - `served`: which region's load balancer the public name resolves to (Route 53's DNS answer);
 * - `endpoints`: each region's load balancer probed over HTTPS from here, with the app's own
 *   view of the writer;
 * - `fences`: the traffic fences as flip-dns stored them (traffic-fence.ts);
 * - `route53Health`: Route 53's health checkers' verdict, from GetHealthCheckStatus when Route
 *   53's API (its control plane, in us-east-1) answers, else inferred from the DNS answer;
 * - `health`: Route 53's verdict where known, else this function's own probe;
 * - and both regions' Auto Scaling capacity.
 * A region or API that does not answer is reported as unknown/null, not thrown, unless the
 * caller asks for `onUnreachable: "throw"` (then only Auto Scaling's answer is required: the
 * Route 53 API is never needed).
 */
import type { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import {
  GetHealthCheckStatusCommand,
  type GetHealthCheckStatusCommandOutput,
  type Route53Client,
} from "@aws-sdk/client-route-53";
import { callTimeout, REGION_CALL_TIMEOUT_MS } from "../shared/aws-clients";
import {
  type DataPlaneReaders,
  loadBalancerNames,
  type ServedRegion,
} from "../shared/endpoint-probe";
import { describeError, type RegionRead, readRegion } from "../shared/errors";
import type {
  CapacityReading,
  HealthState,
  TrafficReport,
  UnreachableRegion,
} from "../shared/operation";
import { perRole, type RegionRole } from "../shared/region-roles";
import type { AutomationSettings } from "../shared/settings";
import { capacityOf, describeAutoScalingGroup } from "./capacity";
import type { Ledger } from "./ledger";
import { forBothRegions, type ReaderOptions } from "./topology";
import { currentFences, type FenceState } from "./traffic-fence";

/**
 * Route 53 considers an endpoint healthy when more than 18% of its health checkers report it
 * healthy
 * (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-determining-health-of-endpoints.html).
 */
export const HEALTHY_CHECKER_FRACTION = 0.18;

export interface TrafficDependencies extends DataPlaneReaders {
  readonly settings: AutomationSettings;
  /** Route 53 is global: one client. */
  readonly route53: Route53Client;
  /** One Auto Scaling client per region role. */
  readonly autoScaling: Readonly<Record<RegionRole, AutoScalingClient>>;
  /** The ledger, for the traffic fences. */
  readonly ledger: Ledger;
}

export interface TrafficOptions extends ReaderOptions {
  /** When set, the report's `targetHealth` is this region's health. */
  readonly target?: RegionRole;
}

/**
 * Healthy/unhealthy from one GetHealthCheckStatus answer, by the 18% rule. A checker's
 * `StatusReport.Status` is documented only as "a description of the status of the health check
 * endpoint" (https://docs.aws.amazon.com/Route53/latest/APIReference/API_StatusReport.html); that
 * a healthy one starts with "Success" is what Route 53 returns, not a documented format, so
 * anything else counts as unhealthy.
 */
export function healthFromObservations(statuses: readonly string[]): HealthState {
  if (statuses.length === 0) return "unknown";
  const healthy = statuses.filter((status) => status.startsWith("Success")).length;
  return healthy / statuses.length > HEALTHY_CHECKER_FRACTION ? "healthy" : "unhealthy";
}

/** Reads both regions' traffic state (see the module comment). */
export async function readTraffic(
  deps: TrafficDependencies,
  options: TrafficOptions,
): Promise<TrafficReport> {
  const { settings } = deps;
  const timeoutMs = options.timeoutMs ?? REGION_CALL_TIMEOUT_MS;
  const unreachable: UnreachableRegion[] = [];
  const notes: string[] = [];
  const loadBalancers = loadBalancerNames(settings.regions);

  const [healthReads, capacityReads, endpoints, served, fences] = await Promise.all([
    // Best effort whatever the caller asks and whatever fails (down, throttled, denied): the
    // Route 53 API must never be needed. AWS also says GetHealthCheckStatus "is intended for use
    // during development to diagnose behavior" and does not support "high query rates that
    // require immediate and actionable responses"
    // (https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetHealthCheckStatus.html):
    // read-traffic calls it twice per run, and the verdict falls back to the DNS answer, which
    // shows what Route 53 routes on. It takes the endpoint check's id, never the
    // calculated check of a record: "You can't use GetHealthCheckStatus to get the status of a
    // calculated health check."
    forBothRegions(async (role): Promise<RegionRead<GetHealthCheckStatusCommandOutput>> => {
      try {
        const value = await deps.route53.send(
          new GetHealthCheckStatusCommand({ HealthCheckId: settings.regions[role].healthCheckId }),
          callTimeout(timeoutMs),
        );
        return { ok: true, value };
      } catch (error) {
        return { ok: false, reason: describeError(error) };
      }
    }),
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
    forBothRegions((role) =>
      deps.probeEndpoint({
        host: loadBalancers[role],
        serverName: settings.recordName,
        path: settings.healthPath,
        timeoutMs,
      }),
    ),
    deps.servedRegion(settings.recordName, loadBalancers, timeoutMs),
    currentFences(deps.ledger, settings),
  ]);
  if (served.region === "unknown") notes.push(`DNS answer unknown: ${served.reason}.`);

  const perRegion = perRole((role) => {
    const { region, healthCheckId, autoScalingGroupName } = settings.regions[role];
    const healthRead = healthReads[role];
    let fromApi: HealthState = "unknown";
    if (healthRead.ok) {
      const statuses = (healthRead.value.HealthCheckObservations ?? []).map(
        (observation) => observation.StatusReport?.Status ?? "",
      );
      fromApi = healthFromObservations(statuses);
      if (statuses.length === 0) {
        notes.push(`Health check ${healthCheckId} (${role}) has no observations yet.`);
      }
    } else {
      notes.push(
        `Route 53's API did not answer for the ${role} health check (${healthRead.reason}); its view is read from the DNS answer.`,
      );
    }
    const route53Health: HealthState =
      fromApi !== "unknown" ? fromApi : healthFromDnsAnswer(settings, role, served, fences);
    const health: HealthState =
      route53Health !== "unknown"
        ? route53Health
        : endpoints[role].healthy
          ? "healthy"
          : "unhealthy";
    if (!endpoints[role].healthy) {
      notes.push(
        `The ${role} endpoint did not answer from here: ${endpoints[role].reason ?? "unhealthy"}.`,
      );
    }

    const capacityRead = capacityReads[role];
    let capacity: CapacityReading | null = null;
    if (capacityRead.ok) {
      capacity = capacityOf(capacityRead.value);
    } else {
      unreachable.push({ role, region, reason: capacityRead.reason });
      notes.push(`Capacity of ${autoScalingGroupName} unknown: ${region} did not answer.`);
    }
    return { route53Health, health, capacity };
  });
  const route53Health = perRole((role) => perRegion[role].route53Health);
  const health = perRole((role) => perRegion[role].health);
  const capacity = perRole((role) => perRegion[role].capacity);

  const target = options.target;
  return {
    health,
    route53Health,
    endpoints,
    served: served.region,
    fences,
    ...(target
      ? {
          targetHealth: health[target],
          targetServed:
            served.region === target &&
            endpoints[target].healthy &&
            endpoints[target].writable !== false,
        }
      : {}),
    capacity,
    unreachable,
    notes,
  };
}

/**
 * Route 53's verdict on one region's record, inferred from which record DNS answers with. The
 * PRIMARY record is answered while its health check passes; SECONDARY only when PRIMARY's fails
 * (and SECONDARY's passes): "If Route 53 considers both the primary and secondary records
 * unhealthy, Route 53 returns the primary record"
 * (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/health-checks-how-route-53-chooses-records.html).
 * So an answer from the SECONDARY record's region says the PRIMARY record is unhealthy, unless
 * its fence (not its endpoint) is why; an answer from the PRIMARY record's region says nothing
 * of the other record.
 */
function healthFromDnsAnswer(
  settings: AutomationSettings,
  role: RegionRole,
  served: ServedRegion,
  fences: FenceState,
): HealthState {
  if (served.region === "unknown" || fences[role]) return "unknown";
  if (served.region === role) return "healthy";
  return role === settings.primaryRecordRegion ? "unhealthy" : "unknown";
}
