/**
 * Resilience scenarios of the synthesized prod state machine: throttling recovered by the
 * state machine's Retry (exponential backoff in simulated time), throttling that outlasts the
 * retries (the catch path records and notifies a failed operation), and an execution that dies
 * mid-way and is run again: every step resumes instead of repeating its action.
 */
import { describe, expect, it } from "vitest";
import type { RegionPair } from "../../src/simulation";
import { connectWorkflow, runStateMachineScenario } from "../support/local-state-machine";
import {
  apiRequest,
  callApi,
  executionScenario,
  lockHeld,
  operationInput,
  operationKeys,
  PRIMARY_REGION,
  prodStack,
  recordedOperation,
  scenarioPair,
  sharedScenario,
  stateOutputs,
} from "../support/scenario";

/** Seconds between consecutive calls (their retry back-offs). */
function gaps(calls: readonly { at: number }[]): number[] {
  return calls.slice(1).map((call, index) => (call.at - (calls[index]?.at ?? 0)) / 1000);
}

/** Planned failover on a healthy system takes 120 s (see failover.test.ts). */
const UNTHROTTLED_RTO_SECONDS = 120;

/** The ledger writes of the traffic fences: one per change of where traffic goes. */
function fenceWrites(pair: RegionPair) {
  return pair
    .callsTo({ operation: "PutItem" })
    .filter((call) => JSON.stringify(call.input).includes("TRAFFIC#FENCES"));
}

/** A planned failover run once for the describe, on a healthy pair that `prepare` changed. */
function plannedFailover(
  prepare: (pair: RegionPair) => void,
  options: { readonly jitter?: () => number } = {},
) {
  return executionScenario({
    pair: (onCleanup) => {
      const pair = scenarioPair(onCleanup);
      prepare(pair);
      return pair;
    },
    ...options,
  });
}

