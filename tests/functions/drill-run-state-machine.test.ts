/**
 * The synthesized drill state machine executed on this machine (aws-local-stepfunctions, via
 * src/simulation/local-state-machine.ts) with every task bound to the run-drill handler's logic
 * over a scripted operations API, an in-memory report bucket and mocked SDK clients: the loop,
 * the catches and the verdict as AWS would run them, on simulated time.
 */
import { resolve } from "node:path";
import { CloudWatchClient, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { Testing } from "cdktf";
import { beforeEach, describe, expect, it } from "vitest";
import { type DrillContainer, runDrillWith } from "../../functions/orchestration/drill-task";
import { withStepErrors } from "../../functions/shared/errors";
import type { OperationsApi } from "../../functions/shared/operations-api";
import { loadEnvConfigs } from "../../src/config/load";
import { drillDefinition } from "../../src/constructs/automation/drill";
import {
  type PreparedDefinition,
  prepareDefinition,
  runLocalStateMachine,
  SimulatedClock,
  type TaskFunction,
} from "../../src/simulation";
import { handlerNameIn, synthesizedWorkflow } from "../../src/simulation/workflow";
import { EnvironmentStack } from "../../src/stacks/environment-stack";
import { FakeWorld, type FakeWorldOptions } from "../support/fake-operations-api";
import { synth } from "../support/synth";
import { AUTOMATION_SETTINGS, DRILL_SETTINGS, MemoryObjectWriter } from "./drill-run-fixtures";

const cloudWatchMock = mockClient(CloudWatchClient);
const snsMock = mockClient(SNSClient);

beforeEach(() => {
  cloudWatchMock.reset();
  snsMock.reset();
  cloudWatchMock.on(PutMetricDataCommand).resolves({});
  snsMock.on(PublishCommand).resolves({ MessageId: "m-1" });
});

const staging = loadEnvConfigs(resolve(__dirname, "../../envs")).find(
  (config) => config.environment === "staging",
);
if (!staging) throw new Error("envs/staging.json is missing");
const stack = synth(new EnvironmentStack(Testing.app(), { config: staging }));
const drill = synthesizedWorkflow(stack, "automation_drill_");
const definition = prepareDefinition(drill.definition);

interface RunOptions {
  /** @default the synthesized staging definition */
  definition?: PreparedDefinition;
  api?: OperationsApi;
  apiOptions?: FakeWorldOptions;
  input?: unknown;
  /** Wraps the bound function, e.g. to make one call fail as a Lambda would. */
  wrap?: (fn: TaskFunction) => TaskFunction;
}

/** Runs the synthesized drill definition once; time is simulated. */
async function runDrillStateMachine(options: RunOptions = {}) {
  const clock = new SimulatedClock({ autoAdvance: true });
  const api = options.api ?? new FakeWorld({ environment: "staging", ...options.apiOptions });
  const reports = new MemoryObjectWriter();
  const container: DrillContainer = {
    settings: { ...AUTOMATION_SETTINGS, environment: "staging" },
    drill: DRILL_SETTINGS,
    api,
    clients: { reports, cloudWatch: new CloudWatchClient({}), sns: new SNSClient({}) },
    log: () => undefined,
  };
  const runDrill: TaskFunction = withStepErrors(
    "run-drill",
    runDrillWith(
      () => container,
      () => clock.date(),
    ),
  );
  const bound = options.wrap ? options.wrap(runDrill) : runDrill;
  const started = clock.now();
  const result = await runLocalStateMachine({
    definition: options.definition ?? definition,
    resolveFunction: (functionName) =>
      handlerNameIn(functionName) === "run-drill" ? bound : undefined,
    clock,
    input: options.input ?? { holdMinutes: 5 },
  });
  return { result, api, reports, elapsedSeconds: (clock.now() - started) / 1000 };
}

describe("a dry run through the synthesized drill state machine", () => {
  it("ends in Passed (no drill-failed alarm) when the plan has no blockers, its report saying DRY RUN", async () => {
    const { result, reports } = await runDrillStateMachine({ input: { dryRun: true } });
    expect(result.status).toBe("SUCCEEDED");
    expect(result.statesEntered.slice(-3)).toEqual(["Report", "Passed?", "Passed"]);
    expect(result.output).toMatchObject({
      verdict: "passed",
      dryRun: true,
      summary: expect.stringMatching(
        /^DRY RUN \(plan only, nothing changed\): no blockers \(report /,
      ),
    });
    const markdown = [...reports.objects.values()].find((object) => object.key.endsWith(".md"));
    expect(markdown?.body).toMatch(/^### DR drill staging: DRY RUN \(plan only, nothing changed\)/);
    expect(cloudWatchMock.commandCalls(PutMetricDataCommand)).toHaveLength(0);
  });

  it("fails as DrillFailed, naming the blockers, when the plan has some", async () => {
    const { result } = await runDrillStateMachine({
      input: { dryRun: true },
      apiOptions: { blockers: ["the secondary cluster is not a member"] },
    });
    expect(result).toMatchObject({ status: "FAILED", error: "DrillFailed" });
    expect(result.cause).toMatch(
      /^DRY RUN \(plan only, nothing changed\): 1 blocker: the secondary cluster is not a member \(report /,
    );
  });
});

describe("the synthesized drill state machine, run locally", () => {
  it("binds every task to run-drill", () => {
    expect(new Set([...definition.taskFunctions.values()].map(handlerNameIn))).toEqual(
      new Set(["run-drill"]),
    );
    expect([...definition.taskFunctions.keys()].sort()).toEqual(["Advance", "Report", "Start"]);
  });

  it("runs a passing drill through the poll loop to Passed, with its report", async () => {
    const { result, api, reports, elapsedSeconds } = await runDrillStateMachine();
    expect(result.status).toBe("SUCCEEDED");
    expect(result.output).toMatchObject({
      verdict: "passed",
      reportKey: expect.stringMatching(/^drills\/staging\/drill-staging-\d{8}T\d{6}Z\.json$/),
    });
    // The loop: Start, then Done? -> Wait -> Advance until done, then Report -> Passed? -> Passed.
    const entered = result.statesEntered;
    expect(entered[0]).toBe("Start");
    expect(entered.slice(-3)).toEqual(["Report", "Passed?", "Passed"]);
    const advances = entered.filter((state) => state === "Advance").length;
    expect(advances).toBeGreaterThan(3);
    expect(entered.filter((state) => state === "Wait")).toHaveLength(advances);
    // The hold (5 minutes) elapsed on the simulated clock, in one Wait.
    expect(elapsedSeconds).toBeGreaterThanOrEqual(300);
    expect(api instanceof FakeWorld && api.active).toBe("primary");
    expect([...reports.objects.keys()]).toHaveLength(2);
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(1);
    // Nowhere near Step Functions' 25,000-event history limit.
    expect(result.history.length).toBeLessThan(200);
  });

  it("ends in MissedTarget, with the report's summary as the cause, when the RTO is over the target", async () => {
    const { result } = await runDrillStateMachine({
      // The failover's operation runs 40 polls of 10 s: about 400 s against a 300 s target.
      apiOptions: { pollsToFinish: 40 },
    });
    expect(result).toMatchObject({
      status: "FAILED",
      error: "DrillMissedTarget",
      cause: expect.stringMatching(
        /^MISSED-TARGET: failover RTO \d+ s is over the 300 s target \(report drills\/staging\/drill-staging-\d{8}T\d{6}Z\.md\)$/,
      ),
    });
  });

  it("reports a drill whose Advance task fails (after its retries) and ends in DrillFailed", async () => {
    let advances = 0;
    const { result, reports } = await runDrillStateMachine({
      wrap: (fn) => async (payload, context) => {
        const { action } = payload as { action: string };
        if (action === "advance" && ++advances >= 3) {
          throw Object.assign(new Error("Task timed out after 120.00 seconds"), {
            name: "Sandbox.Timedout",
          });
        }
        return fn(payload, context);
      },
    });
    expect(result.status).toBe("FAILED");
    expect(result.error).toBe("DrillFailed");
    expect(result.statesEntered.slice(-3)).toEqual(["Report", "Passed?", "Failed"]);
    const [jsonKey] = [...reports.objects.keys()];
    const report = JSON.parse(reports.objects.get(jsonKey as string)?.body ?? "{}") as {
      verdict: string;
      error: string;
      notes: string[];
    };
    expect(report.verdict).toBe("failed");
    expect(report.error).toMatch(
      /^the drill state machine stopped driving it: Sandbox\.Timedout: /,
    );
    expect(report.notes.join("\n")).toContain("fail back by hand");
  });

  it("stops a drill still polling at the advance limit, with a report, before the history limit", async () => {
    const { result, reports } = await runDrillStateMachine({
      definition: prepareDefinition(
        JSON.stringify(
          drillDefinition(
            "arn:aws:lambda:us-west-2:123456789012:function:shopsmart-staging-dr-run-drill",
            { maxAdvances: 3 },
          ),
        ),
      ),
    });
    expect(result).toMatchObject({ status: "FAILED", error: "DrillFailed" });
    expect(result.statesEntered.slice(-4)).toEqual(["PollLimit", "Report", "Passed?", "Failed"]);
    expect(result.statesEntered.filter((state) => state === "Advance")).toHaveLength(3);
    const report = JSON.parse([...reports.objects.values()][0]?.body ?? "{}") as { error: string };
    expect(report.error).toBe(
      "the drill state machine stopped driving it: DrillPollLimit: the drill was still running after 3 polls",
    );
  });

  it("retries a Lambda service error on a task and carries on", async () => {
    let failedOnce = false;
    const { result } = await runDrillStateMachine({
      wrap: (fn) => async (payload, context) => {
        if ((payload as { action: string }).action === "advance" && !failedOnce) {
          failedOnce = true;
          throw Object.assign(new Error("Rate exceeded"), {
            name: "Lambda.TooManyRequestsException",
          });
        }
        return fn(payload, context);
      },
    });
    expect(failedOnce).toBe(true);
    expect(result.status).toBe("SUCCEEDED");
  });

  it("goes from a failed Start to the report, which says the drill did not start", async () => {
    const { result, reports } = await runDrillStateMachine({ input: { hold: 5 } });
    expect(result).toMatchObject({
      status: "FAILED",
      error: "DrillFailed",
      cause: expect.stringMatching(
        /^the drill did not start, nothing was changed: InvalidEvent: run-drill: event field input: Unrecognized key: "hold"$/,
      ),
    });
    expect(result.statesEntered).toEqual(["Start", "StartFailed", "Report", "Passed?", "Failed"]);
    expect(reports.objects.size).toBe(0);
    expect(snsMock.commandCalls(PublishCommand)[0]?.args[0].input.Subject).toBe(
      "DR drill staging: DID NOT START",
    );
  });
});
