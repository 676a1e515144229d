/**
 * The last step of every execution, on the success path (RecordSuccess) and the catch path
 * (RecordFailure): writes the final record, releases the lock, publishes one SNS message.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";
import { causeMessage } from "../shared/errors";
import {
  InvalidEventError,
  type OperationInput,
  type OperationRecord,
  operationInputSchema,
  type StepStatus,
  type TopologyReport,
  type TrafficReport,
  type WorkflowPlan,
} from "../shared/operation";
import type { AutomationSettings } from "../shared/settings";
import { automationSubject, MAX_SUBJECT_LENGTH } from "../shared/sns-subject";
import {
  completeOperation,
  createOperation,
  getOperation,
  type Ledger,
  markNotified,
  type OperationCompletion,
  releaseLock,
  type StoredOperation,
  setAttention,
} from "./ledger";
import { newRecord } from "./start-operation";

// zod/mini loads no messages by default; English ones, as classic `zod` would load.
z.config(en());

export interface FinishClients {
  dynamoDb: DynamoDBClient;
  sns: SNSClient;
}

export type FinishSettings = Pick<
  AutomationSettings,
  "environment" | "ledgerTableName" | "topicArn" | "regions" | "rtoSeconds"
>;

/** The error a Catch puts at `$.error` (ResultPath): `Error` is the error name. */
export interface CaughtError {
  Error?: string;
  /** For a Lambda error, the JSON `{"errorType","errorMessage","trace"}`; otherwise free text. */
  Cause?: string;
}

/** The state machine's whole state when it calls finish. */
export interface FinishState {
  /** The execution input. */
  operation: OperationInput;
  /** One entry per completed step (`$.results.<step>`), in the order they ran. */
  results?: Record<string, unknown>;
  /** Present on the catch path (and when the plan had blockers): the operation failed. */
  error?: CaughtError;
  /**
   * Present when the workflow asks for a page while the operation goes on (PageSlowPromotion):
   * finish then records `attention` and notifies, and neither completes nor unlocks anything.
   */
  notice?: OperationNotice;
}

/** A page sent while the operation keeps running. */
export interface OperationNotice {
  kind: "promotion-slow";
  /** Writer checks so far, and the seconds between them. */
  checks: number;
  intervalSeconds: number;
  /** The plan's bound (Plan.writerWait.pageAfterSeconds). */
  pageAfterSeconds: number;
  /** The last check-writer detail. */
  detail: string;
}

export interface NoticeResult {
  operationId: string;
  status: "running";
  /** False when the record already had its attention (or had finished): nothing was published. */
  published: boolean;
}

export interface FinishResult {
  operationId: string;
  status: "succeeded" | "failed";
  /** False when an earlier call had already written the final status (this call changed nothing). */
  recorded: boolean;
  /** True when this call published the SNS message. */
  published: boolean;
}

export { MAX_SUBJECT_LENGTH };

const finishStateSchema = z.object({
  operation: operationInputSchema,
  results: z.optional(z.record(z.string(), z.unknown())),
  error: z.optional(z.object({ Error: z.optional(z.string()), Cause: z.optional(z.string()) })),
  notice: z.optional(
    z.object({
      kind: z.literal("promotion-slow"),
      checks: z.number(),
      intervalSeconds: z.number(),
      pageAfterSeconds: z.number(),
      detail: z.string(),
    }),
  ),
});

/** Validates the state; a bad one is a terminal `InvalidEvent` naming the first bad field. */
export function parseFinishState(event: unknown): FinishState {
  const result = finishStateSchema.safeParse(event);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new InvalidEventError(
    "finish",
    issue?.path.length ? issue.path.map(String).join(".") : "(root)",
    issue?.message ?? "invalid",
  );
}

/**
 * Finishes an operation. Idempotent, and safe to retry after any partial failure:
 * - the final status is written only while the record is `running` (conditional update), so a
 *   second call keeps the first call's status, steps and timestamps;
 * - the lock is released only if this operation holds it;
 * - the SNS message is published only while the record has no `notifiedAt`, which is set after
 *   publishing: a call for a finished and notified operation publishes nothing, and a retry after
 *   a failed publish still notifies.
 */
export async function finishOperation(
  clients: FinishClients,
  settings: FinishSettings,
  state: FinishState,
  now: Date,
): Promise<FinishResult> {
  const ledger: Ledger = { client: clients.dynamoDb, tableName: settings.ledgerTableName };
  const { operationId } = state.operation;
  const completion = buildCompletion(state, now);

  let result = await completeOperation(ledger, operationId, completion);
  if (!result.updated && result.stored === undefined) {
    // The record is missing (never written, or deleted): recreate it so the outcome is kept.
    await createOperation(ledger, newRecord(state.operation));
    result = await completeOperation(ledger, operationId, completion);
  }
  const stored = requireStored(result.stored, operationId);

  await releaseLock(ledger, operationId);

  let published = false;
  if (stored.notifiedAt === undefined) {
    const notification = buildNotification(state.operation, stored.record, settings);
    await clients.sns.send(
      new PublishCommand({
        TopicArn: settings.topicArn,
        Subject: notification.subject,
        Message: notification.message,
      }),
    );
    await markNotified(ledger, operationId, now.toISOString());
    published = true;
  }
  const status = stored.record.status === "running" ? completion.status : stored.record.status;
  return { operationId, status, recorded: result.updated, published };
}

