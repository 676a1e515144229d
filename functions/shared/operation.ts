/**
 * Types shared by every failover Lambda and by the infrastructure that writes their input: the
 * execution input, the plan, the step results and the ledger record; plus the zod schema that
 * validates the execution input a step receives.
 */
import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";
import type { EndpointReading } from "./endpoint-probe";
import type { OnUnreachable } from "./errors";
import { REGION_ROLES, type RegionRole } from "./region-roles";

// zod/mini loads no messages by default; English ones for "expected string, received number".
z.config(en());

export type OperationKind = "failover" | "failback";
export type OperationMode = "planned" | "unplanned";
export type HealthState = "healthy" | "unhealthy" | "unknown";

export type { EndpointReading };

/**
 * DB cluster statuses of a cluster that is down for writes (stopped, being deleted, its key
 * unusable), from the DB cluster status list
 * (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/accessing-monitoring.html#Aurora.Status).
 * Any other status but `available` (backing-up, modifying, maintenance, an in-region failing-over,
 * ...) is a cluster that may still take writes, or will again shortly: no data-loss failover.
 */
export const SOURCE_DOWN_STATUSES: readonly string[] = [
  "inaccessible-encryption-credentials",
  "inaccessible-encryption-credentials-recoverable",
  "stopped",
  "stopping",
  "starting",
  "deleting",
  "migration-failed",
];

/** The execution input, written by operations-api / auto-failover; also the execution name. */
export interface OperationInput {
  /** `op-<yyyymmddThhmmssZ>-<6 hex>`, also the Step Functions execution name. */
  operationId: string;
  /** failover: target = secondary; failback: target = primary (always planned). */
  kind: OperationKind;
  mode: OperationMode;
  reason: string;
  /** ISO-8601. */
  requestedAt: string;
  /** Caller ARN from the API request context, or `eventbridge:<rule>`. */
  requestedBy: string;
  source: RegionRole;
  target: RegionRole;
}

/** Validates the `operation` a step receives (the state machine passes its whole state). */
export const operationInputSchema: z.ZodMiniType<OperationInput> = z.object({
  operationId: z.string().check(z.minLength(1, "a non-empty string")),
  kind: z.enum(["failover", "failback"]),
  mode: z.enum(["planned", "unplanned"]),
  reason: z.string(),
  requestedAt: z.string(),
  requestedBy: z.string(),
  source: z.enum(REGION_ROLES),
  target: z.enum(REGION_ROLES),
});

export interface CapacitySizes {
  minSize: number;
  desiredCapacity: number;
  maxSize: number;
}

export interface CapacityReading extends CapacitySizes {
  /** Instances in service (lifecycle state InService). */
  inService: number;
}

/** Result of preflight (read-topology + read-traffic), also the dryRun answer. */
export interface Plan {
  kind: OperationKind;
  mode: OperationMode;
  source: RegionRole;
  target: RegionRole;
  writerRegion: RegionRole | "unknown";
  replicationLagSeconds: number | null;
  /** AuroraGlobalDBRPOLag at preflight: what a failover with data loss would lose. */
  rpoLagSeconds: number | null;
  health: Record<RegionRole, HealthState>;
  capacity: Record<RegionRole, CapacityReading | null>;
  /**
   * How long the workflow waits for a running promotion before it pages (it keeps waiting, with
   * the lock held, for as long as Aurora reports the promotion running).
   */
  writerWait: { pageAfterSeconds: number; reason: string };
  /** Human-readable actions that would run, in order. */
  steps: string[];
  /** Why it must not run (e.g. planned while source region unreachable); empty = go. */
  blockers: string[];
}

/**
 * The plan-operation step's result (`$.results.plan`): the plan, plus what the workflow's Choice
 * and Pass states read (ASL cannot test an array for emptiness or join it).
 */
export interface WorkflowPlan extends Plan {
  blocked: boolean;
  /** The blockers as one sentence, the PlanBlocked cause; empty when not blocked. */
  blockerSummary: string;
  /** {@link Plan.writerWait} in writer checks of the workflow's interval (rounded up). */
  pageAfterChecks: number;
}

export type StepStatus = "running" | "succeeded" | "failed" | "skipped";

/**
 * Ledger item `OPERATION#<id>`, also the GET /operations/{id} body: the request as the execution
 * input has it (without the regions, which follow from `kind`), then its progress.
 */
