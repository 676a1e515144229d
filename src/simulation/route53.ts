/**
 * Route 53 of the simulated pair: the hosted zone with the two failover alias records, the two
 * health checks, and change propagation. Route 53 is a global service: a region being down does
 * not affect these calls (only the health checks of that region's endpoint).
 *
 * Sources (Route 53 API Reference): ChangeResourceRecordSets ("Route 53 validates the changes in
 * the request and then either makes all or none of the changes in the change batch"; "Initially,
 * the status of a change is PENDING ... When the change is propagated to all hosts, the change
 * returns a status of INSYNC"; UPSERT creates or updates; DELETE must match the existing values;
 * errors InvalidChangeBatch with `messages`, NoSuchHostedZone, NoSuchHealthCheck); GetChange
 * (NoSuchChange); GetHealthCheckStatus (one HealthCheckObservation per checker region with a
 * StatusReport Status text and CheckedTime); ListResourceRecordSets (records sorted by name with
 * labels reversed, then type; StartRecordName/Type/Identifier, MaxItems, IsTruncated,
 * NextRecord*). Error texts for rejected batches follow the "Tried to create resource record set
 * [name='…', type='…'] but it already exists" form; others are the simulation's wording.
 */
import type {
  ChangeResourceRecordSetsRequest,
  GetChangeRequest,
  GetHealthCheckStatusRequest,
  ListResourceRecordSetsRequest,
  ResourceRecordSet,
} from "@aws-sdk/client-route-53";
import { otherRole, type RegionRole } from "../../functions/shared/region-roles";
import type { SimulatedClock } from "./clock";
import { SimulatorUnsupportedError, serviceError } from "./errors";

export interface FailoverTarget {
  readonly role: RegionRole;
  readonly loadBalancer: { readonly dnsName: string; readonly zoneId: string };
  readonly healthCheckId: string;
}

export interface Route53Spec {
  readonly hostedZoneId: string;
  readonly zoneName: string;
  readonly recordName: string;
  readonly targets: Readonly<Record<RegionRole, FailoverTarget>>;
  /** The region the PRIMARY record points at initially. */
  readonly initialActive: RegionRole;
  /** PENDING -> INSYNC after this long. */
  readonly propagationMs: number;
}

/** What the Route 53 model needs from the region pair. */
export interface Route53Environment {
  readonly clock: SimulatedClock;
  /** Whether a region's endpoint answers the health checkers (region up, instances in service). */
  isEndpointHealthy(role: RegionRole): boolean;
  /**
   * Whether the region's traffic-fence health check is unhealthy: each failover record's health
   * check is the calculated check over the endpoint check and the fence check (dns.ts), so a
   * fenced region's record is unhealthy whatever its endpoint answers.
   */
  isFenced(role: RegionRole): boolean;
}

/** Route 53's health-checker regions (the default set). */
const CHECKER_REGIONS = [
  "us-east-1",
  "us-west-1",
  "us-west-2",
  "eu-west-1",
  "ap-southeast-1",
  "ap-southeast-2",
  "ap-northeast-1",
  "sa-east-1",
] as const;

interface StoredChange {
  readonly id: string;
  readonly submittedAt: number;
  readonly comment: string | undefined;
}

export class Route53Simulation {
  private records: ResourceRecordSet[];
  private readonly changes: StoredChange[] = [];
  private changeCounter = 0;
  private readonly spec: Route53Spec;
  private readonly env: Route53Environment;

  constructor(spec: Route53Spec, env: Route53Environment) {
    this.spec = spec;
    this.env = env;
    const zone = fqdn(spec.zoneName);
    this.records = [
      {
        Name: zone,
        Type: "NS",
        TTL: 172800,
        ResourceRecords: [1, 2, 3, 4].map((n) => ({ Value: `ns-${n}.awsdns-0${n}.org.` })),
      },
      {
        Name: zone,
        Type: "SOA",
        TTL: 900,
        ResourceRecords: [
          { Value: "ns-1.awsdns-01.org. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400" },
        ],
      },
      ...this.failoverRecords(spec.initialActive),
    ];
  }

