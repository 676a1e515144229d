import { AutoscalingGroup } from "@cdktf/provider-aws/lib/autoscaling-group";
import { BackupPlan } from "@cdktf/provider-aws/lib/backup-plan";
import { BackupVault } from "@cdktf/provider-aws/lib/backup-vault";
import { CloudwatchDashboard } from "@cdktf/provider-aws/lib/cloudwatch-dashboard";
import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";
import { DynamodbTable } from "@cdktf/provider-aws/lib/dynamodb-table";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { LambdaFunction } from "@cdktf/provider-aws/lib/lambda-function";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { RdsCluster } from "@cdktf/provider-aws/lib/rds-cluster";
import { RdsClusterInstance } from "@cdktf/provider-aws/lib/rds-cluster-instance";
import { RdsGlobalCluster } from "@cdktf/provider-aws/lib/rds-global-cluster";
import { Route53HealthCheck } from "@cdktf/provider-aws/lib/route53-health-check";
import { Route53Record } from "@cdktf/provider-aws/lib/route53-record";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketReplicationConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-replication-configuration";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { SfnStateMachine } from "@cdktf/provider-aws/lib/sfn-state-machine";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import type { TerraformStack } from "cdktf";
import { describe, expect, it } from "vitest";
import type { RegionRole } from "../../src/config/schema";
import { Storage } from "../../src/constructs/storage";
import { ACCOUNT, keyArn, violation, violationsOf } from "../support/guardrails";
import { stackWithProviders, TEST_REGIONS } from "../support/synth";
import { violationAt } from "./violation-at";

type Providers = Record<RegionRole, AwsProvider>;

function bucketIn(stack: TerraformStack, providers: Providers, role: RegionRole) {
  return new S3Bucket(stack, `${role}-bucket`, {
    provider: providers[role],
    bucket: `shop-${role}`,
  });
}

function parameterIn(stack: TerraformStack, providers: Providers, role: RegionRole, key: string) {
  return new SsmParameter(stack, `${role}-parameter-${key}`, {
    provider: providers[role],
    name: `/shop/test/${key}`,
    type: "String",
    value: "x",
  });
}

describe("SS-DR-1 every regional part has a counterpart in the secondary region", () => {
  it("fails a type and an app setting that exist only in the primary region", () => {
    const { stack, providers } = stackWithProviders();
    bucketIn(stack, providers, "primary");
    parameterIn(stack, providers, "primary", "db-endpoint");
    parameterIn(stack, providers, "primary", "bucket");
    parameterIn(stack, providers, "secondary", "bucket");
    expect(violationsOf("SS-DR-1", stack)).toEqual([
      violation(
        "SS-DR-1",
        "test/primary-bucket",
        "aws_s3_bucket exists only in the primary region (us-east-2); the secondary region (us-west-2) has none, so this part is lost with the primary region",
      ),
      violation(
        "SS-DR-1",
        "test/primary-parameter-db-endpoint",
        'parameter "/shop/test/db-endpoint" exists only in the primary region (us-east-2); the app in the secondary region (us-west-2) cannot read it',
      ),
    ]);
  });

  it("passes parts in both regions, global services, and replicated secrets", () => {
    const { stack, providers } = stackWithProviders();
    bucketIn(stack, providers, "primary");
    bucketIn(stack, providers, "secondary");
    parameterIn(stack, providers, "primary", "bucket");
    parameterIn(stack, providers, "secondary", "bucket");
    new IamRole(stack, "role", {
      provider: providers.primary,
      name: "app",
      assumeRolePolicy: "{}",
    });
    new RdsGlobalCluster(stack, "global", {
      provider: providers.primary,
      globalClusterIdentifier: "shop",
      engine: "aurora-postgresql",
    });
    new CloudwatchDashboard(stack, "dashboard", {
      provider: providers.primary,
      dashboardName: "shop",
      dashboardBody: "{}",
    });
    new SecretsmanagerSecret(stack, "secret", {
      provider: providers.primary,
      name: "db",
      replica: [{ region: TEST_REGIONS.secondary }],
    });
    expect(violationsOf("SS-DR-1", stack)).toEqual([]);
  });
});