describe("throttling, then success", () => {
  describe("SwitchoverGlobalCluster throttled three times", () => {
    const scenario = plannedFailover((pair) => pair.throttle("rds", "SwitchoverGlobalCluster", 3));

    it("succeeds", () => {
      expect(scenario().result.status).toBe("SUCCEEDED");
    });

    it("retries after 2, 4 and 8 s and switches over once", () => {
      const { pair } = scenario();
      const attempts = pair.callsTo({ operation: "SwitchoverGlobalCluster" });
      expect(attempts.map((call) => [call.region, call.outcome, call.error])).toEqual([
        [PRIMARY_REGION, "error", "Throttling"],
        [PRIMARY_REGION, "error", "Throttling"],
        [PRIMARY_REGION, "error", "Throttling"],
        [PRIMARY_REGION, "ok", undefined],
      ]);
      // IntervalSeconds 2, BackoffRate 2; FULL jitter drawn at its maximum (the harness default).
      expect(gaps(attempts)).toEqual([2, 4, 8]);
      expect(pair.rds.promotions).toHaveLength(1);
    });

    it("classifies each retried invocation of promote-database Retryable.Throttled", () => {
      // Each retry is a new invocation of promote-database, classified Retryable.Throttled.
      const failures = scenario().result.history.filter((event) => event.type === "TaskFailed");
      expect(failures.map((event) => event.taskFailedEventDetails?.error)).toEqual([
        "Retryable.Throttled",
        "Retryable.Throttled",
        "Retryable.Throttled",
      ]);
    });

    it("runs the scale-up alongside once, not repeated by the retries of its sibling", () => {
      expect(scenario().pair.callsTo({ operation: "UpdateAutoScalingGroup" })).toHaveLength(1);
    });

    it("records the operation succeeded, the RTO grown by exactly the back-off, and notifies once", () => {
      const { pair, record } = scenario();
      expect(record.status).toBe("succeeded");
      expect(record.rtoSeconds).toBe(UNTHROTTLED_RTO_SECONDS + 2 + 4 + 8);
      expect(pair.sns.published).toHaveLength(1);
    });
  });

  describe("the fence (PutMetricData) throttled twice", () => {
    const scenario = plannedFailover((pair) => pair.throttle("cloudwatch", "PutMetricData", 2));

    it("succeeds", () => {
      expect(scenario().result.status).toBe("SUCCEEDED");
    });

    it("retries after 2 and 4 s and moves traffic once", () => {
      const { pair } = scenario();
      const attempts = pair.callsTo({ operation: "PutMetricData" });
      expect(attempts.map((call) => call.outcome)).toEqual(["error", "error", "ok"]);
      expect(gaps(attempts)).toEqual([2, 4]);
      expect(fenceWrites(pair)).toHaveLength(1);
      expect(pair.snapshot().dns).toMatchObject({
        answering: "secondary",
        fenced: { primary: true },
      });
    });

    it("records the RTO grown by the 6 s of back-off", () => {
      expect(scenario().record).toMatchObject({
        status: "succeeded",
        rtoSeconds: UNTHROTTLED_RTO_SECONDS + 6,
      });
    });
  });

  describe("FULL jitter drawn at 0.5", () => {
    const scenario = plannedFailover((pair) => pair.throttle("rds", "SwitchoverGlobalCluster", 3), {
      jitter: () => 0.5,
    });

    it("succeeds", () => {
      expect(scenario().result.status).toBe("SUCCEEDED");
    });

    it("halves each back-off", () => {
      expect(gaps(scenario().pair.callsTo({ operation: "SwitchoverGlobalCluster" }))).toEqual([
        1, 2, 4,
      ]);
    });
  });

  describe("SwitchoverGlobalCluster throttled past the retries", () => {
    const scenario = plannedFailover((pair) =>
      pair.throttle("rds", "SwitchoverGlobalCluster", 100),
    );

    it("fails through the catch path: RecordFailure, then Failed", () => {
      const { result } = scenario();
      expect(result).toMatchObject({ status: "FAILED", error: "OperationFailed" });
      expect(result.statesEntered.slice(-2)).toEqual(["RecordFailure", "Failed"]);
    });

    it("gives up after MaxAttempts 6, the back-off capped at 60 s", () => {
      const attempts = scenario().pair.callsTo({ operation: "SwitchoverGlobalCluster" });
      expect(attempts).toHaveLength(7);
      expect(gaps(attempts)).toEqual([2, 4, 8, 16, 32, 60]);
    });

    it("runs nothing after the failed promotion: no fence, DNS still answers with the primary", () => {
      const { pair } = scenario();
      expect(pair.callsTo({ operation: "PutMetricData" })).toEqual([]);
      expect(pair.route53.answeringRegion()).toBe("primary");
    });

    it("records a failed operation with the throttling error and no RTO", () => {
      const { record } = scenario();
      expect(record).toMatchObject({ status: "failed", dataLossSeconds: 0 });
      expect(record.rtoSeconds).toBeUndefined();
      expect(record.error).toMatch(/^Retryable\.Throttled: /);
    });

    it("notifies the failure once", () => {
      const { pair, input } = scenario();
      expect(pair.sns.published).toHaveLength(1);
      expect(pair.sns.published[0]?.subject).toBe(
        `[shopsmart-dr prod] failover failed: ${input.operationId}`,
      );
    });
  });
});

interface CrashPoint {
  readonly where: { crashBefore?: string; crashAfter?: string };
  /** Simulated time between the crash and the re-run. */
  readonly rerunAfterMs: number;
  /** What promote-database reports on the re-run. */
  readonly promoteOnRerun: string;
}

const CRASH_POINTS: readonly CrashPoint[] = [
  // The switchover was requested; the re-run finds it still running and does not call again.
  {
    where: { crashAfter: "PromoteDatabase" },
    rerunAfterMs: 0,
    promoteOnRerun: "switchover-in-progress",
  },
  // Both parallel steps done; the re-run comes ten minutes later, the switchover long finished.
  {
    where: { crashBefore: "WaitForWriter" },
    rerunAfterMs: 600_000,
    promoteOnRerun: "already-writer",
  },
  {
    where: { crashAfter: "ScaleTarget" },
    rerunAfterMs: 0,
    promoteOnRerun: "switchover-in-progress",
  },
  { where: { crashAfter: "FlipDns" }, rerunAfterMs: 0, promoteOnRerun: "already-writer" },
  // The operation was recorded and notified; the re-run must not notify twice.
  { where: { crashAfter: "RecordSuccess" }, rerunAfterMs: 0, promoteOnRerun: "already-writer" },
];

