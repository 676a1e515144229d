import type { DataAwsIamPolicyDocumentStatement } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import type { RegionRole } from "../../config/schema";

/**
 * What each automation role may do, as IAM policy statements: one function per role, each
 * listing the named resources it needs and nothing else. No statement has a `*` action; a `*`
 * resource appears only with an action that AWS does not authorize per resource (see
 * {@link UNSCOPED_ACTIONS}), and the tests hold every statement to that.
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

type Statement = DataAwsIamPolicyDocumentStatement;

const rds = {
  describe(resources: AutomationResources): Statement[] {
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
  },
};

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
function ledgerAccess(
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
      condition: [viaService("dynamodb", resources.region)],
    },
  ];
}

/**
 * Starting an execution of a state machine encrypted with a customer managed key encrypts its
 * input, and reading an execution decrypts it; the encryption context names the state machine
 * (https://docs.aws.amazon.com/step-functions/latest/dg/encryption-at-rest.html).
 */
function stateMachineKey(resources: AutomationResources): Statement {
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

function viaService(service: string, region: string) {
  return {
    test: "StringEquals",
    variable: "kms:ViaService",
    values: [`${service}.${region}.amazonaws.com`],
  };
}

import { FUNCTION_NAMES, type FunctionName } from "../../../functions/shared/function-names";
import { TRAFFIC_FENCES_KEY } from "../../../functions/shared/ledger-keys";

export { FUNCTION_NAMES, type FunctionName };

/** The statements of each function's role, besides writing its own log group. */
export const FUNCTION_PERMISSIONS: Readonly<
  Record<FunctionName, (resources: AutomationResources) => Statement[]>
> = {
  "read-topology": (resources) => [
    ...rds.describe(resources),
    {
      // AuroraGlobalDBReplicationLag of the replica cluster.
      sid: "ReadReplicationLag",
      actions: ["cloudwatch:GetMetricData"],
      resources: ["*"],
    },
  ],

  "read-traffic": (resources) => [
    // The traffic fences as flip-dns stored them (TRAFFIC#FENCES).
    ...ledgerAccess(resources, ["dynamodb:GetItem"], [TRAFFIC_FENCES_KEY]),
    {
      // Best effort: Route 53's API is served from us-east-1, so this reading may be missing.
      sid: "ReadEndpointHealth",
      actions: ["route53:GetHealthCheckStatus"],
      resources: Object.values(resources.healthCheckArns),
    },
    {
      sid: "ReadCapacity",
      actions: ["autoscaling:DescribeAutoScalingGroups"],
      resources: ["*"],
    },
  ],

  // Pure: builds the plan from the readings the preflight passes it.
  "plan-operation": () => [],

  "promote-database": (resources) => [
    ...rds.describe(resources),
    {
      // Either cluster can be the target: the secondary on failover, the primary on failback.
      // Each action is authorized on both the global cluster and the target cluster.
      sid: "PromoteCluster",
      actions: [
        "rds:FailoverGlobalCluster",
        "rds:RemoveFromGlobalCluster",
        "rds:SwitchoverGlobalCluster",
      ],
      resources: [resources.globalClusterArn, ...Object.values(resources.clusterArns)],
    },
    {
      // Detach-and-promote repoints the app at the detached cluster's own endpoint, in the
      // target region's copy of the parameter.
      sid: "RepointWriterEndpoint",
      actions: ["ssm:GetParameter", "ssm:PutParameter"],
      resources: Object.values(resources.writerEndpointParameterArns),
    },
  ],

  "check-writer": (resources) => rds.describe(resources),

  "scale-capacity": (resources) => [
    // Fencing takes the operation lock while it scales the old primary to zero.
    ...ledgerAccess(resources),
    {
      sid: "ScaleGroups",
      actions: ["autoscaling:UpdateAutoScalingGroup"],
      resources: Object.values(resources.autoScalingGroupArns),
    },
    {
      sid: "ReadCapacity",
      actions: ["autoscaling:DescribeAutoScalingGroups"],
      resources: ["*"],
    },
  ],

  // Moves traffic through the data plane, in the automation's region: stores the fences in the
  // ledger and publishes their TrafficFenced datapoints, which Route 53's fence health checks
  // follow. No Route 53 API call (its control plane is in us-east-1).
  "flip-dns": (resources) => [
    ...ledgerAccess(resources, ["dynamodb:GetItem", "dynamodb:PutItem"], [TRAFFIC_FENCES_KEY]),
    publishDrMetrics(resources, "PublishTrafficFences"),
  ],

  finish: (resources) => [...ledgerAccess(resources), ...notify(resources)],

  "operations-api": (resources) => [
    ...ledgerAccess(resources),
    {
      sid: "StartOperations",
      actions: ["states:StartExecution"],
      resources: [resources.stateMachineArn],
    },
    {
      sid: "ReadOperations",
      actions: ["states:DescribeExecution", "states:GetExecutionHistory"],
      resources: [resources.executionsArn],
    },
    stateMachineKey(resources),
    {
      // Dry runs and GET /status read both regions through the reader functions.
      sid: "InvokeReaders",
      actions: ["lambda:InvokeFunction"],
      resources: [...resources.readerFunctionArns],
    },
  ],

  "auto-failover": (resources) => [
    ...ledgerAccess(resources),
    {
      sid: "StartOperations",
      actions: ["states:StartExecution"],
      resources: [resources.stateMachineArn],
    },
    {
      // A lock left by a finished execution is released after checking the execution's status.
      sid: "ReadOperations",
      actions: ["states:DescribeExecution"],
      resources: [resources.executionsArn],
    },
    stateMachineKey(resources),
    {
      // A deferred trigger starts only if the alarm is still in ALARM.
      sid: "ReadTriggerAlarm",
      actions: ["cloudwatch:DescribeAlarms"],
      resources: [resources.triggerAlarmArn],
    },
    // Deferred, started and dropped triggers are notified.
    ...notify(resources),
  ],

  "probe-primary": (resources) => [
    {
      // The database signal: the primary cluster through the primary region's RDS API.
      sid: "ReadPrimaryCluster",
      actions: ["rds:DescribeDBClusters"],
      resources: [resources.clusterArns.primary],
    },
    {
      // Best effort: Route 53's HealthCheckStatus metric in us-east-1, read when that region
      // answers (the DNS answer stands in otherwise).
      sid: "ReadRoute53HealthMetric",
      actions: ["cloudwatch:GetMetricData"],
      resources: ["*"],
    },
    // The traffic fences it republishes every minute (TRAFFIC#FENCES).
    ...ledgerAccess(resources, ["dynamodb:GetItem"], [TRAFFIC_FENCES_KEY]),
    // PrimaryDown, the signals and the fences' TrafficFenced datapoints.
    publishDrMetrics(resources, "PublishDetectionSignals"),
  ],

  "run-drill": runDrill,
};

/** PutMetricData has no resource type; the namespace condition is its scope. */
function publishDrMetrics(resources: AutomationResources, sid: string): Statement {
  return {
    sid,
    actions: ["cloudwatch:PutMetricData"],
    resources: ["*"],
    condition: [
      {
        test: "StringEquals",
        variable: "cloudwatch:namespace",
        values: [resources.drMetricNamespace],
      },
    ],
  };
}

/** The drill calls the operations API like an operator, signed with its role's credentials. */
function runDrill(resources: AutomationResources): Statement[] {
  return [
    {
      sid: "InvokeOperationsApi",
      actions: ["execute-api:Invoke"],
      resources: [...resources.apiRouteInvokeArns],
    },
    {
      sid: "WriteReports",
      actions: ["s3:PutObject"],
      resources: [resources.drillReportObjectsArn],
    },
    {
      // PutObject under SSE-KMS generates a data key; with an S3 Bucket Key the encryption
      // context is the bucket's ARN, without one the object's
      // (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html).
      sid: "UseReportKeyThroughS3",
      actions: ["kms:GenerateDataKey"],
      resources: [resources.kmsKeyArn],
      condition: [
        viaService("s3", resources.region),
        {
          test: "StringLike",
          variable: "kms:EncryptionContext:aws:s3:arn",
          values: [resources.drillReportBucketArn, resources.drillReportObjectsArn],
        },
      ],
    },
    {
      // PutMetricData has no resource type; the namespace condition is its scope.
      sid: "PublishDrillMetrics",
      actions: ["cloudwatch:PutMetricData"],
      resources: ["*"],
      condition: [
        {
          test: "StringEquals",
          variable: "cloudwatch:namespace",
          values: [resources.drillMetricNamespace],
        },
      ],
    },
    ...notify(resources),
  ];
}

/** Publishing to the alert topic, which is encrypted with a customer managed key. */
function notify(resources: AutomationResources): Statement[] {
  return [
    { sid: "Notify", actions: ["sns:Publish"], resources: [resources.topicArn] },
    {
      // Publishing to a topic with server-side encryption
      // (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html).
      sid: "UseTopicKeyThroughSns",
      actions: ["kms:Decrypt", "kms:GenerateDataKey"],
      resources: [resources.topicKmsKeyArn],
      condition: [viaService("sns", resources.region)],
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
