import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import {
  DataAwsIamPolicyDocument,
  type DataAwsIamPolicyDocumentStatement,
} from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { SfnStateMachine } from "@cdktf/provider-aws/lib/sfn-state-machine";
import type { Construct } from "constructs";
import { serviceTrustPolicy } from "../service-trust";
import { tracingStatement } from "./permissions";

/** `arn:aws:states:<region>:<account>:stateMachine:<name>`, the ARN a state machine gets. */
export function stateMachineArnOf(region: string, accountId: string, name: string): string {
  return `arn:aws:states:${region}:${accountId}:stateMachine:${name}`;
}

/**
 * Decrypt and generate data keys under the automation key, in this state machine's encryption
 * context only: what running (or starting) a state machine encrypted with a customer managed key
 * needs (https://docs.aws.amazon.com/step-functions/latest/dg/encryption-at-rest.html).
 */
export function stateMachineKeyStatement(
  kmsKeyArn: string,
  stateMachineArn: string,
): DataAwsIamPolicyDocumentStatement {
  return {
    sid: "UseStateMachineKey",
    actions: ["kms:Decrypt", "kms:GenerateDataKey"],
    resources: [kmsKeyArn],
    condition: [
      {
        test: "StringEquals",
        variable: "kms:EncryptionContext:aws:states:stateMachineArn",
        values: [stateMachineArn],
      },
    ],
  };
}

export interface LoggedStateMachineProps {
  readonly provider: AwsProvider;
  readonly region: string;
  readonly accountId: string;
  /** The state machine's name; also its role's and log group's. */
  readonly name: string;
  /** Encrypts the definition, the execution data and the log group. */
  readonly kmsKeyArn: string;
  readonly logRetentionDays: number;
  readonly tracingEnabled: boolean;
  /** The Amazon States Language definition. */
  readonly definition: object;
  /** What the state machine's tasks invoke: the first statement of its role's policy. */
  readonly invokeStatement: DataAwsIamPolicyDocumentStatement;
  /** Name of the role's inline policy, e.g. `run-workflow`. */
  readonly policyName: string;
}

/**
 * The layout every state machine of the automation shares, added to `scope` (children `log-group`,
 * `trust`, `role`, `permissions`, `policy` and `state-machine`, so their Terraform addresses are
 * those of the construct that calls it):
 *
 * - a STANDARD state machine (durable, exactly-once steps, up to a year per execution, 90 days of
 *   history) encrypted with the automation key;
 * - logging at level ALL without execution data: every transition with its timestamp is kept as
 *   long as the log group keeps it, while inputs and results (reasons, caller ARNs, endpoints) stay
 *   in Step Functions only; ERROR alone would drop the timeline that RTO investigations need;
 * - a `/aws/vendedlogs/` log group, which keeps the CloudWatch Logs resource policy that log
 *   delivery writes within its size limit however many state machines log
 *   (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html);
 * - a role only this state machine of this account can assume, allowed `invokeStatement`, log
 *   delivery, the key in its own context, and X-Ray when tracing.
 */
export function addLoggedStateMachine(
  scope: Construct,
  props: LoggedStateMachineProps,
): { stateMachine: SfnStateMachine; role: IamRole } {
  const { provider, region, accountId, name, kmsKeyArn } = props;
  const stateMachineArn = stateMachineArnOf(region, accountId, name);

  const logGroup = new CloudwatchLogGroup(scope, "log-group", {
    provider,
    name: `/aws/vendedlogs/states/${name}`,
    retentionInDays: props.logRetentionDays,
    kmsKeyId: kmsKeyArn,
  });
  const trust = serviceTrustPolicy(scope, "trust", {
    provider,
    service: "states.amazonaws.com",
    // Confused-deputy guard: only this state machine of this account assumes the role.
    condition: [
      { test: "StringEquals", variable: "aws:SourceAccount", values: [accountId] },
      { test: "ArnLike", variable: "aws:SourceArn", values: [stateMachineArn] },
    ],
  });
  const role = new IamRole(scope, "role", {
    provider,
    name,
    description: `Runs the ${name} state machine`,
    assumeRolePolicy: trust.json,
  });
  const permissions = new DataAwsIamPolicyDocument(scope, "permissions", {
    provider,
    statement: [
      props.invokeStatement,
      {
        sid: "DeliverLogs",
        actions: [
          "logs:CreateLogDelivery",
          "logs:DeleteLogDelivery",
          "logs:DescribeLogGroups",
          "logs:DescribeResourcePolicies",
          "logs:GetLogDelivery",
          "logs:ListLogDeliveries",
          "logs:PutResourcePolicy",
          "logs:UpdateLogDelivery",
        ],
        resources: ["*"],
      },
      stateMachineKeyStatement(kmsKeyArn, stateMachineArn),
      {
        // Log delivery of an encrypted state machine encrypts with the same key, in the
        // context of this region's CloudWatch Logs.
        sid: "EncryptDeliveredLogs",
        actions: ["kms:GenerateDataKey"],
        resources: [kmsKeyArn],
        condition: [
          {
            test: "StringLike",
            variable: "kms:EncryptionContext:SourceArn",
            values: [`arn:aws:logs:${region}:${accountId}:*`],
          },
        ],
      },
      ...(props.tracingEnabled ? [tracingStatement()] : []),
    ],
  });
  const policy = new IamRolePolicy(scope, "policy", {
    provider,
    role: role.id,
    name: props.policyName,
    policy: permissions.json,
  });

  const stateMachine = new SfnStateMachine(scope, "state-machine", {
    provider,
    name,
    type: "STANDARD",
    roleArn: role.arn,
    definition: JSON.stringify(props.definition),
    loggingConfiguration: {
      level: "ALL",
      includeExecutionData: false,
      logDestination: `${logGroup.arn}:*`,
    },
    tracingConfiguration: { enabled: props.tracingEnabled },
    encryptionConfiguration: {
      type: "CUSTOMER_MANAGED_KMS_KEY",
      kmsKeyId: kmsKeyArn,
      kmsDataKeyReusePeriodSeconds: 300,
    },
    // Step Functions checks the role's log-delivery and key permissions on create.
    dependsOn: [policy],
  });
  return { stateMachine, role };
}
