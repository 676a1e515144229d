/**
 * auto-failover: what the automatic failover does with the two events its EventBridge rules
 * deliver.
 *
 * - "CloudWatch Alarm State Change" of the primary-down alarm to ALARM (probe-primary's quorum
 *   of independent signals, evaluated in the secondary region: dr-metrics.ts): start an
 *   unplanned failover, as POST /failover would, unless an automatic failover started less than
 *   `detection.minimumIntervalMinutes` ago (a flapping signal must not start one after another).
 *   When another operation holds the lock:
 *   - an unplanned failover: it is already doing the job, nothing to add;
 *   - anything else (a drill's or an operator's planned failover, a failback): the trigger is
 *     deferred, not lost. It is recorded in the ledger (`TRIGGER#PENDING`) and notified.
 * - "Step Functions Execution Status Change" of the workflow to SUCCEEDED, FAILED, TIMED_OUT or
 *   ABORTED: if a trigger is pending, read the alarm again (DescribeAlarms in its region). Still
 *   in ALARM, or unreadable: start the failover (the plan still refuses a data-loss promotion
 *   during a partition). Back to OK: drop the trigger. Either way, notify.
 *
 * Step Functions sends these events for standard workflows to the default bus of its region
 * (https://docs.aws.amazon.com/step-functions/latest/dg/eventbridge-integration.html), with
 * `detail.status` and `detail.stateMachineArn`.
 */
import { type CloudWatchClient, DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { SFNClient } from "@aws-sdk/client-sfn";
import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";
import { type EnvironmentJsonVariable, parseEnvironmentJson } from "../shared/environment-json";
import { describeError } from "../shared/errors";
import type { OperationRecord } from "../shared/operation";
import type { AutomationSettings } from "../shared/settings";
import { automationSubject } from "../shared/sns-subject";
import {
  deletePendingTrigger,
  getLatestOperation,
  getLock,
  getOperation,
  getPendingTrigger,
  type Ledger,
  putPendingTrigger,
} from "./ledger";
import { type StartOperationEnvironment, startOperation } from "./start-operation";

// zod/mini loads no messages by default; English ones, as classic `zod` would load.
z.config(en());

/**
 * The second environment variable of this function only: JSON `{"alarmName","alarmRegion",
 * "ruleName"}`: the alarm that triggers a failover, the region it lives in (DescribeAlarms goes
 * there) and the EventBridge rule that delivers it (for `requestedBy`).
 */
export const AUTO_FAILOVER_VARIABLE = "SHOPSMART_DR_AUTO_FAILOVER";

export interface AutoFailoverSettings {
  /** e.g. `shopsmart-prod-primary-endpoint-health`. */
  alarmName: string;
  /** e.g. `us-east-1`. */
  alarmRegion: string;
  ruleName: string;
}

const autoFailoverSettingsSchema = z.strictObject({
  alarmName: z.string().check(z.minLength(1, "a non-empty alarm name")),
  alarmRegion: z
    .string()
    .check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "an AWS region id such as us-east-1")),
  ruleName: z.string().check(z.minLength(1, "a non-empty rule name")),
});

const autoFailoverVariable: EnvironmentJsonVariable = {
  name: AUTO_FAILOVER_VARIABLE,
  error: (message) => new Error(message),
  notJson: (json) =>
    `${AUTO_FAILOVER_VARIABLE} must be JSON {"alarmName":"...","alarmRegion":"...","ruleName":"..."}, got ${JSON.stringify(json ?? null)}`,
};

/** Parses and validates the JSON of SHOPSMART_DR_AUTO_FAILOVER; throws naming the first bad field. */
export function parseAutoFailoverSettings(json: string | undefined): AutoFailoverSettings {
  return parseEnvironmentJson(json, autoFailoverSettingsSchema, autoFailoverVariable);
}

/** Reads and validates SHOPSMART_DR_AUTO_FAILOVER from the given environment. */
export function loadAutoFailoverSettings(
  environment: NodeJS.ProcessEnv = process.env,
): AutoFailoverSettings {
  return parseAutoFailoverSettings(environment[AUTO_FAILOVER_VARIABLE]);
}

const alarmEventSchema = z.object({
  source: z.literal("aws.cloudwatch"),
  "detail-type": z.literal("CloudWatch Alarm State Change"),
  detail: z.object({
    alarmName: z.string(),
    state: z.object({ value: z.string(), timestamp: z.string() }),
    previousState: z.optional(z.object({ value: z.string() })),
  }),
});

/** The statuses of an execution that ended. */
export const ENDED_EXECUTION_STATUSES = ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"] as const;

const executionEndedSchema = z.object({
  source: z.literal("aws.states"),
  "detail-type": z.literal("Step Functions Execution Status Change"),
  detail: z.object({
    stateMachineArn: z.string(),
    name: z.optional(z.string()),
    status: z.enum(ENDED_EXECUTION_STATUSES),
  }),
});

export type AutoFailoverOutcome =
  | { action: "ignored"; why: string }
  | { action: "started"; operationId: string }
  | { action: "already-running"; operationId: string }
  | { action: "deferred"; blockedBy: string }
  | { action: "dropped"; why: string };

