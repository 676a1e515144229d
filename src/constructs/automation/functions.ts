/**
 * The automation's Lambda functions, one entry each, as a cdk-nag pack registers one rule per
 * entry: what the function is (description), how long it may run, what its role may do and what
 * it finds in its environment. The Automation construct deploys every entry from this table;
 * the handler list itself (functions/shared/function-names.ts) stays in the Lambda layer, which
 * may not import infrastructure code, and the table's type requires exactly one entry per
 * handler there.
 *
 * Adding a function: its handler `functions/handlers/<name>.ts`, its name in FUNCTION_NAMES, and
 * one entry here (tsc reports a missing one).
 */
// Types only: infrastructure never loads Lambda code, but writes the variables the Lambdas parse.
import type { AutoFailoverSettings } from "../../../functions/orchestration/automatic-failover";
import type { DrillSettings } from "../../../functions/shared/drill-settings";
import {
  FUNCTION_NAMES,
  type FunctionName,
  HANDLERS_DIR,
  handlerEntries,
  handlerEntry,
} from "../../../functions/shared/function-names";
import { TRAFFIC_FENCES_KEY } from "../../../functions/shared/ledger-keys";
import { viaService } from "../service-trust";
import {
  type AutomationResources,
  describeDatabase,
  ledgerAccess,
  notify,
  publishMetrics,
  readCapacity,
  type Statement,
  startOperations,
  stateMachineKey,
} from "./permissions";

export { FUNCTION_NAMES, type FunctionName, HANDLERS_DIR, handlerEntries, handlerEntry };

/** What a function's extra environment variables are built from. */
export interface FunctionEnvironmentContext {
  /** run-drill's SHOPSMART_DR_DRILL (functions/shared/drill-settings.ts). */
  readonly drillSettings: DrillSettings;
  /** auto-failover's SHOPSMART_DR_AUTO_FAILOVER (functions/orchestration/automatic-failover.ts). */
  readonly autoFailover: AutoFailoverSettings;
}

/** One Lambda function of the automation. */
export interface AutomationFunctionSpec {
  /** The function's description in Lambda. */
  readonly description: string;
  /** The function's timeout. */
  readonly timeoutSeconds: number;
  /** The statements of the function's role, besides writing its own log group. */
  readonly permissions: (resources: AutomationResources) => Statement[];
  /**
   * Environment variables of this function only.
   * @default - none: every function gets SHOPSMART_DR_SETTINGS and NODE_OPTIONS only
   */
  readonly environment?: (context: FunctionEnvironmentContext) => Readonly<Record<string, string>>;
  /**
   * A feature the function exists for: deployed only when that feature is enabled.
   * @default - always deployed
   */
  readonly deployedWith?: "automaticFailover";
}

