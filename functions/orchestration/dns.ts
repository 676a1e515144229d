/**
 * flip-dns: points the PRIMARY failover record at the target region's load balancer and the
 * SECONDARY record at the other's, in one change batch, then waits (briefly) for INSYNC.
 *
 * The records are keyed by failover role (set identifiers "primary"/"secondary", as the dns
 * construct creates them); a flip only changes their alias target and health check, two UPSERTs
 * in one batch, so every intermediate state is valid. Nothing is changed when
 * ListResourceRecordSets shows the records already pointing as wanted.
 */
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
  type Route53Client,
} from "@aws-sdk/client-route-53";
import { callTimeout, REGION_CALL_TIMEOUT_MS } from "../shared/aws-clients";
import { isRetryableError } from "../shared/errors";
import { otherRole, type RegionRole, type StepResult } from "../shared/operation";
import type { AutomationSettings } from "../shared/settings";

export interface DnsDependencies {
  readonly settings: AutomationSettings;
  /** Route 53 is global: one client. */
  readonly route53: Route53Client;
  /** Waits between GetChange polls (injectable for tests). */
  readonly sleep: (milliseconds: number) => Promise<void>;
}

export interface FlipDnsRequest {
  /** The region that must receive traffic (the PRIMARY record's target). */
  readonly target: RegionRole;
  /** Written into the change batch comment. */
  readonly operationId?: string;
  /**
   * The step's whole time budget, calls included: polling GetChange for INSYNC stops before a
   * poll could end after it, and the step returns `PENDING`. @default 60
   */
  readonly waitSeconds?: number;
  /** Interval between GetChange polls. @default 5 */
  readonly pollSeconds?: number;
}

export type FlipDnsAction = "flipped" | "already-pointing";

/** The default `waitSeconds`. */
export const FLIP_DNS_WAIT_SECONDS = 60;

/**
 * The longest a flip takes with the default budget: the budget, plus one call that started
 * inside it (each call is aborted after REGION_CALL_TIMEOUT_MS). The function's Lambda timeout
 * must be longer (a test checks it against the synthesized stack).
 */
export const FLIP_DNS_WORST_CASE_SECONDS = FLIP_DNS_WAIT_SECONDS + REGION_CALL_TIMEOUT_MS / 1000;

export interface FlipDnsResult extends StepResult<FlipDnsAction> {
  target: RegionRole;
  /** Route 53 change id, null when nothing was changed. */
  changeId: string | null;
  /** INSYNC once propagated; PENDING when the wait ran out (the change still completes). */
  changeStatus: "INSYNC" | "PENDING" | null;
}

/** The two failover records as the flip wants them. */
export function desiredFailoverRecords(
  settings: AutomationSettings,
  target: RegionRole,
): ResourceRecordSet[] {
  const standby = otherRole(target);
  return [
    failoverRecord(settings, "primary", "PRIMARY", target),
    failoverRecord(settings, "secondary", "SECONDARY", standby),
  ];
}

function failoverRecord(
  settings: AutomationSettings,
  setIdentifier: string,
  failover: "PRIMARY" | "SECONDARY",
  region: RegionRole,
): ResourceRecordSet {
  const { loadBalancer, healthCheckId } = settings.regions[region];
  return {
    Name: settings.recordName,
    Type: "A",
    SetIdentifier: setIdentifier,
    Failover: failover,
    HealthCheckId: healthCheckId,
    AliasTarget: {
      HostedZoneId: loadBalancer.zoneId,
      DNSName: loadBalancer.dnsName,
      EvaluateTargetHealth: true,
    },
  };
}

/**
 * Route 53 answers names fully qualified and lower-case, and may prefix ELB alias targets with
 * `dualstack.`; compare names without those differences.
 */
export function normalizeDnsName(name: string): string {
  return name
    .toLowerCase()
    .replace(/\.$/, "")
    .replace(/^dualstack\./, "");
}

