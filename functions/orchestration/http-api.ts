/**
 * The operations HTTP API (API Gateway HTTP API, payload format 2.0, AWS_IAM on every route):
 *
 * - `POST /failover` `{"mode":"planned"|"unplanned","reason":string,"dryRun"?:boolean}`
 * - `POST /failback` `{"reason":string,"dryRun"?:boolean}`
 * - `GET /status`
 * - `GET /operations/{id}`
 *
 * Routing, validation and the mapping of outcomes to responses; the clients come in as arguments.
 */

import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { InvokeCommand, type InvokeCommandOutput, type LambdaClient } from "@aws-sdk/client-lambda";
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  type SFNClient,
} from "@aws-sdk/client-sfn";
import type {
  APIGatewayProxyEventV2WithIAMAuthorizer,
  APIGatewayProxyStructuredResultV2,
} from "aws-lambda";
import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";
import { causeMessage, describeError } from "../shared/errors";
import { log } from "../shared/log";
import type {
  OperationKind,
  OperationMode,
  OperationRecord,
  Plan,
  ReaderEvent,
  TopologyReport,
  TrafficReport,
} from "../shared/operation";
import type { StatusResponse } from "../shared/operations-api";
import type { RegionRole } from "../shared/region-roles";
import type { AutomationSettings } from "../shared/settings";
import { getLatestOperation, getLock, getOperation, type Ledger } from "./ledger";
import { buildPlan, directionOf } from "./plan";
import { executionArnFor, type StartOperationEnvironment, startOperation } from "./start-operation";

// zod/mini loads no messages by default; English ones, as classic `zod` would load. Every message
// below is our own, so these only back the ones this module does not set.
z.config(en());

export interface HttpApiClients {
  dynamoDb: DynamoDBClient;
  sfn: SFNClient;
  lambda: LambdaClient;
}

export interface HttpApiDependencies {
  settings: AutomationSettings;
  clients: HttpApiClients;
  environment: StartOperationEnvironment;
}

export type HttpResponse = APIGatewayProxyStructuredResultV2;

export const MAX_REASON_LENGTH = 500;

/** Routes one request. Never throws: an unexpected error is logged and answered with 500. */
export async function handleHttpRequest(
  event: APIGatewayProxyEventV2WithIAMAuthorizer,
  dependencies: HttpApiDependencies,
): Promise<HttpResponse> {
  const route = matchRoute(event);
  try {
    switch (route.name) {
      case "failover":
      case "failback":
        return await trigger(route.name, event, dependencies);
      case "status":
        return await status(dependencies);
      case "operation":
        return await operation(route.operationId, dependencies);
      case "unknown":
        return json(404, {
          error:
            `no route ${route.method} ${route.path}: the routes are POST /failover, ` +
            "POST /failback, GET /status and GET /operations/{id}",
        });
    }
  } catch (error) {
    if (error instanceof ReaderError) return json(502, { error: error.message });
    log("error", "request failed", { route: route.name, error: describeError(error) });
    return json(500, { error: `internal error: ${describeError(error)}` });
  }
}

type Route =
  | { name: "failover" | "failback" | "status" }
  | { name: "operation"; operationId: string }
  | { name: "unknown"; method: string; path: string };

/**
 * Matches on method and path rather than `routeKey`, so the same code serves explicit routes and
 * a `$default` catch-all; a named stage's `/<stage>` prefix in `rawPath` is ignored.
 */
function matchRoute(event: APIGatewayProxyEventV2WithIAMAuthorizer): Route {
  const method = event.requestContext.http.method.toUpperCase();
  const stagePrefix = `/${event.requestContext.stage}`;
  let path = event.rawPath;
  if (event.requestContext.stage !== "$default" && path.startsWith(`${stagePrefix}/`)) {
    path = path.slice(stagePrefix.length);
  }
  path = path.replace(/\/+$/, "") || "/";

  if (method === "POST" && path === "/failover") return { name: "failover" };
  if (method === "POST" && path === "/failback") return { name: "failback" };
  if (method === "GET" && path === "/status") return { name: "status" };
  const operationPath = /^\/operations\/([^/]+)$/.exec(path);
  if (method === "GET" && operationPath?.[1]) {
    return { name: "operation", operationId: operationPath[1] };
  }
  return { name: "unknown", method, path };
}

// ---------------------------------------------------------------- POST /failover, POST /failback