export interface AutoFailoverDependencies {
  readonly settings: AutomationSettings;
  readonly trigger: AutoFailoverSettings;
  readonly clients: {
    readonly dynamoDb: DynamoDBClient;
    readonly sfn: SFNClient;
    readonly sns: SNSClient;
    /** CloudWatch in the alarm's region. */
    readonly cloudWatch: CloudWatchClient;
  };
  readonly environment: StartOperationEnvironment;
}

/** Routes an EventBridge event to the alarm or the execution-ended path. */
export async function handleAutoFailoverEvent(
  deps: AutoFailoverDependencies,
  event: unknown,
): Promise<AutoFailoverOutcome> {
  const alarm = alarmEventSchema.safeParse(event);
  if (alarm.success) return onAlarm(deps, alarm.data.detail);
  const ended = executionEndedSchema.safeParse(event);
  if (ended.success) return onExecutionEnded(deps, ended.data.detail);
  return {
    action: "ignored",
    why: "neither a CloudWatch Alarm State Change nor a Step Functions Execution Status Change event",
  };
}

async function onAlarm(
  deps: AutoFailoverDependencies,
  detail: z.infer<typeof alarmEventSchema>["detail"],
): Promise<AutoFailoverOutcome> {
  const { trigger } = deps;
  const { alarmName, state, previousState } = detail;
  if (alarmName !== trigger.alarmName) {
    return { action: "ignored", why: `alarm ${alarmName} is not ${trigger.alarmName}` };
  }
  if (state.value !== "ALARM") {
    return {
      action: "ignored",
      why: `${alarmName} went ${previousState?.value ?? "?"} -> ${state.value}, not ALARM`,
    };
  }
  const ledger = ledgerOf(deps);
  // After a failover the primary is the standby, or fenced to zero: its alarm is expected, and
  // another failover would have nothing to move.
  const latest = (await getLatestOperation(ledger))?.record;
  if (latest?.kind === "failover" && latest.status === "succeeded") {
    return {
      action: "ignored",
      why: `${latest.operationId} already failed over to the secondary; fail back (POST /failback) once the primary is fixed`,
    };
  }
  const recent = recentAutomaticStart(deps, latest);
  if (recent !== undefined) {
    await notify(
      deps,
      "automatic failover not started",
      `${alarmName} went to ALARM at ${state.timestamp}, but ${recent}. Check GET /status and fail over by hand (POST /failover) if the primary is still down.`,
    );
    return { action: "dropped", why: recent };
  }
  const result = await start(deps, `automatic: ${alarmName} in ALARM since ${state.timestamp}`);
  if (result.action !== "already-running") return result;

  if (result.operationId.endsWith("-fence")) {
    // A fence holds the lock for seconds: fail, so the asynchronous invocation is retried.
    throw new LockBusyError(result.operationId);
  }
  const holder = (await getOperation(ledger, result.operationId))?.record;
  const { written } = await putPendingTrigger(ledger, {
    alarmName,
    alarmedAt: state.timestamp,
    blockedBy: result.operationId,
    deferredAt: deps.environment.now().toISOString(),
  });
  // An unplanned failover is already doing the job: the trigger is kept quietly, in case that
  // failover fails, and served when it succeeds.
  if (holder?.kind === "failover" && holder.mode === "unplanned") return result;
  if (written) {
    const running = holder ? `a ${holder.mode} ${holder.kind}` : "an operation";
    await notify(
      deps,
      `automatic failover deferred: ${result.operationId} holds the lock`,
      `${alarmName} went to ALARM at ${state.timestamp}, while ${running} (${result.operationId}) ` +
        "holds the operation lock. The automatic failover is deferred, not dropped: when that " +
        "operation ends, it starts if the alarm is still in ALARM. To act sooner, stop that " +
        "execution (its lock is then taken over) or watch GET /status.",
    );
  }
  // The holder may have ended between the failed start and the write above: its end event then
  // found nothing pending. A lock that is free now means nobody would ever resume the trigger.
  if ((await getLock(ledger)) === undefined) return resumePending(deps, "the lock was released");
  return { action: "deferred", blockedBy: result.operationId };
}

/**
 * Why the latest operation forbids another automatic start now: it was automatic, is no longer
 * running, and started less than `minimumIntervalMinutes` ago. Undefined when a start may go on.
 */
function recentAutomaticStart(
  deps: AutoFailoverDependencies,
  latest: OperationRecord | undefined,
): string | undefined {
  const minutes = deps.settings.detection.minimumIntervalMinutes;
  if (latest === undefined || minutes === 0 || latest.status === "running") return undefined;
  if (!latest.requestedBy.startsWith("eventbridge:")) return undefined;
  const elapsedMs = deps.environment.now().getTime() - Date.parse(latest.requestedAt);
  if (!(elapsedMs < minutes * 60_000)) return undefined;
  return (
    `the automatic ${latest.operationId} started ${Math.round(elapsedMs / 60_000)} min ago and ` +
    `${latest.status === "failed" ? "failed" : "ended"}; automatic failovers are at least ` +
    `${minutes} min apart (automaticFailover.minimumIntervalMinutes)`
  );
}