  /** The two failover records pointing PRIMARY at `active`, as the automation writes them. */
  failoverRecords(active: RegionRole): ResourceRecordSet[] {
    const standby = otherRole(active);
    return (
      [
        ["primary", "PRIMARY", active],
        ["secondary", "SECONDARY", standby],
      ] as const
    ).map(([setIdentifier, failover, role]) => ({
      Name: fqdn(this.spec.recordName),
      Type: "A",
      SetIdentifier: setIdentifier,
      Failover: failover,
      HealthCheckId: this.spec.targets[role].healthCheckId,
      AliasTarget: {
        HostedZoneId: this.spec.targets[role].loadBalancer.zoneId,
        DNSName: fqdn(this.spec.targets[role].loadBalancer.dnsName),
        EvaluateTargetHealth: true,
      },
    }));
  }

  /** The region whose load balancer the PRIMARY failover record aliases, or null. */
  primaryRecordTarget(): RegionRole | null {
    return this.recordTarget("PRIMARY");
  }

  /** The region whose load balancer the SECONDARY failover record aliases, or null. */
  secondaryRecordTarget(): RegionRole | null {
    return this.recordTarget("SECONDARY");
  }

  /**
   * The region Route 53 answers with: PRIMARY while its record's health check passes, else
   * SECONDARY when healthy; "If Route 53 considers both the primary and secondary records
   * unhealthy, Route 53 returns the primary record"
   * (https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/health-checks-how-route-53-chooses-records.html).
   * This is Route 53's data plane: it keeps answering while its API (us-east-1) is down.
   */
  answeringRegion(): RegionRole | null {
    const primary = this.recordTarget("PRIMARY");
    const secondary = this.recordTarget("SECONDARY");
    if (primary && this.isRecordHealthy("PRIMARY", primary)) return primary;
    if (secondary && this.isRecordHealthy("SECONDARY", secondary)) return secondary;
    return primary;
  }

  /** The record's calculated health check: its endpoint check passes and its region is not fenced. */
  private isRecordHealthy(failover: "PRIMARY" | "SECONDARY", role: RegionRole): boolean {
    return this.isHealthCheckHealthy(this.healthCheckOf(failover)) && !this.env.isFenced(role);
  }

  /** Whether the health check with this id currently passes. */
  isHealthCheckHealthy(healthCheckId: string | undefined): boolean {
    const target = Object.values(this.spec.targets).find(
      (candidate) => candidate.healthCheckId === healthCheckId,
    );
    return target ? this.env.isEndpointHealthy(target.role) : false;
  }

  /** A copy of every record in the zone. */
  allRecords(): ResourceRecordSet[] {
    return structuredClone(this.records);
  }

  handle(operation: string, input: Record<string, unknown>): unknown {
    switch (operation) {
      case "ChangeResourceRecordSets":
        return this.changeResourceRecordSets(input as unknown as ChangeResourceRecordSetsRequest);
      case "GetChange":
        return this.getChange(input as unknown as GetChangeRequest);
      case "GetHealthCheckStatus":
        return this.getHealthCheckStatus(input as unknown as GetHealthCheckStatusRequest);
      case "ListResourceRecordSets":
        return this.listResourceRecordSets(input as unknown as ListResourceRecordSetsRequest);
      default:
        throw new SimulatorUnsupportedError(`Route 53 ${operation} is not modelled`);
    }
  }

