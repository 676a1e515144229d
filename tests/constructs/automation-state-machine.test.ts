import { StateMachine } from "aws-local-stepfunctions";
import { beforeAll, describe, expect, it } from "vitest";
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
      "EvaluatePlan",
      "PlanBlocked",
      "PromoteAndScale",
      "WaitForWriter",
      "CountWriterCheck",
      "CheckWriter",
      "WriterReady?",
      "WriterTimedOut",
      "FlipDns",
      "Verify",
      "Healthy?",
      "VerifyFailed",
      "ScaleDownSource",
      "RecordSuccess",
      "RecordFailure",
      "Succeeded",
      "Failed",
    ]);
    const next = (name: string) => (states[name] as { Next?: string }).Next;
    expect(next("Start")).toBe("Preflight");
    expect(next("Preflight")).toBe("EvaluatePlan");
    expect(choice("EvaluatePlan").Default).toBe("PromoteAndScale");
    expect(next("PromoteAndScale")).toBe("WaitForWriter");
    expect(next("WaitForWriter")).toBe("CountWriterCheck");
    expect(next("CountWriterCheck")).toBe("CheckWriter");
    expect(next("CheckWriter")).toBe("WriterReady?");
    expect(next("FlipDns")).toBe("Verify");
    expect(next("Verify")).toBe("Healthy?");
    expect(next("ScaleDownSource")).toBe("RecordSuccess");
    expect(next("RecordSuccess")).toBe("Succeeded");
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
        "PromoteDatabase",
        "ScaleTarget",
        "CheckWriter",
        "FlipDns",
        "VerifyWriter",
        "VerifyTraffic",
        "ScaleDownSource",
        "RecordSuccess",
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

  it("bounds the writer loop: 80 checks 15 s apart, then the operation fails", () => {
    expect(states.WaitForWriter).toEqual({ Type: "Wait", Seconds: 15, Next: "CountWriterCheck" });
    expect(choice("WriterReady?")).toEqual({
      Type: "Choice",
      Choices: [
        { Variable: "$.results.writer.ready", BooleanEquals: true, Next: "FlipDns" },
        { Variable: "$.writerChecks.count", NumericGreaterThanEquals: 80, Next: "WriterTimedOut" },
      ],
      Default: "WaitForWriter",
    });
    expect(states.WriterTimedOut).toMatchObject({ ResultPath: "$.error", Next: "RecordFailure" });

    const custom = workflowDefinition(ARNS, { writerCheckIntervalSeconds: 5, maxWriterChecks: 3 });
    expect(custom.States.WaitForWriter).toMatchObject({ Seconds: 5 });
    expect((custom.States["WriterReady?"] as ChoiceState).Choices[1]).toMatchObject({
      NumericGreaterThanEquals: 3,
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
    expect(choice("Healthy?").Default).toBe("VerifyFailed");
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
  failingStep?: string;
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
  const traffic = () => {
    const target = (input.target ?? "secondary") as Role;
    return {
      health: { primary: "healthy", secondary: "healthy", [target]: w.targetHealth },
      capacity: {
        primary: w.unreachable.includes("primary") ? null : { minSize: 3 },
        secondary: w.unreachable.includes("secondary") ? null : { minSize: 1 },
      },
    };
  };
  const results: Record<string, (event: Record<string, unknown>) => unknown> = {
    ReadTopology: topology,
    ReadTraffic: traffic,
    PromoteDatabase: () => ({ action: "switchover", changed: true, detail: "switched over" }),
    ScaleTarget: (event) => ({ action: "scaled", changed: true, detail: JSON.stringify(event) }),
    CheckWriter: () => {
      writerChecks += 1;
      return { ready: writerChecks >= w.writerReadyAfterChecks, detail: `check ${writerChecks}` };
    },
    FlipDns: () => ({ action: "flipped", changed: true, detail: "PRIMARY -> target" }),
    VerifyWriter: () => ({ ready: true, detail: "writer ready" }),
    VerifyTraffic: traffic,
    ScaleDownSource: (event) => ({
      action: "scaled",
      changed: true,
      detail: JSON.stringify(event),
    }),
    RecordSuccess: () => ({ status: "succeeded" }),
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
      waitTimeOverrides: { WaitForWriter: 0 },
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

  it("proceeds with an unplanned failover while the primary region is unknown", async () => {
    const { error, states: ran } = await execute(
      { ...OPERATION, mode: "unplanned" },
      { unreachable: ["primary"] },
    );
    expect(error).toBeUndefined();
    expect(ran).toContain("FlipDns");
    expect(ran.at(-1)).toBe("RecordSuccess");
  });

  it("blocks, changes nothing and records the failure when the target region does not answer", async () => {
    const {
      error,
      states: ran,
      calls,
    } = await execute({ ...OPERATION, mode: "unplanned" }, { unreachable: ["secondary"] });
    expect(String(error)).toContain("The operation failed; its ledger record");
    expect(ran.filter((s) => MUTATING.includes(s))).toEqual([]);
    const failure = calls.find((c) => c.state === "RecordFailure")?.input as {
      error: { Error: string; Cause: string };
    };
    expect(failure.error).toEqual({
      Error: "PlanBlocked",
      Cause:
        "Preflight blocked the unplanned failover to the secondary region: its database or Auto Scaling group did not answer, or the writer region is primary. Nothing was changed.",
    });
  });

  it("blocks a planned failover that cannot find the writer", async () => {
    const { states: ran, calls } = await execute(OPERATION, { unreachable: ["primary"] });
    expect(ran.filter((s) => MUTATING.includes(s))).toEqual([]);
    expect(calls.find((c) => c.state === "RecordFailure")?.input).toMatchObject({
      error: { Error: "PlanBlocked" },
    });
  });

  it("gives up after maxWriterChecks checks and records WriterNotReady", async () => {
    const machine = workflowDefinition(ARNS, { maxWriterChecks: 4 });
    const {
      error,
      states: ran,
      calls,
    } = await execute(OPERATION, { writerReadyAfterChecks: 99 }, machine);
    expect(String(error)).toContain("The operation failed; its ledger record");
    expect(ran.filter((s) => s === "CheckWriter")).toHaveLength(4);
    expect(ran).not.toContain("FlipDns");
    expect(calls.find((c) => c.state === "RecordFailure")?.input).toMatchObject({
      error: {
        Error: "WriterNotReady",
        Cause:
          "The secondary cluster was not the available writer after 4 checks 15 seconds apart. Last check: check 4",
      },
    });
  });

  it("records VerifyFailed when the target endpoint is not healthy after the DNS flip", async () => {
    const { states: ran, calls } = await execute(OPERATION, { targetHealth: "unhealthy" });
    expect(ran).toContain("FlipDns");
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
