/**
 * Failback through the HTTP API: after a planned failover to the secondary region, POST /failback
 * runs the synthesized prod state machine the other way: switchover back to the primary, DNS
 * back, then the secondary scaled down to its warm-standby capacity, and the operation recorded.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { OperationRecord } from "../../functions/shared/operation";
import { type RegionPair, serviceError } from "../../src/simulation";
import { connectWorkflow } from "../support/local-state-machine";
import {
  apiRequest,
  CALLER_ARN,
  callApi,
  lockHeld,
  newScenario,
  prodStack,
  SECONDARY_REGION,
  untilRoute53Notices,
} from "../support/scenario";
import type { SimulatedAws } from "../support/simulated-aws";

let pair: RegionPair;
let aws: SimulatedAws;
let disconnect: () => void;

beforeEach(async () => {
  ({ pair, aws } = newScenario());
  disconnect = await connectWorkflow({ pair, stack: prodStack() });
});

afterEach(() => {
  disconnect();
  aws.restore();
});

describe("failback", () => {
  it("after a planned failover, POST /failback switches over to the primary, clears the fence on its traffic, scales the secondary down to standby and records the operation", async () => {
    const failover = await callApi(
      apiRequest("POST", "/failover", { mode: "planned", reason: "quarterly DR drill" }),
    );
    expect(failover.statusCode).toBe(202);
    await pair.stepFunctions.settled();
    expect(pair.snapshot()).toMatchObject({
      database: { globalWriter: "secondary" },
      dns: { answering: "secondary" },
      capacity: { secondary: { desiredCapacity: 3 }, primary: { desiredCapacity: 3 } },
    });

    // An hour in the secondary region, then back.
    await pair.clock.advance(3_600_000);
    const since = pair.calls.length;
    const requestedAt = pair.clock.isoString();
    const failback = await callApi(
      apiRequest("POST", "/failback", { reason: "drill over: back to us-east-2" }),
    );
    expect(failback.statusCode).toBe(202);
    await pair.stepFunctions.settled();
    expect(pair.stepFunctions.executions.map((execution) => execution.status)).toEqual([
      "SUCCEEDED",
      "SUCCEEDED",
    ]);

    const calls = pair.calls.slice(since);
    const changes = calls.filter((call) =>
      [
        "SwitchoverGlobalCluster",
        "FailoverGlobalCluster",
        "UpdateAutoScalingGroup",
        "ChangeResourceRecordSets",
        "PutMetricData",
      ].includes(call.operation),
    );
    // The switchover is requested in the current writer's (secondary) region, as the Aurora User
    // Guide's switchover procedure directs. The primary's group is still at active capacity, so
    // ScaleTarget changes nothing; the fence on the primary is cleared (in the secondary region,
    // no Route 53 API call), and the secondary is scaled down only after Verify saw the public
    // name answer from the primary.
    expect(changes.map((call) => [call.operation, call.region])).toEqual([
      ["SwitchoverGlobalCluster", SECONDARY_REGION],
      ["PutMetricData", SECONDARY_REGION],
      ["UpdateAutoScalingGroup", SECONDARY_REGION],
    ]);
    const [switchover, flip, scaleDown] = changes;
    expect(switchover?.input).toEqual({
      GlobalClusterIdentifier: pair.settings.globalClusterIdentifier,
      TargetDbClusterIdentifier: pair.settings.regions.primary.clusterArn,
    });
    const fences = (
      flip?.input as { MetricData?: { Dimensions: { Value: string }[]; Value: number }[] }
    )?.MetricData;
    expect(fences?.map((datum) => [datum.Dimensions[1]?.Value, datum.Value])).toEqual([
      ["primary", 0],
      ["secondary", 0],
    ]);
    expect(scaleDown?.input).toEqual({
      AutoScalingGroupName: pair.settings.regions.secondary.autoScalingGroupName,
      MinSize: 1,
      DesiredCapacity: 1,
      MaxSize: 9,
    });
    // The scale-down comes after Verify saw the primary as the writer.
    expect(pair.rds.promotions.map((promotion) => [promotion.kind, promotion.cluster])).toEqual([
      ["switchover", "secondary"],
      ["switchover", "primary"],
    ]);
    expect(scaleDown?.at).toBeGreaterThanOrEqual(pair.rds.promotions[1]?.finishedAt ?? Infinity);

    const response = await callApi(apiRequest("GET", `/operations/${failback.body.operationId}`));
    const record = response.body as OperationRecord;
    expect(record).toMatchObject({
      operationId: failback.body.operationId,
      kind: "failback",
      mode: "planned",
      status: "succeeded",
      requestedAt,
      requestedBy: CALLER_ARN,
      dataLossSeconds: 0,
      // Writer ready at 60 s; Route 53 follows the cleared fence 60 s later.
      rtoSeconds: 120,
    });
    expect(record.steps.map((step) => step.name)).toEqual([
      "topology",
      "traffic",
      "plan",
      "promoteAndScale",
      "writer",
      "dns",
      "verify",
      "scaleDownSource",
    ]);
    expect(record.steps.at(-1)?.detail).toContain("to min 1 / desired 1 / max 9");

    expect(pair.sns.published.map((message) => message.subject)).toEqual([
      `[shopsmart-dr prod] failover succeeded: ${failover.body.operationId}`,
      `[shopsmart-dr prod] failback succeeded: ${failback.body.operationId}`,
    ]);
    expect(lockHeld(pair)).toBe(false);

    // Back where it started, and GET /status says so.
    await pair.clock.advance(60_000);
    expect(pair.snapshot()).toMatchObject({
      database: { globalWriter: "primary", globalStatus: "available" },
      dns: {
        primaryRecord: "primary",
        secondaryRecord: "secondary",
        answering: "primary",
        fenced: { primary: false, secondary: false },
      },
      capacity: {
        primary: { minSize: 3, desiredCapacity: 3, maxSize: 9, inService: 3 },
        secondary: { minSize: 1, desiredCapacity: 1, maxSize: 9, inService: 1 },
      },
    });
    const status = await callApi(apiRequest("GET", "/status"));
    expect(status.body).toMatchObject({
      activeRegion: "primary",
      latestOperation: { operationId: failback.body.operationId, status: "succeeded" },
    });
  });

  it("is refused after a detach-and-promote: the primary still holds the global cluster without the writes the detached secondary took, so DNS stays and the failure is recorded", async () => {
    // An unplanned failover during a primary outage that had to detach the secondary.
    pair.regionDown("primary", { callMs: 5_000 });
    await untilRoute53Notices(pair);
    pair.injectFault({ service: "rds", operation: "FailoverGlobalCluster" }, 1, () =>
      serviceError("rds", "InvalidGlobalClusterStateFault", "not in a state to fail over"),
    );
    const failover = await callApi(
      apiRequest("POST", "/failover", { mode: "unplanned", reason: "us-east-2 outage" }),
    );
    expect(failover.statusCode).toBe(202);
    await pair.stepFunctions.settled();
    expect(pair.snapshot().database.clusters.secondary).toMatchObject({
      writable: true,
      member: false,
    });

    // The primary region comes back: its cluster is still the global cluster's writer.
    pair.regionUp("primary");
    await pair.clock.advance(3_600_000);
    const since = pair.calls.length;
    const failback = await callApi(apiRequest("POST", "/failback", { reason: "outage over" }));
    expect(failback.statusCode).toBe(202);
    await pair.stepFunctions.settled();
    expect(pair.stepFunctions.executions.map((execution) => execution.status)).toEqual([
      "SUCCEEDED",
      "FAILED",
    ]);

    // Nothing moved: traffic stays on the detached secondary, which has the latest writes.
    const changes = pair.calls
      .slice(since)
      .filter((call) =>
        ["SwitchoverGlobalCluster", "ChangeResourceRecordSets", "UpdateAutoScalingGroup"].includes(
          call.operation,
        ),
      );
    expect(changes).toEqual([]);
    expect(pair.snapshot()).toMatchObject({
      dns: { answering: "secondary", fenced: { primary: true, secondary: false } },
      capacity: { secondary: { desiredCapacity: 3 } },
    });
    const record = await callApi(apiRequest("GET", `/operations/${failback.body.operationId}`));
    expect(record.body).toMatchObject({
      kind: "failback",
      status: "failed",
      // The plan refuses it before anything changes (promote-database would refuse it too).
      error: expect.stringMatching(
        /^PlanBlocked: The plan of the planned failback to the primary region is blocked, nothing was changed: the secondary cluster shopsmart-prod-secondary was detached from the global cluster shopsmart-prod-global \(detach-and-promote\)/,
      ),
    });
    expect(pair.sns.published.at(-1)?.subject).toBe(
      `[shopsmart-dr prod] failback failed: ${failback.body.operationId}`,
    );
    expect(lockHeld(pair)).toBe(false);
  });
});
