/**
 * How operations start: through the real operations-api handler (POST /failover) and the real
 * auto-failover handler (EventBridge alarm event), with the simulated DynamoDB ledger and a
 * simulated Step Functions whose StartExecution runs the synthesized prod state machine locally.
 * Two concurrent triggers start one operation; a dry run changes nothing; the primary's
 * endpoint-health alarm starts exactly one unplanned failover.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Plan } from "../../functions/shared/operation";
import { connectStackAutomaticFailoverRules, type RegionPair } from "../../src/simulation";
import { connectWorkflow, loadHandler } from "../support/local-state-machine";
import {
  apiRequest,
  autoFailoverVariable,
  callApi,
  lockHeld,
  newScenario,
  operationKeys,
  prodStack,
  untilRoute53Notices,
} from "../support/scenario";
import type { SimulatedAws } from "../support/simulated-aws";

let pair: RegionPair;
let aws: SimulatedAws;
let disconnect: (() => void) | undefined;

beforeEach(() => {
  ({ pair, aws } = newScenario());
});

afterEach(() => {
  disconnect?.();
  disconnect = undefined;
  aws.restore();
});

/** Runs StartExecution's executions locally from now on (and simulates the Lambda runtime). */
async function connect(): Promise<void> {
  disconnect = await connectWorkflow({ pair, stack: prodStack() });
}

describe("two concurrent triggers", () => {
  it("two simultaneous POST /failover: one 202, one 409 naming the first's operationId, exactly one StartExecution and one operation", async () => {
    await connect();
    const body = { mode: "planned", reason: "quarterly DR drill" };
    // Time stands still while both requests are handled, as for two requests arriving together.
    pair.clock.setAutoAdvance(false);
    const responses = await Promise.all([
      callApi(apiRequest("POST", "/failover", body)),
      callApi(apiRequest("POST", "/failover", body)),
    ]);
    pair.clock.setAutoAdvance(true);

    const accepted = responses.find((response) => response.statusCode === 202);
    const rejected = responses.find((response) => response.statusCode === 409);
    expect(responses.map((response) => response.statusCode).sort()).toEqual([202, 409]);
    expect(accepted?.body).toEqual({
      operationId: expect.stringMatching(/^op-20260105T090000Z-[0-9a-f]{6}$/),
      statusUrl: `/operations/${accepted?.body.operationId}`,
    });
    expect(rejected?.body).toEqual({
      error: "an operation is running",
      operationId: accepted?.body.operationId,
    });

    // The ledger lock decided: two conditional puts, one won.
    const lockPuts = pair
      .callsTo({ operation: "PutItem" })
      .filter((call) => JSON.stringify(call.input).includes('"pk":{"S":"LOCK"}'));
    expect(lockPuts.map((call) => call.outcome)).toEqual(["ok", "error"]);
    expect(lockPuts[1]?.error).toBe("ConditionalCheckFailedException");
    expect(pair.callsTo({ operation: "StartExecution" })).toHaveLength(1);

    await pair.stepFunctions.settled();
    expect(
      pair.stepFunctions.executions.map((execution) => [execution.name, execution.status]),
    ).toEqual([[accepted?.body.operationId, "SUCCEEDED"]]);
    expect(operationKeys(pair)).toEqual([`OPERATION#${accepted?.body.operationId}`]);
    expect(pair.callsTo({ operation: "SwitchoverGlobalCluster" })).toHaveLength(1);
    expect(pair.sns.published).toHaveLength(1);
    expect(lockHeld(pair)).toBe(false);

    const record = await callApi(apiRequest("GET", `/operations/${accepted?.body.operationId}`));
    expect(record.body).toMatchObject({
      status: "succeeded",
      requestedBy: "arn:aws:iam::123456789012:user/ops",
      reason: "quarterly DR drill",
    });
  });
});

