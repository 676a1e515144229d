import { CloudwatchDashboard } from "@cdktf/provider-aws/lib/cloudwatch-dashboard";
import {
  CloudwatchMetricAlarm,
  type CloudwatchMetricAlarmConfig,
} from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicPolicy } from "@cdktf/provider-aws/lib/sns-topic-policy";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { Construct } from "constructs";
import {
  DETECTION_SIGNALS,
  DR_METRIC_NAMESPACE,
  PRIMARY_DOWN_METRIC,
  PROBE_SIGNAL_METRIC,
  primaryDownAlarmName,
  primaryDownDimensions,
  probeSignalDimensions,
  TRAFFIC_FENCE_METRIC,
  trafficFenceDimensions,
} from "../../functions/shared/dr-metrics";
import {
  globalDatabaseMetricQuery,
  REPLICATION_LAG_METRIC,
  RPO_LAG_METRIC,
} from "../../functions/shared/global-database-metrics";
import { perRole, REGION_ROLES, type RegionRole } from "../../functions/shared/region-roles";
import { alertTopicName, endpointHealthAlarmName } from "../../functions/shared/resource-names";
import { isKnown, ProblemCollector } from "../errors";
import type { RegionContext } from "./region-context";

/** What monitoring needs to know about one region of the pair. */
export interface MonitoredRegion extends RegionContext {
  /** Provider of the region; the region's topic and alarms are created with it. */
  readonly provider: AwsProvider;
  /** Region of `provider`, e.g. `us-east-2`; dashboard widgets read this region's metrics. */
  readonly region: string;
  /**
   * Customer-managed KMS key of the region that encrypts its alert topic. Its policy must let
   * `cloudwatch.amazonaws.com` use `kms:Decrypt` and `kms:GenerateDataKey*`: CloudWatch cannot
   * publish to a topic under the AWS-managed `aws/sns` key.
   */
  readonly kmsKeyArn: string;
  /** `arn_suffix` of the region's application load balancer (the `LoadBalancer` dimension). */
  readonly loadBalancerArnSuffix: string;
  /** `arn_suffix` of the region's target group (the `TargetGroup` dimension). */
  readonly targetGroupArnSuffix: string;
  /**
   * Name of the region's Auto Scaling group. The group must collect the group metrics
   * `GroupInServiceInstances` and `GroupDesiredCapacity` (`enabled_metrics`), or the in-service
   * alarm goes to ALARM for lack of data.
   */
  readonly autoScalingGroupName: string;
  /** Identifier of the region's Aurora cluster in the global database. */
  readonly databaseClusterIdentifier: string;
  /** This region's assets bucket: the source of the replication rule monitored here. */
  readonly assetsBucketName: string;
  /** The other region's assets bucket: the destination of that rule. */
  readonly replicaBucketName: string;
}

export interface MonitoringProps {
  /** Prefix of every name, `<project>-<env>`; alarm names add the role, e.g. `-primary-...`. */
  readonly namePrefix: string;
  /**
   * Address subscribed (protocol `email`) to every alert topic. SNS mails a confirmation link
   * per topic; nothing is delivered to the address until each one is clicked.
   */
  readonly alertEmail: string;
  /** The two regions of the pair. */
  readonly regions: Readonly<Record<RegionRole, MonitoredRegion>>;
  /**
   * Where Route 53 health-check metrics live (us-east-1): provider and a KMS key there. The
   * endpoint-health alarms and their alert topic are created with this provider.
   */
  readonly healthCheckMetrics: { readonly provider: AwsProvider; readonly kmsKeyArn: string };
  /** Route 53 health check of each region's endpoint (from `Dns.healthCheckIds`). */
  readonly healthCheckIds: Readonly<Record<RegionRole, string>>;
  /**
   * Aurora global replication lag, in seconds, that raises an alarm. Must stay below
   * `rpoSeconds` by more than the alarm's 60-second evaluation period, so the alarm fires
   * before a stalled replica's lag reaches the RPO.
   */
  readonly replicationLagAlarmSeconds: number;
  /** Recovery point objective: most acceptable data loss, in seconds. */
  readonly rpoSeconds: number;
  /**
   * Minutes the endpoint-health alarms must stay in ALARM (evaluation periods of 1 minute).
   * @default 3
   */
  readonly healthAlarmMinutes?: number;
  /**
   * Id of the S3 replication rule of each assets bucket (the `RuleId` dimension).
   * @default "replicate-everything" (the rule `BucketReplication` creates)
   */
  readonly replicationRuleId?: string;
}

