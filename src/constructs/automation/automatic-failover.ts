import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { LambdaPermission } from "@cdktf/provider-aws/lib/lambda-permission";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Construct } from "constructs";
import {
  DETECTION_SIGNALS,
  DR_ALARM_PERIOD_SECONDS,
  DR_METRIC_NAMESPACE,
  PRIMARY_DOWN_METRIC,
  PROBE_INTERVAL_SECONDS,
  primaryDownAlarmName,
  primaryDownDimensions,
} from "../../../functions/shared/dr-metrics";
import {
  autoFailoverRuleName,
  deadLetterQueueName,
  probeMissingAlarmName,
  probeRuleName,
  resumeRuleName,
} from "../../../functions/shared/resource-names";
import { DeadLetterQueue } from "./dead-letter-queue";

/** Where a region's dead letters are encrypted and whom their alarm notifies. */
export interface DeadLetterRegion {
  /** The region's KMS key (a `RegionalKey`, whose policy admits EventBridge). */
  readonly kmsKeyArn: string;
  /** The region's alert topic. */
  readonly alarmTopicArn: string;
}

/**
 * Retries of a target that starts a failover: EventBridge retries with backoff, but gives up
 * after 15 minutes instead of its default 24 hours and 185 attempts
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html): a
 * failover that has not started a quarter of an hour into an outage needs a person, whom the
 * dead-letter alarm pages.
 */
export const FAILOVER_TARGET_RETRY = {
  maximumEventAgeInSeconds: 900,
  maximumRetryAttempts: 12,
} as const;

/**
 * Retries of the probe schedule's target: a probe is only worth running within its own minute
 * (the next one starts a minute later), so EventBridge gives up after 60 s, the shortest event
 * age it accepts ("Minimum value of 60",
 * https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_RetryPolicy.html).
 * A dropped probe is a missing datapoint, which never starts a failover; a prober that stays
 * silent is paged by the probe-missing alarm instead of a dead-letter queue of stale ticks.
 */
export const PROBE_TARGET_RETRY = {
  maximumEventAgeInSeconds: 60,
  maximumRetryAttempts: 2,
} as const;

/** Minutes without any probe-primary verdict before the probe-missing alarm pages. */
export const PROBE_SILENCE_MINUTES = 5;

/**
 * `rate(1 minute)` for {@link PROBE_INTERVAL_SECONDS}: a rate expression takes whole minutes,
 * singular for 1 (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-rule-schedule.html).
 */
export function probeScheduleExpression(): string {
  const minutes = PROBE_INTERVAL_SECONDS / 60;
  if (!Number.isInteger(minutes) || minutes < 1) {
    throw new Error(
      `PROBE_INTERVAL_SECONDS (${PROBE_INTERVAL_SECONDS}) must be whole minutes for an EventBridge rate expression`,
    );
  }
  return `rate(${minutes} ${minutes === 1 ? "minute" : "minutes"})`;
}

export interface PrimaryDownDetectionProps {
  readonly namePrefix: string;
  readonly accountId: string;
  /** The automation's region and provider (the secondary): everything here lives there. */
  readonly provider: AwsProvider;
  readonly region: string;
  /** The probe-primary function. */
  readonly probeFunctionName: string;
  readonly probeFunctionArn: string;
  /** Minutes in a row the verdict must say "down" (config `automaticFailover.alarmMinutes`). */
  readonly alarmMinutes: number;
  /** The automation region's alert topic, which both alarms notify on ALARM and OK. */
  readonly alarmTopicArn: string;
}

/**
 * The standby side's detection of a primary outage, all in the automation's region, so neither
 * the primary region nor us-east-1 is needed to notice that the primary is gone:
 * - an EventBridge schedule rule runs probe-primary every minute ("Your scheduled rule runs
 *   within that minute", eb-create-rule-schedule.html above);
 * - probe-primary publishes `PrimaryDown` (1 when its quorum of independent signals agrees the
 *   primary is down, else 0; functions/orchestration/detection.ts);
 * - the primary-down alarm goes to ALARM after `alarmMinutes` such minutes in a row (every
 *   datapoint of the evaluation range, so one bad minute does not start a failover). Missing
 *   data is notBreaching: a prober that stops publishing must never fail over;
 * - the probe-missing alarm pages when no verdict arrived for {@link PROBE_SILENCE_MINUTES}
 *   minutes (missing data breaching), because then automatic failover is blind.
 *
 * Both exist whether or not automatic failover is enabled: their metrics feed the dashboard and
 * the page tells an operator the primary is down.
 */
