/**
 * The stack's EventBridge rules for automatic failover, played by the simulation:
 * - the schedule rule invokes probe-primary every minute (rate(1 minute): "Your scheduled rule
 *   runs within that minute", https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-rule-schedule.html;
 *   here on the minute);
 * - the primary-down alarm (evaluated by CloudWatchSimulation from probe-primary's datapoints)
 *   going to ALARM invokes auto-failover with "CloudWatch Alarm State Change", delivered on the
 *   default bus of the alarm's own region
 *   (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html);
 * - every end of a failover-workflow execution invokes it with "Step Functions Execution Status
 *   Change" (the resume rule, which starts a trigger deferred by a held lock).
 * EventBridge itself is not modelled: delivery is immediate and exactly once, and nothing is
 * delivered from a region that is down.
 */
import { PROBE_INTERVAL_SECONDS } from "../../functions/shared/dr-metrics";
import { functionName, primaryDownAlarmName } from "../../functions/shared/resource-names";
import type { MetricAlarmDefinition } from "./cloudwatch";
import type { LocalFunction } from "./lambda";
import type { RegionPair } from "./region-pair";
import { executionStatusChangeEvent } from "./step-functions";
import type { SynthesizedResources } from "./workflow";

/** The variable the auto-failover function reads its trigger settings from. */
const AUTO_FAILOVER_VARIABLE = "SHOPSMART_DR_AUTO_FAILOVER";

/**
 * The ends of the names looked for in a stack, whose name prefix the stack's JSON does not
 * state: a name under any prefix ends as the one under the empty prefix does.
 */
const AUTO_FAILOVER_FUNCTION_SUFFIX = functionName("", "auto-failover");
const PRIMARY_DOWN_ALARM_SUFFIX = primaryDownAlarmName("");

/**
 * The synthesized auto-failover function's SHOPSMART_DR_AUTO_FAILOVER (the alarm, its region and
 * the rule), or undefined when the environment has automatic failover off.
 */
export function autoFailoverVariableOf(stack: SynthesizedResources): string | undefined {
  const fn = Object.values(stack.resource.aws_lambda_function ?? {}).find((candidate) =>
    String(candidate.function_name ?? "").endsWith(AUTO_FAILOVER_FUNCTION_SUFFIX),
  ) as { environment?: { variables?: Record<string, string> } } | undefined;
  return fn?.environment?.variables?.[AUTO_FAILOVER_VARIABLE];
}

export interface AutomaticFailoverRules {
  /**
   * The alarm reaches ALARM (DescribeAlarms in its region says so from now on) and its state
   * change is delivered; resolves to what auto-failover returned.
   */
  alarm(reason?: string): Promise<unknown>;
  /** The alarm returns to OK (the rule matches ALARM only, so nothing is delivered). */
  recover(): void;
  /** What auto-failover returned for each delivery, in order. */
  readonly outcomes: unknown[];
  /** The alarm the rules watch. */
  readonly alarmName: string;
  disconnect(): void;
}

export interface AutomaticFailoverRulesOptions {
  /** The auto-failover handler (functions/handlers/auto-failover.ts, bundled or not). */
  readonly handler: LocalFunction;
  /** The alarm and the region it lives in (the function's SHOPSMART_DR_AUTO_FAILOVER). */
  readonly alarmName: string;
  readonly alarmRegion: string;
}

/** Connects auto-failover to the pair's alarm and executions, as the stack's two rules do. */
export function connectAutomaticFailoverRules(
  pair: RegionPair,
  options: AutomaticFailoverRulesOptions,
): AutomaticFailoverRules {
  const { handler, alarmName, alarmRegion } = options;
  const account = pair.settings.stateMachineArn.split(":")[4] ?? "123456789012";
  const automationRegion = pair.settings.regions.secondary.region;
  const outcomes: unknown[] = [];
  const deliver = async (event: Record<string, unknown>) => {
    const outcome = await handler(event, undefined as never);
    outcomes.push(outcome);
    return outcome;
  };
  const removeListener = pair.stepFunctions.onExecutionEnded((execution) =>
    deliver(executionStatusChangeEvent(execution, account, automationRegion)),
  );
  let state: "OK" | "ALARM" | "INSUFFICIENT_DATA" = "OK";
  if (pair.cloudWatch.alarmState(alarmRegion, alarmName) === undefined) {
    pair.cloudWatch.setAlarmState(alarmRegion, alarmName, "OK");
  }
  const alarmEvent = (previous: string, reason: string) => {
    const at = pair.clock.isoString();
    return {
      version: "0",
      "detail-type": "CloudWatch Alarm State Change",
      source: "aws.cloudwatch",
      account,
      time: at,
      region: alarmRegion,
      resources: [`arn:aws:cloudwatch:${alarmRegion}:${account}:alarm:${alarmName}`],
      detail: {
        alarmName,
        state: { value: "ALARM", reason, timestamp: at },
        previousState: { value: previous },
      },
    };
  };
  // The rule's pattern matches state ALARM only; an evaluated change is delivered as it happens.
  const removeAlarmListener = pair.cloudWatch.onAlarmStateChange((change) => {
    if (change.region !== alarmRegion || change.alarmName !== alarmName) return;
    state = change.state === "ALARM" ? "ALARM" : change.state === "OK" ? "OK" : "INSUFFICIENT_DATA";
    if (change.state === "ALARM") void deliver(alarmEvent(change.previous, change.reason));
  });
  return {
    outcomes,
    alarmName,
    alarm(reason = "Threshold Crossed: the primary-down signal held") {
      const previous = state;
      state = "ALARM";
      pair.cloudWatch.setAlarmState(alarmRegion, alarmName, "ALARM");
      return deliver(alarmEvent(previous, reason));
    },
    recover() {
      state = "OK";
      pair.cloudWatch.setAlarmState(alarmRegion, alarmName, "OK");
    },
    disconnect: () => {
      removeListener();
      removeAlarmListener();
    },
  };
}

