import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { SchedulerSchedule } from "@cdktf/provider-aws/lib/scheduler-schedule";
import { Token } from "cdktf";
import { Construct } from "constructs";
import { DR_METRIC_NAMESPACE } from "../../../functions/shared/dr-metrics";
import { MAX_HOLD_MINUTES } from "../../../functions/shared/drill-limits";
import {
  deadLetterQueueName,
  drillReportBucketName,
  stateMachineName,
} from "../../../functions/shared/resource-names";
import { LOG_RETENTION_DAYS, LOG_RETENTION_DAYS_EXPECTED } from "../../aws-formats";
import { cronExpressionProblem } from "../../config/cron-expression";
import { isKnown, ProblemCollector } from "../../errors";
import { SecureBucket } from "../secure-bucket";
import { serviceTrustPolicy } from "../service-trust";
import { DeadLetterQueue } from "./dead-letter-queue";
import {
  addLoggedStateMachine,
  stateMachineArnOf,
  stateMachineKeyStatement,
} from "./logged-state-machine";
import { STEP_RETRY, type StateMachineDefinition } from "./state-machine";

/** The schedule group of the drill schedule: every account has `default`. */
const SCHEDULE_GROUP = "default";

/**
 * The scheduled DR drill in AWS: an EventBridge Scheduler schedule that starts the drill state
 * machine, which drives the run-drill Lambda in a poll loop (start, then advance every few
 * seconds until the drill is done, then report), and the bucket the reports are stored in.
 *
 * ```
 * Start -> Done? -- done --------------------------------> Report -> Passed? -> Passed
 *            |  \-- advances >= maxAdvances -> PollLimit -> Report      \-> MissedTarget (Fail)
 *            \-- otherwise -> Wait ($.waitSeconds) -> Advance -> Done?     \-> Failed (Fail)
 * Start fails -> StartFailed -> Report;  Advance fails -> Report (the error at $.error)
 * ```
 */

/** CloudWatch namespace of the drill's metrics (dimension `Environment`). */
export const DRILL_METRIC_NAMESPACE = DR_METRIC_NAMESPACE;

/**
 * Step Functions keeps at most 25,000 events in an execution's history; an execution that needs
 * more fails (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html).
 */
export const EXECUTION_HISTORY_LIMIT = 25_000;

/**
 * History events of one turn of the poll loop: the Choice (entered, exited), the Wait (entered,
 * exited) and the Advance task (TaskStateEntered, LambdaFunctionScheduled, LambdaFunctionStarted,
 * LambdaFunctionSucceeded, TaskStateExited).
 */
export const EVENTS_PER_ADVANCE = 9;

/**
 * Events kept free for everything outside the loop: the start and report tasks, the verdict, the
 * execution's own events (about 20), and retries: each retried Lambda attempt adds three
 * (scheduled, started, failed), and one task may retry five times. 2,500 covers more than 800
 * retried attempts.
 */
export const HISTORY_RESERVE = 2_500;

/**
 * The most Advance tasks one drill may run: (25,000 - 2,500) / 9 = 2,500. At the default 10 s
 * poll that is about 7 hours of polling, while the driver's own timeouts end a drill after at
 * most 2 h 10 min of polling, about 780 polls (two failover attempts of 30 min, two failback
 * attempts of 30 min, two verifications of 5 min), plus the hold, which is one Wait however long.
 * The limit only stops a drill that polls forever, with a report, before the history limit would
 * fail it without one.
 */
export const MAX_ADVANCES = Math.floor(
  (EXECUTION_HISTORY_LIMIT - HISTORY_RESERVE) / EVENTS_PER_ADVANCE,
);

/**
 * Retries of the schedule's StartExecution call (throttling, a 5xx of Step Functions): a drill
 * that starts a few minutes late is still the drill people planned for; after 15 minutes it is
 * better skipped than run when nobody expects it.
 */
export const SCHEDULE_RETRY = { maximumEventAgeInSeconds: 900, maximumRetryAttempts: 5 } as const;

/** Key prefix of one environment's reports: `drills/<environment>/`. */
export function drillReportPrefix(environment: string): string {
  return `drills/${environment}/`;
}

export interface DrillDefinitionOptions {
  /** Advance tasks before the loop stops with a report. @default MAX_ADVANCES */
  readonly maxAdvances?: number;
}