export class PrimaryDownDetection extends Construct {
  /** The alarm that starts automatic failover (dr-metrics.ts `primaryDownAlarmName`). */
  readonly alarmName: string;
  readonly alarmArn: string;
  /** The rule that runs probe-primary every minute. */
  readonly ruleName: string;

  constructor(scope: Construct, id: string, props: PrimaryDownDetectionProps) {
    super(scope, id);
    const { provider, namePrefix, accountId } = props;

    this.ruleName = probeRuleName(namePrefix);
    const rule = new CloudwatchEventRule(this, "probe-rule", {
      provider,
      name: this.ruleName,
      description: `Runs probe-primary every ${PROBE_INTERVAL_SECONDS} s: the standby side's verdict on the primary region`,
      scheduleExpression: probeScheduleExpression(),
      state: "ENABLED",
    });
    new CloudwatchEventTarget(this, "probe-target", {
      provider,
      rule: rule.name,
      targetId: "probe-primary",
      arn: props.probeFunctionArn,
      retryPolicy: { ...PROBE_TARGET_RETRY },
    });
    new LambdaPermission(this, "probe-invoke", {
      provider,
      statementId: "eventbridge-probe-primary",
      action: "lambda:InvokeFunction",
      functionName: props.probeFunctionName,
      principal: "events.amazonaws.com",
      sourceArn: rule.arn,
      sourceAccount: accountId,
    });

    const dimensions = Object.fromEntries(
      primaryDownDimensions(namePrefix).map((dimension) => [dimension.Name, dimension.Value]),
    );
    const actions = { alarmActions: [props.alarmTopicArn], okActions: [props.alarmTopicArn] };
    this.alarmName = primaryDownAlarmName(namePrefix);
    const alarm = new CloudwatchMetricAlarm(this, "primary-down-alarm", {
      provider,
      alarmName: this.alarmName,
      alarmDescription:
        `probe-primary, running in ${props.region}, found the primary region down for ` +
        `${props.alarmMinutes} minutes in a row (a quorum of ${DETECTION_SIGNALS.join(", ")}, ` +
        "with no veto from Route 53's health checkers). Starts an unplanned failover when " +
        "automatic failover is enabled.",
      namespace: DR_METRIC_NAMESPACE,
      metricName: PRIMARY_DOWN_METRIC,
      dimensions,
      statistic: "Maximum",
      period: DR_ALARM_PERIOD_SECONDS,
      evaluationPeriods: props.alarmMinutes,
      datapointsToAlarm: props.alarmMinutes,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      threshold: 1,
      treatMissingData: "notBreaching",
      ...actions,
    });
    this.alarmArn = alarm.arn;

    new CloudwatchMetricAlarm(this, "probe-missing-alarm", {
      provider,
      alarmName: probeMissingAlarmName(namePrefix),
      alarmDescription:
        `probe-primary published no verdict for ${PROBE_SILENCE_MINUTES} minutes: automatic ` +
        "failover cannot see a primary outage (it never fails over on missing data). Check " +
        `the ${this.ruleName} rule and the probe-primary function's logs in ${props.region}.`,
      namespace: DR_METRIC_NAMESPACE,
      metricName: PRIMARY_DOWN_METRIC,
      dimensions,
      statistic: "SampleCount",
      period: DR_ALARM_PERIOD_SECONDS,
      evaluationPeriods: PROBE_SILENCE_MINUTES,
      datapointsToAlarm: PROBE_SILENCE_MINUTES,
      comparisonOperator: "LessThanThreshold",
      threshold: 1,
      treatMissingData: "breaching",
      ...actions,
    });
  }
}

export interface AutomaticFailoverTriggerProps {
  readonly namePrefix: string;
  readonly accountId: string;
  /** The automation's region and provider, where the alarm and the auto-failover function live. */
  readonly provider: AwsProvider;
  readonly region: string;
  /** The primary-down alarm ({@link PrimaryDownDetection.alarmName}), in the same region. */
  readonly alarmName: string;
  /** The auto-failover function. */
  readonly functionName: string;
  readonly functionArn: string;
  /** The failover workflow: when one of its executions ends, a deferred trigger may start. */
  readonly stateMachineArn: string;
  /** Dead letters of the rules that invoke the function. */
  readonly deadLetters: DeadLetterRegion;
}