describe("crash mid-way, then the same operation is run again", () => {
  describe.each(CRASH_POINTS)("crash $where", ({ where, rerunAfterMs, promoteOnRerun }) => {
    const scenario = sharedScenario(async (onCleanup) => {
      const pair = scenarioPair(onCleanup);
      const input = operationInput(pair);
      const first = await runStateMachineScenario({ pair, stack: prodStack(), input, ...where });
      await pair.clock.advance(rerunAfterMs);
      const second = await runStateMachineScenario({ pair, stack: prodStack(), input });
      const record = await recordedOperation(pair, input.operationId);
      return { pair, input, first, second, record };
    });

    it("aborts the first run, and the re-run succeeds", () => {
      const { first, second } = scenario();
      expect(first.status).toBe("ABORTED");
      expect(second.status).toBe("SUCCEEDED");
    });

    it(`the re-run resumes: promote-database reports ${promoteOnRerun} and changes nothing`, () => {
      const [promoted] = stateOutputs(scenario().second, "PromoteAndScale") as {
        results: { promoteAndScale: [{ action: string; changed: boolean }, { changed: boolean }] };
      }[];
      expect(promoted?.results.promoteAndScale[0]).toMatchObject({
        action: promoteOnRerun,
        changed: false,
      });
    });

    it("one switchover, one scale-up, one traffic-fence write, one message in total", () => {
      const { pair } = scenario();
      // Across both runs, every action happened exactly once.
      expect(pair.callsTo({ operation: "SwitchoverGlobalCluster" })).toHaveLength(1);
      expect(pair.callsTo({ operation: "UpdateAutoScalingGroup" })).toHaveLength(1);
      // The fence was stored once; a re-run of flip-dns only republishes it.
      expect(fenceWrites(pair)).toHaveLength(1);
      expect(pair.rds.promotions).toHaveLength(1);
      expect(pair.sns.published).toHaveLength(1);
    });

    it("records one succeeded operation", () => {
      const { pair, input, record } = scenario();
      expect(record).toMatchObject({ status: "succeeded", dataLossSeconds: 0 });
      expect(operationKeys(pair)).toEqual([`OPERATION#${input.operationId}`]);
    });

    it("leaves the secondary the writer, answering and at active capacity", () => {
      expect(scenario().pair.snapshot()).toMatchObject({
        database: { globalWriter: "secondary", globalStatus: "available" },
        dns: { answering: "secondary", fenced: { primary: true, secondary: false } },
        capacity: { secondary: { minSize: 3, desiredCapacity: 3, maxSize: 9, inService: 3 } },
      });
    });
  });

  describe("through the API: the execution dies right after the database promotion was requested", () => {
    const scenario = sharedScenario(async (onCleanup) => {
      const pair = scenarioPair(onCleanup);
      let executions = 0;
      onCleanup(
        await connectWorkflow({
          pair,
          stack: prodStack(),
          // The first execution dies right after the database promotion was requested.
          crash: () => (executions++ === 0 ? { after: "PromoteDatabase" } : undefined),
        }),
      );
      const body = { mode: "planned", reason: "quarterly DR drill" };
      const first = await callApi(apiRequest("POST", "/failover", body));
      await pair.stepFunctions.settled();
      const statusesAfterFirst = pair.stepFunctions.executions.map((execution) => execution.status);
      // The dead execution never reached finish: its lock is still held.
      const lockHeldAfterFirst = lockHeld(pair);

      await pair.clock.advance(60_000);
      const second = await callApi(apiRequest("POST", "/failover", body));
      await pair.stepFunctions.settled();
      const abandoned = await callApi(apiRequest("GET", `/operations/${first.body.operationId}`));
      const completed = await callApi(apiRequest("GET", `/operations/${second.body.operationId}`));
      return {
        pair,
        first,
        statusesAfterFirst,
        lockHeldAfterFirst,
        second,
        abandoned,
        completed,
      };
    });

    it("accepts the first POST /failover (202); its execution aborts and leaves the lock held", () => {
      const { first, statusesAfterFirst, lockHeldAfterFirst } = scenario();
      expect(first.statusCode).toBe(202);
      expect(statusesAfterFirst).toEqual(["ABORTED"]);
      expect(lockHeldAfterFirst).toBe(true);
    });

    it("the next POST /failover takes over the stale lock (202, a new operation) and completes", () => {
      const { pair, first, second } = scenario();
      expect(second.statusCode).toBe(202);
      expect(second.body.operationId).not.toBe(first.body.operationId);
      expect(pair.stepFunctions.executions.map((execution) => execution.status)).toEqual([
        "ABORTED",
        "SUCCEEDED",
      ]);
    });

    it("repeats no action: one switchover, one scale-up, one fence write, two StartExecutions", () => {
      const { pair } = scenario();
      expect(pair.callsTo({ operation: "SwitchoverGlobalCluster" })).toHaveLength(1);
      expect(pair.callsTo({ operation: "UpdateAutoScalingGroup" })).toHaveLength(1);
      expect(fenceWrites(pair)).toHaveLength(1);
      expect(pair.callsTo({ operation: "StartExecution" })).toHaveLength(2);
    });

    it("records the abandoned operation failed and the second succeeded, the lock released", () => {
      const { pair, abandoned, completed } = scenario();
      expect(abandoned.body).toMatchObject({
        status: "failed",
        error: "its execution ended with status ABORTED without recording a result",
      });
      expect(completed.body).toMatchObject({ status: "succeeded", dataLossSeconds: 0 });
      expect(lockHeld(pair)).toBe(false);
    });

    it("leaves the secondary the writer, answering", () => {
      expect(scenario().pair.snapshot()).toMatchObject({
        database: { globalWriter: "secondary" },
        dns: { answering: "secondary" },
      });
    });
  });
});