/**
 * The drill state machine's definition (JSONPath ASL). Every task calls run-drill (the plain
 * Lambda integration: the function's return value is the task result, its error name is what
 * Retry and Catch match).
 *
 * State data: start and advance return `{drill, done, waitSeconds, progress, advances, error:
 * null}`, which replaces the state; a Catch puts `{Error, Cause}` at `$.error` and goes to the
 * report, which records that the drill broke off. Report returns `{drillId, verdict, reportKey,
 * markdownKey, summary}`, the execution's output.
 */
export function drillDefinition(
  functionArn: string,
  options: DrillDefinitionOptions = {},
): StateMachineDefinition {
  const maxAdvances = options.maxAdvances ?? MAX_ADVANCES;
  const task = (parameters: Record<string, unknown>) =>
    ({ Type: "Task", Resource: functionArn, Parameters: parameters, Retry: [STEP_RETRY] }) as const;
  const toReport = [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "Report" }];
  return {
    Comment:
      "shopsmart-dr drill: planned failover, verify, hold, failback, verify, through the " +
      "operations API; then store the report, publish its metrics and notify.",
    StartAt: "Start",
    States: {
      Start: {
        ...task({ action: "start", "input.$": "$" }),
        Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "StartFailed" }],
        Next: "Done?",
      },
      StartFailed: {
        Type: "Pass",
        Comment: "No drill exists yet: the report task says so, and that nothing was changed.",
        Parameters: { drill: null, "error.$": "$.error" },
        Next: "Report",
      },
      "Done?": {
        Type: "Choice",
        Choices: [
          { Variable: "$.done", BooleanEquals: true, Next: "Report" },
          { Variable: "$.advances", NumericGreaterThanEquals: maxAdvances, Next: "PollLimit" },
        ],
        Default: "Wait",
      },
      Wait: { Type: "Wait", SecondsPath: "$.waitSeconds", Next: "Advance" },
      Advance: {
        ...task({ action: "advance", "drill.$": "$.drill", "advances.$": "$.advances" }),
        Catch: toReport,
        Next: "Done?",
      },
      PollLimit: {
        Type: "Pass",
        Comment: `Stops a drill that would outgrow the ${EXECUTION_HISTORY_LIMIT}-event history.`,
        Parameters: {
          "drill.$": "$.drill",
          error: {
            Error: "DrillPollLimit",
            Cause: `the drill was still running after ${maxAdvances} polls`,
          },
        },
        Next: "Report",
      },
      Report: {
        ...task({ action: "report", "drill.$": "$.drill", "error.$": "$.error" }),
        Next: "Passed?",
      },
      "Passed?": {
        Type: "Choice",
        Choices: [
          { Variable: "$.verdict", StringEquals: "passed", Next: "Passed" },
          { Variable: "$.verdict", StringEquals: "missed-target", Next: "MissedTarget" },
        ],
        Default: "Failed",
      },
      Passed: { Type: "Succeed" },
      MissedTarget: { Type: "Fail", Error: "DrillMissedTarget", CausePath: "$.summary" },
      Failed: { Type: "Fail", Error: "DrillFailed", CausePath: "$.summary" },
    },
  };
}

export interface DrillAutomationProps {
  /** Provider of the automation's (secondary) region. */
  readonly provider: AwsProvider;
  /** The automation's region. */
  readonly region: string;
  readonly accountId: string;
  /** `<project>-<env>`; names add `-dr-drill...` and `-drills-<account>`. */
  readonly namePrefix: string;
  /** The environment, e.g. `staging`: the reports' key prefix. */
  readonly environment: string;
  /** The run-drill Lambda function every task invokes. */
  readonly functionArn: string;
  /**
   * The automation's KMS key: the state machine, its log group, the schedule's payload and the
   * report bucket.
   */
  readonly kmsKeyArn: string;
  /**
   * Whether the schedule starts drills (`ENABLED`) or not (`DISABLED`). The state machine exists
   * either way and can be started by hand.
   */
  readonly scheduleEnabled: boolean;
  /** When drills start: an EventBridge Scheduler cron expression, evaluated in UTC. */
  readonly scheduleExpression: string;
  /** Minutes the drill stays failed over: the schedule's input, `{"holdMinutes": <n>}`. */
  readonly holdMinutes: number;
  /**
   * The alert topic (the automation's region) the drill-failed alarm notifies: a drill that
   * failed, missed a target or broke off, including one whose report task could not run.
   */
  readonly alertTopicArn: string;
  /** Days a report is kept before it expires. @default 365 */
  readonly reportRetentionDays?: number;
  /** Days the state machine's logs are kept. @default 90 */
  readonly logRetentionDays?: number;
  /** X-Ray tracing of the state machine. @default false */
  readonly tracingEnabled?: boolean;
}