/**
 * Pages about an operation that goes on: sets the record's `attention` (once, while it runs) and
 * publishes one SNS message. The lock stays with the operation.
 */
export async function noticeOperation(
  clients: FinishClients,
  settings: FinishSettings,
  operation: OperationInput,
  notice: OperationNotice,
  now: Date,
): Promise<NoticeResult> {
  const ledger: Ledger = { client: clients.dynamoDb, tableName: settings.ledgerTableName };
  const waited = notice.checks * notice.intervalSeconds;
  const target = `${operation.target} (${settings.regions[operation.target].region})`;
  const message =
    `The database promotion towards ${target} is still running after about ${waited} s, longer ` +
    `than the plan's ${notice.pageAfterSeconds} s. The workflow keeps waiting with the lock ` +
    `held and completes by itself when Aurora finishes; do not start another operation. Last ` +
    `check: ${notice.detail}`;
  // Publish first, then record: a publish that fails leaves no attention behind, so the retry
  // pages; a retry after a lost answer may page twice, which beats not paging.
  const stored = await getOperation(ledger, operation.operationId);
  const due = stored?.record.status === "running" && stored.record.attention === undefined;
  if (due) {
    await clients.sns.send(
      new PublishCommand({
        TopicArn: settings.topicArn,
        Subject: automationSubject(
          settings.environment,
          `${operation.kind} needs attention: ${operation.operationId}`,
        ),
        Message: [
          `${capitalize(operation.kind)} ${operation.operationId} is still running: the promotion is slow.`,
          "",
          message,
          "",
          `Follow it: GET /operations/${operation.operationId}`,
        ].join("\n"),
      }),
    );
    await setAttention(ledger, operation.operationId, { since: now.toISOString(), message });
  }
  return { operationId: operation.operationId, status: "running", published: due };
}

/** The final status, steps, RTO and data-loss estimate from the state. */
export function buildCompletion(state: FinishState, now: Date): OperationCompletion {
  const status = state.error === undefined ? "succeeded" : "failed";
  const results = state.results ?? {};
  const topology = findTopology(results);
  const completion: OperationCompletion = {
    status,
    steps: Object.entries(results).map(([name, value]) => summarizeStep(name, value)),
    finishedAt: now.toISOString(),
    // A plan that stopped the operation stopped it before any change: nothing was lost.
    dataLossSeconds:
      state.error?.Error === "PlanBlocked"
        ? 0
        : dataLossOf(state.operation.mode, findPromotionMethod(results), topology),
  };
  if (status === "succeeded") {
    // Recovery time: from the request to now (after Verify). A failed operation recovered nothing.
    completion.rtoSeconds = Math.round(
      (now.getTime() - Date.parse(state.operation.requestedAt)) / 1000,
    );
  } else {
    completion.error = describeCaughtError(state.error ?? {});
  }
  return completion;
}

/** `<Error>: <message>`; the message is taken from a Lambda error's JSON Cause when present. */
export function describeCaughtError(error: CaughtError): string {
  const name = error.Error ?? "Error";
  const message = causeMessage(error.Cause ?? "");
  const text = message ? `${name}: ${message}` : name;
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text;
}

const MAX_ERROR_LENGTH = 1000;

/** The subject (< 100 characters, one line) and the readable summary followed by the record JSON. */
export function buildNotification(
  operation: OperationInput,
  record: OperationRecord,
  settings: FinishSettings,
): { subject: string; message: string } {
  const subject = automationSubject(
    settings.environment,
    `${record.kind} ${record.status}: ${record.operationId}`,
  );
  const region = (role: "primary" | "secondary") => `${role} (${settings.regions[role].region})`;
  const lines = [
    `${capitalize(record.kind)} ${record.operationId} ${record.status}.`,
    "",
    `Environment: ${settings.environment}`,
    `Mode: ${record.mode}`,
    `Direction: ${region(operation.source)} -> ${region(operation.target)}`,
    `Reason: ${record.reason}`,
    `Requested by: ${record.requestedBy} at ${record.requestedAt}`,
    `Finished at: ${record.finishedAt ?? "(not recorded)"}`,
  ];
  if (record.rtoSeconds !== undefined) {
    lines.push(`Recovery time: ${record.rtoSeconds} s (target ${settings.rtoSeconds} s)`);
  }
  lines.push(`Data loss: ${describeDataLoss(record.dataLossSeconds)}`);
  if (record.error !== undefined) lines.push(`Error: ${record.error}`);
  lines.push("", "Steps:");
  if (record.steps.length === 0) lines.push("- (none completed)");
  for (const step of record.steps) {
    const detail = step.detail ? `: ${step.detail}` : "";
    lines.push(`- ${step.name}: ${step.status}${detail}`);
  }
  lines.push("", "Record:", JSON.stringify(record, null, 2));
  return { subject, message: lines.join("\n") };
}