/** True when an existing record already matches the wanted one in every field the flip sets. */
export function recordMatches(existing: ResourceRecordSet, wanted: ResourceRecordSet): boolean {
  return (
    existing.Failover === wanted.Failover &&
    existing.HealthCheckId === wanted.HealthCheckId &&
    existing.AliasTarget?.HostedZoneId === wanted.AliasTarget?.HostedZoneId &&
    existing.AliasTarget?.EvaluateTargetHealth === wanted.AliasTarget?.EvaluateTargetHealth &&
    normalizeDnsName(existing.AliasTarget?.DNSName ?? "") ===
      normalizeDnsName(wanted.AliasTarget?.DNSName ?? "")
  );
}

/** UPSERTs both failover records (one batch) unless they already point at `target`. */
export async function flipDns(
  deps: DnsDependencies,
  request: FlipDnsRequest,
): Promise<FlipDnsResult> {
  const { settings, route53 } = deps;
  const startedAt = Date.now();
  const wanted = desiredFailoverRecords(settings, request.target);
  const targetRegion = settings.regions[request.target].region;

  const listed = await route53.send(
    new ListResourceRecordSetsCommand({
      HostedZoneId: settings.hostedZoneId,
      StartRecordName: settings.recordName,
      StartRecordType: "A",
      MaxItems: 10,
    }),
    callTimeout(),
  );
  const existing = (listed.ResourceRecordSets ?? []).filter(
    (record) =>
      record.Type === "A" &&
      normalizeDnsName(record.Name ?? "") === normalizeDnsName(settings.recordName),
  );
  const alreadyPointing = wanted.every((record) =>
    existing.some(
      (candidate) =>
        candidate.SetIdentifier === record.SetIdentifier && recordMatches(candidate, record),
    ),
  );
  if (alreadyPointing) {
    return {
      action: "already-pointing",
      changed: false,
      detail: `${settings.recordName} PRIMARY already points at the ${request.target} load balancer (${targetRegion}); nothing to do.`,
      target: request.target,
      changeId: null,
      changeStatus: null,
    };
  }

  const changed = await route53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: settings.hostedZoneId,
      ChangeBatch: {
        Comment: `shopsmart-dr ${request.operationId ?? "flip-dns"}: PRIMARY -> ${request.target} (${targetRegion})`,
        Changes: wanted.map((record) => ({ Action: "UPSERT", ResourceRecordSet: record })),
      },
    }),
    callTimeout(),
  );
  const changeId = changed.ChangeInfo?.Id ?? null;
  let changeStatus: "INSYNC" | "PENDING" =
    changed.ChangeInfo?.Status === "INSYNC" ? "INSYNC" : "PENDING";

  const pollMilliseconds = (request.pollSeconds ?? 5) * 1000;
  const budgetMilliseconds = (request.waitSeconds ?? FLIP_DNS_WAIT_SECONDS) * 1000;
  const polls = Math.floor(budgetMilliseconds / pollMilliseconds);
  // A poll that could not end inside the budget is not started: the Lambda timeout must never
  // cut the step off after the change was made (it would be retried as a failure).
  const pollFits = () =>
    Date.now() - startedAt + pollMilliseconds + REGION_CALL_TIMEOUT_MS <= budgetMilliseconds;
  for (let poll = 0; changeId && changeStatus === "PENDING" && poll < polls && pollFits(); poll++) {
    await deps.sleep(pollMilliseconds);
    changeStatus = await changeStatusOf(route53, changeId);
  }

  return {
    action: "flipped",
    changed: true,
    detail:
      `${settings.recordName} PRIMARY -> ${request.target} load balancer (${targetRegion}), ` +
      `SECONDARY -> ${otherRole(request.target)}; change ${changeId ?? "(no id)"} is ${changeStatus}.`,
    target: request.target,
    changeId,
    changeStatus,
  };
}

/**
 * GetChange status. The change is already accepted, so a throttled or failed poll only ends the
 * wait (PENDING) instead of failing the step; other errors (e.g. access denied) are thrown.
 */
async function changeStatusOf(
  route53: Route53Client,
  changeId: string,
): Promise<"INSYNC" | "PENDING"> {
  try {
    const change = await route53.send(new GetChangeCommand({ Id: changeId }), callTimeout());
    return change.ChangeInfo?.Status === "INSYNC" ? "INSYNC" : "PENDING";
  } catch (error) {
    if (isRetryableError(error)) return "PENDING";
    throw error;
  }
}
