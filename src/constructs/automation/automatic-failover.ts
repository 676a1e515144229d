import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { LambdaPermission } from "@cdktf/provider-aws/lib/lambda-permission";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Construct } from "constructs";
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

export interface AutomaticFailoverTriggerProps {
  readonly namePrefix: string;
  readonly accountId: string;
  /** The automation's region and provider, where the auto-failover function runs. */
  readonly provider: AwsProvider;
  readonly region: string;
  /** Where the endpoint-health alarm lives (us-east-1): its state changes are published there. */
  readonly alarmProvider: AwsProvider;
  readonly alarmRegion: string;
  /** The primary endpoint's health alarm. */
  readonly alarmName: string;
  /** The auto-failover function. */
  readonly functionName: string;
  readonly functionArn: string;
  /** The failover workflow: when one of its executions ends, a deferred trigger may start. */
  readonly stateMachineArn: string;
  /** Dead letters of the rule that invokes the function (the automation's region). */
  readonly deadLetters: DeadLetterRegion;
  /** Dead letters of the forwarding rule (the alarm's region); unused when it is the same. */
  readonly alarmRegionDeadLetters: DeadLetterRegion;
}

/**
 * The rule on the workflow's executions ending: `<namePrefix>-dr-auto-failover-resume`. Step
 * Functions sends "Step Functions Execution Status Change" events of standard workflows to the
 * default bus of its own region
 * (https://docs.aws.amazon.com/step-functions/latest/dg/eventbridge-integration.html).
 */
export function resumeRuleName(namePrefix: string): string {
  return `${namePrefix}-dr-auto-failover-resume`;
}

/** The rule that invokes the auto-failover function: `<namePrefix>-dr-auto-failover`. */
export function autoFailoverRuleName(namePrefix: string): string {
  return `${namePrefix}-dr-auto-failover`;
}

/**
 * EventBridge wiring from the primary endpoint's health alarm to the auto-failover function.
 *
 * CloudWatch publishes "CloudWatch Alarm State Change" events to the default bus of the alarm's
 * region. When that is the automation's region, one rule there invokes the function. Otherwise a
 * rule in the alarm's region forwards the matching events to the automation region's default bus
 * (a cross-region bus target, with a role that may put events on that bus only), and a rule there
 * with the same pattern invokes the function.
 *
 * The alarm goes to ALARM only after the configured minutes of failed health checks, and
 * EventBridge emits one event per state change, so each outage starts at most one failover; a
 * duplicate delivery finds the operation lock taken. Each target retries for 15 minutes
 * (`FAILOVER_TARGET_RETRY`), then parks the event in a dead-letter queue of its rule's region,
 * whose alarm notifies that region's alert topic.
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
    const eventPattern = JSON.stringify(this.eventPattern);
    const description = `Unplanned failover when ${props.alarmName} goes to ALARM`;

    if (props.alarmRegion !== props.region) {
      this.addForwarding(props, eventPattern, description);
    }

    this.ruleName = autoFailoverRuleName(namePrefix);
    const rule = new CloudwatchEventRule(this, "rule", {
      provider,
      name: this.ruleName,
      description,
      eventPattern,
      state: "ENABLED",
    });
    const deadLetters = new DeadLetterQueue(this, "dead-letters", {
      provider,
      region: props.region,
      name: `${this.ruleName}-dlq`,
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

  private addForwarding(
    props: AutomaticFailoverTriggerProps,
    eventPattern: string,
    description: string,
  ): void {
    const { namePrefix, accountId } = props;
    const ruleName = `${namePrefix}-dr-auto-failover-forward`;
    const ruleArn = `arn:aws:events:${props.alarmRegion}:${accountId}:rule/${ruleName}`;
    const busArn = `arn:aws:events:${props.region}:${accountId}:event-bus/default`;

    const trust = new DataAwsIamPolicyDocument(this, "forwarder-trust", {
      provider: props.provider,
      statement: [
        {
          actions: ["sts:AssumeRole"],
          principals: [{ type: "Service", identifiers: ["events.amazonaws.com"] }],
          // Only this rule, in this account, may use the role.
          condition: [
            { test: "StringEquals", variable: "aws:SourceAccount", values: [accountId] },
            { test: "StringEquals", variable: "aws:SourceArn", values: [ruleArn] },
          ],
        },
      ],
    });
    const role = new IamRole(this, "forwarder-role", {
      provider: props.provider,
      name: `${namePrefix}-dr-auto-failover-forward`,
      description: `Forwards ${props.alarmName} state changes to ${props.region}`,
      assumeRolePolicy: trust.json,
    });
    const permissions = new DataAwsIamPolicyDocument(this, "forwarder-permissions", {
      provider: props.provider,
      statement: [
        { sid: "PutOnAutomationBus", actions: ["events:PutEvents"], resources: [busArn] },
      ],
    });
    new IamRolePolicy(this, "forwarder-policy", {
      provider: props.provider,
      role: role.id,
      name: "forward-alarm-events",
      policy: permissions.json,
    });

    const rule = new CloudwatchEventRule(this, "forward-rule", {
      provider: props.alarmProvider,
      name: ruleName,
      description: `${description} (forwards to ${props.region})`,
      eventPattern,
      state: "ENABLED",
    });
    const deadLetters = new DeadLetterQueue(this, "forward-dead-letters", {
      provider: props.alarmProvider,
      region: props.alarmRegion,
      name: `${ruleName}-dlq`,
      contents: `Alarm events forwarded to ${props.region}`,
      kmsKeyArn: props.alarmRegionDeadLetters.kmsKeyArn,
      alarmTopicArn: props.alarmRegionDeadLetters.alarmTopicArn,
      ruleArns: [ruleArn],
    });
    new CloudwatchEventTarget(this, "forward-target", {
      provider: props.alarmProvider,
      rule: rule.name,
      targetId: "automation-region-bus",
      arn: busArn,
      roleArn: role.arn,
      retryPolicy: { ...FAILOVER_TARGET_RETRY },
      deadLetterConfig: { arn: deadLetters.queueArn },
    });
  }
}
