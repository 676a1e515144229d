import { DescribeAutoScalingGroupsCommand, type Instance } from "@aws-sdk/client-auto-scaling";
import { GetHealthCheckStatusCommand } from "@aws-sdk/client-route-53";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import {
  healthFromObservations,
  readTraffic,
  type TrafficDependencies,
} from "../../../functions/orchestration/traffic";
import { autoScalingClient, route53Client } from "../../../functions/shared/aws-clients";
import { toStepError } from "../../../functions/shared/errors";
import { abortTimeout, SETTINGS, throttling } from "./fixtures";

const clients = {
  route53: route53Client(),
  autoScaling: {
    primary: autoScalingClient("us-east-2"),
    secondary: autoScalingClient("us-west-2"),
  },
};
const route53 = mockClient(clients.route53);
const autoScaling = {
  primary: mockClient(clients.autoScaling.primary),
  secondary: mockClient(clients.autoScaling.secondary),
};
const deps: TrafficDependencies = { settings: SETTINGS, ...clients };

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
      targetHealth: "healthy",
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

  it("reports unknown health when Route 53 does not answer", async () => {
    healthySystem();
    route53
      .on(GetHealthCheckStatusCommand, { HealthCheckId: "hc-primary-1111" })
      .rejects(abortTimeout());

    const report = await readTraffic(deps, { onUnreachable: "report" });

    expect(report.health.primary).toBe("unknown");
    expect(report.notes).toEqual([
      "Health of the primary region unknown: Route 53 did not answer (Retryable.Timeout: AbortError: Request aborted).",
    ]);
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

  it("fails with Retryable.Throttled when Route 53 throttles", async () => {
    healthySystem();
    route53.on(GetHealthCheckStatusCommand).rejects(throttling());

    const error = await readTraffic(deps, { onUnreachable: "report" }).catch((caught) => caught);

    expect(toStepError(error)).toMatchObject({
      name: "Retryable.Throttled",
      message: "Throttling: Rate exceeded",
    });
  });

  it("fails when an Auto Scaling group does not exist", async () => {
    healthySystem();
    autoScaling.secondary.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });

    await expect(readTraffic(deps, { onUnreachable: "report" })).rejects.toThrow(
      "Auto Scaling group shopsmart-prod-secondary-web not found in us-west-2; check regions.<role>.autoScalingGroupName in SHOPSMART_DR_SETTINGS.",
    );
  });
});
