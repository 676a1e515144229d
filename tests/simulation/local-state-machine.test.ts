import { describe, expect, it } from "vitest";
import {
  prepareDefinition,
  RegionPair,
  runLocalStateMachine,
  SimulatedClock,
  SimulatorUnsupportedError,
  simulatedSettings,
  type TaskFunction,
} from "../../src/simulation";
import { connectWorkflow } from "../support/local-state-machine";
import { bindSimulatedAws } from "../support/simulated-aws";

const RETRY = {
  ErrorEquals: ["Retryable.Throttled"],
  IntervalSeconds: 2,
  BackoffRate: 2,
  MaxAttempts: 3,
  MaxDelaySeconds: 60,
  JitterStrategy: "FULL",
};

/** A Terraform reference to a function's ARN, as cdktf writes tokens into synthesized JSON. */
function functionArn(logicalId: string): string {
  return `\${aws_lambda_function.${logicalId}.arn}`;
}

/** A definition as cdktf synthesizes it: JSON with Terraform references to the functions. */
const SYNTHESIZED = JSON.stringify({
  StartAt: "Start",
  States: {
    Start: { Type: "Pass", Parameters: { "operation.$": "$" }, Next: "Both" },
    Both: {
      Type: "Parallel",
      Branches: [
        {
          StartAt: "Left",
          States: {
            Left: {
              Type: "Task",
              Resource: functionArn("automation_function-read-topology_1A2B"),
              Retry: [RETRY],
              End: true,
            },
          },
        },
        {
          StartAt: "Right",
          States: {
            Right: {
              Type: "Task",
              Resource: "arn:aws:states:::lambda:invoke",
              Parameters: {
                FunctionName: functionArn("automation_function-read-traffic_3C4D"),
                "Payload.$": "$",
              },
              ResultSelector: { "value.$": "$.Payload" },
              End: true,
            },
          },
        },
      ],
      ResultPath: "$.results",
      Next: "Pause",
    },
    Pause: { Type: "Wait", Seconds: 15, Next: "Last" },
    Last: {
      Type: "Task",
      Resource: functionArn("automation_function-finish_5E6F"),
      Retry: [RETRY],
      Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "Failed" }],
      End: true,
    },
    Failed: { Type: "Fail", Error: "OperationFailed", Cause: "see $.error" },
  },
});

function functions(overrides: Record<string, TaskFunction> = {}) {
  const calls: { fn: string; payload: unknown; at: number }[] = [];
  const bound: Record<string, TaskFunction> = {
    "automation_function-read-topology_1A2B": async (payload) => ({ topology: "ok", saw: payload }),
    "automation_function-read-traffic_3C4D": async () => ({ traffic: "ok" }),
    "automation_function-finish_5E6F": async () => "finished",
    ...overrides,
  };
  return {
    calls,
    resolve:
      (clock: SimulatedClock) =>
      (functionName: string): TaskFunction | undefined => {
        const fn = bound[functionName];
        return (
          fn &&
          (async (payload, context) => {
            calls.push({ fn: functionName, payload, at: clock.now() });
            return fn(payload, context);
          })
        );
      },
  };
}

describe("prepareDefinition", () => {
  it("replaces Terraform references by function ARNs and finds each task's function", () => {
    const prepared = prepareDefinition(SYNTHESIZED);
    expect([...prepared.taskFunctions]).toEqual([
      ["Left", "automation_function-read-topology_1A2B"],
      ["Right", "automation_function-read-traffic_3C4D"],
      ["Last", "automation_function-finish_5E6F"],
    ]);
    expect(prepared.references).toEqual([
      "aws_lambda_function.automation_function-read-topology_1A2B.arn",
      "aws_lambda_function.automation_function-read-traffic_3C4D.arn",
      "aws_lambda_function.automation_function-finish_5E6F.arn",
    ]);
  });

  it("fails on a definition that is not JSON (Fn.jsonencode synthesizes an HCL expression)", () => {
    expect(() => prepareDefinition(`\${jsonencode({"StartAt" = "A"})}`)).toThrow(
      SimulatorUnsupportedError,
    );
  });
});

