/**
 * How operations start: through the real operations-api handler (POST /failover) and the real
 * auto-failover handler (EventBridge alarm event), with the simulated DynamoDB ledger and a
 * simulated Step Functions whose StartExecution runs the synthesized prod state machine locally.
 * Two concurrent triggers start one operation; a dry run changes nothing; the primary's
 * endpoint-health alarm starts exactly one unplanned failover.
 */
import { describe, expect, it } from "vitest";
import type { Plan } from "../../functions/shared/operation";
import { connectStackAutomaticFailoverRules, type RegionPair } from "../../src/simulation";
import { connectWorkflow, loadHandler } from "../support/local-state-machine";
import {
  apiRequest,
  autoFailoverVariable,
  callApi,
  lockHeld,
  type OnCleanup,
  operationKeys,
  prodStack,
  scenarioPair,
  sharedScenario,
  untilRoute53Notices,
} from "../support/scenario";

/** Runs StartExecution's executions locally from now on (and simulates the Lambda runtime). */
async function connect(pair: RegionPair, onCleanup: OnCleanup): Promise<void> {
  onCleanup(await connectWorkflow({ pair, stack: prodStack() }));
}

describe("two concurrent triggers", () => {
  const scenario = sharedScenario(async (onCleanup) => {
    const pair = scenarioPair(onCleanup);
    await connect(pair, onCleanup);
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
    // The ledger lock decided, before the execution ran: two conditional puts, one won.
    const lockPuts = pair
      .callsTo({ operation: "PutItem" })
      .filter((call) => JSON.stringify(call.input).includes('"pk":{"S":"LOCK"}'));
    const startExecutions = pair.callsTo({ operation: "StartExecution" });
    await pair.stepFunctions.settled();
    const record = await callApi(apiRequest("GET", `/operations/${accepted?.body.operationId}`));
    return { pair, responses, accepted, rejected, lockPuts, startExecutions, record };
  });

  it("two simultaneous POST /failover: one 202, one 409 naming the first's operationId", () => {
    const { responses, accepted, rejected } = scenario();
    expect(responses.map((response) => response.statusCode).sort()).toEqual([202, 409]);
    expect(accepted?.body).toEqual({
      operationId: expect.stringMatching(/^op-20260105T090000Z-[0-9a-f]{6}$/),
      statusUrl: `/operations/${accepted?.body.operationId}`,
    });
    expect(rejected?.body).toEqual({
      error: "an operation is running",
      operationId: accepted?.body.operationId,
    });
  });

  it("the ledger lock decides: two conditional puts, one won, and exactly one StartExecution", () => {
    const { lockPuts, startExecutions } = scenario();
    expect(lockPuts.map((call) => call.outcome)).toEqual(["ok", "error"]);
    expect(lockPuts[1]?.error).toBe("ConditionalCheckFailedException");
    expect(startExecutions).toHaveLength(1);
  });

  it("runs one operation: one execution, one ledger record, one switchover, one message, the lock released", () => {
    const { pair, accepted } = scenario();
    expect(
      pair.stepFunctions.executions.map((execution) => [execution.name, execution.status]),
    ).toEqual([[accepted?.body.operationId, "SUCCEEDED"]]);
    expect(operationKeys(pair)).toEqual([`OPERATION#${accepted?.body.operationId}`]);
    expect(pair.callsTo({ operation: "SwitchoverGlobalCluster" })).toHaveLength(1);
    expect(pair.sns.published).toHaveLength(1);
    expect(lockHeld(pair)).toBe(false);
  });

  it("records the accepted request's caller and reason", () => {
    expect(scenario().record.body).toMatchObject({
      status: "succeeded",
      requestedBy: "arn:aws:iam::123456789012:user/ops",
      reason: "quarterly DR drill",
    });
  });
});