/** The automation's functions. */
export const AUTOMATION_FUNCTIONS: Readonly<Record<FunctionName, AutomationFunctionSpec>> = {
  "read-topology": {
    description: "Reads the global database topology and replication lag in both regions",
    timeoutSeconds: 60,
    permissions: (resources) => [
      ...describeDatabase(resources),
      {
        // AuroraGlobalDBReplicationLag of the replica cluster.
        sid: "ReadReplicationLag",
        actions: ["cloudwatch:GetMetricData"],
        resources: ["*"],
      },
    ],
  },

  "read-traffic": {
    description: "Reads endpoint health and Auto Scaling capacity in both regions",
    timeoutSeconds: 60,
    permissions: (resources) => [
      // The traffic fences as flip-dns stored them (TRAFFIC#FENCES).
      ...ledgerAccess(resources, ["dynamodb:GetItem"], [TRAFFIC_FENCES_KEY]),
      {
        // Best effort: Route 53's API is served from us-east-1, so this reading may be missing.
        sid: "ReadEndpointHealth",
        actions: ["route53:GetHealthCheckStatus"],
        resources: Object.values(resources.healthCheckArns),
      },
      readCapacity(),
    ],
  },

  "plan-operation": {
    description: "Builds the operation's plan from the preflight readings; blockers stop it",
    timeoutSeconds: 30,
    // Pure: builds the plan from the readings the preflight passes it.
    permissions: () => [],
  },

  "promote-database": {
    description: "Switches over, fails over or detaches-and-promotes the target cluster",
    timeoutSeconds: 60,
    permissions: (resources) => [
      ...describeDatabase(resources),
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
  },

  "check-writer": {
    description: "Checks whether the target cluster is the available writer",
    timeoutSeconds: 30,
    permissions: describeDatabase,
  },

  "scale-capacity": {
    description: "Sets one region's Auto Scaling group to active or standby sizes",
    timeoutSeconds: 60,
    permissions: (resources) => [
      // Fencing takes the operation lock while it scales the old primary to zero.
      ...ledgerAccess(resources),
      {
        sid: "ScaleGroups",
        actions: ["autoscaling:UpdateAutoScalingGroup"],
        resources: Object.values(resources.autoScalingGroupArns),
      },
      readCapacity(),
    ],
  },

  "flip-dns": {
    description: "Moves traffic to the target region with the Route 53 traffic-fence health checks",
    timeoutSeconds: 90,
    // Moves traffic through the data plane, in the automation's region: stores the fences in the
    // ledger and publishes their TrafficFenced datapoints, which Route 53's fence health checks
    // follow. No Route 53 API call (its control plane is in us-east-1).
    permissions: (resources) => [
      ...ledgerAccess(resources, ["dynamodb:GetItem", "dynamodb:PutItem"], [TRAFFIC_FENCES_KEY]),
      publishMetrics("PublishTrafficFences", resources.drMetricNamespace),
    ],
  },

  finish: {
    description: "Records the operation's outcome, releases the lock and notifies",
    timeoutSeconds: 60,
    permissions: (resources) => [...ledgerAccess(resources), ...notify(resources)],
  },

  "operations-api": {
    description: "Failover HTTP API: POST /failover, POST /failback, GET /status, /operations",
    timeoutSeconds: 60,
    permissions: (resources) => [
      ...ledgerAccess(resources),
      startOperations(resources),
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
  },

  "auto-failover": {
    description: "Starts an unplanned failover when the standby side's primary-down alarm fires",
    timeoutSeconds: 60,
    deployedWith: "automaticFailover",
    permissions: (resources) => [
      ...ledgerAccess(resources),
      startOperations(resources),
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
    environment: ({ autoFailover }) => ({
      SHOPSMART_DR_AUTO_FAILOVER: JSON.stringify(autoFailover),
    }),
  },

  "probe-primary": {
    description:
      "Probes the primary region from the secondary and publishes the PrimaryDown signal",
    // Its probes run in parallel, each cut off after detection.probeTimeoutSeconds (5 s); while
    // only Route 53's veto holds a quorum back it rereads Route 53 inside VETO_RECHECK_SECONDS
    // (40 s), then publishes: under a minute, so a run ends before the next one starts.
    timeoutSeconds: 55,
    permissions: (resources) => [
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
      publishMetrics("PublishDetectionSignals", resources.drMetricNamespace),
    ],
  },

  "run-drill": {
    description:
      "Runs the DR drill through the operations API, then stores and publishes its report",
    // One drill tick makes a few API calls of at most 30 s each; the report writes to S3,
    // CloudWatch and SNS.
    timeoutSeconds: 120,
    // The drill calls the operations API like an operator, signed with its role's credentials.
    permissions: (resources) => [
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
          viaService(resources.region, "s3"),
          {
            test: "StringLike",
            variable: "kms:EncryptionContext:aws:s3:arn",
            values: [resources.drillReportBucketArn, resources.drillReportObjectsArn],
          },
        ],
      },
      publishMetrics("PublishDrillMetrics", resources.drillMetricNamespace),
      ...notify(resources),
    ],
    environment: ({ drillSettings }) => ({
      SHOPSMART_DR_DRILL: JSON.stringify(drillSettings),
    }),
  },
};