/**
 * The drill machinery besides its Lambda function: the report bucket, the drill state machine
 * (STANDARD, logged, traced when asked, encrypted with the automation key) with a role that may
 * only invoke run-drill, and the schedule, with a role that may only start this state machine.
 */
export class DrillAutomation extends Construct {
  readonly stateMachineArn: string;
  readonly stateMachineName: string;
  readonly scheduleName: string;
  /** `arn:aws:scheduler:<region>:<account>:schedule/default/<name>`. */
  readonly scheduleArn: string;
  readonly reportBucketName: string;
  readonly reportBucketArn: string;
  /** The definition as deployed, for tests and the local runner. */
  readonly definition: StateMachineDefinition;

  constructor(scope: Construct, id: string, props: DrillAutomationProps) {
    super(scope, id);
    const reportRetentionDays = props.reportRetentionDays ?? 365;
    const logRetentionDays = props.logRetentionDays ?? 90;
    const tracingEnabled = props.tracingEnabled ?? false;
    validate(this.node.path, props, { reportRetentionDays, logRetentionDays });
    const { provider, region, accountId, kmsKeyArn } = props;
    const name = stateMachineName(props.namePrefix, "drill");
    const stateMachineArn = stateMachineArnOf(region, accountId, name);

    const reports = new SecureBucket(this, "reports", {
      provider,
      bucketName: drillReportBucketName(props.namePrefix, accountId),
      kmsKeyArn,
      // A report is written once; old versions exist only if a retried task rewrote it.
      noncurrentVersionRetentionDays: 30,
      expirationDays: reportRetentionDays,
    });
    this.reportBucketName = reports.bucketName;
    this.reportBucketArn = reports.bucketArn;

    this.definition = drillDefinition(props.functionArn);
    const { stateMachine } = addLoggedStateMachine(this, {
      provider,
      region,
      accountId,
      name,
      kmsKeyArn,
      logRetentionDays,
      tracingEnabled,
      // STANDARD (the helper's): a drill runs for up to hours, past an EXPRESS workflow's 5 minutes.
      definition: this.definition,
      invokeStatement: {
        sid: "InvokeRunDrill",
        actions: ["lambda:InvokeFunction"],
        resources: [props.functionArn, `${props.functionArn}:*`],
      },
      policyName: "run-drill",
    });
    this.stateMachineArn = stateMachine.arn;
    this.stateMachineName = name;

    this.scheduleName = name;
    this.scheduleArn = `arn:aws:scheduler:${region}:${accountId}:schedule/${SCHEDULE_GROUP}/${name}`;
    this.addSchedule(props, stateMachine.arn, stateMachineArn);

    // The report task notifies on its own; this catches what it cannot: a drill whose Lambda
    // never ran the report (a crash, a timeout, a permission that broke the task itself).
    new CloudwatchMetricAlarm(this, "failed-alarm", {
      provider,
      alarmName: `${name}-failed`,
      alarmDescription:
        `A DR drill execution of ${props.environment} failed (${name}): a failed phase, a missed ` +
        "target, or a drill that broke off. The execution's output and the report say which; the " +
        "environment may need a failback by hand (docs/dr-plan.md).",
      namespace: "AWS/States",
      metricName: "ExecutionsFailed",
      dimensions: { StateMachineArn: stateMachineArn },
      statistic: "Sum",
      period: 300,
      evaluationPeriods: 1,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      threshold: 1,
      // No executions, no data: the normal state between drills.
      treatMissingData: "notBreaching",
      alarmActions: [props.alertTopicArn],
    });
  }