const reasonSchema = z
  .string({
    error: (issue) =>
      issue.input === undefined
        ? `reason is required: say why, in 1 to ${MAX_REASON_LENGTH} characters`
        : `reason must be a string, got ${describeValue(issue.input)}`,
  })
  .check(
    z.trim(),
    z.minLength(1, { error: `reason is blank: say why, in 1 to ${MAX_REASON_LENGTH} characters` }),
    z.maxLength(MAX_REASON_LENGTH, {
      error: (issue) =>
        `reason is ${String(issue.input).length} characters long (after trimming): shorten it to ` +
        `at most ${MAX_REASON_LENGTH}`,
    }),
  );

const dryRunSchema = z.optional(
  z.boolean({
    error: (issue) =>
      `dryRun must be true or false (JSON boolean), got ${describeValue(issue.input)}`,
  }),
);

const failoverBodySchema = z.strictObject({
  mode: z.enum(["planned", "unplanned"], {
    error: (issue) =>
      issue.input === undefined
        ? 'mode is required: "planned" (switchover, no data loss, both regions up) or ' +
          '"unplanned" (failover allowing data loss, primary region down)'
        : `mode must be "planned" or "unplanned", got ${describeValue(issue.input)}`,
  }),
  reason: reasonSchema,
  dryRun: dryRunSchema,
});

/** A failback is always planned, so its body has no mode. */
const failbackBodySchema = z.pipe(
  z.strictObject({ reason: reasonSchema, dryRun: dryRunSchema }),
  z.transform((body) => ({ mode: "planned" as const, ...body })),
);

const TRIGGER_BODY_SCHEMAS = { failover: failoverBodySchema, failback: failbackBodySchema };

const BODY_EXAMPLES: Record<OperationKind, string> = {
  failover: '{"mode":"planned","reason":"quarterly DR drill"}',
  failback: '{"reason":"primary region recovered"}',
};

const ALLOWED_FIELDS: Record<OperationKind, string> = {
  failover: "mode, reason, dryRun",
  failback: "reason, dryRun (a failback is always planned)",
};

interface TriggerBody {
  mode: OperationMode;
  reason: string;
  dryRun: boolean;
}

/** A 400 answer: what is wrong and how to fix it, and the dotted path of the field. */
interface BadRequest {
  error: string;
  field: string;
}

async function trigger(
  kind: OperationKind,
  event: APIGatewayProxyEventV2WithIAMAuthorizer,
  dependencies: HttpApiDependencies,
): Promise<HttpResponse> {
  const body = parseTriggerBody(kind, event);
  if ("field" in body) return json(400, body);

  if (body.dryRun) {
    const plan = await dryRunPlan(kind, body.mode, dependencies);
    return json(200, { dryRun: true, plan });
  }
  const { settings, clients, environment } = dependencies;
  const result = await startOperation(
    { dynamoDb: clients.dynamoDb, sfn: clients.sfn },
    settings,
    { kind, mode: body.mode, reason: body.reason, requestedBy: requestedBy(event) },
    environment,
  );
  if (result.outcome === "already-running") {
    return json(409, { error: "an operation is running", operationId: result.operationId });
  }
  const { operationId } = result.operation;
  log("info", "operation started", {
    operationId,
    kind,
    mode: body.mode,
    requestedBy: result.operation.requestedBy,
  });
  return json(202, { operationId, statusUrl: statusUrl(settings, operationId) });
}

/**
 * Parses and validates the body. Reports the FIRST problem only, in this order: the body itself
 * (missing, not JSON, not an object), then the fields in schema order (mode, reason, dryRun), then
 * unknown fields (the first one).
 */
export function parseTriggerBody(
  kind: OperationKind,
  event: Pick<APIGatewayProxyEventV2WithIAMAuthorizer, "body" | "isBase64Encoded">,
): TriggerBody | BadRequest {
  const example = BODY_EXAMPLES[kind];
  const text =
    event.body !== undefined && event.isBase64Encoded
      ? Buffer.from(event.body, "base64").toString("utf8")
      : event.body;
  if (text === undefined || text.trim() === "") {
    return { error: `the body is empty: send a JSON object such as ${example}`, field: "body" };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return {
      error: `the body is not valid JSON (${why}): send a JSON object such as ${example}`,
      field: "body",
    };
  }

  const result = TRIGGER_BODY_SCHEMAS[kind].safeParse(value);
  if (result.success) {
    return { ...result.data, dryRun: result.data.dryRun ?? false };
  }
  const issue = result.error.issues[0];
  if (issue === undefined || issue.path.length === 0) {
    if (issue?.code === "unrecognized_keys") {
      const key = issue.keys[0] ?? "";
      return {
        error: `unknown field "${key}": the allowed fields are ${ALLOWED_FIELDS[kind]}`,
        field: key,
      };
    }
    return {
      error: `the body must be a JSON object such as ${example}, got ${describeValue(value)}`,
      field: "body",
    };
  }
  return { error: issue.message, field: issue.path.map(String).join(".") };
}