/**
 * Thrown while a fence briefly holds the lock. EventBridge invokes the function asynchronously,
 * and Lambda retries a failed asynchronous invocation twice, a minute and then two minutes later
 * (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html).
 */
export class LockBusyError extends Error {
  constructor(holder: string) {
    super(`${holder} holds the operation lock for a few seconds; the invocation is retried`);
    this.name = "LockBusy";
  }
}

async function onExecutionEnded(
  deps: AutoFailoverDependencies,
  detail: z.infer<typeof executionEndedSchema>["detail"],
): Promise<AutoFailoverOutcome> {
  if (detail.stateMachineArn !== deps.settings.stateMachineArn) {
    return { action: "ignored", why: `${detail.stateMachineArn} is not the failover workflow` };
  }
  return resumePending(deps, `the execution ${detail.name ?? ""} ended (${detail.status})`);
}

/** Starts (or drops) the deferred trigger, if one is pending. */
async function resumePending(
  deps: AutoFailoverDependencies,
  why: string,
): Promise<AutoFailoverOutcome> {
  const ledger = ledgerOf(deps);
  const pending = await getPendingTrigger(ledger);
  if (pending === undefined) {
    return { action: "ignored", why: "no automatic failover is pending" };
  }
  // The latest operation (the one that held the lock, or one started since) moved the writer
  // and traffic to the secondary: nothing is left to do.
  const latest = (await getLatestOperation(ledger))?.record;
  if (latest?.kind === "failover" && latest.status === "succeeded") {
    await deletePendingTrigger(ledger);
    return {
      action: "ignored",
      why: `the deferred automatic failover is served: ${latest.operationId} failed over`,
    };
  }
  const alarmState = await readAlarmState(deps);
  if (alarmState.known && alarmState.value !== "ALARM") {
    await deletePendingTrigger(ledger);
    const why = `${pending.alarmName} is ${alarmState.value} now: the outage it reported is over`;
    await notify(
      deps,
      "deferred automatic failover dropped",
      `The automatic failover deferred at ${pending.deferredAt} (blocked by ${pending.blockedBy}) ` +
        `was not started: ${why}.`,
    );
    return { action: "dropped", why };
  }
  const still = alarmState.known
    ? `${pending.alarmName} is still in ALARM`
    : `${pending.alarmName} could not be read (${alarmState.reason}), so its ALARM stands`;
  const result = await start(
    deps,
    `automatic (deferred): ${pending.alarmName} in ALARM since ${pending.alarmedAt}; ${still}`,
  );
  if (result.action === "already-running") {
    // Another operation took the lock first: kept until an end finds a succeeded failover.
    return { action: "deferred", blockedBy: result.operationId };
  }
  await deletePendingTrigger(ledger);
  if (result.action === "started") {
    await notify(
      deps,
      `deferred automatic failover started: ${result.operationId}`,
      `${why}; ${still}, so the automatic failover ` +
        `deferred at ${pending.deferredAt} started as ${result.operationId}.`,
    );
  }
  return result;
}

async function start(
  deps: AutoFailoverDependencies,
  reason: string,
): Promise<Extract<AutoFailoverOutcome, { action: "started" | "already-running" }>> {
  const result = await startOperation(
    { dynamoDb: deps.clients.dynamoDb, sfn: deps.clients.sfn },
    deps.settings,
    {
      kind: "failover",
      mode: "unplanned",
      reason,
      requestedBy: `eventbridge:${deps.trigger.ruleName}`,
    },
    deps.environment,
  );
  return result.outcome === "already-running"
    ? { action: "already-running", operationId: result.operationId }
    : { action: "started", operationId: result.operation.operationId };
}

type AlarmState = { known: true; value: string } | { known: false; reason: string };

/** The alarm's StateValue (OK, ALARM, INSUFFICIENT_DATA), or why it could not be read. */
async function readAlarmState(deps: AutoFailoverDependencies): Promise<AlarmState> {
  try {
    const output = await deps.clients.cloudWatch.send(
      new DescribeAlarmsCommand({ AlarmNames: [deps.trigger.alarmName] }),
    );
    const value = output.MetricAlarms?.[0]?.StateValue;
    return value === undefined
      ? { known: false, reason: `no alarm named ${deps.trigger.alarmName}` }
      : { known: true, value };
  } catch (error) {
    return { known: false, reason: describeError(error) };
  }
}

function ledgerOf(deps: AutoFailoverDependencies): Ledger {
  return { client: deps.clients.dynamoDb, tableName: deps.settings.ledgerTableName };
}

async function notify(deps: AutoFailoverDependencies, what: string, message: string) {
  await deps.clients.sns.send(
    new PublishCommand({
      TopicArn: deps.settings.topicArn,
      Subject: automationSubject(deps.settings.environment, what),
      Message: message,
    }),
  );
}