/** A web tier and database per region with the given sizes; optionally failover records. */
function pair(
  sizes: Record<RegionRole, { min: number; desired: number; dbInstances: number }>,
  options: { activeRegion?: RegionRole } = {},
) {
  const { stack, providers } = stackWithProviders();
  const loadBalancers = {} as Record<RegionRole, Lb>;
  for (const role of ["primary", "secondary"] as const) {
    new AutoscalingGroup(stack, `compute-${role}`, {
      provider: providers[role],
      minSize: sizes[role].min,
      desiredCapacity: sizes[role].desired,
      maxSize: 9,
      availabilityZones: [`${TEST_REGIONS[role]}a`],
    });
    const cluster = new RdsCluster(stack, `database-${role}`, {
      provider: providers[role],
      clusterIdentifier: `shop-${role}`,
      engine: "aurora-postgresql",
    });
    for (let i = 0; i < sizes[role].dbInstances; i++) {
      new RdsClusterInstance(stack, `database-${role}-instance-${i}`, {
        provider: providers[role],
        clusterIdentifier: cluster.id,
        instanceClass: "db.r7g.large",
        engine: "aurora-postgresql",
      });
    }
    loadBalancers[role] = new Lb(stack, `load-balancer-${role}`, {
      provider: providers[role],
      name: `shop-${role}`,
    });
  }
  if (options.activeRegion) {
    const active = loadBalancers[options.activeRegion];
    new Route53Record(stack, "failover-primary-record", {
      provider: providers.primary,
      zoneId: "Z123",
      name: "shop.example.com",
      type: "A",
      setIdentifier: "primary",
      failoverRoutingPolicy: { type: "PRIMARY" },
      alias: { name: active.dnsName, zoneId: active.zoneId, evaluateTargetHealth: true },
    });
  }
  return stack;
}

describe("SS-DR-2 the warm standby runs 1 to the active region's capacity", () => {
  it("fails a standby with no instances", () => {
    const stack = pair({
      primary: { min: 3, desired: 3, dbInstances: 2 },
      secondary: { min: 0, desired: 0, dbInstances: 0 },
    });
    expect(violationsOf("SS-DR-2", stack)).toEqual([
      violationAt(
        "SS-DR-2",
        "test/compute-secondary",
        "warm standby (secondary region) has min_size 0; it must keep at least 1 instance",
        "aws_autoscaling_group.compute-secondary",
      ),
      violationAt(
        "SS-DR-2",
        "test/database-secondary",
        "warm standby (secondary region) cluster has no aws_rds_cluster_instance",
        "aws_rds_cluster.database-secondary",
      ),
    ]);
  });

  it("fails a standby larger than the active region", () => {
    const stack = pair({
      primary: { min: 2, desired: 2, dbInstances: 1 },
      secondary: { min: 1, desired: 3, dbInstances: 2 },
    });
    expect(violationsOf("SS-DR-2", stack)).toEqual([
      violationAt(
        "SS-DR-2",
        "test/compute-secondary",
        "warm standby (secondary region) runs desired_capacity 3, more than the active region's 2",
        "aws_autoscaling_group.compute-secondary",
      ),
      violationAt(
        "SS-DR-2",
        "test/database-secondary",
        "warm standby (secondary region) cluster has 2 instances, more than the active region's 1",
        "aws_rds_cluster.database-secondary",
      ),
    ]);
  });

  it("passes a reduced standby, and, after a failover, a reduced primary", () => {
    const reduced = { min: 1, desired: 1, dbInstances: 1 };
    const full = { min: 3, desired: 3, dbInstances: 2 };
    expect(violationsOf("SS-DR-2", pair({ primary: full, secondary: reduced }))).toEqual([]);
    expect(
      violationsOf(
        "SS-DR-2",
        pair({ primary: reduced, secondary: full }, { activeRegion: "secondary" }),
      ),
    ).toEqual([]);
  });

  it("fails a failed-over pair whose primary (now the standby) outgrows the secondary", () => {
    const stack = pair(
      {
        primary: { min: 3, desired: 3, dbInstances: 2 },
        secondary: { min: 1, desired: 1, dbInstances: 1 },
      },
      { activeRegion: "secondary" },
    );
    expect(violationsOf("SS-DR-2", stack)).toEqual([
      violationAt(
        "SS-DR-2",
        "test/compute-primary",
        "warm standby (primary region) runs desired_capacity 3, more than the active region's 1",
        "aws_autoscaling_group.compute-primary",
      ),
      violationAt(
        "SS-DR-2",
        "test/database-primary",
        "warm standby (primary region) cluster has 2 instances, more than the active region's 1",
        "aws_rds_cluster.database-primary",
      ),
    ]);
  });
});

