/**
 * Error classification for the failover Lambdas. Step Functions matches Retry/Catch on the
 * `name` of the error a Lambda throws, so every handler leaves through {@link withStepErrors}:
 * throttling, 5xx and timeouts become one of the three `Retryable.*` names (retried with backoff by
 * the state machine), everything else keeps its own name and is terminal.
 */

import { type InvocationContext, log, logged } from "./log";

export const RETRYABLE_ERROR_NAMES = {
  throttled: "Retryable.Throttled",
  serverError: "Retryable.ServerError",
  timeout: "Retryable.Timeout",
} as const;

export type RetryableErrorName = (typeof RETRYABLE_ERROR_NAMES)[keyof typeof RETRYABLE_ERROR_NAMES];

/** Error codes AWS services use for throttling (RDS, Route 53, Auto Scaling, SSM, DynamoDB, ...). */
const THROTTLING_ERROR_NAMES = new Set([
  "ThrottlingException",
  "Throttling",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "PriorRequestNotComplete",
  "ProvisionedThroughputExceededException",
  "ThrottledException",
  "RequestThrottled",
  "RequestThrottledException",
  "SlowDown",
]);

/**
 * Names and Node.js error codes of calls that did not get an answer: the SDK's socket/connection
 * timeouts (`TimeoutError`), an aborted call (`AbortError`, which is how a per-call
 * `AbortSignal.timeout(...)` surfaces) and network errors seen when a region is down.
 */
const TIMEOUT_ERROR_NAMES = new Set([
  "TimeoutError",
  "AbortError",
  "RequestTimeout",
  "RequestTimeoutException",
]);
const NETWORK_ERROR_CODES = new Set([
  "ETIMEDOUT",
  "ESOCKETTIMEDOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
]);

/** The parts of an AWS SDK v3 service exception (or a Node.js network error) that classify it. */
interface ErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
}

export interface ErrorClassification {
  /** `Retryable.Throttled`, `Retryable.ServerError`, `Retryable.Timeout`, or the error's own name. */
  name: string;
  retryable: boolean;
  /** The original error's name (e.g. `ThrottlingException`). */
  originalName: string;
  message: string;
}

/** Classifies any thrown value into the error names the state machine's Retry/Catch match. */
export function classifyError(error: unknown): ErrorClassification {
  const shape: ErrorShape = typeof error === "object" && error !== null ? error : {};
  const originalName = typeof shape.name === "string" && shape.name ? shape.name : "Error";
  const message =
    typeof shape.message === "string" ? shape.message : typeof error === "string" ? error : "";
  const retryableAs = (name: string): ErrorClassification => ({
    name,
    retryable: true,
    originalName,
    message,
  });

  // Already classified (a StepError thrown again): keep its name.
  if (originalName.startsWith("Retryable.")) return retryableAs(originalName);
  const statusCode = shape.$metadata?.httpStatusCode;
  if (
    THROTTLING_ERROR_NAMES.has(originalName) ||
    shape.$retryable?.throttling === true ||
    statusCode === 429
  ) {
    return retryableAs(RETRYABLE_ERROR_NAMES.throttled);
  }
  if (
    TIMEOUT_ERROR_NAMES.has(originalName) ||
    (typeof shape.code === "string" && NETWORK_ERROR_CODES.has(shape.code))
  ) {
    return retryableAs(RETRYABLE_ERROR_NAMES.timeout);
  }
  if (shape.$fault === "server" || (statusCode !== undefined && statusCode >= 500)) {
    return retryableAs(RETRYABLE_ERROR_NAMES.serverError);
  }
  return { name: originalName, retryable: false, originalName, message };
}

export function isRetryableError(error: unknown): boolean {
  return classifyError(error).retryable;
}

/**
 * True for errors that mean "the region did not answer properly" (timeouts, network errors, 5xx),
 * which the readers report as `unknown` in unplanned mode instead of failing. Throttling is not
 * one of them: a throttled region is up, and the state machine retries.
 */
export function isRegionUnreachableError(error: unknown): boolean {
  const { name } = classifyError(error);
  return name === RETRYABLE_ERROR_NAMES.timeout || name === RETRYABLE_ERROR_NAMES.serverError;
}

/**
 * The message of a Step Functions Cause. A Lambda task's Cause is the function's error as JSON
 * (`{"errorMessage","errorType","trace"}`): a reader needs its message, not the stack trace. Any
 * other Cause (a Pass state's, Step Functions' own, e.g. a timeout) is returned as it is.
 */
export function causeMessage(cause: string): string {
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown } | null;
    if (typeof parsed?.errorMessage === "string") return parsed.errorMessage;
  } catch {
    // Not JSON.
  }
  return cause;
}

/** `<classified name>: <original name>: <message>` in one line, for reports and the ledger. */
export function describeError(error: unknown): string {
  const { name, originalName, message } = classifyError(error);
  const original = name === originalName ? "" : `${originalName}: `;
  return `${name}: ${original}${message}`.replace(/: $/, "");
}

/**
 * The error a step Lambda throws: `name` is the classified name (so Step Functions Retry/Catch
 * match it), `message` keeps the original name and message, `cause` the original error.
 */
export class StepError extends Error {
  readonly retryable: boolean;

  constructor(classification: ErrorClassification, cause?: unknown) {
    const original =
      classification.name === classification.originalName ? "" : `${classification.originalName}: `;
    super(`${original}${classification.message}`, { cause });
    this.name = classification.name;
    this.retryable = classification.retryable;
  }
}

/** Converts anything thrown into a {@link StepError} with the classified name. */
export function toStepError(error: unknown): StepError {
  if (error instanceof StepError) return error;
  return new StepError(classifyError(error), error);
}