function requestedBy(event: APIGatewayProxyEventV2WithIAMAuthorizer): string {
  return event.requestContext.authorizer?.iam?.userArn ?? "unknown (no IAM caller in the request)";
}

function statusUrl(settings: AutomationSettings, operationId: string): string {
  const path = `/operations/${operationId}`;
  return settings.apiBaseUrl === undefined
    ? path
    : `${settings.apiBaseUrl.replace(/\/+$/, "")}${path}`;
}

/**
 * The plan without running anything: invokes the two readers, reads the lock. No lock is taken,
 * nothing is written, no execution is started.
 */
async function dryRunPlan(
  kind: OperationKind,
  mode: OperationMode,
  dependencies: HttpApiDependencies,
): Promise<Plan> {
  const [readings, lock] = await Promise.all([
    readBoth(dependencies, { mode, target: directionOf(kind).target }),
    getLock(ledgerOf(dependencies)),
  ]);
  return buildPlan({ kind, mode }, readings.topology, readings.traffic, {
    settings: dependencies.settings,
    ...(lock === undefined ? {} : { runningOperationId: lock.operationId }),
  });
}

// ---------------------------------------------------------------- GET /status

async function status(dependencies: HttpApiDependencies): Promise<HttpResponse> {
  const { settings } = dependencies;
  const [readings, latest] = await Promise.all([
    readBoth(dependencies),
    getLatestOperation(ledgerOf(dependencies)),
  ]);
  const { topology, traffic } = readings;
  const body: StatusResponse = {
    environment: settings.environment,
    activeRegion: topology.writerRegion,
    regions: {
      primary: settings.regions.primary.region,
      secondary: settings.regions.secondary.region,
    },
    database: {
      globalClusterIdentifier: settings.globalClusterIdentifier,
      status: topology.globalClusterStatus,
      writerRegion: topology.writerRegion,
      members: topology.clusters,
      replicationLagSeconds: topology.replicationLagSeconds,
      failover: topology.failover,
    },
    dns: { recordName: settings.recordName, health: traffic.health },
    capacity: traffic.capacity,
    latestOperation: latest?.record ?? null,
    unreachable: [...topology.unreachable, ...traffic.unreachable],
    notes: [...topology.notes, ...traffic.notes],
  };
  return json(200, body);
}

// ---------------------------------------------------------------- GET /operations/{id}

async function operation(
  operationId: string,
  dependencies: HttpApiDependencies,
): Promise<HttpResponse> {
  const stored = await getOperation(ledgerOf(dependencies), operationId);
  if (stored === undefined) {
    return json(404, {
      error: `no operation ${operationId}: use the operationId a POST returned, or GET /status`,
    });
  }
  if (stored.record.status !== "running") return json(200, stored.record);
  return json(200, await withLiveSteps(stored.record, dependencies));
}

/**
 * Replaces the steps of a running record with those its execution history shows so far. When
 * the execution has already ended without recording a result (it was stopped, or died), the
 * record is answered as failed: otherwise a caller would watch a dead operation "run" until the
 * next trigger takes over its lock. The ledger itself is left alone (reads do not write).
 */
async function withLiveSteps(
  record: OperationRecord,
  dependencies: HttpApiDependencies,
): Promise<OperationRecord> {
  const { settings, clients } = dependencies;
  const executionArn = executionArnFor(settings.stateMachineArn, record.operationId);
  try {
    const [events, execution] = await Promise.all([
      executionHistory(clients.sfn, executionArn),
      clients.sfn.send(new DescribeExecutionCommand({ executionArn })),
    ]);
    const live = { ...record, steps: stepsFromHistory(events) };
    if (execution.status === "RUNNING" || execution.status === "PENDING_REDRIVE") return live;
    // The execution may have ended between the first read of the ledger and now: its final
    // record is then there. Only an execution that ended without one (stopped, died) failed.
    const final = await getOperation(ledgerOf(dependencies), record.operationId);
    if (final !== undefined && final.record.status !== "running") return final.record;
    if (execution.status === "SUCCEEDED") return live;
    return {
      ...live,
      status: "failed",
      ...(execution.stopDate ? { finishedAt: execution.stopDate.toISOString() } : {}),
      error:
        `its execution ended with status ${execution.status} without recording a result; ` +
        "the next POST takes over its lock and runs the operation again (every step is idempotent)",
    };
  } catch (error) {
    // The record alone is still a useful answer (e.g. the execution is only just starting).
    log("warn", "could not read the execution history", {
      operationId: record.operationId,
      error: describeError(error),
    });
    return record;
  }
}