export interface OperationRecord extends Omit<OperationInput, "source" | "target"> {
  status: "running" | "succeeded" | "failed";
  steps: {
    name: string;
    status: StepStatus;
    startedAt?: string;
    finishedAt?: string;
    error?: string;
    detail?: string;
  }[];
  finishedAt?: string;
  /** requestedAt -> verify succeeded. */
  rtoSeconds?: number;
  /** Unplanned: lag seen at preflight (upper bound of lost writes); planned: 0. */
  dataLossSeconds?: number | null;
  error?: string;
  /**
   * Set while the operation still runs but needs a person, e.g. a promotion running longer than
   * the plan's bound (the workflow paged and keeps waiting with the lock held).
   */
  attention?: { since: string; message: string };
}

/**
 * What a step did. Every mutating step reads the real state first and reports `changed: false`
 * with the action that describes the state it found (e.g. `already-writer`) when there was
 * nothing to do, so a re-run after a crash never repeats an action.
 */
export interface StepResult<Action extends string = string> {
  action: Action;
  /** True when this invocation made a mutating call. */
  changed: boolean;
  /** One human-readable sentence for the ledger and logs. */
  detail: string;
}

/** Why a region's part of a reading is missing (timeout, 5xx, network error). */
export interface UnreachableRegion {
  role: RegionRole;
  region: string;
  /** The classified error name, e.g. `Retryable.Timeout`, plus the original message. */
  reason: string;
}

/** One Aurora cluster as seen by read-topology. */
export interface ClusterReading {
  role: RegionRole;
  clusterIdentifier: string;
  clusterArn: string;
  /** DescribeDBClusters Status (e.g. `available`), or null when the region did not answer. */
  status: string | null;
  /** Member of the global cluster (per DescribeGlobalClusters), null when unknown. */
  globalMember: boolean | null;
  /** Writer of the global cluster (GlobalClusterMembers IsWriter), null when unknown. */
  isWriter: boolean | null;
  /**
   * A secondary member's SynchronizationStatus (`connected`, `pending-resync`): a switchover
   * needs the target `connected`. Null for the writer, a non-member, or when unknown.
   */
  synchronizationStatus: string | null;
}

/** Output of the read-topology step (`$.results.topology`). */
export interface TopologyReport {
  /** DescribeGlobalClusters Status, e.g. `available`, `switching-over`, `failing-over`; null = unknown. */
  globalClusterStatus: string | null;
  /**
   * GlobalCluster.FailoverState while a switchover/failover is pending, running or being
   * cancelled; null otherwise.
   */
  failover: {
    status: string;
    fromClusterArn: string | null;
    toClusterArn: string | null;
    isDataLossAllowed: boolean | null;
  } | null;
  writerRegion: RegionRole | "unknown";
  clusters: Record<RegionRole, ClusterReading>;
  /**
   * AuroraGlobalDBReplicationLag of the non-writer cluster in seconds: the newest 1-minute
   * Maximum of the last 5 minutes; null when there is none or the region did not answer.
   */
  replicationLagSeconds: number | null;
  /**
   * AuroraGlobalDBRPOLag of the same cluster in seconds: how far its newest commit is behind the
   * writer's, i.e. what a failover with data loss would lose; null when unknown.
   */
  rpoLagSeconds: number | null;
  unreachable: UnreachableRegion[];
  /** Why something above is unknown/null (one sentence each), empty when everything was read. */
  notes: string[];
}

/** Output of the read-traffic step (`$.results.traffic`). */
export interface TrafficReport {
  /** Route 53's verdict where known (`route53Health`), else read-traffic's own probe. */
  health: Record<RegionRole, HealthState>;
  /** Route 53's health checkers' verdict: from its API, else inferred from the DNS answer. */
  route53Health: Record<RegionRole, HealthState>;
  /** Each region's load balancer, probed over HTTPS from the automation's region. */
  endpoints: Record<RegionRole, EndpointReading>;
  /** The region whose load balancer the public name resolves to. */
  served: RegionRole | "unknown";
  /** Which regions the traffic fences keep off DNS (true: fenced). */
  fences: Record<RegionRole, boolean>;
  /** Health of the operation's target region, when the event named an operation (for Choice states). */
  targetHealth?: HealthState;
  /**
   * When the event named an operation: the public name resolves to the target's load balancer
   * and the app there answers and can write. Verify's traffic condition.
   */
  targetServed?: boolean;
  capacity: Record<RegionRole, CapacityReading | null>;
  unreachable: UnreachableRegion[];
  notes: string[];
}

/**
 * Input of read-topology and read-traffic. The state machine passes its whole state
 * (`{ operation, results }`); operations-api's dry run and GET /status pass `{}` or
 * `{ operation: { mode, target } }` with `onUnreachable: "report"`.
 */