  private changeResourceRecordSets(input: ChangeResourceRecordSetsRequest) {
    this.requireZone(input.HostedZoneId);
    const changes = input.ChangeBatch?.Changes ?? [];
    if (changes.length === 0) {
      throw serviceError(
        "route53",
        "InvalidInput",
        "ChangeBatch must contain at least one Change.",
      );
    }
    const working = structuredClone(this.records);
    const problems: string[] = [];
    const touched = new Set<string>();
    for (const change of changes) {
      const record = normalizeRecord(change.ResourceRecordSet as ResourceRecordSet);
      const key = recordKey(record);
      const description = describeRecord(record);
      if (touched.has(key)) {
        problems.push(`${description} appears more than once in the change batch`);
        continue;
      }
      touched.add(key);
      if (!withinZone(record.Name as string, this.spec.zoneName)) {
        problems.push(
          `RRSet with DNS name ${record.Name} is not permitted in zone ${fqdn(this.spec.zoneName)}`,
        );
        continue;
      }
      if (record.HealthCheckId && !this.isKnownHealthCheck(record.HealthCheckId)) {
        throw serviceError(
          "route53",
          "NoSuchHealthCheck",
          `No health check exists with the specified ID ${record.HealthCheckId}.`,
          { httpStatusCode: 404 },
        );
      }
      const index = working.findIndex((existing) => recordKey(existing) === key);
      switch (change.Action) {
        case "CREATE":
          if (index >= 0) problems.push(`Tried to create ${description} but it already exists`);
          else working.push(record);
          break;
        case "UPSERT":
          if (index >= 0) working[index] = record;
          else working.push(record);
          break;
        case "DELETE":
          if (index < 0 || !sameRecord(working[index] as ResourceRecordSet, record)) {
            problems.push(`Tried to delete ${description} but it was not found`);
          } else working.splice(index, 1);
          break;
        default:
          problems.push(`Invalid Action ${String(change.Action)}`);
      }
    }
    problems.push(...failoverProblems(working));
    if (problems.length > 0) {
      throw serviceError("route53", "InvalidChangeBatch", `[${problems.join(", ")}]`, {
        members: { messages: problems },
      });
    }
    this.records = working;
    this.changeCounter += 1;
    const change: StoredChange = {
      id: `C${this.changeCounter.toString().padStart(4, "0")}SIMULATED${this.spec.hostedZoneId.slice(-6)}`,
      submittedAt: this.env.clock.now(),
      comment: input.ChangeBatch?.Comment,
    };
    this.changes.push(change);
    return { ChangeInfo: this.describeChange(change) };
  }

