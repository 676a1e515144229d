/**
 * Resilience scenarios of the synthesized prod state machine: throttling recovered by the
 * state machine's Retry (exponential backoff in simulated time), throttling that outlasts the
 * retries (the catch path records and notifies a failed operation), and an execution that dies
 * mid-way and is run again: every step resumes instead of repeating its action.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RegionPair } from "../../src/simulation";
import { connectWorkflow, runStateMachineScenario } from "../support/local-state-machine";
import {
  apiRequest,
  callApi,
  lockHeld,
  newScenario,
  operationInput,
  operationKeys,
  PRIMARY_REGION,
  prodStack,
  recordedOperation,
  stateOutputs,
} from "../support/scenario";
import type { SimulatedAws } from "../support/simulated-aws";

let pair: RegionPair;
let aws: SimulatedAws;

beforeEach(() => {
  ({ pair, aws } = newScenario());
});

afterEach(() => aws.restore());

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

describe("throttling, then success", () => {
  it("retries a throttled SwitchoverGlobalCluster after 2, 4 and 8 s and switches over once; the RTO grows by exactly the back-off", async () => {
    pair.throttle("rds", "SwitchoverGlobalCluster", 3);
    const input = operationInput(pair);
    const result = await runStateMachineScenario({ pair, stack: prodStack(), input });
    expect(result.status).toBe("SUCCEEDED");

    const attempts = pair.callsTo({ operation: "SwitchoverGlobalCluster" });
    expect(attempts.map((call) => [call.region, call.outcome, call.error])).toEqual([
      [PRIMARY_REGION, "error", "Throttling"],
      [PRIMARY_REGION, "error", "Throttling"],
      [PRIMARY_REGION, "error", "Throttling"],
      [PRIMARY_REGION, "ok", undefined],
    ]);
    // IntervalSeconds 2, BackoffRate 2; FULL jitter drawn at its maximum (the harness default).
    expect(gaps(attempts)).toEqual([2, 4, 8]);
    // Each retry is a new invocation of promote-database, classified Retryable.Throttled.
    const failures = result.history.filter((event) => event.type === "TaskFailed");
    expect(failures.map((event) => event.taskFailedEventDetails?.error)).toEqual([
      "Retryable.Throttled",
      "Retryable.Throttled",
      "Retryable.Throttled",
    ]);
    expect(pair.rds.promotions).toHaveLength(1);
    // The scale-up ran once, alongside, and was not repeated by the retries of its sibling.
    expect(pair.callsTo({ operation: "UpdateAutoScalingGroup" })).toHaveLength(1);

    const record = await recordedOperation(pair, input.operationId);
    expect(record.status).toBe("succeeded");
    expect(record.rtoSeconds).toBe(UNTHROTTLED_RTO_SECONDS + 2 + 4 + 8);
    expect(pair.sns.published).toHaveLength(1);
  });

  it("retries a throttled fence (PutMetricData) after 2 and 4 s and moves traffic once", async () => {
    pair.throttle("cloudwatch", "PutMetricData", 2);
    const input = operationInput(pair);
    const result = await runStateMachineScenario({ pair, stack: prodStack(), input });
    expect(result.status).toBe("SUCCEEDED");

    const attempts = pair.callsTo({ operation: "PutMetricData" });
    expect(attempts.map((call) => call.outcome)).toEqual(["error", "error", "ok"]);
    expect(gaps(attempts)).toEqual([2, 4]);
    expect(fenceWrites(pair)).toHaveLength(1);
    expect(pair.snapshot().dns).toMatchObject({
      answering: "secondary",
      fenced: { primary: true },
    });
    const record = await recordedOperation(pair, input.operationId);
    expect(record).toMatchObject({ status: "succeeded", rtoSeconds: UNTHROTTLED_RTO_SECONDS + 6 });
  });

  it("applies FULL jitter: a draw of 0.5 halves each back-off", async () => {
    pair.throttle("rds", "SwitchoverGlobalCluster", 3);
    const result = await runStateMachineScenario({
      pair,
      stack: prodStack(),
      input: operationInput(pair),
      jitter: () => 0.5,
    });
    expect(result.status).toBe("SUCCEEDED");
    expect(gaps(pair.callsTo({ operation: "SwitchoverGlobalCluster" }))).toEqual([1, 2, 4]);
  });

  it("gives up after MaxAttempts 6 (back-off capped at 60 s), then records and notifies a failed operation", async () => {
    pair.throttle("rds", "SwitchoverGlobalCluster", 100);
    const input = operationInput(pair);
    const result = await runStateMachineScenario({ pair, stack: prodStack(), input });
    expect(result).toMatchObject({ status: "FAILED", error: "OperationFailed" });
    expect(result.statesEntered.slice(-2)).toEqual(["RecordFailure", "Failed"]);

    const attempts = pair.callsTo({ operation: "SwitchoverGlobalCluster" });
    expect(attempts).toHaveLength(7);
    expect(gaps(attempts)).toEqual([2, 4, 8, 16, 32, 60]);
    // Nothing after the failed promotion ran: no fence, DNS still answers with the primary.
    expect(pair.callsTo({ operation: "PutMetricData" })).toEqual([]);
    expect(pair.route53.answeringRegion()).toBe("primary");

    const record = await recordedOperation(pair, input.operationId);
    expect(record).toMatchObject({ status: "failed", dataLossSeconds: 0 });
    expect(record.rtoSeconds).toBeUndefined();
    expect(record.error).toMatch(/^Retryable\.Throttled: /);
    expect(pair.sns.published).toHaveLength(1);
    expect(pair.sns.published[0]?.subject).toBe(
      `[shopsmart-dr prod] failover failed: ${input.operationId}`,
    );
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
  it.each(CRASH_POINTS)(
    "crash $where: the re-run resumes; one switchover, one scale-up, one traffic-fence write, one message in total",
    async ({ where, rerunAfterMs, promoteOnRerun }) => {
      const input = operationInput(pair);
      const first = await runStateMachineScenario({ pair, stack: prodStack(), input, ...where });
      expect(first.status).toBe("ABORTED");
      await pair.clock.advance(rerunAfterMs);

      const second = await runStateMachineScenario({ pair, stack: prodStack(), input });
      expect(second.status).toBe("SUCCEEDED");
      const [promoted] = stateOutputs(second, "PromoteAndScale") as {
        results: { promoteAndScale: [{ action: string; changed: boolean }, { changed: boolean }] };
      }[];
      expect(promoted?.results.promoteAndScale[0]).toMatchObject({
        action: promoteOnRerun,
        changed: false,
      });

      // Across both runs, every action happened exactly once.
      expect(pair.callsTo({ operation: "SwitchoverGlobalCluster" })).toHaveLength(1);
      expect(pair.callsTo({ operation: "UpdateAutoScalingGroup" })).toHaveLength(1);
      // The fence was stored once; a re-run of flip-dns only republishes it.
      expect(fenceWrites(pair)).toHaveLength(1);
      expect(pair.rds.promotions).toHaveLength(1);
      expect(pair.sns.published).toHaveLength(1);

      const record = await recordedOperation(pair, input.operationId);
      expect(record).toMatchObject({ status: "succeeded", dataLossSeconds: 0 });
      expect(operationKeys(pair)).toEqual([`OPERATION#${input.operationId}`]);
      expect(pair.snapshot()).toMatchObject({
        database: { globalWriter: "secondary", globalStatus: "available" },
        dns: { answering: "secondary", fenced: { primary: true, secondary: false } },
        capacity: { secondary: { minSize: 3, desiredCapacity: 3, maxSize: 9, inService: 3 } },
      });
    },
  );

  it("through the API: after the execution died, the next POST /failover takes over the stale lock and completes without repeating an action", async () => {
    let executions = 0;
    const disconnect = await connectWorkflow({
      pair,
      stack: prodStack(),
      // The first execution dies right after the database promotion was requested.
      crash: () => (executions++ === 0 ? { after: "PromoteDatabase" } : undefined),
    });
    try {
      const body = { mode: "planned", reason: "quarterly DR drill" };
      const first = await callApi(apiRequest("POST", "/failover", body));
      expect(first.statusCode).toBe(202);
      await pair.stepFunctions.settled();
      expect(pair.stepFunctions.executions.map((execution) => execution.status)).toEqual([
        "ABORTED",
      ]);
      // The dead execution never reached finish: its lock is still held.
      expect(lockHeld(pair)).toBe(true);

      await pair.clock.advance(60_000);
      const second = await callApi(apiRequest("POST", "/failover", body));
      expect(second.statusCode).toBe(202);
      expect(second.body.operationId).not.toBe(first.body.operationId);
      await pair.stepFunctions.settled();
      expect(pair.stepFunctions.executions.map((execution) => execution.status)).toEqual([
        "ABORTED",
        "SUCCEEDED",
      ]);

      expect(pair.callsTo({ operation: "SwitchoverGlobalCluster" })).toHaveLength(1);
      expect(pair.callsTo({ operation: "UpdateAutoScalingGroup" })).toHaveLength(1);
      expect(fenceWrites(pair)).toHaveLength(1);
      expect(pair.callsTo({ operation: "StartExecution" })).toHaveLength(2);

      const abandoned = await callApi(apiRequest("GET", `/operations/${first.body.operationId}`));
      expect(abandoned.body).toMatchObject({
        status: "failed",
        error: "its execution ended with status ABORTED without recording a result",
      });
      const completed = await callApi(apiRequest("GET", `/operations/${second.body.operationId}`));
      expect(completed.body).toMatchObject({ status: "succeeded", dataLossSeconds: 0 });
      expect(lockHeld(pair)).toBe(false);
      expect(pair.snapshot()).toMatchObject({
        database: { globalWriter: "secondary" },
        dns: { answering: "secondary" },
      });
    } finally {
      disconnect();
    }
  });
});

describe("a promotion slower than the plan's bound", () => {
  it("pages once while the lock stays held, then completes with the real finish: succeeded, attention kept, two messages", async () => {
    // 60 s + 600 s: past the plan's 308 s bound (300 s + 10 s x the 0.8 s lag).
    pair.slowPromotion(600_000);
    const disconnect = await connectWorkflow({ pair, stack: prodStack() });
    try {
      let lockDuringWait: boolean | undefined;
      pair.clock.schedule(400_000, () => {
        lockDuringWait = lockHeld(pair);
      });
      const started = await callApi(
        apiRequest("POST", "/failover", { mode: "planned", reason: "slow one" }),
      );
      expect(started.statusCode).toBe(202);
      await pair.stepFunctions.settled();

      const [execution] = pair.stepFunctions.executions;
      expect(execution?.status).toBe("SUCCEEDED");
      expect(lockDuringWait).toBe(true);
      const record = (await callApi(apiRequest("GET", `/operations/${started.body.operationId}`)))
        .body as { status: string; dataLossSeconds: number; attention?: { message: string } };
      expect(record).toMatchObject({ status: "succeeded", dataLossSeconds: 0 });
      expect(record.attention?.message).toMatch(
        /^The database promotion towards secondary \(us-west-2\) is still running after about 3\d\d s, longer than the plan's 308 s\./,
      );
      expect(pair.sns.published.map((message) => message.subject)).toEqual([
        `[shopsmart-dr prod] failover needs attention: ${started.body.operationId}`,
        `[shopsmart-dr prod] failover succeeded: ${started.body.operationId}`,
      ]);
      expect(lockHeld(pair)).toBe(false);
      expect(pair.snapshot()).toMatchObject({
        dns: { answering: "secondary", fenced: { primary: true } },
      });
    } finally {
      disconnect();
    }
  });
});
