/**
 * Failback through the HTTP API: after a planned failover to the secondary region, POST /failback
 * runs the synthesized prod state machine the other way: switchover back to the primary, DNS
 * back, then the secondary scaled down to its warm-standby capacity, and the operation recorded.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { OperationRecord } from "../../functions/shared/operation";
import { type RegionPair, serviceError } from "../../src/simulation";
import { connectWorkflow } from "../support/local-state-machine";
import {
  type ApiResponse,
  apiRequest,
  CALLER_ARN,
  callApi,
  lockHeld,
  newScenario,
  prodStack,
  SCENARIO_TIMEOUT_MS,
  SECONDARY_REGION,
  sharedScenario,
  untilRoute53Notices,
} from "../support/scenario";

/** Two healthy regions in prod's shape, StartExecution running the synthesized workflow. */
async function connectedPair(onCleanup: (cleanup: () => void) => void): Promise<RegionPair> {
  const { pair, aws } = newScenario();
  onCleanup(() => aws.restore());
  onCleanup(await connectWorkflow({ pair, stack: prodStack() }));
  return pair;
}

describe("failback after a planned failover", () => {
  const scenario = sharedScenario(async (onCleanup) => {
    const pair = await connectedPair(onCleanup);
    const failover = await callApi(
      apiRequest("POST", "/failover", { mode: "planned", reason: "quarterly DR drill" }),
    );
    await pair.stepFunctions.settled();
    const afterFailover = pair.snapshot();

    // An hour in the secondary region, then back.
    await pair.clock.advance(3_600_000);
    const since = pair.calls.length;
    const requestedAt = pair.clock.isoString();
    const failback = await callApi(
      apiRequest("POST", "/failback", { reason: "drill over: back to us-east-2" }),
    );
    await pair.stepFunctions.settled();
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
    const response = await callApi(apiRequest("GET", `/operations/${failback.body.operationId}`));
    const record = response.body as OperationRecord;
    return { pair, failover, afterFailover, requestedAt, failback, changes, record };
  });

  it("completes the planned failover first (202): the secondary writes, answers and runs at active capacity", () => {
    const { failover, afterFailover } = scenario();
    expect(failover.statusCode).toBe(202);
    expect(afterFailover).toMatchObject({
      database: { globalWriter: "secondary" },
      dns: { answering: "secondary" },
      capacity: { secondary: { desiredCapacity: 3 }, primary: { desiredCapacity: 3 } },
    });
  });

  it("accepts POST /failback (202) and both executions succeed", () => {
    const { pair, failback } = scenario();
    expect(failback.statusCode).toBe(202);
    expect(pair.stepFunctions.executions.map((execution) => execution.status)).toEqual([
      "SUCCEEDED",
      "SUCCEEDED",
    ]);
  });

  it("switches over to the primary in the secondary region, clears the fence on the primary's traffic, then scales the secondary down to standby", () => {
    const { pair, changes } = scenario();
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
  });

  it("scales the secondary down only after the primary is the writer again", () => {
    const { pair, changes } = scenario();
    const scaleDown = changes[2];
    // The scale-down comes after Verify saw the primary as the writer.
    expect(pair.rds.promotions.map((promotion) => [promotion.kind, promotion.cluster])).toEqual([
      ["switchover", "secondary"],
      ["switchover", "primary"],
    ]);
    expect(scaleDown?.at).toBeGreaterThanOrEqual(pair.rds.promotions[1]?.finishedAt ?? Infinity);
  });

  it("records the failback succeeded, with every step and the scale-down's capacity", () => {
    const { requestedAt, failback, record } = scenario();
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
  });

  it("notifies each operation's success and releases the lock", () => {
    const { pair, failover, failback } = scenario();
    expect(pair.sns.published.map((message) => message.subject)).toEqual([
      `[shopsmart-dr prod] failover succeeded: ${failover.body.operationId}`,
      `[shopsmart-dr prod] failback succeeded: ${failback.body.operationId}`,
    ]);
    expect(lockHeld(pair)).toBe(false);
  });

  describe("a minute later", () => {
    let status: ApiResponse;
    beforeAll(async () => {
      await scenario().pair.clock.advance(60_000);
      status = await callApi(apiRequest("GET", "/status"));
    }, SCENARIO_TIMEOUT_MS);

    it("is back where it started: the primary writes and answers, the secondary at standby", () => {
      expect(scenario().pair.snapshot()).toMatchObject({
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
    });

    it("GET /status says the primary is active, the failback the latest operation", () => {
      expect(status.body).toMatchObject({
        activeRegion: "primary",
        latestOperation: { operationId: scenario().failback.body.operationId, status: "succeeded" },
      });
    });
  });
});

describe("failback after a detach-and-promote", () => {
  const scenario = sharedScenario(async (onCleanup) => {
    const pair = await connectedPair(onCleanup);
    // An unplanned failover during a primary outage that had to detach the secondary.
    pair.regionDown("primary", { callMs: 5_000 });
    await untilRoute53Notices(pair);
    pair.injectFault({ service: "rds", operation: "FailoverGlobalCluster" }, 1, () =>
      serviceError("rds", "InvalidGlobalClusterStateFault", "not in a state to fail over"),
    );
    const failover = await callApi(
      apiRequest("POST", "/failover", { mode: "unplanned", reason: "us-east-2 outage" }),
    );
    await pair.stepFunctions.settled();
    const secondaryAfterFailover = pair.snapshot().database.clusters.secondary;

    // The primary region comes back: its cluster is still the global cluster's writer.
    pair.regionUp("primary");
    await pair.clock.advance(3_600_000);
    const since = pair.calls.length;
    const failback = await callApi(apiRequest("POST", "/failback", { reason: "outage over" }));
    await pair.stepFunctions.settled();
    const changes = pair.calls
      .slice(since)
      .filter((call) =>
        ["SwitchoverGlobalCluster", "ChangeResourceRecordSets", "UpdateAutoScalingGroup"].includes(
          call.operation,
        ),
      );
    const record = await callApi(apiRequest("GET", `/operations/${failback.body.operationId}`));
    return { pair, failover, secondaryAfterFailover, failback, changes, record };
  });

  it("detaches the secondary in the unplanned failover first (202), leaving it writable outside the global cluster", () => {
    const { failover, secondaryAfterFailover } = scenario();
    expect(failover.statusCode).toBe(202);
    expect(secondaryAfterFailover).toMatchObject({
      writable: true,
      member: false,
    });
  });

  it("fails the failback execution (accepted with 202)", () => {
    const { pair, failback } = scenario();
    expect(failback.statusCode).toBe(202);
    expect(pair.stepFunctions.executions.map((execution) => execution.status)).toEqual([
      "SUCCEEDED",
      "FAILED",
    ]);
  });

  it("moves nothing: traffic stays on the detached secondary, which has the latest writes", () => {
    const { pair, changes } = scenario();
    expect(changes).toEqual([]);
    expect(pair.snapshot()).toMatchObject({
      dns: { answering: "secondary", fenced: { primary: true, secondary: false } },
      capacity: { secondary: { desiredCapacity: 3 } },
    });
  });

  it("records the failback failed, blocked by the plan, and notifies the failure", () => {
    const { pair, failback, record } = scenario();
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
  });

  it("releases the lock", () => {
    expect(lockHeld(scenario().pair)).toBe(false);
  });
});