/** Route 53 publishes health-check metrics only in this region. */
export const ROUTE53_METRICS_REGION = "us-east-1";

/** Seconds within which S3 Replication Time Control replicates 99.99% of objects. */
const RTC_THRESHOLD_SECONDS = 900;
/** Period of the Aurora lag alarm; also the slack the RPO check leaves for it to fire. */
const LAG_ALARM_PERIOD_SECONDS = 60;
/** CloudWatch limit: evaluation periods x period must fit in one day. */
const MAX_HEALTH_ALARM_MINUTES = 1440;
/** Load-balancer 5xx responses per minute that count as a bad minute. */
const FIVE_XX_PER_MINUTE = 10;
/** An instance launch and boot take a few minutes; below desired longer than this is stuck. */
const IN_SERVICE_GRACE_MINUTES = 10;

const EMAIL_PATTERN = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/**
 * Alerting and the at-a-glance view for the warm-standby pair.
 *
 * One KMS-encrypted SNS topic per region and one in us-east-1, each with the alert email
 * subscribed. Alarms notify the topic of the region they live in, on ALARM and on OK:
 * - in us-east-1, the Route 53 health-check status of each region's endpoint, named
 *   `<namePrefix>-<role>-endpoint-health`: notifications and the dashboard only, since nothing
 *   of the recovery path may depend on us-east-1 (automatic failover is decided in the
 *   secondary region, by the automation's primary-down alarm);
 * - per region, load-balancer and target 5xx, unhealthy targets, in-service instances below
 *   desired, Aurora global replication lag against the RPO, and S3 replication latency (RTC) and
 *   failed operations of the replication rule whose source is that region's assets bucket.
 *
 * One CloudWatch dashboard in the primary region shows both regions side by side, with the
 * automation's own signals from the secondary region (dr-metrics.ts): probe-primary's verdict
 * and signals, and the traffic fences.
 */
export class Monitoring extends Construct {
  /** Alert topic of each region. */
  readonly topicArns: Readonly<Record<RegionRole, string>>;
  /** Alert topic in us-east-1, which the endpoint-health alarms notify. */
  readonly healthTopicArn: string;
  /** Health-check alarm of each region's endpoint (in us-east-1). */
  readonly healthAlarmArns: Readonly<Record<RegionRole, string>>;
  readonly healthAlarmNames: Readonly<Record<RegionRole, string>>;
  readonly dashboardName: string;
  /** https://console.aws.amazon.com/cloudwatch/home?region=<primary>#dashboards:name=<name> */
  readonly dashboardUrl: string;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const healthAlarmMinutes = props.healthAlarmMinutes ?? 3;
    const replicationRuleId = props.replicationRuleId ?? "replicate-everything";
    validate(this.node.path, props, healthAlarmMinutes, replicationRuleId);

    const { namePrefix, regions } = props;
    // One identity lookup serves every topic policy: the account is the same in all regions.
    const accountId = new DataAwsCallerIdentity(this, "account", {
      provider: regions.primary.provider,
    }).accountId;

    this.topicArns = perRole((role) => {
      const { provider, region, kmsKeyArn } = regions[role];
      return new AlertTopic(this, `${role}-alerts`, {
        provider,
        region,
        accountId,
        kmsKeyArn,
        topicName: alertTopicName(namePrefix, role),
        alarmNamePrefix: namePrefix,
        email: props.alertEmail,
      }).topicArn;
    });
    this.healthTopicArn = new AlertTopic(this, "health-check-alerts", {
      provider: props.healthCheckMetrics.provider,
      region: ROUTE53_METRICS_REGION,
      accountId,
      kmsKeyArn: props.healthCheckMetrics.kmsKeyArn,
      topicName: `${namePrefix}-health-check-alerts`,
      alarmNamePrefix: namePrefix,
      email: props.alertEmail,
    }).topicArn;

