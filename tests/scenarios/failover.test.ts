/**
 * Failover scenarios: the synthesized prod state machine, run locally with the real step handlers
 * against two simulated regions. Planned failover on a healthy system; unplanned failover with the
 * primary region down; unplanned failover whose FailoverGlobalCluster fails terminally
 * (detach-and-promote).
 */
import { describe, expect, it } from "vitest";
import type { TopologyReport } from "../../functions/shared/operation";
import { MUTATING_OPERATIONS, type RegionPair, serviceError } from "../../src/simulation";
import { runStateMachineScenario } from "../support/local-state-machine";
import {
  callLog,
  executionScenario,
  indexOf,
  lockHeld,
  type OnCleanup,
  onlyCall,
  operationInput,
  PRIMARY_REGION,
  prodStack,
  recordedOperation,
  SECONDARY_REGION,
  scenarioPair,
  secondsAfter,
  sharedScenario,
  stateEventAt,
  stateOutputs,
  untilRoute53Notices,
} from "../support/scenario";

/** The preflight's reads: both regions' database, capacity and health, and the replication lag. */
const PREFLIGHT_READS = [
  `rds:DescribeDBClusters@${PRIMARY_REGION}`,
  `rds:DescribeDBClusters@${SECONDARY_REGION}`,
  `rds:DescribeGlobalClusters@${PRIMARY_REGION}`,
  `rds:DescribeGlobalClusters@${SECONDARY_REGION}`,
  `cloudwatch:GetMetricData@${SECONDARY_REGION}`,
  `autoscaling:DescribeAutoScalingGroups@${PRIMARY_REGION}`,
  `autoscaling:DescribeAutoScalingGroups@${SECONDARY_REGION}`,
  // Route 53 is global; the client is the Lambda's (secondary) region. A best-effort read.
  `route53:GetHealthCheckStatus@${SECONDARY_REGION}`,
  // The traffic fences, in the ledger.
  `dynamodb:GetItem@${SECONDARY_REGION}`,
];

