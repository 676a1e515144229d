/**
 * auto-failover Lambda: target of the EventBridge rule on the primary endpoint's health alarm
 * ("CloudWatch Alarm State Change"). The alarm itself waits the configured minutes
 * (datapointsToAlarm); an ALARM of the configured alarm starts an unplanned failover with the same
 * start logic as POST /failover. Anything else is ignored with a log line, and an operation that
 * already runs is a logged no-op: neither throws. Other failures (e.g. DynamoDB unavailable) throw,
 * so the asynchronous invocation is retried.
 */
import { randomBytes } from "node:crypto";
import type { EventBridgeEvent } from "aws-lambda";
import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";
import { startOperation } from "../orchestration/start-operation";
import { dynamoDbClient, sfnClient } from "../shared/aws-clients";
import { type AutomationSettings, loadSettings } from "../shared/settings";

/**
 * The second environment variable of this function only: JSON `{"alarmName","ruleName"}`, the
 * alarm that triggers a failover and the EventBridge rule that delivers it (for `requestedBy`).
 */
export const AUTO_FAILOVER_VARIABLE = "SHOPSMART_DR_AUTO_FAILOVER";

export interface AutoFailoverSettings {
  /** e.g. `shopsmart-prod-primary-endpoint-health`. */
  alarmName: string;
  ruleName: string;
}

// zod/mini loads no messages by default; English ones, as classic `zod` would load.
z.config(en());

const autoFailoverSettingsSchema = z.strictObject({
  alarmName: z.string().check(z.minLength(1, "a non-empty alarm name")),
  ruleName: z.string().check(z.minLength(1, "a non-empty rule name")),
});

export function parseAutoFailoverSettings(json: string | undefined): AutoFailoverSettings {
  let value: unknown;
  try {
    value = JSON.parse(json ?? "");
  } catch {
    throw new Error(
      `${AUTO_FAILOVER_VARIABLE} must be JSON {"alarmName":"...","ruleName":"..."}, got ${JSON.stringify(json ?? null)}`,
    );
  }
  const result = autoFailoverSettingsSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new Error(
      `${AUTO_FAILOVER_VARIABLE}: ${issue?.path.map(String).join(".") || "(root)"}: ${issue?.message ?? "invalid"}`,
    );
  }
  return result.data;
}

/** The parts of "CloudWatch Alarm State Change" this function reads. */
export interface AlarmStateChangeDetail {
  alarmName: string;
  state: { value: string; timestamp: string; reason?: string };
  previousState?: { value: string; timestamp?: string };
}

export type AlarmStateChangeEvent = EventBridgeEvent<
  "CloudWatch Alarm State Change",
  AlarmStateChangeDetail
>;

const alarmEventSchema = z.object({
  source: z.literal("aws.cloudwatch"),
  "detail-type": z.literal("CloudWatch Alarm State Change"),
  detail: z.object({
    alarmName: z.string(),
    state: z.object({ value: z.string(), timestamp: z.string() }),
    previousState: z.optional(z.object({ value: z.string() })),
  }),
});

export type AutoFailoverOutcome =
  | { action: "ignored"; why: string }
  | { action: "started"; operationId: string }
  | { action: "already-running"; operationId: string };

interface AutoFailoverContext {
  settings: AutomationSettings;
  trigger: AutoFailoverSettings;
  clients: { dynamoDb: ReturnType<typeof dynamoDbClient>; sfn: ReturnType<typeof sfnClient> };
}

let context: AutoFailoverContext | undefined;

function loadContext(): AutoFailoverContext {
  context ??= {
    settings: loadSettings(),
    trigger: parseAutoFailoverSettings(process.env[AUTO_FAILOVER_VARIABLE]),
    clients: { dynamoDb: dynamoDbClient(), sfn: sfnClient() },
  };
  return context;
}

export async function handler(event: unknown): Promise<AutoFailoverOutcome> {
  const { settings, trigger, clients } = loadContext();
  const outcome = await handleAlarmEvent(event, trigger, async (reason) =>
    startOperation(
      clients,
      settings,
      {
        kind: "failover",
        mode: "unplanned",
        reason,
        requestedBy: `eventbridge:${trigger.ruleName}`,
      },
      { now: () => new Date(), randomHex: (bytes) => randomBytes(bytes).toString("hex") },
    ),
  );
  console.log(JSON.stringify({ handler: "auto-failover", ...outcome }));
  return outcome;
}

/** Filters the event and starts the failover through `start` for an ALARM of the configured alarm. */
async function handleAlarmEvent(
  event: unknown,
  trigger: AutoFailoverSettings,
  start: (reason: string) => ReturnType<typeof startOperation>,
): Promise<AutoFailoverOutcome> {
  const parsed = alarmEventSchema.safeParse(event);
  if (!parsed.success) {
    return { action: "ignored", why: "not a CloudWatch Alarm State Change event" };
  }
  const { alarmName, state, previousState } = parsed.data.detail;
  if (alarmName !== trigger.alarmName) {
    return { action: "ignored", why: `alarm ${alarmName} is not ${trigger.alarmName}` };
  }
  if (state.value !== "ALARM") {
    return {
      action: "ignored",
      why: `${alarmName} went ${previousState?.value ?? "?"} -> ${state.value}, not ALARM`,
    };
  }
  const result = await start(`automatic: ${alarmName} in ALARM since ${state.timestamp}`);
  if (result.outcome === "already-running") {
    return { action: "already-running", operationId: result.operationId };
  }
  return { action: "started", operationId: result.operation.operationId };
}
