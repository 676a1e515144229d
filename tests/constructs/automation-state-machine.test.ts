import { StateMachine } from "aws-local-stepfunctions";
import { beforeAll, describe, expect, it } from "vitest";
import { otherRole } from "../../functions/shared/region-roles";
import {
  type ChoiceState,
  type ParallelState,
  STEP_RETRY,
  type StateMachineDefinition,
  type TaskState,
  TIMED_OUT_STEP_RETRY,
  taskStates,
  type WorkflowFunctionArns,
  workflowDefinition,
} from "../../src/constructs/automation/state-machine";

// aws-local-stepfunctions 3 uses Promise.withResolvers (Node 22); Node 20 lacks it.
beforeAll(() => {
  const promise = Promise as unknown as { withResolvers?: unknown };
  promise.withResolvers ??= <T>() => {
    let resolve!: (value: T) => void;
    let reject!: (reason: unknown) => void;
    const settled = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise: settled, resolve, reject };
  };
});

const arn = (name: string) => `arn:aws:lambda:us-west-2:111111111111:function:shop-test-dr-${name}`;
const ARNS: WorkflowFunctionArns = {
  readTopology: arn("read-topology"),
  readTraffic: arn("read-traffic"),
  planOperation: arn("plan-operation"),
  promoteDatabase: arn("promote-database"),
  checkWriter: arn("check-writer"),
  scaleCapacity: arn("scale-capacity"),
  flipDns: arn("flip-dns"),
  finish: arn("finish"),
};

const definition = workflowDefinition(ARNS);
const states = definition.States;
const parallel = (name: string) => states[name] as ParallelState;
const choice = (name: string) => states[name] as ChoiceState;
const topLevelTask = (name: string) => states[name] as TaskState;
const branchStarts = (name: string) => parallel(name).Branches.map((branch) => branch.StartAt);

