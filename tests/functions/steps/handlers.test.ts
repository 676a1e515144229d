import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  UpdateAutoScalingGroupCommand,
} from "@aws-sdk/client-auto-scaling";
import {
  CloudWatchClient,
  GetMetricDataCommand,
  PutMetricDataCommand,
} from "@aws-sdk/client-cloudwatch";
import { DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import {
  DescribeDBClustersCommand,
  DescribeGlobalClustersCommand,
  RDSClient,
  SwitchoverGlobalClusterCommand,
} from "@aws-sdk/client-rds";
import { GetHealthCheckStatusCommand, Route53Client } from "@aws-sdk/client-route-53";
import { SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { buildPlan, workflowPlan } from "../../../functions/orchestration/plan";
import type { OperationInput } from "../../../functions/shared/operation";
import {
  healthyTopology,
  healthyTraffic,
  primaryDownTopology,
  primaryDownTraffic,
} from "../operations/fixtures";
import { abortTimeout, cluster, globalCluster, SECONDARY_ARN, SETTINGS } from "./fixtures";

const rds = mockClient(RDSClient);
const cloudWatch = mockClient(CloudWatchClient);
const route53 = mockClient(Route53Client);
const autoScaling = mockClient(AutoScalingClient);
const ssm = mockClient(SSMClient);
const dynamoDb = mockClient(DynamoDBClient);

// The data plane (HTTPS to the load balancers, DNS): no network in unit tests.
vi.mock("../../../functions/shared/endpoint-probe", async (importOriginal) => ({
  ...(await importOriginal<object>()),
  probeEndpoint: async () => ({
    healthy: true,
    statusCode: 200,
    writable: true,
    writerRegion: "us-west-2",
  }),
  servedRegion: async () => ({ region: "secondary" }),
}));

const OPERATION: OperationInput = {
  operationId: "op-20261125T120000Z-abc123",
  kind: "failover",
  mode: "planned",
  reason: "quarterly DR drill",
  requestedAt: "2026-11-25T12:00:00Z",
  requestedBy: "arn:aws:iam::111122223333:role/operator",
  source: "primary",
  target: "secondary",
};
/** The state the state machine passes to every Lambda task (`Payload.$: "$"`). */
const STATE = { operation: OPERATION, results: {} };

/** The region a mocked call was sent to (the client instance is the stub's `this`). */
async function regionOf(call: { thisValue: unknown }): Promise<string> {
  return (call.thisValue as RDSClient).config.region();
}

async function handlerOf(
  name: string,
): Promise<(event: unknown) => Promise<Record<string, unknown>>> {
  const module = await import(`../../../functions/handlers/${name}.ts`);
  return module.handler;
}

beforeAll(() => {
  vi.stubEnv("SHOPSMART_DR_SETTINGS", JSON.stringify(SETTINGS));
  vi.stubEnv("AWS_REGION", "us-west-2");
  vi.spyOn(console, "error").mockImplementation(() => undefined);
});

afterAll(() => {
  vi.unstubAllEnvs();
});

beforeEach(() => {
  for (const stub of [rds, cloudWatch, route53, autoScaling, ssm, dynamoDb]) stub.reset();
  dynamoDb.on(GetItemCommand).resolves({});
});

describe("step handlers", () => {
  it("read-topology reads from both regions' clients", async () => {
    rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: "shopsmart-prod-primary" }).resolves({
      DBClusters: [cluster("primary")],
    });
    rds
      .on(DescribeDBClustersCommand, { DBClusterIdentifier: "shopsmart-prod-secondary" })
      .resolves({
        DBClusters: [cluster("secondary")],
      });
    rds.on(DescribeGlobalClustersCommand).resolves({ GlobalClusters: [globalCluster("primary")] });
    cloudWatch
      .on(GetMetricDataCommand)
      .resolves({ MetricDataResults: [{ Id: "lag", Values: [400] }] });

    const report = await (await handlerOf("read-topology"))(STATE);

    expect(report).toMatchObject({ writerRegion: "primary", replicationLagSeconds: 0.4 });
    const regions = await Promise.all(rds.commandCalls(DescribeDBClustersCommand).map(regionOf));
    expect(regions.sort()).toEqual(["us-east-2", "us-west-2"]);
    expect(await regionOf(cloudWatch.call(0))).toBe("us-west-2");
  });

  it("read-topology reports an unreachable primary in unplanned mode", async () => {
    rds.on(DescribeDBClustersCommand).callsFake(async (_input, getClient) => {
      if ((await getClient().config.region()) === "us-east-2") throw abortTimeout();
      return { DBClusters: [cluster("secondary")] };
    });
    rds.on(DescribeGlobalClustersCommand).callsFake(async (_input, getClient) => {
      if ((await getClient().config.region()) === "us-east-2") throw abortTimeout();
      return { GlobalClusters: [globalCluster("primary")] };
    });
    cloudWatch
      .on(GetMetricDataCommand)
      .resolves({ MetricDataResults: [{ Id: "lag", Values: [] }] });

    const report = await (await handlerOf("read-topology"))({
      operation: { ...OPERATION, mode: "unplanned" },
    });

    expect(report.unreachable).toEqual([
      {
        role: "primary",
        region: "us-east-2",
        reason: "Retryable.Timeout: AbortError: Request aborted",
      },
    ]);
  });

  it("fails read-topology with Retryable.Timeout for an unreachable primary in planned mode", async () => {
    rds.on(DescribeDBClustersCommand).rejects(abortTimeout());
    rds.on(DescribeGlobalClustersCommand).resolves({ GlobalClusters: [globalCluster("primary")] });

    await expect((await handlerOf("read-topology"))(STATE)).rejects.toMatchObject({
      name: "Retryable.Timeout",
      message: "AbortError: Request aborted",
    });
  });

  it("read-traffic reports the target's health", async () => {
    route53.on(GetHealthCheckStatusCommand).resolves({
      HealthCheckObservations: [{ StatusReport: { Status: "Success: HTTP Status Code 200, OK" } }],
    });
    autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({
      AutoScalingGroups: [{ MinSize: 1, DesiredCapacity: 1, MaxSize: 2, Instances: [] } as never],
    });

    const report = await (await handlerOf("read-traffic"))(STATE);

    expect(report).toMatchObject({
      targetHealth: "healthy",
      targetServed: true,
      served: "secondary",
      health: { primary: "healthy", secondary: "healthy" },
    });
  });

  it("promote-database reads the target region and switches over in the writer's region", async () => {
    rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [cluster("secondary")] });
    rds.on(DescribeGlobalClustersCommand).resolves({ GlobalClusters: [globalCluster("primary")] });

    const result = await (await handlerOf("promote-database"))(STATE);

    expect(result).toMatchObject({ action: "switchover-started" });
    const [switchover] = rds.commandCalls(SwitchoverGlobalClusterCommand);
    expect(switchover?.args[0].input).toEqual({
      GlobalClusterIdentifier: "shopsmart-prod-global",
      TargetDbClusterIdentifier: SECONDARY_ARN,
    });
    expect(await regionOf(switchover as never)).toBe("us-east-2");
  });

  it("plan-operation returns the dry run's plan for the readings it is given, with what the workflow's Choice reads", async () => {
    const topology = healthyTopology();
    const traffic = healthyTraffic();
    const event = { operation: OPERATION, topology, traffic, writerCheckIntervalSeconds: 15 };

    const result = await (await handlerOf("plan-operation"))(event);

    const plan = buildPlan(OPERATION, topology, traffic, { settings: SETTINGS });
    expect(result).toEqual(workflowPlan(plan, 15));
    expect(result).toMatchObject({ blocked: false, blockerSummary: "", pageAfterChecks: 22 });
    expect(rds.calls()).toHaveLength(0);

    // Blocked: the same blockers, as one sentence for PlanBlocked's cause.
    const down = await (await handlerOf("plan-operation"))({
      ...event,
      topology: primaryDownTopology(),
      traffic: primaryDownTraffic(),
    });
    expect(down.blocked).toBe(true);
    expect(down.blockerSummary).toContain(
      "a planned failover needs the primary (us-east-2) region reachable",
    );
  });

  it("plan-operation refuses an event without the readings, naming the field", async () => {
    await expect(
      (await handlerOf("plan-operation"))({ operation: OPERATION, writerCheckIntervalSeconds: 15 }),
    ).rejects.toMatchObject({ name: "InvalidEvent", message: expect.stringContaining("topology") });
  });

  it("check-writer answers ready once the target writes", async () => {
    rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [cluster("secondary")] });
    rds
      .on(DescribeGlobalClustersCommand)
      .resolves({ GlobalClusters: [globalCluster("secondary")] });

    await expect((await handlerOf("check-writer"))(STATE)).resolves.toMatchObject({
      ready: true,
      writerRegion: "secondary",
      status: "available",
    });
  });

  it("scale-capacity scales the named region to its active sizes", async () => {
    autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({
      AutoScalingGroups: [{ MinSize: 1, DesiredCapacity: 1, MaxSize: 2, Instances: [] } as never],
    });

    const result = await (await handlerOf("scale-capacity"))({
      role: "secondary",
      capacity: "active",
    });

    expect(result).toMatchObject({ action: "scaled" });
    const [update] = autoScaling.commandCalls(UpdateAutoScalingGroupCommand);
    expect(update?.args[0].input).toEqual({
      AutoScalingGroupName: "shopsmart-prod-secondary-web",
      MinSize: 2,
      DesiredCapacity: 4,
      MaxSize: 8,
    });
    expect(await regionOf(update as never)).toBe("us-west-2");
  });

  it("flip-dns fences the primary through CloudWatch in its own region, not Route 53's API", async () => {
    await expect((await handlerOf("flip-dns"))(STATE)).resolves.toMatchObject({
      action: "fenced",
      fences: { primary: true, secondary: false },
    });
    const [put] = cloudWatch.commandCalls(PutMetricDataCommand);
    expect(put?.args[0].input.MetricData?.map((datum) => datum.Value)).toEqual([1, 0]);
    expect(await regionOf(put as never)).toBe("us-west-2");
    expect(dynamoDb.commandCalls(PutItemCommand)).toHaveLength(1);
    expect(route53.calls()).toHaveLength(0);
  });

  it("fails with InvalidEvent naming the field when the operation is missing", async () => {
    await expect((await handlerOf("promote-database"))({ results: {} })).rejects.toMatchObject({
      name: "InvalidEvent",
      message:
        "promote-database: event field operation: Invalid input: expected object, received undefined",
    });
    expect(rds.calls()).toHaveLength(0);
  });

  it("fails with InvalidEvent naming a bad nested field", async () => {
    await expect(
      (await handlerOf("flip-dns"))({ operation: { ...OPERATION, target: "tertiary" } }),
    ).rejects.toMatchObject({
      name: "InvalidEvent",
      message:
        'flip-dns: event field operation.target: Invalid option: expected one of "primary"|"secondary"',
    });
  });

  it("fails with InvalidEvent for an unknown capacity", async () => {
    await expect(
      (await handlerOf("scale-capacity"))({ role: "secondary", capacity: "huge" }),
    ).rejects.toMatchObject({
      name: "InvalidEvent",
      message:
        'scale-capacity: event field capacity: expected "active", "standby", "fenced" or { minSize, desiredCapacity, maxSize }',
    });
  });

  it("fails with InvalidEvent for a fence without the operation that fences", async () => {
    await expect(
      (await handlerOf("scale-capacity"))({ role: "primary", capacity: "fenced" }),
    ).rejects.toMatchObject({
      name: "InvalidEvent",
      message: 'scale-capacity: event field operationId: required with capacity "fenced"',
    });
  });
});

describe("step handlers without settings", () => {
  it("fails with SettingsError when SHOPSMART_DR_SETTINGS is missing", async () => {
    vi.resetModules();
    vi.stubEnv("SHOPSMART_DR_SETTINGS", "");
    try {
      await expect((await handlerOf("check-writer"))(STATE)).rejects.toMatchObject({
        name: "SettingsError",
        message:
          "SHOPSMART_DR_SETTINGS is not set: expected the automation settings JSON written by the automation construct",
      });
    } finally {
      vi.stubEnv("SHOPSMART_DR_SETTINGS", JSON.stringify(SETTINGS));
    }
  });
});
