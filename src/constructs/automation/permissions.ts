import type { DataAwsIamPolicyDocumentStatement } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import type { RegionRole } from "../../../functions/shared/region-roles";
import { viaService } from "../service-trust";

/**
 * The IAM statements the automation's roles are made of: the resources they are scoped to and
 * the statements several roles share (describing the database, using the ledger, notifying).
 * Which role gets which is each function's `permissions` in functions.ts. No statement has a `*`
 * action; a `*` resource appears only with an action that AWS does not authorize per resource
 * (see {@link UNSCOPED_ACTIONS}), and the tests hold every statement to that.
 */

/**
 * Actions AWS authorizes only against `"Resource": "*"`: their Service Authorization Reference
 * entry lists no resource type. Each is named explicitly wherever it is granted.
 */
export const UNSCOPED_ACTIONS: Readonly<Record<string, string>> = {
  // "You specify the actions in the policy's Action field, and you specify a wildcard character
  // (*) as the resource value" (CloudWatch permissions reference).
  "cloudwatch:GetMetricData":
    "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/permissions-reference-cw.html",
  // Granted with a `cloudwatch:namespace` condition instead, the one scope the action has
  // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/iam-cw-condition-keys-namespace.html).
  "cloudwatch:PutMetricData":
    "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/permissions-reference-cw.html",
  // No resource type listed for DescribeAutoScalingGroups.
  "autoscaling:DescribeAutoScalingGroups":
    "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2autoscaling.html",
  // The log-delivery actions Step Functions needs to write to CloudWatch Logs; the documented
  // policy grants them on "*".
  "logs:CreateLogDelivery": "https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html",
  "logs:GetLogDelivery": "https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html",
  "logs:UpdateLogDelivery": "https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html",
  "logs:DeleteLogDelivery": "https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html",
  "logs:ListLogDeliveries": "https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html",
  "logs:PutResourcePolicy": "https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html",
  "logs:DescribeResourcePolicies":
    "https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html",
  "logs:DescribeLogGroups": "https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html",
  // X-Ray trace submission has no resource type (only with tracing on).
  "xray:PutTraceSegments":
    "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html",
  "xray:PutTelemetryRecords":
    "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html",
  "xray:GetSamplingRules":
    "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html",
  "xray:GetSamplingTargets":
    "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html",
};

/** The resources the automation's roles are scoped to. */
export interface AutomationResources {
  /** The automation's own region (the secondary region). */
  readonly region: string;
  readonly accountId: string;
  /** `arn:aws:rds::<account>:global-cluster:<id>` */
  readonly globalClusterArn: string;
  readonly clusterArns: Readonly<Record<RegionRole, string>>;
  readonly autoScalingGroupArns: Readonly<Record<RegionRole, string>>;
  readonly healthCheckArns: Readonly<Record<RegionRole, string>>;
  /** The `<parameterPath>db/writer-endpoint` parameter in each region. */
  readonly writerEndpointParameterArns: Readonly<Record<RegionRole, string>>;
  readonly ledgerTableArn: string;
  /** The primary-down alarm, which auto-failover reads again before a deferred start. */
  readonly triggerAlarmArn: string;
  /** CloudWatch namespace of the automation's own metrics (dr-metrics.ts `DR_METRIC_NAMESPACE`). */
  readonly drMetricNamespace: string;
  readonly topicArn: string;
  readonly topicKmsKeyArn: string;
  readonly stateMachineArn: string;
  /** `arn:aws:states:<region>:<account>:execution:<state machine name>:*` */
  readonly executionsArn: string;
  /** The key of the ledger table, the state machine and the log groups. */
  readonly kmsKeyArn: string;
  /** read-topology and read-traffic, which operations-api invokes for dry runs and /status. */
  readonly readerFunctionArns: readonly string[];
  /** `execute-api:Invoke` ARNs of the operations API's routes, which the drill calls. */
  readonly apiRouteInvokeArns: readonly string[];
  /** The drill report bucket. */
  readonly drillReportBucketArn: string;
  /** Where the drill writes its reports: `<bucket ARN>/drills/<environment>/*`. */
  readonly drillReportObjectsArn: string;
  /** CloudWatch namespace of the drill's metrics. */
  readonly drillMetricNamespace: string;
}

export type Statement = DataAwsIamPolicyDocumentStatement;