describe("workflow definition", () => {
  it("has the contract's states in order, plus the documented glue states", () => {
    expect(definition.StartAt).toBe("Start");
    expect(Object.keys(states)).toEqual([
      "Start",
      "Preflight",
      "BuildPlan",
      "EvaluatePlan",
      "PlanBlocked",
      "PromoteAndScale",
      "WaitForWriter",
      "CountWriterCheck",
      "CheckWriter",
      "WriterReady?",
      "PromotionRunning",
      "PageDue?",
      "CountIdleCheck",
      "IdleTooLong?",
      "WriterTimedOut",
      "PageSlowPromotion",
      "MarkPaged",
      "FlipDns",
      "Verify",
      "Healthy?",
      "WaitToVerify",
      "CountVerifyCheck",
      "VerifyFailed",
      "ScaleDownSource",
      "RecordSuccess",
      "FenceSource?",
      "FenceSource",
      "Fenced?",
      "WaitToFence",
      "CountFenceAttempt",
      "FenceAgain?",
      "RecordFailure",
      "Succeeded",
      "Failed",
    ]);
    const next = (name: string) => (states[name] as { Next?: string }).Next;
    expect(next("Start")).toBe("Preflight");
    expect(next("Preflight")).toBe("BuildPlan");
    expect(next("BuildPlan")).toBe("EvaluatePlan");
    expect(choice("EvaluatePlan").Default).toBe("PromoteAndScale");
    expect(next("PromoteAndScale")).toBe("WaitForWriter");
    expect(next("WaitForWriter")).toBe("CountWriterCheck");
    expect(next("CountWriterCheck")).toBe("CheckWriter");
    expect(next("CheckWriter")).toBe("WriterReady?");
    expect(next("FlipDns")).toBe("Verify");
    expect(next("Verify")).toBe("Healthy?");
    expect(next("ScaleDownSource")).toBe("RecordSuccess");
    expect(next("RecordSuccess")).toBe("FenceSource?");
    expect(choice("FenceSource?").Default).toBe("Succeeded");
    expect(next("RecordFailure")).toBe("Failed");
  });

  it("reads topology and traffic in parallel, then keeps them at $.results", () => {
    expect(parallel("Preflight").Branches).toEqual([
      {
        StartAt: "ReadTopology",
        States: {
          ReadTopology: expect.objectContaining({ Resource: ARNS.readTopology, End: true }),
        },
      },
      {
        StartAt: "ReadTraffic",
        States: { ReadTraffic: expect.objectContaining({ Resource: ARNS.readTraffic, End: true }) },
      },
    ]);
    expect(parallel("Preflight").ResultSelector).toEqual({
      "topology.$": "$[0]",
      "traffic.$": "$[1]",
    });
    expect(parallel("Preflight").ResultPath).toBe("$.results");
  });

  it("promotes the database and scales the target to active capacity in one Parallel", () => {
    expect(branchStarts("PromoteAndScale")).toEqual(["PromoteDatabase", "ScaleTarget"]);
    const tasks = taskStates(definition);
    expect(tasks.PromoteDatabase.Resource).toBe(ARNS.promoteDatabase);
    expect(tasks.ScaleTarget).toMatchObject({
      Resource: ARNS.scaleCapacity,
      Parameters: { "role.$": "$.operation.target", capacity: "active" },
    });
  });

  it("verifies the writer and the target's endpoint health in one Parallel", () => {
    expect(branchStarts("Verify")).toEqual(["VerifyWriter", "VerifyTraffic"]);
    const tasks = taskStates(definition);
    expect(tasks.VerifyWriter.Resource).toBe(ARNS.checkWriter);
    expect(tasks.VerifyTraffic.Resource).toBe(ARNS.readTraffic);
  });

  it("gives every Lambda task the contract's retrier (retryable errors and Lambda's transient service errors, 2 s doubling, 6 attempts, 60 s cap, full jitter) and two more attempts after a timed-out function", () => {
    expect(STEP_RETRY).toEqual({
      ErrorEquals: [
        "Retryable.Throttled",
        "Retryable.ServerError",
        "Retryable.Timeout",
        "Lambda.ClientExecutionTimeoutException",
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
        "Lambda.TooManyRequestsException",
      ],
      IntervalSeconds: 2,
      BackoffRate: 2,
      MaxAttempts: 6,
      MaxDelaySeconds: 60,
      JitterStrategy: "FULL",
    });
    expect(TIMED_OUT_STEP_RETRY).toEqual({
      ErrorEquals: ["Sandbox.Timedout", "States.Timeout", "Lambda.Unknown"],
      IntervalSeconds: 2,
      BackoffRate: 2,
      MaxAttempts: 2,
      MaxDelaySeconds: 30,
      JitterStrategy: "FULL",
    });
    const tasks = taskStates(definition);
    expect(Object.keys(tasks).sort()).toEqual(
      [
        "ReadTopology",
        "ReadTraffic",
        "BuildPlan",
        "PromoteDatabase",
        "ScaleTarget",
        "CheckWriter",
        "PageSlowPromotion",
        "FlipDns",
        "VerifyWriter",
        "VerifyTraffic",
        "ScaleDownSource",
        "RecordSuccess",
        "FenceSource",
        "RecordFailure",
      ].sort(),
    );
    for (const [name, task] of Object.entries(tasks)) {
      expect(task.Retry, name).toEqual([STEP_RETRY, TIMED_OUT_STEP_RETRY]);
      expect(Object.values(ARNS), name).toContain(task.Resource);
    }
  });

  it("catches every failure into RecordFailure with the error at $.error", () => {
    const toRecordFailure = [
      { ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "RecordFailure" },
    ];
    for (const name of ["CheckWriter", "FlipDns", "ScaleDownSource", "RecordSuccess"]) {
      expect(topLevelTask(name).Catch, name).toEqual(toRecordFailure);
    }
    // A state inside a branch cannot leave it: branch tasks retry, then their Parallel catches.
    for (const name of ["Preflight", "PromoteAndScale", "Verify"]) {
      expect(parallel(name).Catch, name).toEqual(toRecordFailure);
      for (const branch of parallel(name).Branches) {
        expect(Object.values(branch.States).every((state) => !("Catch" in state))).toBe(true);
      }
    }
    expect(topLevelTask("RecordFailure")).toMatchObject({
      Resource: ARNS.finish,
      Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.finishError", Next: "Failed" }],
      Next: "Failed",
    });
    expect(topLevelTask("RecordSuccess").Resource).toBe(ARNS.finish);
  });

  it("builds the plan once, from the preflight readings, and stops on its blockers", () => {
    expect(topLevelTask("BuildPlan")).toMatchObject({
      Resource: ARNS.planOperation,
      Parameters: {
        "operation.$": "$.operation",
        "topology.$": "$.results.topology",
        "traffic.$": "$.results.traffic",
        writerCheckIntervalSeconds: 15,
      },
      ResultPath: "$.results.plan",
    });
    expect(choice("EvaluatePlan").Choices).toEqual([
      { Variable: "$.results.plan.blocked", BooleanEquals: true, Next: "PlanBlocked" },
    ]);
  });

  it("fails the writer wait only after idle checks in a row, and pages once when a running promotion passes the plan's bound", () => {
    expect(states.WaitForWriter).toEqual({ Type: "Wait", Seconds: 15, Next: "CountWriterCheck" });
    expect(choice("WriterReady?")).toEqual({
      Type: "Choice",
      Choices: [
        { Variable: "$.results.writer.ready", BooleanEquals: true, Next: "FlipDns" },
        {
          Variable: "$.results.writer.promotionRunning",
          BooleanEquals: true,
          Next: "PromotionRunning",
        },
      ],
      Default: "CountIdleCheck",
    });
    // A running promotion resets the idle count; idle checks count up to maxWriterChecks.
    expect((states.PromotionRunning as { Parameters: unknown }).Parameters).toMatchObject({
      idle: 0,
    });
    expect(choice("IdleTooLong?").Choices).toEqual([
      { Variable: "$.writerChecks.idle", NumericGreaterThanEquals: 8, Next: "WriterTimedOut" },
    ]);
    expect(JSON.stringify(choice("PageDue?"))).toContain(
      '"NumericGreaterThanEqualsPath":"$.results.plan.pageAfterChecks"',
    );
    expect(states.WriterTimedOut).toMatchObject({ ResultPath: "$.error", Next: "RecordFailure" });
    // The page goes through finish (ledger attention + SNS), and never to RecordFailure; its
    // result must not land at $.notice, which finish would read as another page request.
    expect(topLevelTask("PageSlowPromotion")).toMatchObject({
      Resource: ARNS.finish,
      ResultPath: "$.page",
      Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.pageError", Next: "MarkPaged" }],
      Next: "MarkPaged",
    });
    expect((states.MarkPaged as { Next: string }).Next).toBe("WaitForWriter");

    const custom = workflowDefinition(ARNS, { writerCheckIntervalSeconds: 5, maxWriterChecks: 3 });
    expect(custom.States.WaitForWriter).toMatchObject({ Seconds: 5 });
    expect(JSON.stringify(custom.States["IdleTooLong?"])).toContain('"NumericGreaterThanEquals":3');
    expect((custom.States.BuildPlan as TaskState).Parameters).toMatchObject({
      writerCheckIntervalSeconds: 5,
    });
  });

  it("scales the source down to standby capacity on failback only", () => {
    expect(topLevelTask("ScaleDownSource")).toMatchObject({
      Resource: ARNS.scaleCapacity,
      Parameters: { "role.$": "$.operation.source", capacity: "standby" },
      ResultPath: "$.results.scaleDownSource",
    });
    const [failbackRule, failoverRule] = choice("Healthy?").Choices;
    expect(failbackRule.Next).toBe("ScaleDownSource");
    expect(JSON.stringify(failbackRule)).toContain('"StringEquals":"failback"');
    expect(failoverRule.Next).toBe("RecordSuccess");
    expect(choice("Healthy?").Default).toBe("WaitToVerify");
    expect(choice("Healthy?").Choices[2]).toEqual({
      Variable: "$.verifyChecks.count",
      NumericGreaterThanEquals: 23,
      Next: "VerifyFailed",
    });
  });

  it("is valid Amazon States Language (asl-validator, with ARN and path checks)", () => {
    expect(() => new StateMachine(definition as never)).not.toThrow();
  });
});

