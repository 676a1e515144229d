import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { OperationInput } from "../../functions/shared/operation";
import {
  SETTINGS_VARIABLE as FUNCTIONS_SETTINGS_VARIABLE,
  parseSettings,
} from "../../functions/shared/settings";
import { workflowDefinition } from "../../src/constructs/automation/state-machine";
import { RegionPair, SETTINGS_VARIABLE, simulatedSettings } from "../../src/simulation";
import {
  handlerNameIn,
  runStateMachineScenario,
  synthesizedWorkflow,
} from "../support/local-state-machine";
import { bindSimulatedAws, type SimulatedAws } from "../support/simulated-aws";
import type { SynthesizedStack } from "../support/synth";

/** The workflow as the construct builds it, with literal function ARNs named like the deployed ones. */
const definition = JSON.stringify(
  workflowDefinition({
    readTopology: arn("read-topology"),
    readTraffic: arn("read-traffic"),
    planOperation: arn("plan-operation"),
    promoteDatabase: arn("promote-database"),
    checkWriter: arn("check-writer"),
    scaleCapacity: arn("scale-capacity"),
    flipDns: arn("flip-dns"),
    finish: arn("finish"),
  }),
);

function arn(handler: string): string {
  return `arn:aws:lambda:us-west-2:123456789012:function:shopsmart-prod-dr-${handler}`;
}

const HANDLERS = [
  "read-topology",
  "read-traffic",
  "promote-database",
  "check-writer",
  "scale-capacity",
  "flip-dns",
  "finish",
] as const;

/** A stack as cdktf synthesizes it: the definition refers to the functions by Terraform reference. */
function synthesizedStack(): SynthesizedStack {
  const logicalId = (handler: string) => `automation_function-${handler}_lambda_0A1B2C3D`;
  const reference = (handler: string) => `\${aws_lambda_function.${logicalId(handler)}.arn}`;
  return {
    terraform: {},
    resource: {
      aws_sfn_state_machine: {
        automation_workflow_state_machine_4E5F6A7B: {
          definition: JSON.stringify(
            workflowDefinition({
              readTopology: reference("read-topology"),
              readTraffic: reference("read-traffic"),
              planOperation: reference("plan-operation"),
              promoteDatabase: reference("promote-database"),
              checkWriter: reference("check-writer"),
              scaleCapacity: reference("scale-capacity"),
              flipDns: reference("flip-dns"),
              finish: reference("finish"),
            }),
          ),
        },
      },
      aws_lambda_function: Object.fromEntries(
        HANDLERS.map((handler) => [
          logicalId(handler),
          { function_name: `shopsmart-prod-dr-${handler}` },
        ]),
      ),
    },
  };
}

const input: OperationInput = {
  operationId: "op-20260105T090000Z-abc123",
  kind: "failover",
  mode: "planned",
  reason: "harness check",
  requestedAt: "2026-01-05T09:00:00.000Z",
  requestedBy: "arn:aws:iam::123456789012:user/ops",
  source: "primary",
  target: "secondary",
};

let pair: RegionPair;
let aws: SimulatedAws;

beforeEach(() => {
  pair = new RegionPair({ settings: simulatedSettings() });
  aws = bindSimulatedAws(pair);
});

afterEach(() => aws.restore());

describe("the harness runs the real workflow with the real handlers", () => {
  it("completes a planned failover in simulated minutes and well under a second of real time per minute", async () => {
    const started = Date.now();
    const result = await runStateMachineScenario({ pair, definition, input });
    expect(result.status).toBe("SUCCEEDED");
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(pair.clock.now() - Date.parse(input.requestedAt)).toBeGreaterThanOrEqual(60_000);
    expect(pair.snapshot()).toMatchObject({
      database: { globalWriter: "secondary", globalStatus: "available" },
      dns: { primaryRecord: "primary", answering: "secondary", fenced: { primary: true } },
      capacity: { secondary: { desiredCapacity: 3, inService: 3 } },
      notifications: 1,
    });
    expect(pair.callsTo({ operation: "SwitchoverGlobalCluster" })).toHaveLength(1);
  });

  it("runs a synthesized stack's definition: an unplanned failover while every primary call times out", async () => {
    pair.regionDown("primary", { callMs: 5_000 });
    // Route 53's checkers need three failed checks before they call it down.
    await pair.clock.advance(40_000);
    pair.throttle("rds", "FailoverGlobalCluster", 1);
    const result = await runStateMachineScenario({
      pair,
      stack: synthesizedStack(),
      input: { ...input, mode: "unplanned" },
    });
    expect(result.status).toBe("SUCCEEDED");
    expect(pair.snapshot()).toMatchObject({
      database: { globalWriter: "secondary" },
      dns: { answering: "secondary", fenced: { primary: true } },
    });
    const failovers = pair.callsTo({ operation: "FailoverGlobalCluster" });
    const firstAt = failovers[0]?.at ?? 0;
    // The retry comes after the 2 s backoff plus the 5 s in which the primary region does not
    // answer whether it could still switch over (no data loss) instead.
    expect(failovers.map((call) => [call.region, call.outcome, call.at - firstAt])).toEqual([
      ["us-west-2", "error", 0],
      ["us-west-2", "ok", 7_000],
    ]);
  });
});

describe("synthesizedWorkflow", () => {
  it("finds the definition and the handler behind each function", () => {
    const workflow = synthesizedWorkflow(synthesizedStack());
    expect(workflow.definition).toContain(
      `\${aws_lambda_function.automation_function-read-topology_lambda_0A1B2C3D.arn}`,
    );
    expect([...workflow.handlersByLogicalId.values()]).toEqual([...HANDLERS]);
    expect(handlerNameIn("shopsmart-prod-dr-check-writer")).toBe("check-writer");
    expect(handlerNameIn("unrelated")).toBeUndefined();
  });

  it("sets the environment variable the handlers read, with settings they accept", () => {
    expect(SETTINGS_VARIABLE).toBe(FUNCTIONS_SETTINGS_VARIABLE);
    expect(parseSettings(JSON.stringify(simulatedSettings()))).toEqual(simulatedSettings());
  });
});