describe("a promotion slower than the plan's bound", () => {
  const scenario = sharedScenario(async (onCleanup) => {
    const pair = scenarioPair(onCleanup);
    // 60 s + 600 s: past the plan's 308 s bound (300 s + 10 s x the 0.8 s lag).
    pair.slowPromotion(600_000);
    onCleanup(await connectWorkflow({ pair, stack: prodStack() }));
    let lockDuringWait: boolean | undefined;
    pair.clock.schedule(400_000, () => {
      lockDuringWait = lockHeld(pair);
    });
    const started = await callApi(
      apiRequest("POST", "/failover", { mode: "planned", reason: "slow one" }),
    );
    await pair.stepFunctions.settled();
    const record = (await callApi(apiRequest("GET", `/operations/${started.body.operationId}`)))
      .body as { status: string; dataLossSeconds: number; attention?: { message: string } };
    return { pair, started, lockDuringWait, record };
  });

  it("completes (202, the execution succeeded) with the real finish: succeeded, no data loss", () => {
    const { pair, started, record } = scenario();
    expect(started.statusCode).toBe(202);
    const [execution] = pair.stepFunctions.executions;
    expect(execution?.status).toBe("SUCCEEDED");
    expect(record).toMatchObject({ status: "succeeded", dataLossSeconds: 0 });
  });

  it("keeps the lock held while it waits, and releases it at the end", () => {
    const { pair, lockDuringWait } = scenario();
    expect(lockDuringWait).toBe(true);
    expect(lockHeld(pair)).toBe(false);
  });

  it("keeps the attention it paged for in the record", () => {
    expect(scenario().record.attention?.message).toMatch(
      /^The database promotion towards secondary \(us-west-2\) is still running after about 3\d\d s, longer than the plan's 308 s\./,
    );
  });

  it("pages once, then notifies the success: two messages", () => {
    const { pair, started } = scenario();
    expect(pair.sns.published.map((message) => message.subject)).toEqual([
      `[shopsmart-dr prod] failover needs attention: ${started.body.operationId}`,
      `[shopsmart-dr prod] failover succeeded: ${started.body.operationId}`,
    ]);
  });

  it("moves traffic to the secondary", () => {
    expect(scenario().pair.snapshot()).toMatchObject({
      dns: { answering: "secondary", fenced: { primary: true } },
    });
  });
});