describe("planned failover on a healthy system", () => {
  const scenario = executionScenario({
    input: (pair) => operationInput(pair, { mode: "planned" }),
  });

  it("succeeds", () => {
    expect(scenario().result.status).toBe("SUCCEEDED");
  });

  it("reads first: nothing mutates before the preflight has read both regions", () => {
    const { pair } = scenario();
    const firstMutation = pair.calls.findIndex((call) => MUTATING_OPERATIONS.has(call.operation));
    const beforeMutation = pair.calls
      .slice(0, firstMutation)
      .map((call) => `${call.service}:${call.operation}@${call.region}`);
    expect(beforeMutation.every((call) => /:(Describe|Get|List)/.test(call))).toBe(true);
    for (const read of PREFLIGHT_READS) expect(beforeMutation).toContain(read);
  });

  it("switches over in the writer's region and scales up in the secondary, then fences, and changes nothing else (no FailoverGlobalCluster, no Route 53 API change)", () => {
    const { pair } = scenario();
    // The infrastructure changes, in order: the two parallel steps, then the traffic fence. The
    // switchover is called in the current writer's region, as the Aurora User Guide directs; the
    // scale-up and the fence in the secondary; nothing in the primary region is changed but the
    // global cluster, through its own API, and Route 53's API is not called at all.
    const changes = pair
      .mutatingCalls()
      .filter((call) =>
        ["rds", "autoscaling", "route53", "ssm", "cloudwatch"].includes(call.service),
      );
    expect(
      changes
        .map((call) => `${call.service}:${call.operation}@${call.region}`)
        .slice(0, 2)
        .sort(),
    ).toEqual([
      `autoscaling:UpdateAutoScalingGroup@${SECONDARY_REGION}`,
      `rds:SwitchoverGlobalCluster@${PRIMARY_REGION}`,
    ]);
    expect(changes.slice(2).map((call) => `${call.operation}@${call.region}`)).toEqual([
      `PutMetricData@${SECONDARY_REGION}`,
    ]);
    expect(pair.callsTo({ operation: "FailoverGlobalCluster" })).toEqual([]);
    expect(pair.callsTo({ service: "route53" }).map((call) => call.operation)).not.toContain(
      "ChangeResourceRecordSets",
    );
  });

  it("switches over to the secondary cluster and scales the secondary group to active capacity", () => {
    const { pair } = scenario();
    const switchover = onlyCall(pair, { operation: "SwitchoverGlobalCluster" });
    const scaleUp = onlyCall(pair, { operation: "UpdateAutoScalingGroup" });
    expect(switchover.input).toEqual({
      GlobalClusterIdentifier: pair.settings.globalClusterIdentifier,
      TargetDbClusterIdentifier: pair.settings.regions.secondary.clusterArn,
    });
    expect(scaleUp.input).toEqual({
      AutoScalingGroupName: pair.settings.regions.secondary.autoScalingGroupName,
      MinSize: 3,
      DesiredCapacity: 3,
      MaxSize: 9,
    });
  });

  it("starts the switchover and the scale-up in parallel inside PromoteAndScale, both before the fence", () => {
    const { pair, result } = scenario();
    const switchover = onlyCall(pair, { operation: "SwitchoverGlobalCluster" });
    const scaleUp = onlyCall(pair, { operation: "UpdateAutoScalingGroup" });
    const flip = onlyCall(pair, { operation: "PutMetricData" });
    // In parallel: both start at the same simulated moment, inside PromoteAndScale.
    expect(switchover.at).toBe(scaleUp.at);
    expect(stateEventAt(result, "Entered", "PromoteAndScale")).toBeLessThanOrEqual(switchover.at);
    expect(indexOf(pair, switchover)).toBeLessThan(indexOf(pair, flip));
    expect(indexOf(pair, scaleUp)).toBeLessThan(indexOf(pair, flip));
  });

  it("fences the primary's traffic only once check-writer saw the secondary as the writer, 60 s after the request", () => {
    const { pair, input, result } = scenario();
    const flip = onlyCall(pair, { operation: "PutMetricData" });
    // The traffic fence is set only after check-writer said ready: the switchover takes 60 s, the checks run
    // every 15 s, and only the fourth (at 60 s) sees the secondary as the available writer.
    const checks = stateOutputs(result, "CheckWriter").map(
      (state) => (state as { results: { writer: { ready: boolean } } }).results.writer.ready,
    );
    expect(checks).toEqual([false, false, false, true]);
    expect(result.statesEntered.lastIndexOf("CheckWriter")).toBeLessThan(
      result.statesEntered.indexOf("FlipDns"),
    );
    const ready = stateEventAt(result, "Exited", "CheckWriter", "last");
    expect(flip.at).toBeGreaterThanOrEqual(ready);
    expect(pair.rds.promotions).toEqual([
      expect.objectContaining({ kind: "switchover", cluster: "secondary", outcome: "completed" }),
    ]);
    expect(flip.at).toBeGreaterThanOrEqual(pair.rds.promotions[0]?.finishedAt ?? Infinity);
    expect(secondsAfter(input.requestedAt, flip)).toBe(60);
  });

  it("records one succeeded operation with no data loss, every step succeeded", () => {
    const { input, record } = scenario();
    expect(record).toMatchObject({
      operationId: input.operationId,
      kind: "failover",
      mode: "planned",
      status: "succeeded",
      dataLossSeconds: 0,
    });
    expect(record.error).toBeUndefined();
    expect(record.steps.map((step) => [step.name, step.status])).toEqual([
      ["topology", "succeeded"],
      ["traffic", "succeeded"],
      ["plan", "succeeded"],
      ["promoteAndScale", "succeeded"],
      ["writer", "succeeded"],
      ["dns", "succeeded"],
      ["verify", "succeeded"],
    ]);
  });

  it("records an RTO of 120 s in simulated time, request to verified", () => {
    const { input, record } = scenario();
    // RTO in simulated time, request -> verified: writer ready at 60 s and the primary fenced
    // then; Route 53's fence check follows the metric 60 s later (fenceHealthMs), so the name
    // resolves to the secondary and Verify passes at 120 s.
    expect(record.rtoSeconds).toBe(120);
    expect(Date.parse(record.finishedAt ?? "") - Date.parse(input.requestedAt)).toBe(120_000);
  });

  it("notifies once, on the secondary region's topic", () => {
    const { pair, input } = scenario();
    expect(pair.sns.published).toHaveLength(1);
    expect(pair.sns.published[0]).toMatchObject({
      topicArn: pair.settings.topicArn,
      subject: `[shopsmart-dr prod] failover succeeded: ${input.operationId}`,
    });
  });

  it("leaves the secondary the writer, answering and at active capacity, the records as Terraform wrote them", () => {
    const { pair } = scenario();
    expect(pair.snapshot()).toMatchObject({
      database: {
        globalWriter: "secondary",
        globalStatus: "available",
        clusters: { primary: { member: true }, secondary: { writable: true, member: true } },
      },
      // The records stay as Terraform wrote them; the fence moves the answer.
      dns: {
        primaryRecord: "primary",
        secondaryRecord: "secondary",
        answering: "secondary",
        fenced: { primary: true, secondary: false },
      },
      capacity: {
        secondary: { minSize: 3, desiredCapacity: 3, maxSize: 9, inService: 3 },
        primary: { desiredCapacity: 3, inService: 3 },
      },
    });
  });
});