/**
 * The rules of a synthesized stack: the alarm and its region from its auto-failover function's
 * SHOPSMART_DR_AUTO_FAILOVER, which is also set for `handler`, as Lambda would, until
 * `disconnect()`.
 */
export function connectStackAutomaticFailoverRules(
  pair: RegionPair,
  stack: SynthesizedResources,
  handler: LocalFunction,
): AutomaticFailoverRules {
  const variable = autoFailoverVariableOf(stack);
  if (variable === undefined) {
    throw new Error(
      "the stack has no auto-failover function: its environment has automaticFailover.enabled false",
    );
  }
  const previous = process.env[AUTO_FAILOVER_VARIABLE];
  process.env[AUTO_FAILOVER_VARIABLE] = variable;
  const { alarmName, alarmRegion } = JSON.parse(variable) as {
    alarmName: string;
    alarmRegion: string;
  };
  const rules = connectAutomaticFailoverRules(pair, { handler, alarmName, alarmRegion });
  return {
    ...rules,
    disconnect() {
      rules.disconnect();
      if (previous === undefined) delete process.env[AUTO_FAILOVER_VARIABLE];
      else process.env[AUTO_FAILOVER_VARIABLE] = previous;
    },
  };
}

/**
 * The primary-down alarm as the synthesized stack defines it (`aws_cloudwatch_metric_alarm`
 * named `<prefix>-dr-primary-down`, in the automation's region), for CloudWatchSimulation to
 * evaluate. Throws when the stack has none.
 */
export function primaryDownAlarmOf(
  stack: SynthesizedResources,
  region: string,
): MetricAlarmDefinition {
  const alarm = Object.values(stack.resource.aws_cloudwatch_metric_alarm ?? {}).find((candidate) =>
    String(candidate.alarm_name ?? "").endsWith(PRIMARY_DOWN_ALARM_SUFFIX),
  ) as Record<string, unknown> | undefined;
  if (alarm === undefined) {
    throw new Error(`the stack has no <prefix>${PRIMARY_DOWN_ALARM_SUFFIX} alarm`);
  }
  const dimensions = (alarm.dimensions ?? {}) as Record<string, string>;
  return {
    region,
    alarmName: String(alarm.alarm_name),
    namespace: String(alarm.namespace),
    metricName: String(alarm.metric_name),
    dimensions: Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value })),
    threshold: Number(alarm.threshold),
    evaluationPeriods: Number(alarm.evaluation_periods),
    datapointsToAlarm: Number(alarm.datapoints_to_alarm ?? alarm.evaluation_periods),
  };
}

/** A running schedule; `runs` counts the invocations, `stop()` ends it. */
export interface ProbeSchedule {
  readonly outcomes: unknown[];
  stop(): void;
}

/**
 * Invokes probe-primary every `intervalMs` of simulated time, as the stack's schedule rule does
 * (nothing is delivered while the automation's region is down). Scheduled events never make
 * time pass by themselves, so the schedule runs only while something else waits on the clock.
 */
export function connectProbeSchedule(
  pair: RegionPair,
  handler: LocalFunction,
  intervalMs: number = PROBE_INTERVAL_SECONDS * 1000,
): ProbeSchedule {
  const outcomes: unknown[] = [];
  let stopped = false;
  let next = pair.clock.schedule(intervalMs, tick, "probe-primary schedule");
  function tick() {
    if (stopped) return;
    next = pair.clock.schedule(intervalMs, tick, "probe-primary schedule");
    if (!pair.isRegionUp("secondary")) return;
    void Promise.resolve(
      handler({ source: "aws.events", "detail-type": "Scheduled Event" }, undefined as never),
    ).then(
      (outcome) => outcomes.push(outcome),
      (error: unknown) =>
        outcomes.push({ error: error instanceof Error ? error.message : String(error) }),
    );
  }
  return {
    outcomes,
    stop() {
      stopped = true;
      pair.clock.cancel(next);
    },
  };
}