describe("runLocalStateMachine", () => {
  it("runs tasks with Lambda-shaped results and lets Wait states pass on the simulated clock", async () => {
    const clock = new SimulatedClock({ start: 0, autoAdvance: true });
    const bound = functions();
    const started = Date.now();
    const result = await runLocalStateMachine({
      definition: prepareDefinition(SYNTHESIZED),
      resolveFunction: bound.resolve(clock),
      clock,
      input: { operationId: "op-1" },
    });
    // Under the Wait's 15 s with room for a loaded machine: a real-time Wait could not finish so soon.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.status).toBe("SUCCEEDED");
    expect(result.output).toBe("finished");
    expect(bound.calls.map((call) => [call.fn, call.at])).toEqual([
      ["automation_function-read-topology_1A2B", 0],
      ["automation_function-read-traffic_3C4D", 0],
      ["automation_function-finish_5E6F", 15_000],
    ]);
    expect(bound.calls[0]?.payload).toEqual({ operation: { operationId: "op-1" } });
    expect(bound.calls[2]?.payload).toEqual({
      operation: { operationId: "op-1" },
      results: [
        { topology: "ok", saw: { operation: { operationId: "op-1" } } },
        { value: { traffic: "ok" } },
      ],
    });
    expect(result.statesEntered).toEqual(["Start", "Both", "Left", "Right", "Pause", "Last"]);
    expect(result.history.map((event) => event.type)).toEqual([
      "ExecutionStarted",
      "PassStateEntered",
      "PassStateExited",
      "ParallelStateEntered",
      "TaskStateEntered",
      "TaskStateEntered",
      "TaskStateExited",
      "TaskStateExited",
      "ParallelStateExited",
      "WaitStateEntered",
      "WaitStateExited",
      "TaskStateEntered",
      "TaskStateExited",
      "ExecutionSucceeded",
    ]);
  });

  it("retries a Retryable.* error after the back-off in simulated time (2 s, then 4 s)", async () => {
    const clock = new SimulatedClock({ start: 0, autoAdvance: true });
    let failures = 2;
    const bound = functions({
      "automation_function-finish_5E6F": async () => {
        if (failures-- > 0)
          throw Object.assign(new Error("Throttling: Rate exceeded"), {
            name: "Retryable.Throttled",
          });
        return "finished";
      },
    });
    const result = await runLocalStateMachine({
      definition: prepareDefinition(SYNTHESIZED),
      resolveFunction: bound.resolve(clock),
      clock,
      input: {},
    });
    expect(result.status).toBe("SUCCEEDED");
    expect(bound.calls.filter((call) => call.fn.includes("finish")).map((call) => call.at)).toEqual(
      [15_000, 17_000, 21_000],
    );
    const failed = result.history.filter((event) => event.type === "TaskFailed");
    expect(failed).toHaveLength(2);
    expect(failed[0]?.taskFailedEventDetails).toMatchObject({ error: "Retryable.Throttled" });
    expect(JSON.parse(failed[0]?.taskFailedEventDetails?.cause ?? "{}")).toMatchObject({
      errorType: "Retryable.Throttled",
      errorMessage: "Throttling: Rate exceeded",
    });
  });

  it("sends an error past MaxAttempts, or a terminal one, to Catch with Error and Cause", async () => {
    const clock = new SimulatedClock({ start: 0, autoAdvance: true });
    const bound = functions({
      "automation_function-finish_5E6F": async () => {
        throw Object.assign(new Error("no such cluster"), { name: "DBClusterNotFoundFault" });
      },
    });
    const result = await runLocalStateMachine({
      definition: prepareDefinition(SYNTHESIZED),
      resolveFunction: bound.resolve(clock),
      clock,
      input: {},
    });
    expect(result).toMatchObject({
      status: "FAILED",
      error: "OperationFailed",
      cause: "see $.error",
    });
    expect(bound.calls.filter((call) => call.fn.includes("finish"))).toHaveLength(1);
  });

  it("stops right after a state when asked to simulate a crash; nothing runs after it", async () => {
    const clock = new SimulatedClock({ start: 0, autoAdvance: true });
    const bound = functions();
    const result = await runLocalStateMachine({
      definition: prepareDefinition(SYNTHESIZED),
      resolveFunction: bound.resolve(clock),
      clock,
      input: {},
      crashAfter: "Left",
    });
    await clock.advance(60_000);
    expect(result.status).toBe("ABORTED");
    expect(bound.calls.map((call) => call.fn)).not.toContain("automation_function-finish_5E6F");
    expect(result.history.at(-1)?.type).toBe("ExecutionAborted");
  });

  it("refuses to run a task that has no local function", async () => {
    const clock = new SimulatedClock({ start: 0, autoAdvance: true });
    await expect(
      runLocalStateMachine({
        definition: prepareDefinition(SYNTHESIZED),
        resolveFunction: () => undefined,
        clock,
        input: {},
      }),
    ).rejects.toThrow(
      'simulator: Task state "Left" (Resource arn:aws:lambda:us-west-2:123456789012:function:automation_function-read-topology_1A2B) has no local function bound (function automation_function-read-topology_1A2B)',
    );
  });
});

describe("connectWorkflow", () => {
  it("runs executions that StartExecution creates and serves their history", async () => {
    const pair = new RegionPair({ settings: simulatedSettings() });
    const aws = bindSimulatedAws(pair);
    const disconnect = await connectWorkflow({
      pair,
      definition: SYNTHESIZED,
      handlers: {
        "read-topology": async () => ({ topology: "ok" }),
        "read-traffic": async () => ({ traffic: "ok" }),
        finish: async () => "finished",
      },
    });
    try {
      await pair.call(
        "sfn",
        "StartExecution",
        { stateMachineArn: pair.settings.stateMachineArn, name: "op-1", input: "{}" },
        "us-west-2",
      );
      await pair.stepFunctions.settled();
      const [execution] = pair.stepFunctions.executions;
      expect(execution).toMatchObject({ status: "SUCCEEDED", output: '"finished"' });
      expect(execution?.history[0]).toMatchObject({
        id: 1,
        previousEventId: 0,
        type: "ExecutionStarted",
      });
      expect(execution?.history.at(-1)?.type).toBe("ExecutionSucceeded");
    } finally {
      disconnect();
      aws.restore();
    }
  });
});
