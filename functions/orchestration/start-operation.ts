/**
 * Starts one failover or failback: shared by the HTTP API (POST /failover, POST /failback) and the
 * automatic failover (EventBridge). At most one operation runs at a time: the ledger lock decides,
 * so two concurrent triggers start exactly one execution and the other learns the running id.
 */

import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  type SFNClient,
  StartExecutionCommand,
} from "@aws-sdk/client-sfn";
import { describeError } from "../shared/errors";
import { log } from "../shared/log";
import type {
  OperationInput,
  OperationKind,
  OperationMode,
  OperationRecord,
} from "../shared/operation";
import {
  acquireLock,
  completeOperation,
  createOperation,
  type Ledger,
  type LockItem,
  type LockResult,
  releaseLock,
  setLatestOperation,
} from "./ledger";
import { directionOf } from "./plan";

export interface StartOperationClients {
  dynamoDb: DynamoDBClient;
  sfn: SFNClient;
}

export interface StartOperationSettings {
  ledgerTableName: string;
  stateMachineArn: string;
}

export interface StartOperationRequest {
  kind: OperationKind;
  /** Failback is always planned; a failback request with `unplanned` is rejected. */
  mode: OperationMode;
  reason: string;
  /** Caller ARN, or `eventbridge:<rule>`. */
  requestedBy: string;
}

/** Clock and randomness, injectable so ids and timestamps are deterministic in tests. */
export interface StartOperationEnvironment {
  now: () => Date;
  /** `bytes` random bytes as lowercase hex (crypto.randomBytes(bytes).toString("hex")). */
  randomHex: (bytes: number) => string;
}

export type StartOperationResult =
  | { outcome: "started"; operation: OperationInput; executionArn: string }
  | { outcome: "already-running"; operationId: string };

/**
 * A lock whose execution does not exist yet is a start in flight for this long; after that the
 * starter is taken to have crashed between taking the lock and StartExecution.
 */
export const START_GRACE_SECONDS = 120;

/**
 * Takes the lock, writes the `running` record, then StartExecution(name = operationId,
 * input = {@link OperationInput}).
 *
 * - Another operation holds the lock: `already-running` with its id; nothing is written.
 * - The holder's execution has ended without finishing (aborted, timed out) or never started
 *   within {@link START_GRACE_SECONDS}: its record is marked failed, its lock released, and this
 *   request takes the lock instead, so a stopped execution never blocks the next failover.
 * - StartExecution fails: the record is marked failed and the lock released before the error is
 *   rethrown, so no half-started operation is left behind.
 */
export async function startOperation(
  clients: StartOperationClients,
  settings: StartOperationSettings,
  request: StartOperationRequest,
  environment: StartOperationEnvironment,
): Promise<StartOperationResult> {
  if (request.kind === "failback" && request.mode !== "planned") {
    throw new Error("a failback is always planned: request it with mode planned");
  }
  const ledger: Ledger = { client: clients.dynamoDb, tableName: settings.ledgerTableName };
  const requestedAt = environment.now();
  const operation = newOperationInput(request, requestedAt, environment.randomHex);

  const lockResult = await takeLock(clients.sfn, settings, ledger, {
    operationId: operation.operationId,
    acquiredAt: requestedAt.toISOString(),
  });
  if (!lockResult.acquired) {
    return { outcome: "already-running", operationId: lockResult.holder.operationId };
  }

  try {
    await createOperation(ledger, newRecord(operation));
    await setLatestOperation(ledger, operation.operationId);
    const executionArn = await startExecution(clients.sfn, settings.stateMachineArn, operation);
    return { outcome: "started", operation, executionArn };
  } catch (error) {
    const reason = `the operation could not be started: ${describeError(error)}`;
    try {
      await abandonOperation(ledger, operation.operationId, reason, environment.now());
    } catch (cleanupError) {
      log("error", "could not release the lock of an operation that failed to start", {
        operationId: operation.operationId,
        error: describeError(cleanupError),
      });
    }
    throw error;
  }
}

/** Takes the lock; a stale holder's operation is abandoned and the lock taken once more. */
async function takeLock(
  sfn: SFNClient,
  settings: StartOperationSettings,
  ledger: Ledger,
  lock: LockItem,
): Promise<LockResult> {
  const first = await acquireLock(ledger, lock);
  if (first.acquired) return first;
  const now = new Date(lock.acquiredAt);
  const stale = await staleLockReason(sfn, settings, first.holder, now);
  if (stale === undefined) return first;
  await abandonOperation(ledger, first.holder.operationId, stale, now);
  return acquireLock(ledger, lock);
}