/**
 * A pair in prod's shape with every call to us-east-2 hanging 5 s (the step's per-call timeout),
 * then failing as the SDK does, and Route 53's checkers aware of it.
 */
async function primaryTimingOut(
  onCleanup: OnCleanup,
  options: Parameters<typeof scenarioPair>[1] = {},
): Promise<RegionPair> {
  const pair = scenarioPair(onCleanup, options);
  pair.regionDown("primary", { callMs: 5_000 });
  await untilRoute53Notices(pair);
  return pair;
}

/** The global cluster refuses FailoverGlobalCluster (not retryable: HTTP 400, not throttling). */
function refuseFailover(pair: RegionPair): RegionPair {
  pair.injectFault({ service: "rds", operation: "FailoverGlobalCluster" }, 1, () =>
    serviceError(
      "rds",
      "InvalidGlobalClusterStateFault",
      `Global cluster ${pair.settings.globalClusterIdentifier} is in an invalid state for failover.`,
    ),
  );
  return pair;
}

describe("unplanned failover while every primary-region call times out", () => {
  describe("and the primary region answers again 20 minutes later", () => {
    const scenario = sharedScenario(async (onCleanup) => {
      const pair = await primaryTimingOut(onCleanup, { replicationLagMs: 2_500 });
      const backAt = pair.clock.now() + 20 * 60_000;
      pair.clock.schedule(20 * 60_000, () => pair.regionUp("primary"), "primary region back");
      const input = operationInput(pair, { mode: "unplanned", reason: "us-east-2 outage" });
      const result = await runStateMachineScenario({ pair, stack: prodStack(), input });
      const record = await recordedOperation(pair, input.operationId);
      const fence = pair
        .callsTo({ operation: "UpdateAutoScalingGroup", region: "primary" })
        .filter((call) => call.outcome === "ok");
      return { pair, backAt, result, record, fence };
    });

    it("succeeds and records the operation succeeded before the region is back", () => {
      const { backAt, result, record } = scenario();
      expect(result.status).toBe("SUCCEEDED");
      expect(record.status).toBe("succeeded");
      expect(Date.parse(record.finishedAt ?? "")).toBeLessThan(backAt);
    });

    it("fences the old primary once its region answers again: its group goes to zero within one retry interval", () => {
      const { pair, backAt, fence } = scenario();
      expect(fence.map((call) => call.input)).toEqual([
        {
          AutoScalingGroupName: pair.settings.regions.primary.autoScalingGroupName,
          MinSize: 0,
          DesiredCapacity: 0,
          MaxSize: 0,
        },
      ]);
      expect(fence[0]?.at).toBeGreaterThanOrEqual(backAt);
      // WaitToFence is 300 s; one FenceSource entry with its retries takes about two minutes.
      expect((fence[0]?.at ?? Infinity) - backAt).toBeLessThanOrEqual(300_000 + 150_000);
      expect(pair.snapshot().capacity.primary).toMatchObject({ minSize: 0, desiredCapacity: 0 });
    });

    it("releases the lock", () => {
      expect(lockHeld(scenario().pair)).toBe(false);
    });
  });

  describe("with a replication lag of 2.5 s", () => {
    const scenario = executionScenario({
      pair: (onCleanup) => primaryTimingOut(onCleanup, { replicationLagMs: 2_500 }),
      input: (pair) => operationInput(pair, { mode: "unplanned", reason: "us-east-2 outage" }),
    });

    it("succeeds", () => {
      expect(scenario().result.status).toBe("SUCCEEDED");
    });

    it("tries the primary region (preflight reads) and attempts no mutating call there", () => {
      const { pair } = scenario();
      // The primary region was tried (preflight reads) and never answered.
      const primaryCalls = pair.callsTo({ region: "primary" });
      expect(primaryCalls.length).toBeGreaterThan(0);
      expect(
        primaryCalls.every((call) => call.outcome === "error" && call.error === "TimeoutError"),
      ).toBe(true);
      // No mutating call was even attempted against the primary region.
      expect(pair.mutatingCalls().filter((call) => call.region === PRIMARY_REGION)).toEqual([]);
    });

    it("fails over with AllowDataLoss in the secondary region, neither switching over nor detaching", () => {
      const { pair } = scenario();
      const failover = onlyCall(pair, { operation: "FailoverGlobalCluster" });
      expect(failover).toMatchObject({
        region: SECONDARY_REGION,
        outcome: "ok",
        input: {
          GlobalClusterIdentifier: pair.settings.globalClusterIdentifier,
          TargetDbClusterIdentifier: pair.settings.regions.secondary.clusterArn,
          AllowDataLoss: true,
        },
      });
      expect(pair.callsTo({ operation: "SwitchoverGlobalCluster" })).toEqual([]);
      expect(pair.callsTo({ operation: "RemoveFromGlobalCluster" })).toEqual([]);
    });

    it("fails over and scales up in the secondary side by side, then fences, with no Route 53 API change in the primary", () => {
      const { pair } = scenario();
      const failover = onlyCall(pair, { operation: "FailoverGlobalCluster" });
      // PromoteAndScale (failover and scale-up, side by side), then DNS.
      const scaleUp = onlyCall(pair, { operation: "UpdateAutoScalingGroup" });
      const flip = onlyCall(pair, { operation: "PutMetricData" });
      expect(scaleUp.region).toBe(SECONDARY_REGION);
      expect(indexOf(pair, failover)).toBeLessThan(indexOf(pair, flip));
      expect(indexOf(pair, scaleUp)).toBeLessThan(indexOf(pair, flip));
      expect(callLog(pair, { service: "route53" })).not.toContain(
        `route53:ChangeResourceRecordSets@${PRIMARY_REGION}`,
      );
    });

    it("reads the lag at preflight from the secondary region's CloudWatch, the primary unreachable", () => {
      const { pair, result } = scenario();
      // The preflight saw the primary unreachable but the lag: the secondary cluster's
      // AuroraGlobalDBReplicationLag is published by CloudWatch in the secondary region, which
      // answered, so the lag is known (2.5 s) and is the upper bound of the writes lost.
      const [preflight] = stateOutputs(result, "Preflight") as {
        results: { topology: TopologyReport };
      }[];
      expect(preflight?.results.topology).toMatchObject({
        writerRegion: "primary",
        replicationLagSeconds: 2.5,
        unreachable: [expect.objectContaining({ role: "primary", region: PRIMARY_REGION })],
      });
      expect(pair.rds.promotions).toEqual([
        expect.objectContaining({ kind: "failover", cluster: "secondary", dataLossMs: 2_500 }),
      ]);
    });

    it("records the preflight lag as the data loss, and the RTO from request to finish", () => {
      const { input, record } = scenario();
      expect(record).toMatchObject({
        kind: "failover",
        mode: "unplanned",
        status: "succeeded",
        dataLossSeconds: 2.5,
      });
      expect(record.rtoSeconds).toBe(
        Math.round((Date.parse(record.finishedAt ?? "") - Date.parse(input.requestedAt)) / 1000),
      );
    });

    it("notifies once, naming the data loss", () => {
      const { pair } = scenario();
      expect(pair.sns.published).toHaveLength(1);
      expect(pair.sns.published[0]?.message).toContain(
        "Data loss: up to 2.5 s of writes (RPO lag at preflight)",
      );
    });

    it("leaves the secondary the writer, answering and at active capacity", () => {
      expect(scenario().pair.snapshot()).toMatchObject({
        database: { globalWriter: "secondary" },
        dns: { answering: "secondary", fenced: { primary: true, secondary: false } },
        capacity: { secondary: { desiredCapacity: 3, inService: 3 } },
      });
    });
  });

  describe("when the lag could not be read at preflight", () => {
    const scenario = executionScenario({
      pair: async (onCleanup) => {
        const pair = await primaryTimingOut(onCleanup, { replicationLagMs: 2_500 });
        // CloudWatch in the secondary region fails the preflight's lag query: the lag is
        // unknown, so is the amount of lost writes; the failover still proceeds (it is unplanned).
        pair.serverErrors("cloudwatch", "GetMetricData", 1, "secondary");
        return pair;
      },
      input: (pair) => operationInput(pair, { mode: "unplanned" }),
    });

    it("still fails over", () => {
      expect(scenario().result.status).toBe("SUCCEEDED");
    });

    it("notes at preflight that the lag is unknown", () => {
      const [preflight] = stateOutputs(scenario().result, "Preflight") as {
        results: { topology: TopologyReport };
      }[];
      expect(preflight?.results.topology.replicationLagSeconds).toBeNull();
      expect(preflight?.results.topology.notes).toContain(
        `Replication lag unknown: CloudWatch in ${SECONDARY_REGION} did not answer.`,
      );
    });

    it("records the data loss as null (unknown) and says so in the notification", () => {
      const { pair, record } = scenario();
      expect(record).toMatchObject({ status: "succeeded", dataLossSeconds: null });
      expect(pair.sns.published[0]?.message).toContain(
        "Data loss: unknown (neither RPO lag nor replication lag was readable at preflight)",
      );
    });
  });
});