    this.healthAlarmArns = perRole((role) => {
      const alarm = this.addEndpointHealthAlarm(props, role, healthAlarmMinutes);
      this.addRegionalAlarms(props, role, replicationRuleId);
      return alarm.arn;
    });
    // The literal names, not the resources' tokens: callers build event patterns from them.
    this.healthAlarmNames = perRole((role) => endpointHealthAlarmName(props.namePrefix, role));

    this.dashboardName = `${namePrefix}-dr`;
    new CloudwatchDashboard(this, "dashboard", {
      provider: regions.primary.provider,
      dashboardName: this.dashboardName,
      dashboardBody: JSON.stringify(dashboardBody(props, replicationRuleId)),
    });
    this.dashboardUrl =
      `https://console.aws.amazon.com/cloudwatch/home?region=${regions.primary.region}` +
      `#dashboards:name=${this.dashboardName}`;
  }

  /**
   * Route 53 reports 1 (healthy) or 0 per minute from its global checkers, whatever state the
   * endpoint's region is in. Missing data therefore means the metric pipeline is broken, not
   * the endpoint: it must neither report an outage (breaching) nor a healthy endpoint
   * (notBreaching). `missing` lets the alarm go to INSUFFICIENT_DATA, which is notified too.
   * These alarms start nothing: automatic failover is decided in the secondary region.
   */
  private addEndpointHealthAlarm(
    props: MonitoringProps,
    role: RegionRole,
    minutes: number,
  ): CloudwatchMetricAlarm {
    return new CloudwatchMetricAlarm(this, `${role}-endpoint-health-alarm`, {
      provider: props.healthCheckMetrics.provider,
      alarmName: endpointHealthAlarmName(props.namePrefix, role),
      alarmDescription:
        `Route 53 health check of the ${role} endpoint (${props.regions[role].region}) failed ` +
        `for ${minutes} consecutive minutes. DNS already answers with the other region. ` +
        "For notification only: automatic failover is decided in the secondary region " +
        `(${primaryDownAlarmName(props.namePrefix)}).`,
      namespace: "AWS/Route53",
      metricName: "HealthCheckStatus",
      dimensions: { HealthCheckId: props.healthCheckIds[role] },
      statistic: "Minimum",
      period: 60,
      evaluationPeriods: minutes,
      datapointsToAlarm: minutes,
      comparisonOperator: "LessThanThreshold",
      threshold: 1,
      treatMissingData: "missing",
      ...notify(this.healthTopicArn),
      insufficientDataActions: [this.healthTopicArn],
    });
  }

  private addRegionalAlarms(props: MonitoringProps, role: RegionRole, ruleId: string): void {
    const target = props.regions[role];
    const { provider } = target;
    const prefix = `${props.namePrefix}-${role}`;
    const actions = notify(this.topicArns[role]);
    const alarm = (id: string, config: Omit<CloudwatchMetricAlarmConfig, "provider">) =>
      new CloudwatchMetricAlarm(this, `${role}-${id}-alarm`, { provider, ...config, ...actions });

    // The load balancer publishes 5xx counts only for minutes that had some, so a gap is a
    // minute without errors.
    for (const [id, metricName, source] of [
      ["elb-5xx", "HTTPCode_ELB_5XX_Count", "the load balancer itself (no healthy target)"],
      ["target-5xx", "HTTPCode_Target_5XX_Count", "the web instances"],
    ] as const) {
      alarm(id, {
        alarmName: `${prefix}-${id}`,
        alarmDescription: `More than ${FIVE_XX_PER_MINUTE} 5xx responses a minute from ${source} in ${target.region}, in 3 of the last 5 minutes.`,
        namespace: "AWS/ApplicationELB",
        metricName,
        dimensions: { LoadBalancer: target.loadBalancerArnSuffix },
        statistic: "Sum",
        period: 60,
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
        comparisonOperator: "GreaterThanThreshold",
        threshold: FIVE_XX_PER_MINUTE,
        treatMissingData: "notBreaching",
      });
    }

    // A gap in UnHealthyHostCount is no evidence of an unhealthy target; losing every instance
    // is caught by the in-service alarm and the Route 53 health check.
    alarm("unhealthy-hosts", {
      alarmName: `${prefix}-unhealthy-hosts`,
      alarmDescription: `Targets of the ${role} load balancer (${target.region}) failed health checks for 3 consecutive minutes.`,
      namespace: "AWS/ApplicationELB",
      metricName: "UnHealthyHostCount",
      dimensions: {
        TargetGroup: target.targetGroupArnSuffix,
        LoadBalancer: target.loadBalancerArnSuffix,
      },
      statistic: "Maximum",
      period: 60,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      comparisonOperator: "GreaterThanThreshold",
      threshold: 0,
      treatMissingData: "notBreaching",
    });

    // Only a secondary cluster reports the global-database lags, in its own region. The alarm
    // exists in both regions so it keeps working when a failover or switchover swaps the roles;
    // the writer's cluster reports nothing, hence notBreaching. It reads AuroraGlobalDBRPOLag,
    // the commits a failover with data loss would lose, through a Metrics Insights query that
    // matches whatever dimension sets CloudWatch publishes (see global-database-metrics.ts).
    alarm("rpo-lag", {
      alarmName: `${prefix}-aurora-rpo-lag`,
      alarmDescription:
        `The ${role} Aurora cluster (${target.region}) holds commits more than ` +
        `${props.replicationLagAlarmSeconds} s older than the writer's (AuroraGlobalDBRPOLag); ` +
        `the RPO is ${props.rpoSeconds} s.`,
      metricQuery: [
        {
          id: "rpo_lag",
          expression: globalDatabaseMetricQuery(RPO_LAG_METRIC, target.databaseClusterIdentifier),
          period: LAG_ALARM_PERIOD_SECONDS,
          label: "RPO lag (ms)",
          returnData: true,
        },
      ],
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      comparisonOperator: "GreaterThanThreshold",
      threshold: props.replicationLagAlarmSeconds * 1000, // the metric is in milliseconds
      treatMissingData: "notBreaching",
    });

    // S3 publishes replication metrics only while objects replicate: no data means nothing was
    // pending and nothing failed.
    const replication = {
      namespace: "AWS/S3",
      dimensions: {
        SourceBucket: target.assetsBucketName,
        DestinationBucket: target.replicaBucketName,
        RuleId: ruleId,
      },
      period: 300,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
    } as const;
    alarm("s3-replication-latency", {
      ...replication,
      alarmName: `${prefix}-s3-replication-latency`,
      alarmDescription: `Objects took longer than the ${RTC_THRESHOLD_SECONDS / 60}-minute Replication Time Control threshold to replicate from ${target.assetsBucketName} to ${target.replicaBucketName}.`,
      metricName: "ReplicationLatency",
      statistic: "Maximum",
      threshold: RTC_THRESHOLD_SECONDS,
    });
    alarm("s3-replication-failures", {
      ...replication,
      alarmName: `${prefix}-s3-replication-failures`,
      alarmDescription: `Objects failed to replicate from ${target.assetsBucketName} to ${target.replicaBucketName}; they will not be retried automatically.`,
      metricName: "OperationsFailedReplication",
      statistic: "Sum",
      threshold: 0,
    });

    // Group metrics are published every minute while collection is enabled; no data means
    // collection is off and this alarm is blind, which should be noticed: breaching.
    alarm("in-service", {
      alarmName: `${prefix}-in-service-below-desired`,
      alarmDescription: `The ${role} Auto Scaling group (${target.region}) has had fewer in-service instances than desired for ${IN_SERVICE_GRACE_MINUTES} minutes: launches are failing or instances keep being replaced.`,
      metricQuery: [
        {
          id: "below_desired",
          expression: "in_service < desired",
          label: "In-service below desired (1 = yes)",
          returnData: true,
        },
        {
          id: "in_service",
          metric: {
            namespace: "AWS/AutoScaling",
            metricName: "GroupInServiceInstances",
            dimensions: { AutoScalingGroupName: target.autoScalingGroupName },
            period: 60,
            stat: "Average",
          },
          returnData: false,
        },
        {
          id: "desired",
          metric: {
            namespace: "AWS/AutoScaling",
            metricName: "GroupDesiredCapacity",
            dimensions: { AutoScalingGroupName: target.autoScalingGroupName },
            period: 60,
            stat: "Average",
          },
          returnData: false,
        },
      ],
      evaluationPeriods: IN_SERVICE_GRACE_MINUTES,
      datapointsToAlarm: IN_SERVICE_GRACE_MINUTES,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      threshold: 1,
      treatMissingData: "breaching",
    });
  }
}