/** `op-<yyyymmddThhmmssZ>-<6 hex>`, also the Step Functions execution name. */
export function newOperationId(at: Date, randomHex: (bytes: number) => string): string {
  const compact = at
    .toISOString()
    .replace(/\.\d{3}Z$/, "Z")
    .replace(/[-:]/g, "");
  return `op-${compact}-${randomHex(3)}`;
}

/** Execution ARN of the execution named `operationId` (arn:…:stateMachine:<sm> -> arn:…:execution:<sm>:<name>). */
export function executionArnFor(stateMachineArn: string, operationId: string): string {
  return `${stateMachineArn.replace(":stateMachine:", ":execution:")}:${operationId}`;
}

function newOperationInput(
  request: StartOperationRequest,
  requestedAt: Date,
  randomHex: (bytes: number) => string,
): OperationInput {
  return {
    operationId: newOperationId(requestedAt, randomHex),
    kind: request.kind,
    mode: request.mode,
    reason: request.reason,
    requestedAt: requestedAt.toISOString(),
    requestedBy: request.requestedBy,
    ...directionOf(request.kind),
  };
}

export function newRecord(operation: OperationInput): OperationRecord {
  return {
    operationId: operation.operationId,
    kind: operation.kind,
    mode: operation.mode,
    reason: operation.reason,
    requestedAt: operation.requestedAt,
    requestedBy: operation.requestedBy,
    status: "running",
    steps: [],
  };
}

/**
 * StartExecution, named after the operation id, which is new for every request. Only a repeat
 * of this call (the SDK retrying one whose answer was lost) can meet an execution of that name:
 * "When the original execution is open and the execution input from the new call is identical,
 * the Success message is returned. When the original execution is closed, the
 * ExecutionAlreadyExists message is returned regardless of input"
 * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html). The
 * input is the same, so `ExecutionAlreadyExists` means the first call started it and it has
 * ended already: it counts as started, and its record says how it ended.
 */
async function startExecution(
  sfn: SFNClient,
  stateMachineArn: string,
  operation: OperationInput,
): Promise<string> {
  try {
    const output = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn,
        name: operation.operationId,
        input: JSON.stringify(operation),
      }),
    );
    return output.executionArn ?? executionArnFor(stateMachineArn, operation.operationId);
  } catch (error) {
    if (error instanceof ExecutionAlreadyExists) {
      return executionArnFor(stateMachineArn, operation.operationId);
    }
    throw error;
  }
}

/**
 * Why the lock held by `holder` is stale, or undefined while its operation may still be running.
 *
 * DescribeExecution's status is one of RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED and
 * PENDING_REDRIVE, and "This operation is eventually consistent. The results are best effort and
 * may not reflect very recent updates and changes"
 * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeExecution.html):
 * an execution started moments ago may not be found yet, which is why a missing one counts as
 * stale only after START_GRACE_SECONDS. A stale RUNNING only keeps the lock held a little longer.
 */
async function staleLockReason(
  sfn: SFNClient,
  settings: StartOperationSettings,
  holder: LockItem,
  now: Date,
): Promise<string | undefined> {
  try {
    const execution = await sfn.send(
      new DescribeExecutionCommand({
        executionArn: executionArnFor(settings.stateMachineArn, holder.operationId),
      }),
    );
    if (execution.status === "RUNNING" || execution.status === "PENDING_REDRIVE") return undefined;
    return `its execution ended with status ${execution.status} without recording a result`;
  } catch (error) {
    if (!(error instanceof ExecutionDoesNotExist)) throw error;
    const lockAgeSeconds = (now.getTime() - Date.parse(holder.acquiredAt)) / 1000;
    if (lockAgeSeconds <= START_GRACE_SECONDS) return undefined;
    return `its execution was never started (lock taken at ${holder.acquiredAt})`;
  }
}

/** Marks a `running` record failed (no-op if it already finished) and releases its lock. */
async function abandonOperation(
  ledger: Ledger,
  operationId: string,
  error: string,
  at: Date,
): Promise<void> {
  await completeOperation(ledger, operationId, {
    status: "failed",
    steps: [],
    finishedAt: at.toISOString(),
    error,
  });
  await releaseLock(ledger, operationId);
}
