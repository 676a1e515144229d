import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  type Instance,
} from "@aws-sdk/client-auto-scaling";
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { GetHealthCheckStatusCommand, Route53Client } from "@aws-sdk/client-route-53";
import { marshall } from "@aws-sdk/util-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import {
  healthFromObservations,
  readTraffic,
  type TrafficDependencies,
} from "../../../functions/orchestration/traffic";
import { awsClient } from "../../../functions/shared/aws-clients";
import type { EndpointProbe, EndpointReading } from "../../../functions/shared/endpoint-probe";
import { toStepError } from "../../../functions/shared/errors";
import type { RegionRole } from "../../../functions/shared/region-roles";
import { abortTimeout, SETTINGS, throttling } from "./fixtures";

const clients = {
  route53: awsClient(Route53Client),
  autoScaling: {
    primary: awsClient(AutoScalingClient, "us-east-2"),
    secondary: awsClient(AutoScalingClient, "us-west-2"),
  },
};
const route53 = mockClient(clients.route53);
const autoScaling = {
  primary: mockClient(clients.autoScaling.primary),
  secondary: mockClient(clients.autoScaling.secondary),
};
const dynamoDb = new DynamoDBClient({ region: "us-west-2" });
const ledger = mockClient(dynamoDb);

/** What the data plane answers: which region the name resolves to, each endpoint's probe. */
let served: RegionRole | "unknown" = "primary";
let endpoints: Record<RegionRole, EndpointReading>;
const probes: EndpointProbe[] = [];
const up: EndpointReading = { healthy: true, statusCode: 200, writable: null, writerRegion: null };
const down: EndpointReading = {
  healthy: false,
  statusCode: null,
  writable: null,
  writerRegion: null,
  reason: "timeout after 5000 ms",
};

const deps: TrafficDependencies = {
  settings: SETTINGS,
  ...clients,
  ledger: { client: dynamoDb, tableName: SETTINGS.ledgerTableName },
  probeEndpoint: async (probe) => {
    probes.push(probe);
    const role = probe.host.includes("primary") ? "primary" : "secondary";
    return endpoints[role];
  },
  servedRegion: async () =>
    served === "unknown" ? { region: "unknown", reason: "SERVFAIL" } : { region: served },
};

function observations(successes: number, failures: number) {
  return {
    HealthCheckObservations: [
      ...Array.from({ length: successes }, () => ({
        StatusReport: { Status: "Success: HTTP Status Code 200, OK" },
      })),
      ...Array.from({ length: failures }, () => ({
        StatusReport: { Status: "Failure: Connection timed out." },
      })),
    ],
  };
}

function instances(inService: number, pending: number): Instance[] {
  const instance = (LifecycleState: "InService" | "Pending", index: number): Instance => ({
    InstanceId: `i-${LifecycleState}-${index}`,
    LifecycleState,
    AvailabilityZone: "a",
    HealthStatus: "Healthy",
    ProtectedFromScaleIn: false,
  });
  return [
    ...Array.from({ length: inService }, (_, index) => instance("InService", index)),
    ...Array.from({ length: pending }, (_, index) => instance("Pending", index)),
  ];
}

function healthySystem() {
  route53
    .on(GetHealthCheckStatusCommand, { HealthCheckId: "hc-primary-1111" })
    .resolves(observations(16, 0))
    .on(GetHealthCheckStatusCommand, { HealthCheckId: "hc-secondary-2222" })
    .resolves(observations(15, 1));
  autoScaling.primary.on(DescribeAutoScalingGroupsCommand).resolves({
    AutoScalingGroups: [
      {
        AutoScalingGroupName: "shopsmart-prod-primary-web",
        MinSize: 2,
        DesiredCapacity: 4,
        MaxSize: 8,
        Instances: instances(4, 0),
      } as never,
    ],
  });
  autoScaling.secondary.on(DescribeAutoScalingGroupsCommand).resolves({
    AutoScalingGroups: [
      {
        AutoScalingGroupName: "shopsmart-prod-secondary-web",
        MinSize: 1,
        DesiredCapacity: 2,
        MaxSize: 2,
        Instances: instances(1, 1),
      } as never,
    ],
  });
}

beforeEach(() => {
  served = "primary";
  endpoints = { primary: up, secondary: up };
  probes.length = 0;
  ledger.reset();
  ledger.on(GetItemCommand).resolves({});
  route53.reset();
  autoScaling.primary.reset();
  autoScaling.secondary.reset();
});

describe("healthFromObservations", () => {
  it("applies Route 53's more-than-18% rule", () => {
    expect(healthFromObservations(observationStatuses(3, 13))).toBe("healthy"); // 18.75%
    expect(healthFromObservations(observationStatuses(2, 14))).toBe("unhealthy"); // 12.5%
    expect(healthFromObservations([])).toBe("unknown");
  });
});

function observationStatuses(successes: number, failures: number): string[] {
  return observations(successes, failures).HealthCheckObservations.map(
    (observation) => observation.StatusReport.Status,
  );
}