/** Every alarm reports both directions, so whoever got the alert also learns it cleared. */
function notify(topicArn: string) {
  return { alarmActions: [topicArn], okActions: [topicArn] };
}

interface AlertTopicProps {
  readonly provider: AwsProvider;
  readonly region: string;
  readonly accountId: string;
  readonly kmsKeyArn: string;
  readonly topicName: string;
  /** Only alarms whose names start with `<alarmNamePrefix>-` may publish. */
  readonly alarmNamePrefix: string;
  readonly email: string;
}

/**
 * A KMS-encrypted topic that CloudWatch alarms of this account and region may publish to, with
 * the alert email subscribed.
 */
class AlertTopic extends Construct {
  readonly topicArn: string;

  constructor(scope: Construct, id: string, props: AlertTopicProps) {
    super(scope, id);
    const { provider, region, accountId } = props;
    const topic = new SnsTopic(this, "topic", {
      provider,
      name: props.topicName,
      displayName: `${props.alarmNamePrefix} alerts`,
      kmsMasterKeyId: props.kmsKeyArn,
    });
    this.topicArn = topic.arn;

    // Replaces the default topic policy, which lets every principal of the account manage and
    // publish to the topic. Terraform and operators keep their access through IAM policies.
    const document = new DataAwsIamPolicyDocument(this, "policy-document", {
      provider,
      statement: [
        {
          sid: "AllowCloudWatchAlarmsToPublish",
          principals: [{ type: "Service", identifiers: ["cloudwatch.amazonaws.com"] }],
          actions: ["sns:Publish"],
          resources: [topic.arn],
          // Confused-deputy guard: only this account's alarms, in this region, with our names.
          condition: [
            { test: "StringEquals", variable: "aws:SourceAccount", values: [accountId] },
            {
              test: "ArnLike",
              variable: "aws:SourceArn",
              values: [
                `arn:aws:cloudwatch:${region}:${accountId}:alarm:${props.alarmNamePrefix}-*`,
              ],
            },
          ],
        },
        {
          // TLS only, as AWS recommends for SNS
          // (https://docs.aws.amazon.com/sns/latest/dg/sns-security-best-practices.html#enforce-encryption-data-in-transit).
          sid: "DenyInsecureTransport",
          effect: "Deny",
          principals: [{ type: "*", identifiers: ["*"] }],
          actions: ["sns:*"],
          resources: [topic.arn],
          condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
        },
      ],
    });
    new SnsTopicPolicy(this, "policy", { provider, arn: topic.arn, policy: document.json });

    // Stays "pending confirmation" until the recipient clicks the link SNS mails.
    new SnsTopicSubscription(this, "email", {
      provider,
      topicArn: topic.arn,
      protocol: "email",
      endpoint: props.email,
    });
  }
}