/** A replication configuration from `source` to `destination` with the given rule settings. */
function replication(
  stack: TerraformStack,
  providers: Providers,
  source: S3Bucket,
  destination: S3Bucket,
  monitored: boolean,
) {
  const enabled = { status: "Enabled" };
  new S3BucketReplicationConfigurationA(stack, "replication", {
    provider: providers.primary,
    bucket: source.id,
    role: `arn:aws:iam::${ACCOUNT}:role/replication`,
    rule: [
      {
        id: "to-standby",
        status: "Enabled",
        filter: { prefix: "" },
        deleteMarkerReplication: monitored ? enabled : { status: "Disabled" },
        destination: {
          bucket: destination.arn,
          ...(monitored
            ? {
                replicationTime: { status: "Enabled", time: { minutes: 15 } },
                metrics: { status: "Enabled", eventThreshold: { minutes: 15 } },
              }
            : {}),
        },
      },
    ],
  });
}

describe("SS-DR-3 replicas and backup copies go to the other region", () => {
  it("fails replication and backup copies inside one region, and unreplicated secrets and tables", () => {
    const { stack, providers } = stackWithProviders();
    const source = bucketIn(stack, providers, "primary");
    const sameRegion = new S3Bucket(stack, "same-region-copy", {
      provider: providers.primary,
      bucket: "shop-copy",
    });
    replication(stack, providers, source, sameRegion, true);
    const vault = new BackupVault(stack, "vault", { provider: providers.primary, name: "v" });
    new BackupPlan(stack, "plan", {
      provider: providers.primary,
      name: "daily",
      rule: [
        {
          ruleName: "local-copy",
          targetVaultName: vault.name,
          schedule: "cron(0 5 * * ? *)",
          copyAction: [{ destinationVaultArn: vault.arn }],
        },
        { ruleName: "no-copy", targetVaultName: vault.name, schedule: "cron(0 6 * * ? *)" },
      ],
    });
    new SecretsmanagerSecret(stack, "secret", { provider: providers.primary, name: "db" });
    new DynamodbTable(stack, "table", {
      provider: providers.primary,
      name: "carts",
      hashKey: "pk",
      attribute: [{ name: "pk", type: "S" }],
    });
    expect(violationsOf("SS-DR-3", stack)).toEqual([
      violation(
        "SS-DR-3",
        "test/replication",
        'rule "to-standby" replicates to a bucket in the same region (us-east-2)',
      ),
      violation(
        "SS-DR-3",
        "test/plan",
        'rule "local-copy" copies recovery points to a vault in the same region (us-east-2)',
      ),
      violation(
        "SS-DR-3",
        "test/plan",
        'rule "no-copy" keeps recovery points only in us-east-2 (no copy_action)',
      ),
      violation(
        "SS-DR-3",
        "test/secret",
        "has no replica in the secondary region (us-west-2), so it is unreadable there when its region fails",
      ),
      violation(
        "SS-DR-3",
        "test/table",
        "lives in the primary region (us-east-2) with no replica in the secondary region (us-west-2)",
      ),
    ]);
  });

  it("passes copies to the other region, and the Storage construct", () => {
    const { stack, providers } = stackWithProviders();
    replication(
      stack,
      providers,
      bucketIn(stack, providers, "primary"),
      bucketIn(stack, providers, "secondary"),
      true,
    );
    const vaults = {
      primary: new BackupVault(stack, "primary-vault", { provider: providers.primary, name: "p" }),
      secondary: new BackupVault(stack, "secondary-vault", {
        provider: providers.secondary,
        name: "s",
      }),
    };
    new BackupPlan(stack, "plan", {
      provider: providers.primary,
      name: "daily",
      rule: [
        {
          ruleName: "copy-to-secondary",
          targetVaultName: vaults.primary.name,
          schedule: "cron(0 5 * * ? *)",
          copyAction: [{ destinationVaultArn: vaults.secondary.arn }],
        },
      ],
    });
    new SecretsmanagerSecret(stack, "secret", {
      provider: providers.primary,
      name: "db",
      replica: [{ region: TEST_REGIONS.secondary }],
    });
    new DynamodbTable(stack, "table", {
      provider: providers.primary,
      name: "carts",
      hashKey: "pk",
      attribute: [{ name: "pk", type: "S" }],
      replica: [{ regionName: TEST_REGIONS.secondary }],
    });
    expect(violationsOf("SS-DR-3", stack)).toEqual([]);
    expect(violationsOf("SS-DR-3", storageStack())).toEqual([]);
  });
});

function storageStack() {
  const { stack, providers } = stackWithProviders();
  new Storage(stack, "storage", {
    namePrefix: "shop-test",
    accountId: ACCOUNT,
    primary: {
      provider: providers.primary,
      region: TEST_REGIONS.primary,
      kmsKeyArn: keyArn(TEST_REGIONS.primary),
    },
    secondary: {
      provider: providers.secondary,
      region: TEST_REGIONS.secondary,
      kmsKeyArn: keyArn(TEST_REGIONS.secondary),
    },
    noncurrentVersionRetentionDays: 30,
    accessLogRetentionDays: 90,
  });
  return stack;
}