/** Reading the global cluster and both regional clusters. */
export function describeDatabase(resources: AutomationResources): Statement[] {
  return [
    {
      sid: "DescribeGlobalCluster",
      actions: ["rds:DescribeGlobalClusters"],
      resources: [resources.globalClusterArn],
    },
    {
      sid: "DescribeClusters",
      actions: ["rds:DescribeDBClusters"],
      resources: Object.values(resources.clusterArns),
    },
  ];
}

/** Every item action the ledger functions (functions/orchestration/ledger.ts) call. */
const LEDGER_ACTIONS = [
  "dynamodb:DeleteItem",
  "dynamodb:GetItem",
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
];

/**
 * DynamoDB encrypts the table with the automation key on the caller's behalf. `actions` narrows
 * the item actions (e.g. GetItem only for a function that only reads the traffic fences); the
 * key statement stays the one the KMS guide lists, usable through DynamoDB only.
 */
export function ledgerAccess(
  resources: AutomationResources,
  actions: readonly string[] = LEDGER_ACTIONS,
  onlyItems?: readonly string[],
): Statement[] {
  return [
    {
      sid: "UseLedger",
      actions: [...actions],
      resources: [resources.ledgerTableArn],
      // Only these items: the partition keys a request may name
      // (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html).
      ...(onlyItems
        ? {
            condition: [
              {
                test: "ForAllValues:StringEquals",
                variable: "dynamodb:LeadingKeys",
                values: [...onlyItems],
              },
            ],
          }
        : {}),
    },
    {
      // The actions the KMS guide lists for principals using a table under a customer managed
      // key (https://docs.aws.amazon.com/kms/latest/developerguide/services-dynamodb.html),
      // usable only through DynamoDB in this region.
      sid: "UseLedgerKeyThroughDynamoDb",
      actions: ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"],
      resources: [resources.kmsKeyArn],
      condition: [viaService(resources.region, "dynamodb")],
    },
  ];
}

/** The Auto Scaling groups' sizes and instances: DescribeAutoScalingGroups has no resource type. */
export function readCapacity(): Statement {
  return {
    sid: "ReadCapacity",
    actions: ["autoscaling:DescribeAutoScalingGroups"],
    resources: ["*"],
  };
}

/** Starting an operation: an execution of the failover workflow. */
export function startOperations(resources: AutomationResources): Statement {
  return {
    sid: "StartOperations",
    actions: ["states:StartExecution"],
    resources: [resources.stateMachineArn],
  };
}

/**
 * Starting an execution of a state machine encrypted with a customer managed key encrypts its
 * input, and reading an execution decrypts it; the encryption context names the state machine
 * (https://docs.aws.amazon.com/step-functions/latest/dg/encryption-at-rest.html).
 */
export function stateMachineKey(resources: AutomationResources): Statement {
  return {
    sid: "UseStateMachineKey",
    actions: ["kms:Decrypt", "kms:GenerateDataKey"],
    resources: [resources.kmsKeyArn],
    condition: [
      {
        test: "StringEquals",
        variable: "kms:EncryptionContext:aws:states:stateMachineArn",
        values: [resources.stateMachineArn],
      },
    ],
  };
}

/**
 * Publishing metrics to one namespace: PutMetricData has no resource type, so the namespace
 * condition is its only scope.
 */
export function publishMetrics(sid: string, namespace: string): Statement {
  return {
    sid,
    actions: ["cloudwatch:PutMetricData"],
    resources: ["*"],
    condition: [{ test: "StringEquals", variable: "cloudwatch:namespace", values: [namespace] }],
  };
}

/** Publishing to the alert topic, which is encrypted with a customer managed key. */
export function notify(resources: AutomationResources): Statement[] {
  return [
    { sid: "Notify", actions: ["sns:Publish"], resources: [resources.topicArn] },
    {
      // Publishing to a topic with server-side encryption
      // (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html).
      sid: "UseTopicKeyThroughSns",
      actions: ["kms:Decrypt", "kms:GenerateDataKey"],
      resources: [resources.topicKmsKeyArn],
      condition: [viaService(resources.region, "sns")],
    },
  ];
}

/** X-Ray segments from a traced Lambda function or state machine. */
export function tracingStatement(): Statement {
  return {
    sid: "SendTraces",
    actions: [
      "xray:GetSamplingRules",
      "xray:GetSamplingTargets",
      "xray:PutTelemetryRecords",
      "xray:PutTraceSegments",
    ],
    resources: ["*"],
  };
}