// ---- Local executions with stand-in step handlers (the scenario tests run the real ones) ----

type Role = "primary" | "secondary";
interface World {
  writerReadyAfterChecks: number;
  unreachable: Role[];
  targetHealth: "healthy" | "unhealthy";
  /** VerifyTraffic readings of the target as unhealthy before it turns healthy. */
  unhealthyVerifies: number;
  failingStep?: string;
  /** FenceSource fails this many times (its region does not answer) before it succeeds. */
  fenceFailures: number;
  /** What plan-operation returns as blockers. */
  blockers: string[];
  /** What check-writer says while the target is not ready (per check number, from 1). */
  promotionRunning: boolean | ((check: number) => boolean);
  /** The method promote-database reports. */
  method: string;
  /** plan-operation's page threshold, in checks. */
  pageAfterChecks: number;
}

const OPERATION = {
  operationId: "op-20250101T000000Z-abcdef",
  kind: "failover",
  mode: "planned",
  reason: "drill",
  requestedAt: "2025-01-01T00:00:00Z",
  requestedBy: "arn:aws:iam::111111111111:user/operator",
  source: "primary",
  target: "secondary",
};
const FAILBACK = { ...OPERATION, kind: "failback", source: "secondary", target: "primary" };

async function execute(
  input: Record<string, unknown>,
  world: Partial<World> = {},
  machine: StateMachineDefinition = definition,
) {
  const w: World = {
    writerReadyAfterChecks: 2,
    unreachable: [],
    targetHealth: "healthy",
    blockers: [],
    unhealthyVerifies: 0,
    fenceFailures: 0,
    promotionRunning: true,
    method: "switchover",
    pageAfterChecks: 20,
    ...world,
  };
  const calls: { state: string; input: Record<string, unknown> }[] = [];
  let writerChecks = 0;
  const topology = () => ({
    writerRegion: w.unreachable.includes("primary") ? "unknown" : "primary",
    replicationLagSeconds: 1,
    clusters: {
      primary: { status: w.unreachable.includes("primary") ? null : "available" },
      secondary: { status: w.unreachable.includes("secondary") ? null : "available" },
    },
  });
  const traffic = (targetHealth: World["targetHealth"] = w.targetHealth) => {
    const target = (input.target ?? "secondary") as Role;
    const source = otherRole(target);
    const healthy = targetHealth === "healthy";
    return {
      health: { primary: "healthy", secondary: "healthy", [target]: targetHealth },
      // read-traffic's data-plane view: the public name's DNS answer and the target's endpoint.
      served: healthy ? target : source,
      targetHealth,
      targetServed: healthy,
      capacity: {
        primary: w.unreachable.includes("primary") ? null : { minSize: 3 },
        secondary: w.unreachable.includes("secondary") ? null : { minSize: 1 },
      },
    };
  };
  const results: Record<string, (event: Record<string, unknown>) => unknown> = {
    ReadTopology: topology,
    ReadTraffic: () => traffic(),
    BuildPlan: () => ({
      blocked: w.blockers.length > 0,
      blockerSummary: w.blockers.join("; "),
      blockers: w.blockers,
      pageAfterChecks: w.pageAfterChecks,
      writerWait: { pageAfterSeconds: w.pageAfterChecks * 15, reason: "stand-in" },
    }),
    PromoteDatabase: () => ({
      action: "switchover",
      changed: true,
      method: w.method,
      detail: "switched over",
    }),
    ScaleTarget: (event) => ({ action: "scaled", changed: true, detail: JSON.stringify(event) }),
    CheckWriter: () => {
      writerChecks += 1;
      const ready = writerChecks >= w.writerReadyAfterChecks;
      const running =
        typeof w.promotionRunning === "function"
          ? w.promotionRunning(writerChecks)
          : w.promotionRunning;
      return {
        ready,
        promotionRunning: !ready && running,
        detail: `check ${writerChecks}`,
      };
    },
    PageSlowPromotion: () => ({ status: "running", published: true }),
    FlipDns: () => ({ action: "flipped", changed: true, detail: "PRIMARY -> target" }),
    VerifyWriter: () => ({ ready: true, detail: "writer ready" }),
    VerifyTraffic: () => traffic(w.unhealthyVerifies-- > 0 ? "unhealthy" : w.targetHealth),
    ScaleDownSource: (event) => ({
      action: "scaled",
      changed: true,
      detail: JSON.stringify(event),
    }),
    RecordSuccess: () => ({ status: "succeeded" }),
    // The region's answer: not yet (unreachable), or fenced.
    FenceSource: () =>
      w.fenceFailures-- > 0
        ? { action: "unreachable", changed: false, fenced: false, detail: "not yet" }
        : { action: "scaled", changed: true, fenced: true, detail: "fenced" },
    RecordFailure: () => ({ status: "failed" }),
  };
  const handlers = Object.fromEntries(
    Object.entries(results).map(([state, produce]) => [
      state,
      async (event: Record<string, unknown>) => {
        calls.push({ state, input: event });
        if (w.failingStep === state) {
          const error = new Error(`${state} failed`);
          error.name = "AccessDeniedException";
          throw error;
        }
        return produce(event);
      },
    ]),
  );
  const run = new StateMachine(machine as never).run(input as never, {
    overrides: {
      taskResourceLocalHandlers: handlers as never,
      waitTimeOverrides: { WaitForWriter: 0, WaitToVerify: 0, WaitToFence: 0 },
    },
  });
  let output: unknown;
  let error: unknown;
  try {
    output = await run.result;
  } catch (caught) {
    error = caught;
  }
  return {
    output: output as Record<string, unknown> | undefined,
    error,
    calls,
    states: calls.map((c) => c.state),
  };
}