// ---- Dashboard body: the documented CloudWatch dashboard JSON, typed ----

/** Dashboard grid: 24 columns; each region gets half. */
const GRID_WIDTH = 24;
const WIDGET_HEIGHT = 6;
const COLUMN_X: Readonly<Record<RegionRole, number>> = { primary: 0, secondary: GRID_WIDTH / 2 };

interface MetricLineOptions {
  readonly stat: string;
  readonly label: string;
  readonly yAxis?: "left" | "right";
}

/**
 * `[namespace, metricName, dimension1Name, dimension1Value, ..., options]`, or `[{expression,
 * label, id}]` for a Metrics Insights query (dashboard body structure,
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html#CloudWatch-Dashboard-Properties-Metrics-Array-Format).
 */
type MetricLine =
  | [string, string, ...(string | MetricLineOptions)[]]
  | [{ readonly expression: string; readonly label: string; readonly id: string }];

interface MetricWidgetProperties {
  readonly title: string;
  readonly region: string;
  readonly view: "timeSeries";
  readonly stacked: false;
  readonly period: number;
  readonly metrics: MetricLine[];
  readonly yAxis?: { readonly left?: { readonly min?: number; readonly max?: number } };
  readonly annotations?: {
    readonly horizontal: readonly { readonly label: string; readonly value: number }[];
  };
}