/** At most this many pages of 1000 events (the CheckWriter loop alone adds ~5 events a check). */
const MAX_HISTORY_PAGES = 10;

async function executionHistory(sfn: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < MAX_HISTORY_PAGES; page++) {
    const output = await sfn.send(
      new GetExecutionHistoryCommand({
        executionArn,
        maxResults: 1000,
        includeExecutionData: false,
        ...(nextToken === undefined ? {} : { nextToken }),
      }),
    );
    events.push(...(output.events ?? []));
    nextToken = output.nextToken;
    if (nextToken === undefined) break;
  }
  return events;
}

type LiveStep = OperationRecord["steps"][number];

const TASK_FAILURE_EVENTS = new Set([
  "TaskFailed",
  "TaskTimedOut",
  "TaskStartFailed",
  "TaskSubmitFailed",
  "LambdaFunctionFailed",
  "LambdaFunctionTimedOut",
  "LambdaFunctionStartFailed",
  "LambdaFunctionScheduleFailed",
]);

/**
 * One step per Task state, in the order they were first entered:
 * - `TaskStateEntered` -> running, startedAt (the first entry; a loop re-entering it stays one
 *   step, with "entered N times" in detail);
 * - a failure event (TaskFailed, TaskTimedOut, LambdaFunctionFailed, ...) -> failed, with the
 *   error; a retry (`TaskScheduled` or `LambdaFunctionScheduled` again) puts it back to running
 *   and notes the retried error in
 *   detail;
 * - `TaskStateExited` -> succeeded (or stays failed when the failure was caught), finishedAt.
 *
 * Failure and scheduling events carry no state name: they are attributed to a state by following
 * `previousEventId` back to its `TaskStateEntered`, which also works inside Parallel branches.
 */
export function stepsFromHistory(events: readonly HistoryEvent[]): LiveStep[] {
  const byId = new Map(events.map((event) => [event.id, event]));
  const steps = new Map<string, TrackedStep>();

  const stepOf = (event: HistoryEvent): TrackedStep | undefined => {
    let current: HistoryEvent | undefined = event;
    for (let hops = 0; current !== undefined && hops < events.length; hops++) {
      if (current.type === "TaskStateEntered") {
        return steps.get(current.stateEnteredEventDetails?.name ?? "");
      }
      current = byId.get(current.previousEventId);
    }
    return undefined;
  };

  for (const event of events) {
    const at = event.timestamp?.toISOString();
    if (event.type === "TaskStateEntered") {
      const name = event.stateEnteredEventDetails?.name ?? "(unnamed)";
      const step = steps.get(name);
      if (step === undefined) {
        steps.set(name, { name, status: "running", startedAt: at, entries: 1, retries: [] });
      } else {
        step.entries++;
        step.status = "running";
        delete step.finishedAt;
        delete step.error;
      }
    } else if (event.type === "TaskStateExited") {
      const step = steps.get(event.stateExitedEventDetails?.name ?? "");
      if (step === undefined) continue;
      if (step.status !== "failed") step.status = "succeeded";
      step.finishedAt = at;
    } else if (event.type === "TaskScheduled" || event.type === "LambdaFunctionScheduled") {
      const step = stepOf(event);
      if (step?.status === "failed" && step.error !== undefined) {
        step.status = "running";
        step.retries.push(step.error);
        delete step.error;
      }
    } else if (event.type !== undefined && TASK_FAILURE_EVENTS.has(event.type)) {
      const step = stepOf(event);
      if (step === undefined) continue;
      step.status = "failed";
      step.error = failureOf(event);
    }
  }

  return [...steps.values()].map(({ entries, retries, ...step }) => {
    const notes: string[] = [];
    if (entries > 1) notes.push(`entered ${entries} times`);
    if (retries.length > 0) {
      notes.push(`retried ${retries.length} times, last after ${retries[retries.length - 1]}`);
    }
    return notes.length > 0 ? { ...step, detail: notes.join("; ") } : step;
  });
}