describe("readTraffic", () => {
  it("reads health and capacity of both regions", async () => {
    healthySystem();

    const report = await readTraffic(deps, { onUnreachable: "report", target: "secondary" });

    expect(report).toEqual({
      health: { primary: "healthy", secondary: "healthy" },
      route53Health: { primary: "healthy", secondary: "healthy" },
      endpoints: { primary: up, secondary: up },
      served: "primary",
      fences: { primary: false, secondary: false },
      targetHealth: "healthy",
      // The name still resolves to the primary: traffic has not moved to the target yet.
      targetServed: false,
      capacity: {
        primary: { minSize: 2, desiredCapacity: 4, maxSize: 8, inService: 4 },
        secondary: { minSize: 1, desiredCapacity: 2, maxSize: 2, inService: 1 },
      },
      unreachable: [],
      notes: [],
    });
    expect(
      autoScaling.primary.commandCalls(DescribeAutoScalingGroupsCommand)[0]?.args[0].input,
    ).toEqual({
      AutoScalingGroupNames: ["shopsmart-prod-primary-web"],
    });
    expect(
      autoScaling.secondary.commandCalls(DescribeAutoScalingGroupsCommand)[0]?.args[0].input,
    ).toEqual({
      AutoScalingGroupNames: ["shopsmart-prod-secondary-web"],
    });
    expect(route53.commandCalls(GetHealthCheckStatusCommand)).toHaveLength(2);
  });

  it("reports an unhealthy primary", async () => {
    healthySystem();
    route53
      .on(GetHealthCheckStatusCommand, { HealthCheckId: "hc-primary-1111" })
      .resolves(observations(1, 15));

    const report = await readTraffic(deps, { onUnreachable: "report" });

    expect(report.health).toEqual({ primary: "unhealthy", secondary: "healthy" });
    expect(report).not.toHaveProperty("targetHealth");
  });

  it("reports null capacity when the primary region times out (unplanned)", async () => {
    healthySystem();
    autoScaling.primary.on(DescribeAutoScalingGroupsCommand).rejects(abortTimeout());

    const report = await readTraffic(deps, { onUnreachable: "report" });

    expect(report.capacity.primary).toBeNull();
    expect(report.unreachable).toEqual([
      {
        role: "primary",
        region: "us-east-2",
        reason: "Retryable.Timeout: AbortError: Request aborted",
      },
    ]);
    expect(report.notes).toEqual([
      "Capacity of shopsmart-prod-primary-web unknown: us-east-2 did not answer.",
    ]);
  });

  it("probes each load balancer with the shop's name as SNI and Host", async () => {
    healthySystem();

    await readTraffic(deps, { onUnreachable: "report" });

    expect(probes).toEqual([
      {
        host: "shopsmart-prod-primary-123.us-east-2.elb.amazonaws.com",
        serverName: "shop.example.com",
        path: "/health",
        timeoutMs: 5000,
      },
      {
        host: "shopsmart-prod-secondary-456.us-west-2.elb.amazonaws.com",
        serverName: "shop.example.com",
        path: "/health",
        timeoutMs: 5000,
      },
    ]);
  });

  it("reads Route 53's verdict from the DNS answer when its API (us-east-1) does not answer", async () => {
    healthySystem();
    route53.on(GetHealthCheckStatusCommand).rejects(abortTimeout());
    served = "secondary";
    endpoints = { primary: down, secondary: up };

    const report = await readTraffic(deps, { onUnreachable: "throw", target: "secondary" });

    // SECONDARY answers: the PRIMARY record's check fails; nothing is said of SECONDARY's own
    // check, so its health is this function's probe.
    expect(report.route53Health).toEqual({ primary: "unhealthy", secondary: "healthy" });
    expect(report.health).toEqual({ primary: "unhealthy", secondary: "healthy" });
    expect(report.targetServed).toBe(true);
    expect(report.notes).toContain(
      "Route 53's API did not answer for the primary health check (Retryable.Timeout: AbortError: Request aborted); its view is read from the DNS answer.",
    );
  });

  it("does not read a fenced region's answer as its health", async () => {
    healthySystem();
    route53.on(GetHealthCheckStatusCommand).rejects(abortTimeout());
    ledger.on(GetItemCommand).resolves({
      Item: marshall({
        pk: "TRAFFIC#FENCES",
        primary: true,
        secondary: false,
        operationId: "op-1",
        updatedAt: "2026-12-03T00:00:00.000Z",
      }),
    });
    served = "secondary";

    const report = await readTraffic(deps, { onUnreachable: "report" });

    expect(report.fences).toEqual({ primary: true, secondary: false });
    expect(report.route53Health.primary).toBe("unknown");
    // Its own endpoint answers: the probe says healthy.
    expect(report.health.primary).toBe("healthy");
  });

  it("is not served while the target's app cannot write", async () => {
    healthySystem();
    served = "secondary";
    endpoints = {
      primary: down,
      secondary: { ...up, writable: false, writerRegion: "us-east-2" },
    };

    const report = await readTraffic(deps, { onUnreachable: "report", target: "secondary" });

    expect(report.targetServed).toBe(false);
  });

  it("fails with Retryable.Timeout when a region times out and onUnreachable is throw", async () => {
    healthySystem();
    autoScaling.primary.on(DescribeAutoScalingGroupsCommand).rejects(abortTimeout());

    const error = await readTraffic(deps, { onUnreachable: "throw" }).catch((caught) => caught);

    expect(toStepError(error)).toMatchObject({
      name: "Retryable.Timeout",
      message: "AbortError: Request aborted",
    });
  });

  it("never fails on Route 53's API: a throttled read leaves its verdict to the DNS answer", async () => {
    healthySystem();
    route53.on(GetHealthCheckStatusCommand).rejects(throttling());

    const report = await readTraffic(deps, { onUnreachable: "throw" });

    expect(report.route53Health).toEqual({ primary: "healthy", secondary: "unknown" });
    expect(report.health).toEqual({ primary: "healthy", secondary: "healthy" });
  });

  it("fails when an Auto Scaling group does not exist", async () => {
    healthySystem();
    autoScaling.secondary.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });

    await expect(readTraffic(deps, { onUnreachable: "report" })).rejects.toThrow(
      "Auto Scaling group shopsmart-prod-secondary-web not found in us-west-2; check regions.<role>.autoScalingGroupName in SHOPSMART_DR_SETTINGS.",
    );
  });
});