describe("SS-DR-4 S3 replication has time control, metrics and delete markers", () => {
  it("fails a rule without them", () => {
    const { stack, providers } = stackWithProviders();
    replication(
      stack,
      providers,
      bucketIn(stack, providers, "primary"),
      bucketIn(stack, providers, "secondary"),
      false,
    );
    expect(violationsOf("SS-DR-4", stack)).toEqual([
      violation(
        "SS-DR-4",
        "test/replication",
        'rule "to-standby" does not enable destination.replication_time, destination.metrics, delete_marker_replication',
      ),
    ]);
  });

  it("passes the Storage construct's two-way replication", () => {
    expect(violationsOf("SS-DR-4", storageStack())).toEqual([]);
  });
});

/** A step function in the secondary region invoking a function in `functionRole`. */
function automation(functionRole: RegionRole, ledgerRole: RegionRole) {
  const { stack, providers } = stackWithProviders();
  const ledger = new DynamodbTable(stack, "ledger", {
    provider: providers[ledgerRole],
    name: "operations",
    hashKey: "pk",
    attribute: [{ name: "pk", type: "S" }],
  });
  const cluster = new RdsCluster(stack, "primary-cluster", {
    provider: providers.primary,
    clusterIdentifier: "shop-primary",
    engine: "aurora-postgresql",
  });
  const fn = new LambdaFunction(stack, "flip-dns", {
    provider: providers[functionRole],
    functionName: "shop-flip-dns",
    role: `arn:aws:iam::${ACCOUNT}:role/flip-dns`,
    handler: "index.handler",
    runtime: "nodejs24.x",
    filename: "flip-dns.zip",
    environment: {
      variables: {
        SHOPSMART_DR_SETTINGS: JSON.stringify({
          ledgerTableName: ledger.name,
          // The failover acts on the primary cluster; naming it is not a dependency on its region.
          clusterArn: cluster.arn,
        }),
      },
    },
  });
  new SfnStateMachine(stack, "failover", {
    provider: providers.secondary,
    name: "failover",
    roleArn: `arn:aws:iam::${ACCOUNT}:role/failover`,
    definition: JSON.stringify({
      StartAt: "FlipDns",
      States: { FlipDns: { Type: "Task", Resource: fn.arn, End: true } },
    }),
  });
  return stack;
}

describe("SS-DR-5 nothing in the failover path lives only in the primary region", () => {
  it("fails a secondary state machine invoking a primary function, and a ledger in the primary", () => {
    expect(violationsOf("SS-DR-5", automation("primary", "primary"))).toEqual([
      violation(
        "SS-DR-5",
        "test/failover",
        "invokes test/flip-dns (aws_lambda_function) in the primary region (us-east-2), which is down when a failover is needed",
      ),
    ]);
    expect(violationsOf("SS-DR-5", automation("secondary", "primary"))).toEqual([
      violation(
        "SS-DR-5",
        "test/flip-dns",
        "keeps test/ledger (aws_dynamodb_table) of the primary region (us-east-2) in its environment; the failover cannot write to it when that region is down",
      ),
    ]);
  });

  it("passes automation that runs and records in the secondary region", () => {
    expect(violationsOf("SS-DR-5", automation("secondary", "secondary"))).toEqual([]);
  });
});

/** Failover records for shop.example.com; `kinds` says which exist and whether checked. */
function failoverRecords(kinds: { type: "PRIMARY" | "SECONDARY"; checked: boolean }[]) {
  const { stack, providers } = stackWithProviders();
  for (const { type, checked } of kinds) {
    new Route53Record(stack, `${type.toLowerCase()}-record`, {
      provider: providers.primary,
      zoneId: "Z123",
      name: "shop.example.com",
      type: "A",
      setIdentifier: type.toLowerCase(),
      failoverRoutingPolicy: { type },
      healthCheckId: checked ? `hc-${type.toLowerCase()}` : undefined,
      alias: {
        name: `${type.toLowerCase()}.elb.example`,
        zoneId: "Z2",
        evaluateTargetHealth: true,
      },
    });
  }
  return stack;
}