/**
 * Wraps a Lambda handler so that anything it throws leaves as a {@link StepError} whose `name`
 * is the classified name, logged once as one JSON line (shared/log.ts).
 */
export function withStepErrors<Event, Result>(
  handlerName: string,
  handler: (event: Event) => Promise<Result>,
): (event: Event, context?: InvocationContext) => Promise<Result> {
  return logged(handlerName, async (event: Event) => {
    try {
      return await handler(event);
    } catch (error) {
      const stepError = toStepError(error);
      log("error", stepError.message, { error: stepError.name, retryable: stepError.retryable });
      throw stepError;
    }
  });
}

/** What a reader does when a region does not answer: report it as unknown, or throw (retry). */
export type OnUnreachable = "report" | "throw";

export type RegionRead<Value> = { ok: true; value: Value } | { ok: false; reason: string };

/**
 * Runs one read against a region. With `report`, a timeout, network error or 5xx becomes
 * `{ ok: false, reason }` instead of an exception; everything else (throttling, access denied,
 * not found) is thrown either way, so the state machine retries or fails as it should.
 */
export async function readRegion<Value>(
  read: () => Promise<Value>,
  onUnreachable: OnUnreachable,
): Promise<RegionRead<Value>> {
  try {
    return { ok: true, value: await read() };
  } catch (error) {
    if (onUnreachable === "report" && isRegionUnreachableError(error)) {
      return { ok: false, reason: describeError(error) };
    }
    throw error;
  }
}

/**
 * A terminal failure a step detects itself (not an SDK error). `name` says what went wrong, so
 * the ledger and a Catch can tell the cases apart; every instance comes from {@link stepFailures}
 * or {@link capacityFailures}.
 */
export class StepFailure extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/**
 * The named terminal failures of the capacity step. Not in {@link stepFailures}: a bundle carries
 * every member of an object it uses, and the database steps' bundles have no room to spare.
 */
export const capacityFailures = {
  autoScalingGroupNotFound: (groupName: string, region: string) =>
    new StepFailure(
      "AutoScalingGroupNotFound",
      `Auto Scaling group ${groupName} not found in ${region}; check regions.<role>.autoScalingGroupName in SHOPSMART_DR_SETTINGS.`,
    ),
};

/** The named terminal failures of the database steps (topology, promotion, writer). */
export const stepFailures = {
  clusterNotFound: (clusterIdentifier: string, region: string) =>
    new StepFailure(
      "DBClusterNotFoundFault",
      `DB cluster ${clusterIdentifier} not found in ${region}; check regions.<role>.clusterIdentifier in SHOPSMART_DR_SETTINGS.`,
    ),
  // RemoveFromGlobalCluster makes "a standalone cluster with read-write capability"
  // (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_RemoveFromGlobalCluster.html),
  // one that "can be used to create a new global database"
  // (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-global-database-detaching.html):
  // no API adds an existing cluster to a global database as a secondary.
  targetNotInGlobalCluster: (clusterArn: string, globalClusterIdentifier: string) =>
    new StepFailure(
      "TargetNotInGlobalCluster",
      `Cluster ${clusterArn} is not a member of global cluster ${globalClusterIdentifier}, so a switchover to it is impossible (it was detached by an earlier detach-and-promote). It cannot rejoin: rebuild the global database (docs/dr-plan.md) before a planned failover or failback.`,
    ),
  sourceNotInGlobalCluster: (
    sourceClusterArn: string,
    targetClusterArn: string,
    globalClusterIdentifier: string,
  ) =>
    new StepFailure(
      "SourceNotInGlobalCluster",
      `Cluster ${sourceClusterArn} is not a member of global cluster ${globalClusterIdentifier}: it was detached (detach-and-promote) and takes writes on its own, so a planned operation to ${targetClusterArn}, which the global cluster still holds without those writes, would leave them behind. Rebuild the global database from the detached cluster before a planned failover or failback.`,
    ),
  /** An unplanned request whose source answers and may still write, but cannot switch over. */
  sourceNotDown: (sourceName: string, why: string) =>
    new StepFailure(
      "SourceNotDown",
      `Not failing over with data loss: ${sourceName} answers and ${why}. A failover with data loss is only for a source that does not answer or is down; wait until a switchover can start (GET /status), then request the failover again.`,
    ),
  sourceStillAvailable: (
    sourceClusterIdentifier: string,
    sourceRegion: string,
    globalClusterIdentifier: string,
    fallbackReason: string,
  ) =>
    new StepFailure(
      "SourceStillAvailable",
      `Not detaching from ${globalClusterIdentifier} (${fallbackReason}): the source cluster ${sourceClusterIdentifier} in ${sourceRegion} answers and is available, so it would go on taking writes and the two clusters would diverge (split brain). Its region is up: use a planned failover (switchover, no data loss), or stop the writes in ${sourceRegion} first and run the unplanned failover again.`,
    ),
  globalClusterBusy: (globalClusterIdentifier: string, status: string, toClusterArn: string) =>
    new StepFailure(
      "GlobalClusterBusy",
      `Global cluster ${globalClusterIdentifier} is ${status} towards ${toClusterArn || "another cluster"}, not towards this operation's target; wait for it to finish, then re-run.`,
    ),
  writerEndpointUnknown: (clusterIdentifier: string, region: string) =>
    new StepFailure(
      "WriterEndpointUnknown",
      `DescribeDBClusters returned no Endpoint for ${clusterIdentifier} (${region}), so the writer endpoint parameter cannot be set.`,
    ),
  operationCancelling: (globalClusterIdentifier: string) =>
    new StepFailure(
      "GlobalClusterOperationCancelling",
      `A switchover or failover of global cluster ${globalClusterIdentifier} is being cancelled; re-run the operation once the global cluster is available again.`,
    ),
};