const MUTATING = ["PromoteDatabase", "ScaleTarget", "FlipDns", "ScaleDownSource"];

describe("workflow executions (local, stand-in steps)", () => {
  it("runs a planned failover to success: preflight, promote and scale, writer, DNS, verify, record", async () => {
    const { output, error, states: ran, calls } = await execute(OPERATION);
    expect(error).toBeUndefined();
    expect(
      ran.filter(
        (s) =>
          ![
            "ReadTopology",
            "ReadTraffic",
            "BuildPlan",
            "PromoteDatabase",
            "ScaleTarget",
            "VerifyWriter",
            "VerifyTraffic",
          ].includes(s),
      ),
    ).toEqual(["CheckWriter", "CheckWriter", "FlipDns", "RecordSuccess"]);
    expect(ran.indexOf("FlipDns")).toBeGreaterThan(ran.lastIndexOf("PromoteDatabase"));
    expect(ran).not.toContain("ScaleDownSource");
    expect(calls.find((c) => c.state === "ScaleTarget")?.input).toEqual({
      role: "secondary",
      capacity: "active",
    });
    // Steps get the whole state: the operation plus every result so far.
    const finish = calls.find((c) => c.state === "RecordSuccess")?.input as Record<
      string,
      Record<string, unknown>
    >;
    expect(finish.operation).toEqual(OPERATION);
    expect(Object.keys(finish.results)).toEqual([
      "topology",
      "traffic",
      "plan",
      "promoteAndScale",
      "writer",
      "dns",
      "verify",
    ]);
    expect(finish).not.toHaveProperty("error");
    expect(output?.finish).toEqual({ status: "succeeded" });
  });

  it("runs a failback and scales the former failover region down to standby", async () => {
    const { error, calls } = await execute(FAILBACK);
    expect(error).toBeUndefined();
    expect(calls.find((c) => c.state === "ScaleTarget")?.input).toEqual({
      role: "primary",
      capacity: "active",
    });
    expect(calls.find((c) => c.state === "ScaleDownSource")?.input).toEqual({
      role: "secondary",
      capacity: "standby",
    });
    expect(calls.map((c) => c.state).slice(-2)).toEqual(["ScaleDownSource", "RecordSuccess"]);
  });

  it("stops on the plan's blockers before anything changes, with the plan's reasons as the cause", async () => {
    const {
      error,
      states: ran,
      calls,
    } = await execute(
      { ...OPERATION, mode: "unplanned" },
      { blockers: ["the secondary region did not answer", "a second reason"] },
    );
    expect(String(error)).toContain("The operation failed; its ledger record");
    expect(ran.filter((s) => MUTATING.includes(s))).toEqual([]);
    expect(calls.find((c) => c.state === "BuildPlan")?.input).toMatchObject({
      operation: { mode: "unplanned" },
      topology: { writerRegion: "primary" },
      traffic: { health: { primary: "healthy" } },
      writerCheckIntervalSeconds: 15,
    });
    const failure = calls.find((c) => c.state === "RecordFailure")?.input as {
      error: { Error: string; Cause: string };
    };
    expect(failure.error).toEqual({
      Error: "PlanBlocked",
      Cause:
        "The plan of the unplanned failover to the secondary region is blocked, nothing was changed: the secondary region did not answer; a second reason",
    });
  });

  it("goes on when the plan has no blockers, whatever the readings say (the plan decides)", async () => {
    const { error, states: ran } = await execute(
      { ...OPERATION, mode: "unplanned" },
      { unreachable: ["primary"] },
    );
    expect(error).toBeUndefined();
    expect(ran).toContain("FlipDns");
    expect(ran.at(-1)).toBe("RecordSuccess");
  });

  it("gives up after maxWriterChecks checks in which no promotion runs, and records WriterNotReady", async () => {
    const machine = workflowDefinition(ARNS, { maxWriterChecks: 4 });
    const {
      error,
      states: ran,
      calls,
    } = await execute(OPERATION, { writerReadyAfterChecks: 99, promotionRunning: false }, machine);
    expect(String(error)).toContain("The operation failed; its ledger record");
    expect(ran.filter((s) => s === "CheckWriter")).toHaveLength(4);
    expect(ran).not.toContain("FlipDns");
    expect(ran).not.toContain("PageSlowPromotion");
    expect(calls.find((c) => c.state === "RecordFailure")?.input).toMatchObject({
      error: {
        Error: "WriterNotReady",
        Cause:
          "The secondary cluster is not the writer and no switchover, failover or promotion towards it has run for 4 checks in a row, 15 seconds apart: it was refused, cancelled or rolled back. Last check: check 4",
      },
    });
  });

  it("counts idle checks in a row: a long promotion followed by a short gap before the writer shows is not a failure", async () => {
    const machine = workflowDefinition(ARNS, { maxWriterChecks: 4 });
    // Running for 20 checks, then 3 checks with neither FailoverState nor writer, then ready.
    const { error, states: ran } = await execute(
      OPERATION,
      { writerReadyAfterChecks: 24, promotionRunning: (check) => check <= 20 },
      machine,
    );
    expect(error).toBeUndefined();
    expect(ran).not.toContain("WriterTimedOut");
    expect(ran).toContain("FlipDns");
  });

  it("waits out a promotion Aurora reports running past every bound: pages once, never records a failure, then completes", async () => {
    const machine = workflowDefinition(ARNS, { maxWriterChecks: 4 });
    const {
      error,
      states: ran,
      calls,
    } = await execute(
      OPERATION,
      { writerReadyAfterChecks: 30, promotionRunning: true, pageAfterChecks: 10 },
      machine,
    );
    expect(error).toBeUndefined();
    expect(ran.filter((s) => s === "CheckWriter")).toHaveLength(30);
    expect(ran.filter((s) => s === "PageSlowPromotion")).toHaveLength(1);
    expect(ran).not.toContain("RecordFailure");
    expect(ran.at(-1)).toBe("RecordSuccess");
    // Paged at the 10th check (the plan's bound), before the DNS flip.
    const checksBeforePage = ran.slice(0, ran.indexOf("PageSlowPromotion"));
    expect(checksBeforePage.filter((s) => s === "CheckWriter")).toHaveLength(10);
    expect(ran.indexOf("FlipDns")).toBeGreaterThan(ran.indexOf("PageSlowPromotion"));
    expect(calls.find((c) => c.state === "PageSlowPromotion")?.input).toEqual({
      operation: OPERATION,
      notice: {
        kind: "promotion-slow",
        checks: 10,
        intervalSeconds: 15,
        pageAfterSeconds: 150,
        detail: "check 10",
      },
    });
  });

  it("keeps waiting when the page cannot be sent", async () => {
    const { error, states: ran } = await execute(OPERATION, {
      writerReadyAfterChecks: 6,
      pageAfterChecks: 3,
      failingStep: "PageSlowPromotion",
    });
    expect(error).toBeUndefined();
    expect(ran.filter((s) => s === "PageSlowPromotion")).toHaveLength(1);
    expect(ran.at(-1)).toBe("RecordSuccess");
  });

  it("fences the old primary after an unplanned failover (after the record), never after a planned one", async () => {
    const unplanned = await execute({ ...OPERATION, mode: "unplanned" }, { method: "failover" });
    expect(unplanned.error).toBeUndefined();
    expect(unplanned.states.slice(-2)).toEqual(["RecordSuccess", "FenceSource"]);
    expect(unplanned.calls.find((c) => c.state === "FenceSource")?.input).toEqual({
      role: "primary",
      capacity: "fenced",
      operationId: OPERATION.operationId,
    });
    const planned = await execute(OPERATION);
    expect(planned.states).not.toContain("FenceSource");
    // An unplanned request that switched over leaves a healthy secondary: no fence.
    const switched = await execute({ ...OPERATION, mode: "unplanned" }, { method: "switchover" });
    expect(switched.states).not.toContain("FenceSource");
  });

  it("tries the fence again every fenceRetrySeconds until the old primary's region answers, then stops", async () => {
    const machine = workflowDefinition(ARNS, { maxFenceAttempts: 5 });
    const { error, states: ran } = await execute(
      { ...OPERATION, mode: "unplanned" },
      { fenceFailures: 2, method: "failover" },
      machine,
    );
    expect(error).toBeUndefined();
    expect(ran.filter((s) => s === "FenceSource")).toHaveLength(3);
    expect(ran.filter((s) => s === "RecordFailure")).toHaveLength(0);
    expect(ran.at(-1)).toBe("FenceSource");

    // A region that never answers: the loop ends after maxFenceAttempts, the operation still succeeded.
    const never = await execute(
      { ...OPERATION, mode: "unplanned" },
      { fenceFailures: 1000, method: "detach" },
      workflowDefinition(ARNS, { maxFenceAttempts: 2 }),
    );
    expect(never.error).toBeUndefined();
    // The first try, then one after WaitToFence.
    expect(never.states.filter((s) => s === "FenceSource")).toHaveLength(2);
  });

  it("reads Verify again while the target turns healthy and served (a group scaled up from zero, the fence and the DNS TTL)", async () => {
    const { error, states: ran } = await execute(FAILBACK, { unhealthyVerifies: 5 });
    expect(error).toBeUndefined();
    expect(ran.filter((s) => s === "VerifyTraffic")).toHaveLength(6);
    expect(ran.slice(-2)).toEqual(["ScaleDownSource", "RecordSuccess"]);
  });

  it("records VerifyFailed when the public name is still not served by a healthy target after maxVerifyChecks readings", async () => {
    const { states: ran, calls } = await execute(OPERATION, { targetHealth: "unhealthy" });
    expect(ran).toContain("FlipDns");
    expect(ran.filter((s) => s === "VerifyTraffic")).toHaveLength(24);
    expect(ran.at(-1)).toBe("RecordFailure");
    expect(calls.find((c) => c.state === "RecordFailure")?.input).toMatchObject({
      error: { Error: "VerifyFailed" },
    });
  });

  it("sends a terminal step error straight to RecordFailure, with the error name for the ledger", async () => {
    const { states: ran, calls } = await execute(OPERATION, { failingStep: "FlipDns" });
    expect(ran.filter((s) => s === "FlipDns")).toHaveLength(1); // not retryable: no retry
    expect(ran.at(-1)).toBe("RecordFailure");
    expect(calls.find((c) => c.state === "RecordFailure")?.input).toMatchObject({
      error: { Error: "AccessDeniedException" },
    });
  });
});