describe("unplanned failover whose FailoverGlobalCluster fails terminally", () => {
  const execution = executionScenario({
    pair: async (onCleanup) => refuseFailover(await primaryTimingOut(onCleanup)),
    input: (pair) => operationInput(pair, { mode: "unplanned" }),
  });
  const scenario = () => {
    const { pair } = execution();
    const writerParameter = `${pair.settings.parameterPath}db/writer-endpoint`;
    return { ...execution(), writerParameter, secondaryCluster: pair.rds.cluster("secondary") };
  };

  it("succeeds", () => {
    expect(scenario().result.status).toBe("SUCCEEDED");
  });

  it("detaches the secondary cluster after the refused failover, then points db/writer-endpoint in the secondary region at it; nothing in the primary region", () => {
    const { pair, writerParameter, secondaryCluster } = scenario();
    // The database steps, in order, all in the secondary region: the failover is refused once
    // (not retried: the error is terminal), then RemoveFromGlobalCluster, then the parameter.
    expect(
      pair
        .callsTo({ service: "rds" })
        .concat(pair.callsTo({ service: "ssm" }))
        .filter((call) => MUTATING_OPERATIONS.has(call.operation))
        .sort((a, b) => indexOf(pair, a) - indexOf(pair, b))
        .map((call) => [call.operation, call.region, call.outcome]),
    ).toEqual([
      ["FailoverGlobalCluster", SECONDARY_REGION, "error"],
      ["RemoveFromGlobalCluster", SECONDARY_REGION, "ok"],
      ["PutParameter", SECONDARY_REGION, "ok"],
    ]);
    expect(onlyCall(pair, { operation: "RemoveFromGlobalCluster" }).input).toEqual({
      GlobalClusterIdentifier: pair.settings.globalClusterIdentifier,
      DbClusterIdentifier: pair.settings.regions.secondary.clusterArn,
    });
    expect(onlyCall(pair, { operation: "PutParameter" }).input).toEqual({
      Name: writerParameter,
      Value: secondaryCluster.endpoint,
      Type: "String",
      Overwrite: true,
    });
    expect(pair.mutatingCalls().filter((call) => call.region === PRIMARY_REGION)).toEqual([]);
  });

  it("moves DNS only once the detached cluster is writable", () => {
    const { pair } = scenario();
    // The detached cluster becomes writable 60 s later; DNS waits for that.
    const detach = pair.rds.promotions.find((promotion) => promotion.kind === "detach");
    expect(detach).toMatchObject({ cluster: "secondary", outcome: "completed" });
    const flip = onlyCall(pair, { operation: "PutMetricData" });
    expect(flip.at).toBeGreaterThanOrEqual(detach?.finishedAt ?? Infinity);
  });

  it("reports the detach-and-promote and why it fell back", () => {
    const [promoted] = stateOutputs(scenario().result, "PromoteAndScale") as {
      results: { promoteAndScale: [{ action: string; method: string; fallbackReason: string }] };
    }[];
    expect(promoted?.results.promoteAndScale[0]).toMatchObject({
      action: "detached",
      method: "detach",
      fallbackReason: expect.stringContaining("InvalidGlobalClusterStateFault"),
    });
  });

  it("leaves the detached secondary writable and answering, the primary region's parameter alone", () => {
    const { pair, secondaryCluster } = scenario();
    expect(pair.snapshot()).toMatchObject({
      database: {
        clusters: { secondary: { writable: true, member: false, status: "available" } },
        writerEndpointParameter: {
          secondary: secondaryCluster.endpoint,
          // The primary region's parameter is left alone (it did not answer anyway).
          primary: pair.rds.globalWriterEndpoint,
        },
      },
      dns: { answering: "secondary", fenced: { primary: true, secondary: false } },
    });
  });

  it("records the operation succeeded, with the parameter change in the promoteAndScale step, and notifies once", () => {
    const { pair, record, writerParameter, secondaryCluster } = scenario();
    expect(record).toMatchObject({ status: "succeeded", mode: "unplanned", dataLossSeconds: 0.8 });
    expect(record.steps.find((step) => step.name === "promoteAndScale")?.detail).toContain(
      `Set ${writerParameter} in ${SECONDARY_REGION} to ${secondaryCluster.endpoint}.`,
    );
    expect(pair.sns.published).toHaveLength(1);
  });
});

