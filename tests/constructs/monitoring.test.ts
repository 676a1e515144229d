import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { type TerraformStack, TerraformVariable } from "cdktf";
import { describe, expect, it } from "vitest";
import type { RegionRole } from "../../src/config/schema";
import {
  type DashboardBody,
  type MetricWidget,
  Monitoring,
  type MonitoringProps,
} from "../../src/constructs/monitoring";
import {
  listResources,
  policyStatements,
  resourceAt,
  resourcesOf,
  type SynthesizedStack,
  stackWithProviders,
  synth,
  TEST_REGIONS,
} from "../support/synth";

const ACCOUNT_TOKEN = expect.stringMatching(/^\$\{data\.aws_caller_identity\..*\.account_id\}$/);
const KEYS = {
  primary: "arn:aws:kms:us-east-2:111111111111:key/primary",
  secondary: "arn:aws:kms:us-west-2:111111111111:key/secondary",
  healthMetrics: "arn:aws:kms:us-east-1:111111111111:key/health-metrics",
};
const ASSETS = {
  primary: "shop-test-primary-assets-111111111111",
  secondary: "shop-test-secondary-assets-111111111111",
};
const OTHER: Readonly<Record<RegionRole, RegionRole>> = {
  primary: "secondary",
  secondary: "primary",
};
const ROLES = ["primary", "secondary"] as const;

type Overrides = Partial<Omit<MonitoringProps, "regions" | "healthCheckMetrics">> & {
  healthMetricsRegion?: string;
  secondaryRegion?: string;
};

/** A stack with the two regional providers and a third for us-east-1, where Route 53 metrics live. */
function stackWithMonitoring(overrides: Overrides | ((stack: TerraformStack) => Overrides) = {}) {
  const { stack, providers } = stackWithProviders();
  const resolved = typeof overrides === "function" ? overrides(stack) : overrides;
  const { healthMetricsRegion = "us-east-1", secondaryRegion, ...props } = resolved;
  const healthMetrics = new AwsProvider(stack, "aws-health-metrics", {
    alias: "health-metrics",
    region: healthMetricsRegion,
  });
  const region = (role: RegionRole) => ({
    provider: providers[role],
    region: role === "secondary" && secondaryRegion ? secondaryRegion : TEST_REGIONS[role],
    kmsKeyArn: KEYS[role],
    loadBalancerArnSuffix: `app/shop-test-${role}/0123456789abcdef`,
    targetGroupArnSuffix: `targetgroup/shop-test-${role}/fedcba9876543210`,
    autoScalingGroupName: `shop-test-${role}-web`,
    databaseClusterIdentifier: `shop-test-${role}`,
    assetsBucketName: ASSETS[role],
    replicaBucketName: ASSETS[OTHER[role]],
  });
  const monitoring = new Monitoring(stack, "monitoring", {
    namePrefix: "shop-test",
    alertEmail: "alerts@example.com",
    regions: { primary: region("primary"), secondary: region("secondary") },
    healthCheckMetrics: { provider: healthMetrics, kmsKeyArn: KEYS.healthMetrics },
    healthCheckIds: { primary: "hc-primary", secondary: "hc-secondary" },
    replicationLagAlarmSeconds: 60,
    rpoSeconds: 300,
    healthAlarmMinutes: 4,
    ...props,
  });
  return { stack, monitoring };
}

function synthMonitoring(overrides: Overrides = {}) {
  const { stack, monitoring } = stackWithMonitoring(overrides);
  return { json: synth(stack), monitoring };
}

/** The Terraform reference to the ARN of the resource of `type` at `pathSuffix`. */
function arnReference(json: SynthesizedStack, type: string, pathSuffix: string): string {
  const [name] = Object.entries(resourcesOf(json, type))
    .filter(([, resource]) => {
      const meta = resource["//"] as { metadata: { path: string } };
      return meta.metadata.path.endsWith(`/${pathSuffix}`);
    })
    .map(([logicalId]) => logicalId);
  return `\${${type}.${name}.arn}`;
}

function alarm(json: SynthesizedStack, id: string) {
  return resourceAt(json, "aws_cloudwatch_metric_alarm", `monitoring/${id}-alarm`);
}