  private getChange(input: GetChangeRequest) {
    const id = input.Id?.replace(/^\/change\//, "");
    const change = this.changes.find((candidate) => candidate.id === id);
    if (!change) {
      throw serviceError(
        "route53",
        "NoSuchChange",
        `A change with the specified change ID ${input.Id} does not exist.`,
        {
          httpStatusCode: 404,
        },
      );
    }
    return { ChangeInfo: this.describeChange(change) };
  }

  private getHealthCheckStatus(input: GetHealthCheckStatusRequest) {
    if (!input.HealthCheckId || !this.isKnownHealthCheck(input.HealthCheckId)) {
      throw serviceError(
        "route53",
        "NoSuchHealthCheck",
        `No health check exists with the specified ID ${input.HealthCheckId}.`,
        { httpStatusCode: 404 },
      );
    }
    const healthy = this.isHealthCheckHealthy(input.HealthCheckId);
    const checkedTime = new Date(this.env.clock.now());
    return {
      HealthCheckObservations: CHECKER_REGIONS.map((region, index) => ({
        Region: region,
        IPAddress: `15.177.${index * 8}.${10 + index}`,
        StatusReport: {
          Status: healthy
            ? "Success: HTTP Status Code 200, OK"
            : "Failure: Connection timed out. The endpoint or the internet connection is down, or requests are being blocked by your firewall.",
          CheckedTime: checkedTime,
        },
      })),
    };
  }

  private listResourceRecordSets(input: ListResourceRecordSetsRequest) {
    this.requireZone(input.HostedZoneId);
    const sorted = [...this.records].sort(compareRecords);
    let start = 0;
    if (input.StartRecordName !== undefined) {
      const from: ResourceRecordSet = {
        Name: fqdn(input.StartRecordName),
        Type: input.StartRecordType ?? ("" as ResourceRecordSet["Type"]),
        SetIdentifier: input.StartRecordIdentifier,
      };
      start = sorted.findIndex((record) => compareRecords(record, from) >= 0);
      if (start < 0) start = sorted.length;
    }
    const maxItems = Number(input.MaxItems ?? 300);
    const page = sorted.slice(start, start + maxItems);
    const next = sorted[start + maxItems];
    return {
      ResourceRecordSets: structuredClone(page),
      IsTruncated: next !== undefined,
      MaxItems: String(maxItems),
      ...(next
        ? {
            NextRecordName: next.Name,
            NextRecordType: next.Type,
            ...(next.SetIdentifier ? { NextRecordIdentifier: next.SetIdentifier } : {}),
          }
        : {}),
    };
  }

  private describeChange(change: StoredChange) {
    const insync = this.env.clock.now() >= change.submittedAt + this.spec.propagationMs;
    return {
      Id: `/change/${change.id}`,
      Status: insync ? ("INSYNC" as const) : ("PENDING" as const),
      SubmittedAt: new Date(change.submittedAt),
      ...(change.comment === undefined ? {} : { Comment: change.comment }),
    };
  }

  private recordTarget(failover: "PRIMARY" | "SECONDARY"): RegionRole | null {
    const record = this.records.find(
      (candidate) =>
        candidate.Failover === failover && candidate.Name === fqdn(this.spec.recordName),
    );
    const dnsName = record?.AliasTarget?.DNSName;
    const target = Object.values(this.spec.targets).find(
      (candidate) => fqdn(candidate.loadBalancer.dnsName) === dnsName,
    );
    return target?.role ?? null;
  }

  private healthCheckOf(failover: "PRIMARY" | "SECONDARY"): string | undefined {
    return this.records.find(
      (candidate) =>
        candidate.Failover === failover && candidate.Name === fqdn(this.spec.recordName),
    )?.HealthCheckId;
  }

  private isKnownHealthCheck(id: string): boolean {
    return Object.values(this.spec.targets).some((target) => target.healthCheckId === id);
  }

  private requireZone(id: string | undefined): void {
    if (id?.replace(/^\/hostedzone\//, "") !== this.spec.hostedZoneId) {
      throw serviceError("route53", "NoSuchHostedZone", `No hosted zone found with ID: ${id}`, {
        httpStatusCode: 404,
      });
    }
  }
}

/** Lower case with the trailing dot, as Route 53 returns names. */
export function fqdn(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith(".") ? lower : `${lower}.`;
}

function withinZone(name: string, zoneName: string): boolean {
  const zone = fqdn(zoneName);
  return name === zone || name.endsWith(`.${zone}`);
}

function normalizeRecord(record: ResourceRecordSet): ResourceRecordSet {
  const copy = structuredClone(record);
  copy.Name = fqdn(copy.Name as string);
  if (copy.AliasTarget) {
    copy.AliasTarget.DNSName = fqdn(copy.AliasTarget.DNSName as string);
  }
  return copy;
}

function recordKey(record: ResourceRecordSet): string {
  return `${record.Name}|${record.Type}|${record.SetIdentifier ?? ""}`;
}

function describeRecord(record: ResourceRecordSet): string {
  const identifier = record.SetIdentifier ? `, set-identifier='${record.SetIdentifier}'` : "";
  return `resource record set [name='${record.Name}', type='${record.Type}'${identifier}]`;
}

function sameRecord(a: ResourceRecordSet, b: ResourceRecordSet): boolean {
  return JSON.stringify(normalizeRecord(a)) === JSON.stringify(normalizeRecord(b));
}

/** A failover record set has at most one PRIMARY and one SECONDARY per name and type. */
function failoverProblems(records: readonly ResourceRecordSet[]): string[] {
  const problems: string[] = [];
  const seen = new Map<string, ResourceRecordSet>();
  for (const record of records) {
    if (!record.Failover) continue;
    const key = `${record.Name}|${record.Type}|${record.Failover}`;
    const other = seen.get(key);
    if (other) {
      problems.push(
        `${describeRecord(record)} has Failover ${record.Failover}, but ${describeRecord(other)} already has it; a failover record set allows one PRIMARY and one SECONDARY`,
      );
    } else seen.set(key, record);
  }
  return problems;
}

function reversedLabels(name: string | undefined): string {
  return (name ?? "").replace(/\.$/, "").split(".").reverse().join(".");
}

function compareRecords(a: ResourceRecordSet, b: ResourceRecordSet): number {
  return (
    reversedLabels(a.Name).localeCompare(reversedLabels(b.Name)) ||
    String(a.Type).localeCompare(String(b.Type)) ||
    (a.SetIdentifier ?? "").localeCompare(b.SetIdentifier ?? "")
  );
}