describe("SS-DR-6 DNS failover records are health-checked in pairs", () => {
  it("fails a record without a health check and a PRIMARY without its SECONDARY", () => {
    expect(
      violationsOf(
        "SS-DR-6",
        failoverRecords([
          { type: "PRIMARY", checked: true },
          { type: "SECONDARY", checked: false },
        ]),
      ),
    ).toEqual([
      violation(
        "SS-DR-6",
        "test/secondary-record",
        'SECONDARY failover record for "shop.example.com" has no health_check_id',
      ),
    ]);
    expect(violationsOf("SS-DR-6", failoverRecords([{ type: "PRIMARY", checked: true }]))).toEqual([
      violation(
        "SS-DR-6",
        "test/primary-record",
        'PRIMARY failover record for "shop.example.com" has no SECONDARY record, so DNS has nowhere to fail over to',
      ),
    ]);
  });

  it("passes a health-checked PRIMARY/SECONDARY pair", () => {
    expect(
      violationsOf(
        "SS-DR-6",
        failoverRecords([
          { type: "PRIMARY", checked: true },
          { type: "SECONDARY", checked: true },
        ]),
      ),
    ).toEqual([]);
  });
});

const ALARM_PATTERN = JSON.stringify({
  source: ["aws.cloudwatch"],
  "detail-type": ["CloudWatch Alarm State Change"],
  detail: { alarmName: ["shop-dr-primary-down"], state: { value: ["ALARM"] } },
});

/** An alarm-triggered rule, a forwarder and a fence health check, where `where` puts them. */
function recoveryPath(where: { rule: string; forwarder?: string; alarmRegion: string }) {
  const { stack, providers } = stackWithProviders();
  const usEast1 = new AwsProvider(stack, "aws-health-metrics", {
    alias: "health-metrics",
    region: "us-east-1",
  });
  const provider = (name: string) =>
    name === "us-east-1" ? usEast1 : name === "primary" ? providers.primary : providers.secondary;
  const rule = new CloudwatchEventRule(stack, "trigger", {
    provider: provider(where.rule),
    name: "shop-dr-auto-failover",
    eventPattern: ALARM_PATTERN,
  });
  if (where.forwarder) {
    new CloudwatchEventTarget(stack, "forward", {
      provider: provider(where.forwarder),
      rule: rule.name,
      arn: `arn:aws:events:us-west-2:${ACCOUNT}:event-bus/default`,
    });
  }
  // A schedule rule is no alarm trigger, wherever it runs.
  new CloudwatchEventRule(stack, "schedule", {
    provider: providers.primary,
    name: "shop-nightly",
    scheduleExpression: "rate(1 day)",
  });
  new Route53HealthCheck(stack, "fence", {
    provider: providers.primary,
    type: "CLOUDWATCH_METRIC",
    cloudwatchAlarmName: "shop-dr-traffic-fence-primary",
    cloudwatchAlarmRegion: where.alarmRegion,
    insufficientDataHealthStatus: "LastKnownStatus",
  });
  return stack;
}

describe("SS-DR-7 automatic failover is triggered and moves traffic from the secondary region", () => {
  it("fails an alarm trigger and a forwarder in us-east-1, and a fence alarm in the primary region", () => {
    expect(
      violationsOf(
        "SS-DR-7",
        recoveryPath({ rule: "us-east-1", forwarder: "us-east-1", alarmRegion: "us-east-2" }),
      ),
    ).toEqual([
      violation(
        "SS-DR-7",
        "test/trigger",
        "starts automation on alarm state changes in us-east-1, not in the secondary region (us-west-2): automatic failover would depend on us-east-1",
      ),
      violation(
        "SS-DR-7",
        "test/forward",
        "forwards events from us-east-1 to another event bus: whatever they start depends on us-east-1",
      ),
      violation(
        "SS-DR-7",
        "test/fence",
        "follows a CloudWatch alarm in us-east-2, not in the secondary region (us-west-2): the automation could not move that lever while us-east-2 is down",
      ),
    ]);
    expect(
      violationsOf("SS-DR-7", recoveryPath({ rule: "primary", alarmRegion: "us-east-1" })),
    ).toEqual([
      violation(
        "SS-DR-7",
        "test/trigger",
        "starts automation on alarm state changes in us-east-2, not in the secondary region (us-west-2): automatic failover would depend on us-east-2",
      ),
      violation(
        "SS-DR-7",
        "test/fence",
        "follows a CloudWatch alarm in us-east-1, not in the secondary region (us-west-2): the automation could not move that lever while us-east-1 is down",
      ),
    ]);
  });

  it("passes a trigger and a fence alarm in the secondary region", () => {
    expect(
      violationsOf("SS-DR-7", recoveryPath({ rule: "secondary", alarmRegion: "us-west-2" })),
    ).toEqual([]);
  });
});