function dashboard(json: SynthesizedStack): DashboardBody {
  const resource = resourceAt(json, "aws_cloudwatch_dashboard", "monitoring/dashboard");
  return JSON.parse(resource.dashboard_body as string) as DashboardBody;
}

/** Every [namespace, metric, ...dimensions] line of a widget, without its options. */
/**
 * Each line as `[namespace, metric, ...dimension values]`; a Metrics Insights line
 * (`SELECT MAX(m) FROM "ns" WHERE d = 'v'`) reads as `[ns, m, v]`.
 */
function metricsOf(widget: MetricWidget) {
  return widget.properties.metrics.map((line) => {
    const [first] = line;
    if (typeof first === "string") return line.filter((part) => typeof part === "string");
    const query = /^SELECT MAX\((\w+)\) FROM "([^"]+)" WHERE \w+ = '([^']+)'$/.exec(
      first.expression,
    );
    if (!query) throw new Error(`unexpected query ${first.expression}`);
    return [query[2], query[1], query[3]];
  });
}

describe("Monitoring", () => {
  const { json, monitoring } = synthMonitoring();

  it("creates a KMS-encrypted alert topic in each region and one in us-east-1", () => {
    const topics = {
      primary: ["primary-alerts", "aws.primary", KEYS.primary, "shop-test-primary-alerts"],
      secondary: [
        "secondary-alerts",
        "aws.secondary",
        KEYS.secondary,
        "shop-test-secondary-alerts",
      ],
      health: [
        "health-check-alerts",
        "aws.health-metrics",
        KEYS.healthMetrics,
        "shop-test-health-check-alerts",
      ],
    };
    for (const [id, provider, key, name] of Object.values(topics)) {
      expect(resourceAt(json, "aws_sns_topic", `monitoring/${id}/topic`)).toMatchObject({
        provider,
        name,
        kms_master_key_id: key,
      });
    }
    expect(listResources(json, "aws_sns_topic")).toHaveLength(3);
  });

  it("subscribes the alert email to every topic", () => {
    for (const id of ["primary-alerts", "secondary-alerts", "health-check-alerts"]) {
      const subscription = resourceAt(json, "aws_sns_topic_subscription", `monitoring/${id}/email`);
      expect(subscription).toMatchObject({ protocol: "email", endpoint: "alerts@example.com" });
      expect(subscription.topic_arn).toBe(arnReference(json, "aws_sns_topic", `${id}/topic`));
    }
    expect(listResources(json, "aws_sns_topic_subscription")).toHaveLength(3);
  });

  it("lets only this account's CloudWatch alarms of this region and prefix publish to a topic, and only over TLS", () => {
    const policy = resourceAt(json, "aws_sns_topic_policy", "monitoring/secondary-alerts/policy");
    expect(policy.provider).toBe("aws.secondary");
    expect(policy.arn).toBe(arnReference(json, "aws_sns_topic", "secondary-alerts/topic"));
    const statements = policyStatements(json, "monitoring/secondary-alerts/policy-document");
    expect(statements).toEqual([
      {
        sid: "AllowCloudWatchAlarmsToPublish",
        principals: [{ type: "Service", identifiers: ["cloudwatch.amazonaws.com"] }],
        actions: ["sns:Publish"],
        resources: [arnReference(json, "aws_sns_topic", "secondary-alerts/topic")],
        condition: [
          { test: "StringEquals", variable: "aws:SourceAccount", values: [ACCOUNT_TOKEN] },
          {
            test: "ArnLike",
            variable: "aws:SourceArn",
            values: [
              expect.stringMatching(
                /^arn:aws:cloudwatch:us-west-2:\$\{data\.aws_caller_identity\..*\.account_id\}:alarm:shop-test-\*$/,
              ),
            ],
          },
        ],
      },
      {
        sid: "DenyInsecureTransport",
        effect: "Deny",
        principals: [{ type: "*", identifiers: ["*"] }],
        actions: ["sns:*"],
        resources: [arnReference(json, "aws_sns_topic", "secondary-alerts/topic")],
        condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
      },
    ]);
    const [healthStatement] = policyStatements(
      json,
      "monitoring/health-check-alerts/policy-document",
    );
    expect(healthStatement.condition?.[1].values[0]).toMatch(/^arn:aws:cloudwatch:us-east-1:/);
  });

  it("alarms in us-east-1 when an endpoint's health check fails for healthAlarmMinutes minutes", () => {
    const healthTopic = arnReference(json, "aws_sns_topic", "health-check-alerts/topic");
    for (const role of ROLES) {
      expect(alarm(json, `${role}-endpoint-health`)).toMatchObject({
        provider: "aws.health-metrics",
        alarm_name: `shop-test-${role}-endpoint-health`,
        namespace: "AWS/Route53",
        metric_name: "HealthCheckStatus",
        dimensions: { HealthCheckId: `hc-${role}` },
        statistic: "Minimum",
        period: 60,
        evaluation_periods: 4,
        datapoints_to_alarm: 4,
        comparison_operator: "LessThanThreshold",
        threshold: 1,
        // A metrics gap must neither report an outage nor claim health; it is reported instead.
        treat_missing_data: "missing",
        alarm_actions: [healthTopic],
        ok_actions: [healthTopic],
        insufficient_data_actions: [healthTopic],
      });
    }
  });

  it("exposes predictable health alarm names and their ARNs for the failover automation", () => {
    expect(monitoring.healthAlarmNames).toEqual({
      primary: "shop-test-primary-endpoint-health",
      secondary: "shop-test-secondary-endpoint-health",
    });
    const primaryName = resourceAt(
      json,
      "aws_cloudwatch_metric_alarm",
      "monitoring/primary-endpoint-health-alarm",
    );
    expect(primaryName.alarm_name).toBe("shop-test-primary-endpoint-health");
    expect(monitoring.healthAlarmArns.primary).toMatch(/^\$\{TfToken\[/);
    expect(monitoring.topicArns.secondary).toMatch(/^\$\{TfToken\[/);
  });

  it("waits 3 minutes before the health alarm fires by default", () => {
    const { json: defaults } = synthMonitoring({ healthAlarmMinutes: undefined });
    expect(alarm(defaults, "primary-endpoint-health")).toMatchObject({
      evaluation_periods: 3,
      datapoints_to_alarm: 3,
    });
  });

  it("alarms on load balancer and target 5xx, counting minutes without data as error-free", () => {
    for (const role of ROLES) {
      for (const [id, metric] of [
        ["elb-5xx", "HTTPCode_ELB_5XX_Count"],
        ["target-5xx", "HTTPCode_Target_5XX_Count"],
      ]) {
        expect(alarm(json, `${role}-${id}`)).toMatchObject({
          provider: `aws.${role}`,
          alarm_name: `shop-test-${role}-${id}`,
          namespace: "AWS/ApplicationELB",
          metric_name: metric,
          dimensions: { LoadBalancer: `app/shop-test-${role}/0123456789abcdef` },
          statistic: "Sum",
          period: 60,
          comparison_operator: "GreaterThanThreshold",
          treat_missing_data: "notBreaching",
        });
      }
    }
  });

  it("alarms when the target group has unhealthy hosts", () => {
    expect(alarm(json, "secondary-unhealthy-hosts")).toMatchObject({
      provider: "aws.secondary",
      namespace: "AWS/ApplicationELB",
      metric_name: "UnHealthyHostCount",
      dimensions: {
        TargetGroup: "targetgroup/shop-test-secondary/fedcba9876543210",
        LoadBalancer: "app/shop-test-secondary/0123456789abcdef",
      },
      comparison_operator: "GreaterThanThreshold",
      threshold: 0,
      treat_missing_data: "notBreaching",
    });
  });

  it("alarms on the Aurora RPO lag in both regions, so it still works after a failover", () => {
    for (const role of ROLES) {
      expect(alarm(json, `${role}-rpo-lag`)).toMatchObject({
        provider: `aws.${role}`,
        alarm_name: `shop-test-${role}-aurora-rpo-lag`,
        metric_query: [
          {
            id: "rpo_lag",
            expression: `SELECT MAX(AuroraGlobalDBRPOLag) FROM "AWS/RDS" WHERE DBClusterIdentifier = 'shop-test-${role}'`,
            period: 60,
            return_data: true,
          },
        ],
        evaluation_periods: 1,
        comparison_operator: "GreaterThanThreshold",
        threshold: 60_000, // replicationLagAlarmSeconds in milliseconds
        // The writer's cluster reports no lag at all.
        treat_missing_data: "notBreaching",
      });
    }
  });

  it("names no dimension set for the global-database lag (AWS does not document which sets are published): a query matches them all", () => {
    for (const role of ROLES) {
      const rpo = alarm(json, `${role}-rpo-lag`);
      expect(rpo).not.toHaveProperty("metric_name");
      expect(rpo).not.toHaveProperty("dimensions");
    }
  });

  it("alarms on S3 replication latency above the RTC threshold and on failed replications, per direction", () => {
    for (const role of ROLES) {
      const rule = {
        SourceBucket: ASSETS[role],
        DestinationBucket: ASSETS[OTHER[role]],
        RuleId: "replicate-everything",
      };
      expect(alarm(json, `${role}-s3-replication-latency`)).toMatchObject({
        provider: `aws.${role}`,
        namespace: "AWS/S3",
        metric_name: "ReplicationLatency",
        dimensions: rule,
        statistic: "Maximum",
        comparison_operator: "GreaterThanThreshold",
        threshold: 900,
        treat_missing_data: "notBreaching",
      });
      expect(alarm(json, `${role}-s3-replication-failures`)).toMatchObject({
        provider: `aws.${role}`,
        namespace: "AWS/S3",
        metric_name: "OperationsFailedReplication",
        dimensions: rule,
        statistic: "Sum",
        comparison_operator: "GreaterThanThreshold",
        threshold: 0,
        treat_missing_data: "notBreaching",
      });
    }
  });

  it("monitors the replication rule id it is given", () => {
    const { json: custom } = synthMonitoring({ replicationRuleId: "assets-rule" });
    expect(
      (alarm(custom, "primary-s3-replication-failures").dimensions as { RuleId: string }).RuleId,
    ).toBe("assets-rule");
  });

  it("alarms with metric math when fewer instances are in service than desired", () => {
    const inService = alarm(json, "primary-in-service");
    expect(inService).toMatchObject({
      provider: "aws.primary",
      alarm_name: "shop-test-primary-in-service-below-desired",
      comparison_operator: "GreaterThanOrEqualToThreshold",
      threshold: 1,
      evaluation_periods: 10,
      datapoints_to_alarm: 10,
      // No group metrics means collection is off and the alarm is blind: that must be noticed.
      treat_missing_data: "breaching",
    });
    // The provider rejects period, statistic or metric_name next to metric_query.
    expect(inService).not.toHaveProperty("metric_name");
    expect(inService).not.toHaveProperty("period");
    const groupMetric = (metric_name: string) => ({
      namespace: "AWS/AutoScaling",
      metric_name,
      dimensions: { AutoScalingGroupName: "shop-test-primary-web" },
      period: 60,
      stat: "Average",
    });
    expect(inService.metric_query).toEqual([
      {
        id: "below_desired",
        expression: "in_service < desired",
        label: "In-service below desired (1 = yes)",
        return_data: true,
      },
      { id: "in_service", metric: groupMetric("GroupInServiceInstances"), return_data: false },
      { id: "desired", metric: groupMetric("GroupDesiredCapacity"), return_data: false },
    ]);
  });

  it("sends every alarm's ALARM and OK notifications to the topic of the alarm's own region", () => {
    const topicOfProvider: Record<string, string> = {
      "aws.primary": arnReference(json, "aws_sns_topic", "primary-alerts/topic"),
      "aws.secondary": arnReference(json, "aws_sns_topic", "secondary-alerts/topic"),
      "aws.health-metrics": arnReference(json, "aws_sns_topic", "health-check-alerts/topic"),
    };
    const alarms = listResources(json, "aws_cloudwatch_metric_alarm");
    // 2 health + 7 per region.
    expect(alarms).toHaveLength(16);
    for (const each of alarms) {
      const topic = topicOfProvider[each.provider as string];
      expect(each.alarm_actions).toEqual([topic]);
      expect(each.ok_actions).toEqual([topic]);
      expect(["missing", "notBreaching", "breaching"]).toContain(each.treat_missing_data);
    }
  });

  describe("dashboard", () => {
    const body = dashboard(json);
    /** The region columns, below the endpoint-health row and the automation's row. */
    const byColumn = (x: number) =>
      body.widgets.filter((w) => w.x === x && w.width === 12 && w.y >= 12);

    it("is created in the primary region and exposed with its console URL", () => {
      expect(resourceAt(json, "aws_cloudwatch_dashboard", "monitoring/dashboard")).toMatchObject({
        provider: "aws.primary",
        dashboard_name: "shop-test-dr",
      });
      expect(monitoring.dashboardName).toBe("shop-test-dr");
      expect(monitoring.dashboardUrl).toBe(
        "https://console.aws.amazon.com/cloudwatch/home?region=us-east-2#dashboards:name=shop-test-dr",
      );
    });

    it("shows both endpoints' health-check status from us-east-1 across the full width on top", () => {
      const [health] = body.widgets;
      expect(health).toMatchObject({ x: 0, y: 0, width: 24 });
      expect(health.properties.region).toBe("us-east-1");
      expect(metricsOf(health)).toEqual([
        ["AWS/Route53", "HealthCheckStatus", "HealthCheckId", "hc-primary"],
        ["AWS/Route53", "HealthCheckStatus", "HealthCheckId", "hc-secondary"],
      ]);
    });

    it("shows probe-primary's verdict and signals and both traffic fences from the automation's region below it", () => {
      const [verdict, fences] = body.widgets.filter((w) => w.y === 6);
      expect(verdict).toMatchObject({ x: 0, width: 12 });
      expect(fences).toMatchObject({ x: 12, width: 12 });
      expect(verdict.properties.region).toBe(TEST_REGIONS.secondary);
      expect(fences.properties.region).toBe(TEST_REGIONS.secondary);
      expect(metricsOf(verdict)).toEqual([
        ["ShopSmart/DR", "PrimaryDown", "Environment", "shop-test"],
        ["ShopSmart/DR", "PrimaryProbeDown", "Environment", "shop-test", "Signal", "endpoint"],
        ["ShopSmart/DR", "PrimaryProbeDown", "Environment", "shop-test", "Signal", "database"],
        ["ShopSmart/DR", "PrimaryProbeDown", "Environment", "shop-test", "Signal", "route53"],
      ]);
      expect(metricsOf(fences)).toEqual([
        ["ShopSmart/DR", "TrafficFenced", "Environment", "shop-test", "RegionRole", "primary"],
        ["ShopSmart/DR", "TrafficFenced", "Environment", "shop-test", "RegionRole", "secondary"],
      ]);
    });

    it("puts the primary region in the left column and the secondary in the right, row by row", () => {
      const left = byColumn(0);
      const right = byColumn(12);
      expect(left).toHaveLength(5);
      expect(right).toHaveLength(5);
      expect(left.length + right.length + 3).toBe(body.widgets.length);
      expect(left.map((w) => w.properties.region)).toEqual(Array(5).fill(TEST_REGIONS.primary));
      expect(right.map((w) => w.properties.region)).toEqual(Array(5).fill(TEST_REGIONS.secondary));
      // Same metric on the same row, rows stacked below the health and automation rows.
      expect(left.map((w) => w.y)).toEqual([12, 18, 24, 30, 36]);
      expect(right.map((w) => w.y)).toEqual([12, 18, 24, 30, 36]);
      expect(right.map((w) => metricsOf(w).map((line) => line[1]))).toEqual(
        left.map((w) => metricsOf(w).map((line) => line[1])),
      );
      expect(left.map((w) => metricsOf(w).map((line) => line[1]))).toEqual([
        ["RequestCount", "HTTPCode_ELB_5XX_Count", "HTTPCode_Target_5XX_Count"],
        ["HealthyHostCount", "UnHealthyHostCount"],
        ["GroupInServiceInstances", "GroupDesiredCapacity"],
        ["AuroraGlobalDBRPOLag", "AuroraGlobalDBReplicationLag"],
        ["ReplicationLatency", "OperationsFailedReplication"],
      ]);
    });

    it("graphs each region's own resources in its column", () => {
      for (const [x, role] of [
        [0, "primary"],
        [12, "secondary"],
      ] as const) {
        const dimensionValues = byColumn(x).flatMap((w) => metricsOf(w).flatMap((l) => l.slice(2)));
        expect(dimensionValues).toEqual(
          expect.arrayContaining([
            `app/shop-test-${role}/0123456789abcdef`,
            `targetgroup/shop-test-${role}/fedcba9876543210`,
            `shop-test-${role}-web`,
            `shop-test-${role}`,
            ASSETS[role],
          ]),
        );
        expect(dimensionValues).not.toContain(`shop-test-${OTHER[role]}-web`);
        expect(byColumn(x)[0].properties.title).toMatch(new RegExp(`^${role} \\(`));
      }
      const s3 = byColumn(0)[4];
      expect(metricsOf(s3)[0]).toEqual([
        "AWS/S3",
        "ReplicationLatency",
        "SourceBucket",
        ASSETS.primary,
        "DestinationBucket",
        ASSETS.secondary,
        "RuleId",
        "replicate-everything",
      ]);
    });

    it("marks the lag alarm threshold and the RPO on the replication lag graph", () => {
      expect(byColumn(12)[3].properties.annotations).toEqual({
        horizontal: [
          { label: "Alarm", value: 60_000 },
          { label: "RPO", value: 300_000 },
        ],
      });
    });

    it("keeps Terraform references inside the dashboard body resolvable", () => {
      const { stack } = stackWithMonitoring((scope) => ({
        healthCheckIds: {
          primary: new TerraformVariable(scope, "primary_health_check_id", { type: "string" })
            .stringValue,
          secondary: "hc-secondary",
        },
      }));
      const [health] = dashboard(synth(stack)).widgets;
      expect(metricsOf(health)[0][3]).toBe(`\${var.primary_health_check_id}`);
    });
  });

  it("fails when the lag alarm would fire only after a stalled replica has lost the RPO", () => {
    expect(() => stackWithMonitoring({ replicationLagAlarmSeconds: 240, rpoSeconds: 300 })).toThrow(
      "Invalid props for test/monitoring:\n" +
        "  - replicationLagAlarmSeconds: got 240; expected less than 240 (rpoSeconds 300 minus the alarm's 60-second period), so the alarm fires before a stalled replica's lag reaches the RPO",
    );
  });

  it("fails when the RPO leaves no room for the lag alarm's period", () => {
    expect(() => stackWithMonitoring({ replicationLagAlarmSeconds: 30, rpoSeconds: 60 })).toThrow(
      "Invalid props for test/monitoring:\n" +
        "  - rpoSeconds: got 60; expected a whole number of seconds of at least 62: the RPO-lag alarm evaluates 60-second periods and cannot warn sooner",
    );
  });

  it("fails with every problem at once: metrics provider, regions, email and alarm minutes", () => {
    expect(() =>
      stackWithMonitoring({
        healthMetricsRegion: "eu-west-1",
        secondaryRegion: "us-east-2",
        alertEmail: "nobody",
        healthAlarmMinutes: 0,
        replicationRuleId: " ",
      }),
    ).toThrow(
      "Invalid props for test/monitoring:\n" +
        '  - regions.secondary.region: got "us-east-2"; expected a region other than regions.primary.region (us-east-2)\n' +
        '  - regions.secondary.region: got "us-east-2"; expected the region of regions.secondary.provider (us-west-2)\n' +
        '  - healthCheckMetrics.provider.region: got "eu-west-1"; expected us-east-1, the only region where Route 53 publishes health-check metrics\n' +
        '  - alertEmail: got "nobody"; expected an email address such as alerts@example.com\n' +
        "  - healthAlarmMinutes: got 0; expected a whole number of minutes from 1 to 1440 (CloudWatch evaluates at most one day)\n" +
        '  - replicationRuleId: got " "; expected the id of the assets replication rule',
    );
  });
});
