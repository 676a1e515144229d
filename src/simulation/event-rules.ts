/**
 * The stack's EventBridge rules for automatic failover, played by the simulation: the primary
 * endpoint's health alarm going to ALARM invokes auto-failover with "CloudWatch Alarm State
 * Change", and every end of a failover-workflow execution invokes it with "Step Functions
 * Execution Status Change" (the resume rule, which starts a trigger deferred by a held lock).
 * EventBridge itself is not modelled: delivery is immediate and exactly once.
 */
import type { LocalFunction } from "./lambda";
import type { RegionPair } from "./region-pair";
import { executionStatusChangeEvent } from "./step-functions";
import type { SynthesizedResources } from "./workflow";

/** The variable the auto-failover function reads its trigger settings from. */
const AUTO_FAILOVER_VARIABLE = "SHOPSMART_DR_AUTO_FAILOVER";

/**
 * The synthesized auto-failover function's SHOPSMART_DR_AUTO_FAILOVER (the alarm, its region and
 * the rule), or undefined when the environment has automatic failover off.
 */
export function autoFailoverVariableOf(stack: SynthesizedResources): string | undefined {
  const fn = Object.values(stack.resource.aws_lambda_function ?? {}).find((candidate) =>
    String(candidate.function_name ?? "").endsWith("-dr-auto-failover"),
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
  let state: "OK" | "ALARM" = "OK";
  pair.cloudWatch.setAlarmState(alarmRegion, alarmName, "OK");
  return {
    outcomes,
    alarmName,
    alarm(reason = "Threshold Crossed: the endpoint's health checks failed") {
      const previous = state;
      state = "ALARM";
      pair.cloudWatch.setAlarmState(alarmRegion, alarmName, "ALARM");
      const at = pair.clock.isoString();
      return deliver({
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
      });
    },
    recover() {
      state = "OK";
      pair.cloudWatch.setAlarmState(alarmRegion, alarmName, "OK");
    },
    disconnect: removeListener,
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
