import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Construct } from "constructs";
import { ProblemCollector } from "../errors";
import { confusedDeputyConditions } from "./service-trust";

export interface RegionalKeyProps {
  /** Provider of the region the key lives in. */
  readonly provider: AwsProvider;
  /** Region of `provider`; scopes the CloudWatch Logs grant to this region's log groups. */
  readonly region: string;
  /** Account that owns the key (usually `DataAwsCallerIdentity.accountId`). */
  readonly accountId: string;
  /** Key alias without the `alias/` prefix, e.g. `shopsmart-prod-primary`. */
  readonly aliasName: string;
  /**
   * Days a scheduled key deletion waits; a deleted key makes everything it encrypted unreadable.
   * @default 30
   */
  readonly deletionWindowDays?: number;
}

/**
 * A customer-managed KMS key for one region, with yearly rotation. Every regional resource that
 * stores data (buckets, logs, database, topics, secrets, backups) encrypts with its region's key,
 * so each region can decrypt its own data when the other is gone. Besides IAM-granted use, the
 * key policy lets CloudWatch Logs (log groups) and CloudWatch alarms (encrypted SNS topics) of
 * this region use it.
 */
export class RegionalKey extends Construct {
  readonly key: KmsKey;
  readonly keyArn: string;

  constructor(scope: Construct, id: string, props: RegionalKeyProps) {
    super(scope, id);
    const deletionWindowDays = props.deletionWindowDays ?? 30;
    const problems = new ProblemCollector();
    if (
      !Number.isInteger(deletionWindowDays) ||
      deletionWindowDays < 7 ||
      deletionWindowDays > 30
    ) {
      problems.add(
        "deletionWindowDays",
        deletionWindowDays,
        "a whole number of days from 7 to 30 (the KMS limits)",
      );
    }
    problems.throwIfAnyFor(this.node.path);

    const { provider, region, accountId } = props;
    const policy = new DataAwsIamPolicyDocument(this, "policy", {
      provider,
      statement: [
        {
          // The documented default statement: lets IAM policies in the account grant key use,
          // so each consumer gets access through its own least-privilege role policy.
          sid: "EnableIamPolicies",
          principals: [{ type: "AWS", identifiers: [`arn:aws:iam::${accountId}:root`] }],
          actions: ["kms:*"],
          resources: ["*"],
        },
        {
          // CloudWatch Logs encrypts as a service principal, which IAM policies cannot grant.
          sid: "AllowCloudWatchLogsInThisRegion",
          principals: [{ type: "Service", identifiers: [`logs.${region}.amazonaws.com`] }],
          actions: [
            "kms:Encrypt",
            "kms:Decrypt",
            "kms:ReEncrypt*",
            "kms:GenerateDataKey*",
            "kms:DescribeKey",
          ],
          resources: ["*"],
          condition: [
            {
              test: "ArnLike",
              variable: "kms:EncryptionContext:aws:logs:arn",
              values: [`arn:aws:logs:${region}:${accountId}:log-group:*`],
            },
          ],
        },
        {
          // CloudWatch alarms publish to SNS topics encrypted with this key; publishing needs the
          // key, and alarms cannot use topics under the AWS-managed aws/sns key at all.
          sid: "AllowCloudWatchAlarmsToPublishToEncryptedTopics",
          principals: [{ type: "Service", identifiers: ["cloudwatch.amazonaws.com"] }],
          actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
          resources: ["*"],
          condition: [
            { test: "StringEquals", variable: "aws:SourceAccount", values: [accountId] },
            {
              test: "ArnLike",
              variable: "aws:SourceArn",
              values: [`arn:aws:cloudwatch:${region}:${accountId}:alarm:*`],
            },
          ],
        },
        {
          // EventBridge sends undelivered events to dead-letter queues encrypted with this key
          // (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html,
          // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html#compatibility-with-aws-services).
          // Whether SQS passes the rule as aws:SourceArn to KMS is not documented, and a
          // condition on a missing key would drop the dead letters exactly when they matter, so
          // the IfExists conditions of service-trust.ts.
          sid: "AllowEventBridgeDeadLetterQueues",
          principals: [{ type: "Service", identifiers: ["events.amazonaws.com"] }],
          actions: ["kms:Decrypt", "kms:GenerateDataKey"],
          resources: ["*"],
          condition: confusedDeputyConditions(accountId, [
            `arn:aws:events:${region}:${accountId}:rule/*`,
          ]),
        },
        {
          // Vended log delivery (Step Functions and API Gateway logs) reads data encrypted with
          // this key when the state machine is encrypted with it (as aws-cdk's Step Functions
          // construct grants).
          sid: "AllowLogDeliveryToDecrypt",
          principals: [{ type: "Service", identifiers: ["delivery.logs.amazonaws.com"] }],
          actions: ["kms:Decrypt"],
          resources: ["*"],
          condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: [accountId] }],
        },
      ],
    });

    this.key = new KmsKey(this, "key", {
      provider,
      description: `Encrypts ${props.aliasName} data at rest`,
      enableKeyRotation: true,
      deletionWindowInDays: deletionWindowDays,
      policy: policy.json,
    });
    this.keyArn = this.key.arn;

    new KmsAlias(this, "alias", {
      provider,
      name: `alias/${props.aliasName}`,
      targetKeyId: this.key.keyId,
    });
  }
}