export interface MetricWidget {
  readonly type: "metric";
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly properties: MetricWidgetProperties;
}

export interface DashboardBody {
  readonly widgets: MetricWidget[];
}

function metricLine(
  namespace: string,
  metricName: string,
  dimensions: Readonly<Record<string, string>>,
  options: MetricLineOptions,
): MetricLine {
  return [namespace, metricName, ...Object.entries(dimensions).flat(), options];
}

type RegionalWidget = (
  target: MonitoredRegion,
  props: MonitoringProps,
  ruleId: string,
) => Omit<MetricWidgetProperties, "region" | "view" | "stacked">;

/** The rows of the two region columns, top to bottom. */
const REGIONAL_ROWS: readonly RegionalWidget[] = [
  (target) => {
    const lb = { LoadBalancer: target.loadBalancerArnSuffix };
    return {
      title: "Load balancer requests and 5xx",
      period: 60,
      metrics: [
        metricLine("AWS/ApplicationELB", "RequestCount", lb, { stat: "Sum", label: "Requests" }),
        metricLine("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", lb, {
          stat: "Sum",
          label: "Load balancer 5xx",
          yAxis: "right",
        }),
        metricLine("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", lb, {
          stat: "Sum",
          label: "Target 5xx",
          yAxis: "right",
        }),
      ],
    };
  },
  (target) => {
    const group = {
      TargetGroup: target.targetGroupArnSuffix,
      LoadBalancer: target.loadBalancerArnSuffix,
    };
    return {
      title: "Healthy and unhealthy targets",
      period: 60,
      metrics: [
        metricLine("AWS/ApplicationELB", "HealthyHostCount", group, {
          stat: "Minimum",
          label: "Healthy",
        }),
        metricLine("AWS/ApplicationELB", "UnHealthyHostCount", group, {
          stat: "Maximum",
          label: "Unhealthy",
        }),
      ],
      yAxis: { left: { min: 0 } },
    };
  },
  (target) => {
    const asg = { AutoScalingGroupName: target.autoScalingGroupName };
    return {
      title: "Instances in service vs desired",
      period: 60,
      metrics: [
        metricLine("AWS/AutoScaling", "GroupInServiceInstances", asg, {
          stat: "Average",
          label: "In service",
        }),
        metricLine("AWS/AutoScaling", "GroupDesiredCapacity", asg, {
          stat: "Average",
          label: "Desired",
        }),
      ],
      yAxis: { left: { min: 0 } },
    };
  },
  (target, props) => ({
    title: "Aurora global database lag (ms; reported by the replica cluster)",
    period: 60,
    metrics: [
      [
        {
          expression: globalDatabaseMetricQuery(RPO_LAG_METRIC, target.databaseClusterIdentifier),
          label: "RPO lag",
          id: "rpo_lag",
        },
      ],
      [
        {
          expression: globalDatabaseMetricQuery(
            REPLICATION_LAG_METRIC,
            target.databaseClusterIdentifier,
          ),
          label: "Replication lag",
          id: "replication_lag",
        },
      ],
    ],
    yAxis: { left: { min: 0 } },
    annotations: {
      horizontal: [
        { label: "Alarm", value: props.replicationLagAlarmSeconds * 1000 },
        { label: "RPO", value: props.rpoSeconds * 1000 },
      ],
    },
  }),
  (target, _props, ruleId) => {
    const rule = {
      SourceBucket: target.assetsBucketName,
      DestinationBucket: target.replicaBucketName,
      RuleId: ruleId,
    };
    return {
      title: `S3 replication to ${target.replicaBucketName} (s)`,
      period: 300,
      metrics: [
        metricLine("AWS/S3", "ReplicationLatency", rule, { stat: "Maximum", label: "Latency" }),
        metricLine("AWS/S3", "OperationsFailedReplication", rule, {
          stat: "Sum",
          label: "Failed operations",
          yAxis: "right",
        }),
      ],
      yAxis: { left: { min: 0 } },
      annotations: { horizontal: [{ label: "RTC threshold", value: RTC_THRESHOLD_SECONDS }] },
    };
  },
];