function describeDataLoss(dataLossSeconds: number | null | undefined): string {
  if (dataLossSeconds === 0) return "none (switchover)";
  if (dataLossSeconds === null || dataLossSeconds === undefined) {
    return "unknown (neither RPO lag nor replication lag was readable at preflight)";
  }
  return `up to ${dataLossSeconds} s of writes (RPO lag at preflight)`;
}

function summarizeStep(name: string, value: unknown): OperationRecord["steps"][number] {
  const status: StepStatus = "succeeded";
  const detail = describeResult(unwrapTaskResult(value));
  return detail ? { name, status, detail } : { name, status };
}

/**
 * Lambda tasks may wrap their output as `{"value": <Payload>}` (ResultSelector); this returns the
 * payload either way.
 */
function unwrapTaskResult(value: unknown): unknown {
  if (isObject(value) && Object.keys(value).length === 1 && "value" in value) return value.value;
  return value;
}

/** One line per result: a step's own `detail`, a reader's summary, or its JSON. */
function describeResult(value: unknown): string {
  if (Array.isArray(value)) {
    return value
      .map((element) => describeResult(unwrapTaskResult(element)))
      .filter((text) => text !== "")
      .join("; ");
  }
  if (isObject(value) && typeof value.detail === "string") return value.detail;
  if (isWorkflowPlan(value)) {
    return value.blocked
      ? `blocked: ${value.blockerSummary}`
      : `${value.steps.length} steps, no blockers; pages if the promotion runs over ${value.writerWait.pageAfterSeconds} s`;
  }
  if (isTopologyReport(value)) {
    const lag =
      value.replicationLagSeconds === null ? "unknown" : `${value.replicationLagSeconds} s`;
    return `writer ${value.writerRegion}, replication lag ${lag}`;
  }
  if (isTrafficReport(value)) {
    return `health: primary ${value.health.primary}, secondary ${value.health.secondary}`;
  }
  if (value === undefined || value === null) return "";
  const json = JSON.stringify(value);
  return json.length > MAX_DETAIL_LENGTH ? `${json.slice(0, MAX_DETAIL_LENGTH - 1)}…` : json;
}

const MAX_DETAIL_LENGTH = 300;

/**
 * read-topology's report, the first one in step order: `$.results.topology`, or an element of a
 * Parallel result such as `$.results.preflight`.
 */
/**
 * What the operation lost, from the promotion method that actually ran (not the requested mode):
 * a switchover waits for the secondary to catch up, so nothing; a failover with data loss or a
 * detach loses what the RPO lag at preflight says (the replication lag when that was not
 * read; null when neither was). Without a promotion
 * result (it never ran, or its branch failed) the mode decides, as a switchover was all a planned
 * operation could have started.
 */
function dataLossOf(
  mode: OperationRecord["mode"],
  method: string | undefined,
  topology: TopologyReport | undefined,
): number | null {
  const switchedOver = method === undefined ? mode === "planned" : method === "switchover";
  return switchedOver ? 0 : (topology?.rpoLagSeconds ?? topology?.replicationLagSeconds ?? null);
}

/** The task results, with Parallel branches' results flattened. */
function stepResults(results: Record<string, unknown>): unknown[] {
  return Object.values(results).flatMap((value) => {
    const unwrapped = unwrapTaskResult(value);
    return Array.isArray(unwrapped) ? unwrapped.map(unwrapTaskResult) : [unwrapped];
  });
}

function findTopology(results: Record<string, unknown>): TopologyReport | undefined {
  return stepResults(results).find(isTopologyReport);
}

/** promote-database's `method` (switchover, failover or detach), when it ran. */
function findPromotionMethod(results: Record<string, unknown>): string | undefined {
  const promotion = stepResults(results).find(
    (value) => isObject(value) && "targetClusterArn" in value && "method" in value,
  ) as { method?: unknown } | undefined;
  return typeof promotion?.method === "string" ? promotion.method : undefined;
}

function isTopologyReport(value: unknown): value is TopologyReport {
  return isObject(value) && "writerRegion" in value && "replicationLagSeconds" in value;
}

function isWorkflowPlan(value: unknown): value is WorkflowPlan {
  return (
    isObject(value) &&
    typeof value.blocked === "boolean" &&
    "blockerSummary" in value &&
    "steps" in value
  );
}

function isTrafficReport(value: unknown): value is TrafficReport {
  return isObject(value) && "health" in value && "capacity" in value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function requireStored(stored: StoredOperation | undefined, operationId: string): StoredOperation {
  if (stored === undefined) {
    throw new Error(`the ledger record OPERATION#${operationId} vanished while finishing it`);
  }
  return stored;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