export interface ReaderEvent {
  operation?: { mode?: OperationMode; target?: RegionRole };
  /**
   * @default "throw" when `operation.mode` is planned (Step Functions retries, then fails the
   * operation), otherwise "report" (the region is reported unknown).
   */
  onUnreachable?: OnUnreachable;
}

const readerEventSchema = z.object({
  operation: z.optional(
    z.object({
      mode: z.optional(z.enum(["planned", "unplanned"])),
      target: z.optional(z.enum(REGION_ROLES)),
    }),
  ),
  onUnreachable: z.optional(z.enum(["report", "throw"])),
});

/** Input of promote-database, check-writer and flip-dns: the state machine's whole state. */
export interface StepEvent {
  operation: OperationInput;
}

const stepEventSchema = z.object({ operation: operationInputSchema });

/**
 * Input of scale-capacity: which region and to what. `active`/`standby` take the sizes from
 * SHOPSMART_DR_SETTINGS (regions.<role>.activeCapacity / standbyCapacity). The state machine
 * passes e.g. `{"role.$": "$.operation.target", "capacity": "active"}`.
 */
export interface ScaleCapacityEvent {
  role: RegionRole;
  /** `fenced`: zero instances, with the lock held (needs `operationId`). */
  capacity: "active" | "standby" | "fenced" | CapacitySizes;
  /** The operation that fences (capacity `fenced` only). */
  operationId?: string;
}

const sizeSchema = z.int().check(z.minimum(0));
const scaleCapacityEventSchema = z.object({
  role: z.enum(REGION_ROLES),
  capacity: z.union(
    [
      z.enum(["active", "standby", "fenced"]),
      z.object({ minSize: sizeSchema, desiredCapacity: sizeSchema, maxSize: sizeSchema }),
    ],
    { error: 'expected "active", "standby", "fenced" or { minSize, desiredCapacity, maxSize }' },
  ),
  operationId: z.optional(z.string().check(z.minLength(1, "a non-empty operation id"))),
});

/** Thrown by the event parsers: `name` InvalidEvent, terminal. */
export class InvalidEventError extends Error {
  constructor(handlerName: string, field: string, problem: string) {
    super(`${handlerName}: event field ${field}: ${problem}`);
    this.name = "InvalidEvent";
  }
}

function parseEvent<Event>(
  schema: z.ZodMiniType<Event>,
  handlerName: string,
  event: unknown,
): Event {
  const result = schema.safeParse(event ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.length ? issue.path.join(".") : "(event)";
  throw new InvalidEventError(handlerName, field, issue?.message ?? "invalid");
}

/** Validates a reader's event and resolves its `onUnreachable` default. */
export function parseReaderEvent(
  handlerName: string,
  event: unknown,
): { onUnreachable: OnUnreachable; target?: RegionRole } {
  const parsed = parseEvent(readerEventSchema, handlerName, event);
  const onUnreachable =
    parsed.onUnreachable ?? (parsed.operation?.mode === "planned" ? "throw" : "report");
  return parsed.operation?.target
    ? { onUnreachable, target: parsed.operation.target }
    : { onUnreachable };
}

/** Validates the whole-state event of promote-database, check-writer and flip-dns. */
export function parseStepEvent(handlerName: string, event: unknown): StepEvent {
  return parseEvent(stepEventSchema, handlerName, event);
}

export function parseScaleCapacityEvent(handlerName: string, event: unknown): ScaleCapacityEvent {
  return parseEvent(scaleCapacityEventSchema, handlerName, event);
}

/**
 * Input of plan-operation: the operation and the two preflight readings, as the state machine
 * passes them (`{"operation.$": "$.operation", "topology.$": "$.results.topology", ...}`).
 */
export interface PlanEvent {
  operation: OperationInput;
  topology: TopologyReport;
  traffic: TrafficReport;
  /** The workflow's seconds between writer checks, to express the wait bound in checks. */
  writerCheckIntervalSeconds: number;
}

/** A reader's report: produced by this project's own step, so only its shape's anchor is checked. */
function reportWith<Report>(field: string, message: string) {
  return z.custom<Report>(
    (value) => typeof value === "object" && value !== null && field in value,
    message,
  );
}

const planEventSchema: z.ZodMiniType<PlanEvent> = z.object({
  operation: operationInputSchema,
  topology: reportWith<TopologyReport>("writerRegion", "read-topology's report"),
  traffic: reportWith<TrafficReport>("health", "read-traffic's report"),
  writerCheckIntervalSeconds: z.number().check(z.positive("a number of seconds > 0")),
});

export function parsePlanEvent(handlerName: string, event: unknown): PlanEvent {
  return parseEvent(planEventSchema, handlerName, event);
}