  private addSchedule(
    props: DrillAutomationProps,
    stateMachineReference: string,
    stateMachineArn: string,
  ): void {
    const { provider, region, accountId, kmsKeyArn } = props;
    const trust = serviceTrustPolicy(this, "schedule-trust", {
      provider,
      service: "scheduler.amazonaws.com",
      // Confused-deputy guard: only schedules of this account's schedule group. Scheduler
      // documents the group's ARN as aws:SourceArn and warns against naming one schedule
      // (https://docs.aws.amazon.com/scheduler/latest/UserGuide/cross-service-confused-deputy-prevention.html).
      condition: [
        { test: "StringEquals", variable: "aws:SourceAccount", values: [accountId] },
        {
          test: "ArnEquals",
          variable: "aws:SourceArn",
          values: [`arn:aws:scheduler:${region}:${accountId}:schedule-group/${SCHEDULE_GROUP}`],
        },
      ],
    });
    // A start Scheduler gave up on after its retries lands here and pages.
    const deadLetters = new DeadLetterQueue(this, "schedule-dead-letters", {
      provider,
      region,
      name: deadLetterQueueName(this.scheduleName),
      contents: "Scheduled starts of the DR drill",
      kmsKeyArn,
      alarmTopicArn: props.alertTopicArn,
    });
    const role = new IamRole(this, "schedule-role", {
      provider,
      name: `${this.scheduleName}-schedule`,
      description: `Starts the ${this.stateMachineName} state machine on its schedule`,
      assumeRolePolicy: trust.json,
    });
    const permissions = new DataAwsIamPolicyDocument(this, "schedule-permissions", {
      provider,
      statement: [
        { sid: "StartDrill", actions: ["states:StartExecution"], resources: [stateMachineArn] },
        // Starting an execution of a state machine under a customer managed key encrypts its input.
        stateMachineKeyStatement(kmsKeyArn, stateMachineArn),
        {
          // Scheduler decrypts the schedule's payload (its input) with the execution role
          // (https://docs.aws.amazon.com/scheduler/latest/UserGuide/encryption-rest.html).
          sid: "DecryptSchedule",
          actions: ["kms:Decrypt"],
          resources: [kmsKeyArn],
          condition: [
            {
              test: "StringEquals",
              variable: "kms:EncryptionContext:aws:scheduler:schedule-arn",
              values: [this.scheduleArn],
            },
          ],
        },
        // Scheduler sends undelivered starts to the dead-letter queue with the execution role
        // (https://docs.aws.amazon.com/scheduler/latest/UserGuide/configuring-schedule-dlq.html).
        ...deadLetters.grantSendStatements(),
      ],
    });
    const policy = new IamRolePolicy(this, "schedule-policy", {
      provider,
      role: role.id,
      name: "start-drill",
      policy: permissions.json,
    });

    new SchedulerSchedule(this, "schedule", {
      provider,
      name: this.scheduleName,
      groupName: SCHEDULE_GROUP,
      description: `DR drill of ${props.environment}: fail over, hold ${props.holdMinutes} min, fail back, report`,
      state: props.scheduleEnabled ? "ENABLED" : "DISABLED",
      scheduleExpression: props.scheduleExpression,
      // The config's cron is in UTC; explicit, so a console edit of the zone shows as drift.
      scheduleExpressionTimezone: "UTC",
      // A drill starts when planned (people watch it), not anywhere in a window.
      flexibleTimeWindow: { mode: "OFF" },
      kmsKeyArn,
      target: {
        arn: stateMachineReference,
        roleArn: role.arn,
        input: JSON.stringify({ holdMinutes: props.holdMinutes }),
        retryPolicy: { ...SCHEDULE_RETRY },
        deadLetterConfig: { arn: deadLetters.queueArn },
      },
      // The role's policy must exist before Scheduler first assumes it.
      dependsOn: [policy],
    });
  }
}

/** Use of the key for one state machine's data only (its ARN is the encryption context). */
function validate(
  path: string,
  props: DrillAutomationProps,
  resolved: { reportRetentionDays: number; logRetentionDays: number },
): void {
  const problems = new ProblemCollector();
  if (isKnown(props.scheduleExpression)) {
    const problem = cronExpressionProblem(props.scheduleExpression);
    if (problem) problems.add("scheduleExpression", props.scheduleExpression, problem);
  }
  // Written into the schedule's input JSON, so a token would corrupt it.
  if (
    !Number.isFinite(props.holdMinutes) ||
    props.holdMinutes < 0 ||
    props.holdMinutes > MAX_HOLD_MINUTES ||
    Token.isUnresolved(props.holdMinutes)
  ) {
    problems.add(
      "holdMinutes",
      props.holdMinutes,
      `a literal number of minutes from 0 to ${MAX_HOLD_MINUTES}`,
    );
  }
  if (!Number.isInteger(resolved.reportRetentionDays) || resolved.reportRetentionDays < 1) {
    problems.add(
      "reportRetentionDays",
      resolved.reportRetentionDays,
      "a whole number of days >= 1",
    );
  }
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(resolved.logRetentionDays)) {
    problems.add("logRetentionDays", resolved.logRetentionDays, LOG_RETENTION_DAYS_EXPECTED);
  }
  problems.throwIfAnyFor(path);
}