describe("unplanned failover while the primary region answers (e.g. only its web tier failed)", () => {
  // A failover with data loss must not even be tried while the source is the healthy writer.
  const scenario = executionScenario({
    pair: (onCleanup) => refuseFailover(scenarioPair(onCleanup)),
    input: (pair) => operationInput(pair, { mode: "unplanned" }),
  });

  it("succeeds", () => {
    expect(scenario().result.status).toBe("SUCCEEDED");
  });

  it("switches over instead of failing over with data loss", () => {
    const { pair } = scenario();
    expect(pair.callsTo({ operation: "FailoverGlobalCluster" })).toEqual([]);
    expect(pair.callsTo({ operation: "RemoveFromGlobalCluster" })).toEqual([]);
    expect(
      pair.callsTo({ operation: "SwitchoverGlobalCluster" }).map((call) => call.outcome),
    ).toEqual(["ok"]);
  });

  it("moves the writer and traffic to the secondary, both clusters still members", () => {
    expect(scenario().pair.snapshot()).toMatchObject({
      database: {
        globalWriter: "secondary",
        clusters: { secondary: { member: true }, primary: { member: true } },
      },
      dns: { answering: "secondary", fenced: { primary: true, secondary: false } },
    });
  });

  it("records no data loss and the switchover in the promoteAndScale step", () => {
    const { record } = scenario();
    expect(record).toMatchObject({ status: "succeeded", mode: "unplanned", dataLossSeconds: 0 });
    expect(record.steps.find((step) => step.name === "promoteAndScale")?.detail).toContain(
      "SwitchoverGlobalCluster of shopsmart-prod-global to shopsmart-prod-secondary",
    );
  });
});