/**
 * The automation's detection and traffic lever, as probe-primary and flip-dns publish them in
 * the automation's region (the secondary): the verdict and each signal (1 = down), and each
 * region's fence (1 = fenced: Route 53 keeps its record out of DNS answers).
 */
function automationWidgets(props: MonitoringProps, y: number): MetricWidget[] {
  const automation = props.regions.secondary.region;
  const dimensions = (list: readonly { Name: string; Value: string }[]) =>
    Object.fromEntries(list.map((dimension) => [dimension.Name, dimension.Value]));
  const widget = (x: number, title: string, metrics: MetricLine[]): MetricWidget => ({
    type: "metric",
    x,
    y,
    width: GRID_WIDTH / 2,
    height: WIDGET_HEIGHT,
    properties: {
      title,
      region: automation,
      view: "timeSeries",
      stacked: false,
      period: 60,
      metrics,
      yAxis: { left: { min: 0, max: 1 } },
    },
  });
  return [
    widget(0, `Primary down? probe-primary from ${automation} (1 = down)`, [
      metricLine(
        DR_METRIC_NAMESPACE,
        PRIMARY_DOWN_METRIC,
        dimensions(primaryDownDimensions(props.namePrefix)),
        { stat: "Maximum", label: "Verdict (quorum, Route 53 veto)" },
      ),
      ...DETECTION_SIGNALS.map((signal) =>
        metricLine(
          DR_METRIC_NAMESPACE,
          PROBE_SIGNAL_METRIC,
          dimensions(probeSignalDimensions(props.namePrefix, signal)),
          { stat: "Maximum", label: `${signal} signal` },
        ),
      ),
    ]),
    widget(
      GRID_WIDTH / 2,
      `Traffic fences in ${automation} (1 = fenced: no DNS answers)`,
      REGION_ROLES.map((role) =>
        metricLine(
          DR_METRIC_NAMESPACE,
          TRAFFIC_FENCE_METRIC,
          dimensions(trafficFenceDimensions(props.namePrefix, role)),
          { stat: "Maximum", label: `${role} (${props.regions[role].region})` },
        ),
      ),
    ),
  ];
}

/**
 * Endpoint health across the full width on top (from us-east-1), the automation's detection and
 * traffic fences below it, then one column per region: primary on the left, secondary on the
 * right, the same metric on the same row.
 */
function dashboardBody(props: MonitoringProps, ruleId: string): DashboardBody {
  const widgets: MetricWidget[] = [
    {
      type: "metric",
      x: 0,
      y: 0,
      width: GRID_WIDTH,
      height: WIDGET_HEIGHT,
      properties: {
        title: "Endpoint health (Route 53 health checks; 1 = healthy)",
        region: ROUTE53_METRICS_REGION,
        view: "timeSeries",
        stacked: false,
        period: 60,
        metrics: REGION_ROLES.map((role) =>
          metricLine(
            "AWS/Route53",
            "HealthCheckStatus",
            { HealthCheckId: props.healthCheckIds[role] },
            { stat: "Minimum", label: `${role} (${props.regions[role].region})` },
          ),
        ),
        yAxis: { left: { min: 0, max: 1 } },
      },
    },
    ...automationWidgets(props, WIDGET_HEIGHT),
  ];
  const firstRegionalRow = 2;
  REGIONAL_ROWS.forEach((row, index) => {
    for (const role of REGION_ROLES) {
      const target = props.regions[role];
      const properties = row(target, props, ruleId);
      widgets.push({
        type: "metric",
        x: COLUMN_X[role],
        y: WIDGET_HEIGHT * (index + firstRegionalRow),
        width: GRID_WIDTH / 2,
        height: WIDGET_HEIGHT,
        properties: {
          ...properties,
          title: `${role} (${target.region}): ${properties.title}`,
          region: target.region,
          view: "timeSeries",
          stacked: false,
        },
      });
    }
  });
  return { widgets };
}