describe("dry run", () => {
  /** POST /failover with `body` and dryRun, once for the describe, after `prepare`. */
  function dryRun(
    body: { readonly mode: string; readonly reason: string },
    prepare: (pair: RegionPair) => Promise<void> = async () => {},
  ) {
    return sharedScenario(async (onCleanup) => {
      const pair = scenarioPair(onCleanup);
      await prepare(pair);
      await connect(pair, onCleanup);
      const response = await callApi(apiRequest("POST", "/failover", { ...body, dryRun: true }));
      return { pair, response };
    });
  }

  describe("POST /failover with dryRun on a healthy system", () => {
    const scenario = dryRun({ mode: "planned", reason: "what would happen?" });

    it("answers 200 with the plan of a planned switchover", () => {
      const { response } = scenario();
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
    });

    it("makes not one mutating call", () => {
      expect(scenario().pair.mutatingCalls()).toEqual([]);
    });

    it("reads through the two reader functions and starts nothing, the ledger empty", () => {
      const { pair } = scenario();
      // It read through the two reader functions, and started nothing.
      expect(pair.lambda.invocations.map((invocation) => invocation.functionName).sort()).toEqual([
        pair.settings.readTopologyFunctionName,
        pair.settings.readTrafficFunctionName,
      ]);
      expect(pair.stepFunctions.executions).toEqual([]);
      expect(pair.dynamodb.items(pair.settings.ledgerTableName)).toEqual([]);
    });

    it("leaves the primary the writer, answering, the secondary at standby", () => {
      expect(scenario().pair.snapshot()).toMatchObject({
        database: { globalWriter: "primary" },
        dns: { answering: "primary" },
        capacity: { secondary: { desiredCapacity: 1 } },
      });
    });
  });

  describe("an unplanned dry run while the primary region is down", () => {
    const scenario = dryRun({ mode: "unplanned", reason: "us-east-2 outage" }, async (pair) => {
      pair.regionDown("primary");
      await untilRoute53Notices(pair);
    });

    it("answers 200 with the failover plan and its data-loss bound", () => {
      const { response } = scenario();
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
    });

    it("still makes no mutating call and starts nothing", () => {
      const { pair } = scenario();
      expect(pair.mutatingCalls()).toEqual([]);
      expect(pair.stepFunctions.executions).toEqual([]);
    });
  });
});