type TrackedStep = LiveStep & {
  entries: number;
  /** The error of each failed attempt that was retried. */
  retries: string[];
};

function failureOf(event: HistoryEvent): string {
  const details =
    event.taskFailedEventDetails ??
    event.taskTimedOutEventDetails ??
    event.taskStartFailedEventDetails ??
    event.taskSubmitFailedEventDetails ??
    event.lambdaFunctionFailedEventDetails ??
    event.lambdaFunctionTimedOutEventDetails ??
    event.lambdaFunctionStartFailedEventDetails ??
    event.lambdaFunctionScheduleFailedEventDetails;
  const name = details?.error ?? event.type ?? "Error";
  const cause = details?.cause ? cappedCause(details.cause) : "";
  return cause ? `${name}: ${cause}` : name;
}

/** Most of a step error a person needs, in a record that travels in drill state and e-mails. */
const MAX_CAUSE_LENGTH = 300;

/** A Lambda failure's message (not its stack trace), capped. */
function cappedCause(cause: string): string {
  const message = causeMessage(cause);
  return message.length <= MAX_CAUSE_LENGTH
    ? message
    : `${message.slice(0, MAX_CAUSE_LENGTH - 3)}...`;
}

// ---------------------------------------------------------------- readers

/** A reader Lambda failed or could not be invoked: answered with 502. */
export class ReaderError extends Error {
  constructor(functionName: string, problem: string) {
    super(`${functionName} failed: ${problem}`);
    this.name = "ReaderError";
  }
}

/**
 * Invokes read-topology and read-traffic in parallel (RequestResponse) with
 * `onUnreachable: "report"`: a region that does not answer comes back as `unknown` instead of an
 * error, which is what a plan and a status page need.
 */
async function readBoth(
  dependencies: HttpApiDependencies,
  direction?: { mode: OperationMode; target: RegionRole },
): Promise<{ topology: TopologyReport; traffic: TrafficReport }> {
  const { settings, clients } = dependencies;
  const event: ReaderEvent = {
    ...(direction === undefined ? {} : { operation: direction }),
    onUnreachable: "report",
  };
  const payload = JSON.stringify(event);
  const [topology, traffic] = await Promise.all([
    invokeReader<TopologyReport>(clients.lambda, settings.readTopologyFunctionName, payload),
    invokeReader<TrafficReport>(clients.lambda, settings.readTrafficFunctionName, payload),
  ]);
  return { topology, traffic };
}

async function invokeReader<Report>(
  lambda: LambdaClient,
  functionName: string,
  payload: string,
): Promise<Report> {
  let output: InvokeCommandOutput;
  try {
    output = await lambda.send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: "RequestResponse",
        Payload: new TextEncoder().encode(payload),
      }),
    );
  } catch (error) {
    throw new ReaderError(functionName, describeError(error));
  }
  const text = output.Payload === undefined ? "" : new TextDecoder().decode(output.Payload);
  if (output.FunctionError !== undefined) {
    throw new ReaderError(functionName, describeFunctionError(text));
  }
  try {
    return JSON.parse(text) as Report;
  } catch {
    throw new ReaderError(
      functionName,
      `returned a payload that is not JSON: ${text.slice(0, 200)}`,
    );
  }
}

/** `{"errorType","errorMessage"}` -> `errorType: errorMessage`. */
function describeFunctionError(text: string): string {
  try {
    const parsed = JSON.parse(text) as { errorType?: unknown; errorMessage?: unknown };
    return `${String(parsed.errorType ?? "Error")}: ${String(parsed.errorMessage ?? "")}`;
  } catch {
    return text.slice(0, 200) || "unknown error";
  }
}

// ---------------------------------------------------------------- helpers of this module

function ledgerOf(dependencies: HttpApiDependencies): Ledger {
  return {
    client: dependencies.clients.dynamoDb,
    tableName: dependencies.settings.ledgerTableName,
  };
}

function json(statusCode: number, body: unknown): HttpResponse {
  return {
    statusCode,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  };
}

/** A short description of a JSON value for an error message: `"yes"`, `42`, `an array`. */
function describeValue(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  if (typeof value === "object") return "an object";
  return JSON.stringify(value);
}