function validate(
  path: string,
  props: MonitoringProps,
  healthAlarmMinutes: number,
  replicationRuleId: string,
): void {
  const problems = new ProblemCollector();

  problems.regionPair("regions", props.regions);
  for (const role of REGION_ROLES) {
    const { region, provider } = props.regions[role];
    problems.same(
      `regions.${role}.region`,
      region,
      provider.region,
      `the region of regions.${role}.provider (${provider.region})`,
    );
  }
  const healthRegion = props.healthCheckMetrics.provider.region;
  if (isKnown(healthRegion) && healthRegion !== ROUTE53_METRICS_REGION) {
    problems.add(
      "healthCheckMetrics.provider.region",
      healthRegion,
      `${ROUTE53_METRICS_REGION}, the only region where Route 53 publishes health-check metrics`,
    );
  }
  if (isKnown(props.alertEmail) && !EMAIL_PATTERN.test(props.alertEmail)) {
    problems.add("alertEmail", props.alertEmail, "an email address such as alerts@example.com");
  }
  if (
    !Number.isInteger(healthAlarmMinutes) ||
    healthAlarmMinutes < 1 ||
    healthAlarmMinutes > MAX_HEALTH_ALARM_MINUTES
  ) {
    problems.add(
      "healthAlarmMinutes",
      healthAlarmMinutes,
      `a whole number of minutes from 1 to ${MAX_HEALTH_ALARM_MINUTES} (CloudWatch evaluates at most one day)`,
    );
  }
  if (isKnown(replicationRuleId) && replicationRuleId.trim() === "") {
    problems.add("replicationRuleId", replicationRuleId, "the id of the assets replication rule");
  }
  validateLagAgainstRpo(problems, props.replicationLagAlarmSeconds, props.rpoSeconds);
  problems.throwIfAnyFor(path);
}

/**
 * While replication is stalled the replica falls one second further behind every second, and
 * the alarm may fire up to one period after the lag crossed its threshold. For the alarm to
 * fire before the RPO is lost, threshold + period must stay below the RPO.
 */
function validateLagAgainstRpo(
  problems: ProblemCollector,
  lagSeconds: number,
  rpoSeconds: number,
): void {
  // The smallest RPO that leaves room for a 1-second threshold plus one alarm period.
  const smallestRpo = LAG_ALARM_PERIOD_SECONDS + 2;
  const rpoValid = Number.isInteger(rpoSeconds) && rpoSeconds >= smallestRpo;
  if (!rpoValid) {
    problems.add(
      "rpoSeconds",
      rpoSeconds,
      `a whole number of seconds of at least ${smallestRpo}: the RPO-lag alarm evaluates ${LAG_ALARM_PERIOD_SECONDS}-second periods and cannot warn sooner`,
    );
  }
  if (!Number.isInteger(lagSeconds) || lagSeconds < 1) {
    problems.add("replicationLagAlarmSeconds", lagSeconds, "a whole number of seconds >= 1");
  } else if (rpoValid && lagSeconds + LAG_ALARM_PERIOD_SECONDS >= rpoSeconds) {
    const limit = rpoSeconds - LAG_ALARM_PERIOD_SECONDS;
    problems.add(
      "replicationLagAlarmSeconds",
      lagSeconds,
      `less than ${limit} (rpoSeconds ${rpoSeconds} minus the alarm's ${LAG_ALARM_PERIOD_SECONDS}-second period), so the alarm fires before a stalled replica's lag reaches the RPO`,
    );
  }
}