describe("automatic failover", () => {
  /** Sets SHOPSMART_DR_AUTO_FAILOVER until the describe's cleanups put the previous value back. */
  function setAutoFailoverVariable(value: string, onCleanup: OnCleanup): void {
    const previous = process.env.SHOPSMART_DR_AUTO_FAILOVER;
    onCleanup(() => {
      if (previous === undefined) delete process.env.SHOPSMART_DR_AUTO_FAILOVER;
      else process.env.SHOPSMART_DR_AUTO_FAILOVER = previous;
    });
    process.env.SHOPSMART_DR_AUTO_FAILOVER = value;
  }

  /** The workflow and the prod stack's two automatic-failover rules, played on the pair. */
  async function connectRules(pair: RegionPair, onCleanup: OnCleanup) {
    await connect(pair, onCleanup);
    const rules = connectStackAutomaticFailoverRules(
      pair,
      prodStack(),
      await loadHandler("auto-failover"),
    );
    onCleanup(() => rules.disconnect());
    return rules;
  }

  /**
   * A healthy pair with the workflow and the rules, time stopped, and a drill's planned failover
   * (POST /failover) holding the lock.
   */
  async function drillHoldingTheLock(onCleanup: OnCleanup) {
    const pair = scenarioPair(onCleanup);
    const rules = await connectRules(pair, onCleanup);
    pair.clock.setAutoAdvance(false);
    const planned = await callApi(
      apiRequest("POST", "/failover", { mode: "planned", reason: "DR drill" }),
    );
    return { pair, rules, planned };
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

  describe("the primary-down alarm goes to ALARM while the primary region is down", () => {
    const scenario = sharedScenario(async (onCleanup) => {
      const pair = scenarioPair(onCleanup);
      // As deployed: the synthesized function's trigger settings, the alarm in the secondary region.
      const variable = autoFailoverVariable(prodStack());
      const settings = JSON.parse(variable) as {
        alarmName: string;
        alarmRegion: string;
        ruleName: string;
      };
      const { alarmName } = settings;
      setAutoFailoverVariable(variable, onCleanup);

      pair.regionDown("primary", { callMs: 5_000 });
      await untilRoute53Notices(pair);
      await connect(pair, onCleanup);
      const handler = await loadHandler("auto-failover");
      const alarmedAt = pair.clock.isoString();
      const event = alarmEvent(alarmName, "OK", "ALARM", alarmedAt);

      pair.clock.setAutoAdvance(false);
      const first = (await handler(event, undefined as never)) as {
        action: string;
        operationId: string;
      };
      // EventBridge delivers at least once: the same event again, at once ...
      const again = await handler(event, undefined as never);
      // ... and a minute later, with the failover under way.
      await pair.clock.advance(60_000);
      const statusAMinuteLater = pair.stepFunctions.executions[0]?.status;
      const aMinuteLater = await handler(event, undefined as never);
      // Other transitions and other alarms start nothing.
      const recovered = await handler(
        alarmEvent(alarmName, "ALARM", "OK", pair.clock.isoString()),
        undefined as never,
      );
      const otherAlarm = await handler(
        alarmEvent("shopsmart-prod-secondary-endpoint-health", "OK", "ALARM", alarmedAt),
        undefined as never,
      );
      pair.clock.setAutoAdvance(true);
      await pair.stepFunctions.settled();
      const record = await callApi(apiRequest("GET", `/operations/${first.operationId}`));
      return {
        pair,
        settings,
        alarmedAt,
        first,
        again,
        statusAMinuteLater,
        aMinuteLater,
        recovered,
        otherAlarm,
        record,
      };
    });

    it("reads its trigger settings as deployed: the primary-down alarm in the secondary region", () => {
      const { alarmName, alarmRegion } = scenario().settings;
      expect(alarmName).toBe("shopsmart-prod-dr-primary-down");
      expect(alarmRegion).toBe("us-west-2");
    });

    it("starts an operation on the first event", () => {
      expect(scenario().first).toEqual({
        action: "started",
        operationId: expect.stringMatching(/^op-/),
      });
    });

    it("answers the same event again, at once and a minute later with the failover under way, as already running", () => {
      const { first, again, statusAMinuteLater, aMinuteLater } = scenario();
      expect(again).toEqual({
        action: "already-running",
        operationId: first.operationId,
      });
      expect(statusAMinuteLater).toBe("RUNNING");
      expect(aMinuteLater).toEqual({
        action: "already-running",
        operationId: first.operationId,
      });
    });

    it("ignores other transitions and other alarms", () => {
      const { recovered, otherAlarm } = scenario();
      expect(recovered).toMatchObject({ action: "ignored" });
      expect(otherAlarm).toMatchObject({ action: "ignored" });
    });

    it("starts exactly one unplanned failover: one StartExecution, one operation, FailoverGlobalCluster and no switchover", () => {
      const { pair, first } = scenario();
      expect(pair.callsTo({ operation: "StartExecution" })).toHaveLength(1);
      expect(pair.stepFunctions.executions.map((execution) => execution.status)).toEqual([
        "SUCCEEDED",
      ]);
      expect(operationKeys(pair)).toEqual([`OPERATION#${first.operationId}`]);
      expect(pair.callsTo({ operation: "FailoverGlobalCluster" })).toHaveLength(1);
      expect(pair.callsTo({ operation: "SwitchoverGlobalCluster" })).toEqual([]);
    });

    it("records the operation as requested by the EventBridge rule, for the alarm", () => {
      const { settings, alarmedAt, record } = scenario();
      expect(record.body).toMatchObject({
        kind: "failover",
        mode: "unplanned",
        status: "succeeded",
        requestedBy: `eventbridge:${settings.ruleName}`,
        reason: `automatic: ${settings.alarmName} in ALARM since ${alarmedAt}`,
        dataLossSeconds: 0.8,
      });
    });

    it("notifies once, releases the lock and leaves the secondary the writer, answering", () => {
      const { pair } = scenario();
      expect(pair.sns.published).toHaveLength(1);
      expect(lockHeld(pair)).toBe(false);
      expect(pair.snapshot()).toMatchObject({
        database: { globalWriter: "secondary" },
        dns: { answering: "secondary" },
      });
    });
  });

  describe("a trigger that meets a planned operation's lock, the alarm still in ALARM", () => {
    const scenario = sharedScenario(async (onCleanup) => {
      // A drill's planned failover holds the lock ...
      const { pair, rules, planned } = await drillHoldingTheLock(onCleanup);
      // ... when the primary region dies and its health alarm fires.
      pair.regionDown("primary", { callMs: 5_000 });
      const alarmed = await rules.alarm();
      pair.clock.setAutoAdvance(true);
      await pair.stepFunctions.settled();

      // The planned failover cannot complete without the primary; when it ends, the deferred
      // trigger starts the unplanned failover, which completes.
      const [drill, automatic] = pair.stepFunctions.executions;
      const record = await callApi(apiRequest("GET", `/operations/${automatic?.name}`));
      return { pair, rules, planned, alarmed, drill, automatic, record };
    });

    it("is deferred while the planned operation (202) holds the lock", () => {
      const { planned, alarmed } = scenario();
      expect(planned.statusCode).toBe(202);
      expect(alarmed).toEqual({
        action: "deferred",
        blockedBy: planned.body.operationId,
      });
    });

    it("is not lost: when the planned operation fails, the unplanned failover starts and succeeds", () => {
      const { pair, rules, planned, drill, automatic } = scenario();
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
    });

    it("records the automatic failover as deferred, and moves the writer and traffic to the secondary", () => {
      const { pair, rules, record } = scenario();
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
    });

    it("notifies the deferral, the drill's failure, the deferred start and its success", () => {
      const { pair, planned, automatic } = scenario();
      expect(pair.sns.published.map((message) => message.subject)).toEqual([
        `[shopsmart-dr prod] automatic failover deferred: ${planned.body.operationId} holds the lock`,
        `[shopsmart-dr prod] failover failed: ${planned.body.operationId}`,
        `[shopsmart-dr prod] deferred automatic failover started: ${automatic?.name}`,
        `[shopsmart-dr prod] failover succeeded: ${automatic?.name}`,
      ]);
    });

    it("leaves no pending trigger and releases the lock", () => {
      const { pair } = scenario();
      expect(operationKeys(pair)).not.toContain("TRIGGER#PENDING");
      expect(lockHeld(pair)).toBe(false);
    });
  });

  describe("a deferred trigger whose alarm clears while the planned failover runs", () => {
    const scenario = sharedScenario(async (onCleanup) => {
      const { pair, rules, planned } = await drillHoldingTheLock(onCleanup);
      // A blip: the alarm fires and clears while the planned failover runs.
      await rules.alarm();
      rules.recover();
      pair.clock.setAutoAdvance(true);
      await pair.stepFunctions.settled();
      return { pair, rules, planned };
    });

    it("is served when the planned failover (202) that held the lock completes", () => {
      const { pair, rules, planned } = scenario();
      expect(pair.stepFunctions.executions.map((execution) => execution.status)).toEqual([
        "SUCCEEDED",
      ]);
      expect(rules.outcomes.at(-1)).toEqual({
        action: "ignored",
        why: `the deferred automatic failover is served: ${planned.body.operationId} failed over`,
      });
      expect(planned.statusCode).toBe(202);
    });

    it("starts no second failover", () => {
      expect(scenario().pair.callsTo({ operation: "FailoverGlobalCluster" })).toEqual([]);
    });
  });
});
