import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import { SqsQueuePolicy } from "@cdktf/provider-aws/lib/sqs-queue-policy";
import { Construct } from "constructs";
import { SQS_QUEUE_NAME } from "../../aws-formats";
import { ProblemCollector } from "../../errors";

export interface DeadLetterQueueProps {
  readonly provider: AwsProvider;
  /** Region of `provider`: the queue must be in the region of the rule or schedule using it. */
  readonly region: string;
  /** Queue and alarm name, e.g. `shopsmart-prod-dr-auto-failover-dlq`. */
  readonly name: string;
  /** What ends up here, for the alarm's description, e.g. "auto-failover invocations". */
  readonly contents: string;
  /**
   * The region's KMS key. Its policy must let `events.amazonaws.com` use it when `ruleArns` is
   * set (`RegionalKey` does); a role that sends here needs `grantSendStatements`.
   */
  readonly kmsKeyArn: string;
  /** The topic the alarm notifies (encrypted with a key CloudWatch alarms may use). */
  readonly alarmTopicArn: string;
  /**
   * EventBridge rules whose targets send undelivered events here: the queue policy lets
   * `events.amazonaws.com` send on their behalf only.
   * @default - none: only IAM principals granted `grantSendStatements` send
   */
  readonly ruleArns?: readonly string[];
}

/** Days a dead letter is kept: SQS's maximum, so a weekend outage's failures are still there. */
const RETENTION_SECONDS = 14 * 24 * 3600;

/**
 * A dead-letter queue for the events that start automation (the auto-failover rule, its forwarder
 * in the alarm's region, the drill schedule), and an alarm that notifies as soon as one lands:
 * an event EventBridge or Scheduler gave up on after its retries is a failover or drill that did
 * not start, which must not wait for someone to notice.
 *
 * - Standard queue in the sender's region, as EventBridge requires
 *   (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html) and Scheduler too
 *   (https://docs.aws.amazon.com/scheduler/latest/UserGuide/configuring-schedule-dlq.html).
 * - SSE-KMS with the region's customer managed key: AWS event sources cannot use the AWS managed
 *   `aws/sqs` key, whose policy cannot be edited
 *   (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html#compatibility-with-aws-services).
 * - The queue policy admits `events.amazonaws.com` for the given rules only (`aws:SourceArn` is
 *   the rule's ARN, as eb-rule-dlq.html documents) and denies requests without TLS.
 * - The alarm reads `ApproximateNumberOfMessagesVisible` (Maximum over a minute). SQS stops
 *   publishing metrics for a queue inactive for six hours and resumes when a message arrives
 *   (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html),
 *   so missing data is an empty queue: notBreaching.
 */
export class DeadLetterQueue extends Construct {
  readonly queueArn: string;
  readonly queueUrl: string;
  readonly alarmName: string;
  private readonly kmsKeyArn: string;

  constructor(scope: Construct, id: string, props: DeadLetterQueueProps) {
    super(scope, id);
    validate(this.node.path, props);
    const { provider } = props;
    this.kmsKeyArn = props.kmsKeyArn;

    const queue = new SqsQueue(this, "queue", {
      provider,
      name: props.name,
      messageRetentionSeconds: RETENTION_SECONDS,
      kmsMasterKeyId: props.kmsKeyArn,
      // Fewer KMS calls; the default is 300 s.
      kmsDataKeyReusePeriodSeconds: 3600,
    });
    this.queueArn = queue.arn;
    this.queueUrl = queue.url;

    const ruleArns = props.ruleArns ?? [];
    const document = new DataAwsIamPolicyDocument(this, "policy-document", {
      provider,
      statement: [
        ...(ruleArns.length > 0
          ? [
              {
                sid: "AllowRuleDeadLetters",
                principals: [{ type: "Service", identifiers: ["events.amazonaws.com"] }],
                actions: ["sqs:SendMessage"],
                resources: [queue.arn],
                condition: [
                  { test: "ArnEquals", variable: "aws:SourceArn", values: [...ruleArns] },
                ],
              },
            ]
          : []),
        {
          sid: "DenyInsecureTransport",
          effect: "Deny",
          principals: [{ type: "*", identifiers: ["*"] }],
          actions: ["sqs:*"],
          resources: [queue.arn],
          condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
        },
      ],
    });
    new SqsQueuePolicy(this, "policy", { provider, queueUrl: queue.url, policy: document.json });

    this.alarmName = props.name;
    new CloudwatchMetricAlarm(this, "alarm", {
      provider,
      alarmName: props.name,
      alarmDescription: `${props.contents} failed after every retry and were parked in ${props.name} (${props.region}): the automation they start did not run. Read the messages, then start it by hand.`,
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: props.name },
      statistic: "Maximum",
      period: 60,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      comparisonOperator: "GreaterThanThreshold",
      threshold: 0,
      treatMissingData: "notBreaching",
      alarmActions: [props.alarmTopicArn],
      okActions: [props.alarmTopicArn],
    });
  }

  /**
   * Statements for a role that sends here itself (an EventBridge Scheduler execution role):
   * `sqs:SendMessage` on the queue and the key use SQS needs for it.
   */
  grantSendStatements(): { sid: string; actions: string[]; resources: string[] }[] {
    return [
      { sid: "SendDeadLetters", actions: ["sqs:SendMessage"], resources: [this.queueArn] },
      {
        sid: "EncryptDeadLetters",
        actions: ["kms:GenerateDataKey", "kms:Decrypt"],
        resources: [this.kmsKeyArn],
      },
    ];
  }
}

function validate(path: string, props: DeadLetterQueueProps): void {
  const problems = new ProblemCollector();
  problems.pattern("name", props.name, SQS_QUEUE_NAME);
  problems.throwIfAnyFor(path);
}