describe("dry run", () => {
  it("POST /failover with dryRun on a healthy system: 200 with the plan and not one mutating call", async () => {
    await connect();
    const response = await callApi(
      apiRequest("POST", "/failover", {
        mode: "planned",
        reason: "what would happen?",
        dryRun: true,
      }),
    );
    expect(response.statusCode).toBe(200);
    expect(response.body.dryRun).toBe(true);
    const plan = response.body.plan as Plan;
    expect(plan).toMatchObject({
      kind: "failover",
      mode: "planned",
      source: "primary",
      target: "secondary",
      writerRegion: "primary",
      replicationLagSeconds: 0.8,
      health: { primary: "healthy", secondary: "healthy" },
      capacity: {
        primary: { minSize: 3, desiredCapacity: 3, maxSize: 9, inService: 3 },
        secondary: { minSize: 1, desiredCapacity: 1, maxSize: 9, inService: 1 },
      },
      blockers: [],
    });
    expect(plan.steps[0]).toContain("SwitchoverGlobalCluster");
    expect(plan.steps.at(-1)).toBe("record the operation in the ledger and notify by SNS");

    expect(pair.mutatingCalls()).toEqual([]);
    // It read through the two reader functions, and started nothing.
    expect(pair.lambda.invocations.map((invocation) => invocation.functionName).sort()).toEqual([
      pair.settings.readTopologyFunctionName,
      pair.settings.readTrafficFunctionName,
    ]);
    expect(pair.stepFunctions.executions).toEqual([]);
    expect(pair.dynamodb.items(pair.settings.ledgerTableName)).toEqual([]);
    expect(pair.snapshot()).toMatchObject({
      database: { globalWriter: "primary" },
      dns: { answering: "primary" },
      capacity: { secondary: { desiredCapacity: 1 } },
    });
  });

  it("an unplanned dry run while the primary region is down: the failover plan with its data-loss bound, still no mutating call", async () => {
    pair.regionDown("primary");
    await untilRoute53Notices(pair);
    await connect();
    const response = await callApi(
      apiRequest("POST", "/failover", {
        mode: "unplanned",
        reason: "us-east-2 outage",
        dryRun: true,
      }),
    );
    expect(response.statusCode).toBe(200);
    const plan = response.body.plan as Plan;
    expect(plan).toMatchObject({
      mode: "unplanned",
      health: { primary: "unhealthy", secondary: "healthy" },
      capacity: { primary: null },
      blockers: [],
    });
    expect(plan.steps[0]).toContain("FailoverGlobalCluster with AllowDataLoss");
    expect(plan.steps[0]).toContain("writes from the last 0.8 s may be lost");
    expect(pair.mutatingCalls()).toEqual([]);
    expect(pair.stepFunctions.executions).toEqual([]);
  });
});