/**
 * EventBridge wiring from the primary-down alarm to the auto-failover function, in the
 * automation's region only.
 *
 * CloudWatch sends "CloudWatch Alarm State Change" events to the default bus of the alarm's own
 * region and guarantees their delivery to EventBridge
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html).
 * The primary-down alarm lives in the automation's region, so one rule there invokes the
 * function: nothing in this path runs in the primary region or in us-east-1.
 *
 * The alarm goes to ALARM only after the configured minutes of "primary down" verdicts, and
 * EventBridge emits one event per state change, so each outage starts at most one failover; a
 * duplicate delivery finds the operation lock taken, and the function keeps automatic starts
 * `minimumIntervalMinutes` apart. Each target retries for 15 minutes
 * (`FAILOVER_TARGET_RETRY`), then parks the event in a dead-letter queue whose alarm notifies
 * the region's alert topic.
 */
export class AutomaticFailoverTrigger extends Construct {
  /** The rule that invokes the function (in the automation's region). */
  readonly ruleName: string;
  readonly eventPattern: Record<string, unknown>;
  /** The pattern of the rule on the workflow's executions ending. */
  resumeEventPattern: Record<string, unknown> = {};

  constructor(scope: Construct, id: string, props: AutomaticFailoverTriggerProps) {
    super(scope, id);
    const { provider, namePrefix, accountId } = props;
    this.eventPattern = {
      source: ["aws.cloudwatch"],
      "detail-type": ["CloudWatch Alarm State Change"],
      detail: { alarmName: [props.alarmName], state: { value: ["ALARM"] } },
    };

    this.ruleName = autoFailoverRuleName(namePrefix);
    const rule = new CloudwatchEventRule(this, "rule", {
      provider,
      name: this.ruleName,
      description: `Unplanned failover when ${props.alarmName} goes to ALARM`,
      eventPattern: JSON.stringify(this.eventPattern),
      state: "ENABLED",
    });
    const deadLetters = new DeadLetterQueue(this, "dead-letters", {
      provider,
      region: props.region,
      name: deadLetterQueueName(this.ruleName),
      contents: "Alarm events for the auto-failover function",
      kmsKeyArn: props.deadLetters.kmsKeyArn,
      alarmTopicArn: props.deadLetters.alarmTopicArn,
      // The resume rule (below) sends its undelivered events here too.
      ruleArns: [
        rule.arn,
        `arn:aws:events:${props.region}:${accountId}:rule/${resumeRuleName(namePrefix)}`,
      ],
    });
    new CloudwatchEventTarget(this, "target", {
      provider,
      rule: rule.name,
      targetId: "auto-failover",
      arn: props.functionArn,
      retryPolicy: { ...FAILOVER_TARGET_RETRY },
      deadLetterConfig: { arn: deadLetters.queueArn },
    });
    new LambdaPermission(this, "invoke", {
      provider,
      statementId: "eventbridge-auto-failover",
      action: "lambda:InvokeFunction",
      functionName: props.functionName,
      principal: "events.amazonaws.com",
      sourceArn: rule.arn,
      sourceAccount: accountId,
    });
    this.addResume(props, deadLetters.queueArn);
  }

  /**
   * A trigger that met a held lock is deferred, not lost: when an execution of the workflow ends,
   * the function looks for a pending trigger (and the alarm's state) and starts it. Same retries
   * and dead-letter queue as the alarm rule.
   */
  private addResume(props: AutomaticFailoverTriggerProps, deadLetterQueueArn: string): void {
    const { provider, namePrefix, accountId } = props;
    this.resumeEventPattern = {
      source: ["aws.states"],
      "detail-type": ["Step Functions Execution Status Change"],
      detail: {
        stateMachineArn: [props.stateMachineArn],
        status: ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"],
      },
    };
    const rule = new CloudwatchEventRule(this, "resume-rule", {
      provider,
      name: resumeRuleName(namePrefix),
      description:
        "Starts a deferred automatic failover when the operation that held the lock ends",
      eventPattern: JSON.stringify(this.resumeEventPattern),
      state: "ENABLED",
    });
    new CloudwatchEventTarget(this, "resume-target", {
      provider,
      rule: rule.name,
      targetId: "auto-failover",
      arn: props.functionArn,
      retryPolicy: { ...FAILOVER_TARGET_RETRY },
      deadLetterConfig: { arn: deadLetterQueueArn },
    });
    new LambdaPermission(this, "resume-invoke", {
      provider,
      statementId: "eventbridge-auto-failover-resume",
      action: "lambda:InvokeFunction",
      functionName: props.functionName,
      principal: "events.amazonaws.com",
      sourceArn: rule.arn,
      sourceAccount: accountId,
    });
  }
}
