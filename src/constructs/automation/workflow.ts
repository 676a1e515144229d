import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { SfnStateMachine } from "@cdktf/provider-aws/lib/sfn-state-machine";
import { Construct } from "constructs";
import { tracingStatement } from "./permissions";
import { type WorkflowFunctionArns, workflowDefinition } from "./state-machine";

export interface OperationWorkflowProps {
  readonly provider: AwsProvider;
  readonly region: string;
  readonly accountId: string;
  /** State machine name; its ARN is known before it exists (the functions' settings need it). */
  readonly name: string;
  readonly functionArns: WorkflowFunctionArns;
  /** Encrypts the state machine's definition and execution data, and its log group. */
  readonly kmsKeyArn: string;
  readonly logRetentionDays: number;
  readonly tracingEnabled: boolean;
}

/** `arn:aws:states:<region>:<account>:stateMachine:<name>`, the ARN a state machine gets. */
export function stateMachineArnOf(region: string, accountId: string, name: string): string {
  return `arn:aws:states:${region}:${accountId}:stateMachine:${name}`;
}

/** Every execution of the state machine: `arn:aws:states:<region>:<account>:execution:<name>:*`. */
export function executionsArnOf(region: string, accountId: string, name: string): string {
  return `arn:aws:states:${region}:${accountId}:execution:${name}:*`;
}

/**
 * The failover/failback workflow: a STANDARD state machine (durable, exactly-once steps,
 * 90 days of execution history for GET /operations/{id}) encrypted with the automation key,
 * a role that may only invoke the step functions and deliver its logs, and a log group.
 *
 * Logging is level ALL without execution data: every state transition with its timestamp is
 * kept as long as the log group keeps it (the execution history expires after 90 days), while
 * inputs and results (reasons, caller ARNs, endpoints) stay only in Step Functions and the
 * ledger. ERROR alone would drop the timeline that RTO investigations need.
 */
export class OperationWorkflow extends Construct {
  readonly stateMachineArn: string;
  readonly stateMachineName: string;
  readonly roleArn: string;

  constructor(scope: Construct, id: string, props: OperationWorkflowProps) {
    super(scope, id);
    const { provider, region, accountId, name } = props;
    const stateMachineArn = stateMachineArnOf(region, accountId, name);

    // The /aws/vendedlogs/ prefix keeps the CloudWatch Logs resource policy that log delivery
    // writes within its size limit however many state machines log
    // (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html).
    const logGroup = new CloudwatchLogGroup(this, "log-group", {
      provider,
      name: `/aws/vendedlogs/states/${name}`,
      retentionInDays: props.logRetentionDays,
      kmsKeyId: props.kmsKeyArn,
    });

    const trust = new DataAwsIamPolicyDocument(this, "trust", {
      provider,
      statement: [
        {
          actions: ["sts:AssumeRole"],
          principals: [{ type: "Service", identifiers: ["states.amazonaws.com"] }],
          // Confused-deputy guard: only this state machine of this account assumes the role.
          condition: [
            { test: "StringEquals", variable: "aws:SourceAccount", values: [accountId] },
            { test: "ArnLike", variable: "aws:SourceArn", values: [stateMachineArn] },
          ],
        },
      ],
    });
    const role = new IamRole(this, "role", {
      provider,
      name,
      description: `Runs the ${name} state machine`,
      assumeRolePolicy: trust.json,
    });
    const functionArns = Object.values(props.functionArns);
    const permissions = new DataAwsIamPolicyDocument(this, "permissions", {
      provider,
      statement: [
        {
          // `<arn>:*` covers invocations of a version or alias of the same function.
          sid: "InvokeSteps",
          actions: ["lambda:InvokeFunction"],
          resources: [...functionArns, ...functionArns.map((arn) => `${arn}:*`)],
        },
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
        {
          // Definition and execution data under the customer managed key, this state machine's
          // only (https://docs.aws.amazon.com/step-functions/latest/dg/encryption-at-rest.html).
          sid: "UseStateMachineKey",
          actions: ["kms:Decrypt", "kms:GenerateDataKey"],
          resources: [props.kmsKeyArn],
          condition: [
            {
              test: "StringEquals",
              variable: "kms:EncryptionContext:aws:states:stateMachineArn",
              values: [stateMachineArn],
            },
          ],
        },
        {
          // Log delivery of an encrypted state machine encrypts with the same key, in the
          // context of this region's CloudWatch Logs.
          sid: "EncryptDeliveredLogs",
          actions: ["kms:GenerateDataKey"],
          resources: [props.kmsKeyArn],
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
    const policy = new IamRolePolicy(this, "policy", {
      provider,
      role: role.id,
      name: "run-workflow",
      policy: permissions.json,
    });

    const stateMachine = new SfnStateMachine(this, "state-machine", {
      provider,
      name,
      type: "STANDARD",
      roleArn: role.arn,
      definition: JSON.stringify(workflowDefinition(props.functionArns)),
      loggingConfiguration: {
        level: "ALL",
        includeExecutionData: false,
        logDestination: `${logGroup.arn}:*`,
      },
      tracingConfiguration: { enabled: props.tracingEnabled },
      encryptionConfiguration: {
        type: "CUSTOMER_MANAGED_KMS_KEY",
        kmsKeyId: props.kmsKeyArn,
        kmsDataKeyReusePeriodSeconds: 300,
      },
      // Step Functions checks the role's log-delivery and key permissions on create.
      dependsOn: [policy],
    });
    this.stateMachineArn = stateMachine.arn;
    this.stateMachineName = name;
    this.roleArn = role.arn;
  }
}