describe("automatic failover", () => {
  const previous = process.env.SHOPSMART_DR_AUTO_FAILOVER;
  afterEach(() => {
    if (previous === undefined) delete process.env.SHOPSMART_DR_AUTO_FAILOVER;
    else process.env.SHOPSMART_DR_AUTO_FAILOVER = previous;
  });

  /** The workflow and the prod stack's two automatic-failover rules, played on the pair. */
  async function connectRules() {
    await connect();
    const rules = connectStackAutomaticFailoverRules(
      pair,
      prodStack(),
      await loadHandler("auto-failover"),
    );
    return rules;
  }

  /** "CloudWatch Alarm State Change" as EventBridge delivers it. */
  function alarmEvent(alarmName: string, from: string, to: string, at: string) {
    return {
      version: "0",
      id: "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92",
      "detail-type": "CloudWatch Alarm State Change",
      source: "aws.cloudwatch",
      account: "123456789012",
      time: at,
      region: "us-west-2",
      resources: [`arn:aws:cloudwatch:us-west-2:123456789012:alarm:${alarmName}`],
      detail: {
        alarmName,
        state: { value: to, reason: "Threshold Crossed", timestamp: at },
        previousState: { value: from, timestamp: "2026-01-05T08:00:00.000+0000" },
      },
    };
  }

  it("the primary-down alarm in ALARM starts exactly one unplanned failover; a second event while it runs is a no-op", async () => {
    // As deployed: the synthesized function's trigger settings, the alarm in the secondary region.
    const variable = autoFailoverVariable(prodStack());
    const { alarmName, alarmRegion, ruleName } = JSON.parse(variable) as {
      alarmName: string;
      alarmRegion: string;
      ruleName: string;
    };
    expect(alarmName).toBe("shopsmart-prod-dr-primary-down");
    expect(alarmRegion).toBe("us-west-2");
    process.env.SHOPSMART_DR_AUTO_FAILOVER = variable;

    pair.regionDown("primary", { callMs: 5_000 });
    await untilRoute53Notices(pair);
    await connect();
    const handler = await loadHandler("auto-failover");
    const alarmedAt = pair.clock.isoString();
    const event = alarmEvent(alarmName, "OK", "ALARM", alarmedAt);

    pair.clock.setAutoAdvance(false);
    const first = (await handler(event, undefined as never)) as {
      action: string;
      operationId: string;
    };
    expect(first).toEqual({ action: "started", operationId: expect.stringMatching(/^op-/) });
    // EventBridge delivers at least once: the same event again, at once ...
    expect(await handler(event, undefined as never)).toEqual({
      action: "already-running",
      operationId: first.operationId,
    });
    // ... and a minute later, with the failover under way.
    await pair.clock.advance(60_000);
    expect(pair.stepFunctions.executions[0]?.status).toBe("RUNNING");
    expect(await handler(event, undefined as never)).toEqual({
      action: "already-running",
      operationId: first.operationId,
    });
    // Other transitions and other alarms start nothing.
    expect(
      await handler(
        alarmEvent(alarmName, "ALARM", "OK", pair.clock.isoString()),
        undefined as never,
      ),
    ).toMatchObject({ action: "ignored" });
    expect(
      await handler(
        alarmEvent("shopsmart-prod-secondary-endpoint-health", "OK", "ALARM", alarmedAt),
        undefined as never,
      ),
    ).toMatchObject({ action: "ignored" });
    pair.clock.setAutoAdvance(true);
    await pair.stepFunctions.settled();

    expect(pair.callsTo({ operation: "StartExecution" })).toHaveLength(1);
    expect(pair.stepFunctions.executions.map((execution) => execution.status)).toEqual([
      "SUCCEEDED",
    ]);
    expect(operationKeys(pair)).toEqual([`OPERATION#${first.operationId}`]);
    expect(pair.callsTo({ operation: "FailoverGlobalCluster" })).toHaveLength(1);
    expect(pair.callsTo({ operation: "SwitchoverGlobalCluster" })).toEqual([]);

    const record = await callApi(apiRequest("GET", `/operations/${first.operationId}`));
    expect(record.body).toMatchObject({
      kind: "failover",
      mode: "unplanned",
      status: "succeeded",
      requestedBy: `eventbridge:${ruleName}`,
      reason: `automatic: ${alarmName} in ALARM since ${alarmedAt}`,
      dataLossSeconds: 0.8,
    });
    expect(pair.sns.published).toHaveLength(1);
    expect(lockHeld(pair)).toBe(false);
    expect(pair.snapshot()).toMatchObject({
      database: { globalWriter: "secondary" },
      dns: { answering: "secondary" },
    });
  });

  it("a trigger that meets a planned operation's lock is deferred, not lost: when that operation ends, the unplanned failover starts (alarm still in ALARM)", async () => {
    const rules = await connectRules();
    try {
      // A drill's planned failover holds the lock ...
      pair.clock.setAutoAdvance(false);
      const planned = await callApi(
        apiRequest("POST", "/failover", { mode: "planned", reason: "DR drill" }),
      );
      expect(planned.statusCode).toBe(202);
      // ... when the primary region dies and its health alarm fires.
      pair.regionDown("primary", { callMs: 5_000 });
      expect(await rules.alarm()).toEqual({
        action: "deferred",
        blockedBy: planned.body.operationId,
      });
      pair.clock.setAutoAdvance(true);
      await pair.stepFunctions.settled();

      // The planned failover cannot complete without the primary; when it ends, the deferred
      // trigger starts the unplanned failover, which completes.
      const [drill, automatic] = pair.stepFunctions.executions;
      expect(pair.stepFunctions.executions.map((execution) => execution.status)).toEqual([
        "FAILED",
        "SUCCEEDED",
      ]);
      expect(drill?.name).toBe(planned.body.operationId);
      expect(rules.outcomes).toEqual([
        { action: "deferred", blockedBy: planned.body.operationId },
        { action: "started", operationId: automatic?.name },
        // The automatic failover's own end finds nothing pending.
        { action: "ignored", why: "no automatic failover is pending" },
      ]);
      const record = await callApi(apiRequest("GET", `/operations/${automatic?.name}`));
      expect(record.body).toMatchObject({
        kind: "failover",
        mode: "unplanned",
        status: "succeeded",
        reason: expect.stringContaining(`automatic (deferred): ${rules.alarmName} in ALARM since`),
      });
      expect(pair.snapshot()).toMatchObject({
        database: { globalWriter: "secondary" },
        dns: { answering: "secondary" },
      });
      expect(pair.sns.published.map((message) => message.subject)).toEqual([
        `[shopsmart-dr prod] automatic failover deferred: ${planned.body.operationId} holds the lock`,
        `[shopsmart-dr prod] failover failed: ${planned.body.operationId}`,
        `[shopsmart-dr prod] deferred automatic failover started: ${automatic?.name}`,
        `[shopsmart-dr prod] failover succeeded: ${automatic?.name}`,
      ]);
      expect(operationKeys(pair)).not.toContain("TRIGGER#PENDING");
      expect(lockHeld(pair)).toBe(false);
    } finally {
      rules.disconnect();
    }
  });

  it("a deferred trigger is served when the planned failover that held the lock completes: no second failover", async () => {
    const rules = await connectRules();
    try {
      pair.clock.setAutoAdvance(false);
      const planned = await callApi(
        apiRequest("POST", "/failover", { mode: "planned", reason: "DR drill" }),
      );
      // A blip: the alarm fires and clears while the planned failover runs.
      await rules.alarm();
      rules.recover();
      pair.clock.setAutoAdvance(true);
      await pair.stepFunctions.settled();

      expect(pair.stepFunctions.executions.map((execution) => execution.status)).toEqual([
        "SUCCEEDED",
      ]);
      expect(rules.outcomes.at(-1)).toEqual({
        action: "ignored",
        why: `the deferred automatic failover is served: ${planned.body.operationId} failed over`,
      });
      expect(pair.callsTo({ operation: "FailoverGlobalCluster" })).toEqual([]);
      expect(planned.statusCode).toBe(202);
    } finally {
      rules.disconnect();
    }
  });
});
