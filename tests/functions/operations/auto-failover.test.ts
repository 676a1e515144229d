import { CloudWatchClient, DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { executionArnFor } from "../../../functions/orchestration/start-operation";
import { FakeLedgerTable, NOW, settings } from "./fixtures";

const dynamoDbMock = mockClient(DynamoDBClient);
const sfnMock = mockClient(SFNClient);
const snsMock = mockClient(SNSClient);
const cloudWatchMock = mockClient(CloudWatchClient);

const ALARM_NAME = "shopsmart-prod-primary-endpoint-health";
const RULE_NAME = "shopsmart-prod-auto-failover";
const RUNNING_ID = "op-20250304T040000Z-0000aa";

let table: FakeLedgerTable;

function alarmEvent(
  overrides: { alarmName?: string; value?: string; previous?: string } = {},
): Record<string, unknown> {
  return {
    version: "0",
    id: "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92",
    "detail-type": "CloudWatch Alarm State Change",
    source: "aws.cloudwatch",
    account: "123456789012",
    time: "2025-03-04T05:06:00Z",
    region: "us-east-1",
    resources: [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${ALARM_NAME}`],
    detail: {
      alarmName: overrides.alarmName ?? ALARM_NAME,
      state: {
        value: overrides.value ?? "ALARM",
        reason: "Threshold Crossed: 3 out of the last 3 datapoints were less than 1.0",
        timestamp: "2025-03-04T05:06:00.000+0000",
      },
      previousState: {
        value: overrides.previous ?? "OK",
        reason: "Threshold Crossed",
        timestamp: "2025-03-01T00:00:00.000+0000",
      },
      configuration: { metrics: [] },
    },
  };
}

/** The lock and record of an operation that runs. */
function seedHolder(mode: "planned" | "unplanned", kind: "failover" | "failback", id = RUNNING_ID) {
  table.seed({ pk: "LOCK", operationId: id, acquiredAt: "2025-03-04T04:00:00.000Z" }).seed({
    pk: `OPERATION#${id}`,
    operationId: id,
    kind,
    mode,
    reason: "drill",
    requestedAt: "2025-03-04T04:00:00.000Z",
    requestedBy: "arn:aws:iam::123456789012:user/operator",
    status: "running",
    steps: [],
  });
}

/** "Step Functions Execution Status Change" of the workflow (or another state machine). */
function executionEnded(status: string, stateMachineArn = settings.stateMachineArn) {
  return {
    version: "0",
    "detail-type": "Step Functions Execution Status Change",
    source: "aws.states",
    account: "123456789012",
    region: "us-west-2",
    detail: {
      executionArn: executionArnFor(stateMachineArn, RUNNING_ID),
      stateMachineArn,
      name: RUNNING_ID,
      status,
    },
  };
}

async function loadHandler() {
  return (await import("../../../functions/handlers/auto-failover.js")).handler;
}

beforeEach(() => {
  dynamoDbMock.reset();
  sfnMock.reset();
  snsMock.reset();
  cloudWatchMock.reset();
  snsMock.on(PublishCommand).resolves({ MessageId: "m-1" });
  cloudWatchMock
    .on(DescribeAlarmsCommand)
    .resolves({ MetricAlarms: [{ AlarmName: ALARM_NAME, StateValue: "ALARM" }] });
  table = new FakeLedgerTable().install(dynamoDbMock);
  sfnMock.on(StartExecutionCommand).callsFake(async (input) => ({
    executionArn: executionArnFor(input.stateMachineArn, input.name),
    startDate: NOW,
  }));
  sfnMock.on(DescribeExecutionCommand).resolves({ status: "RUNNING" });
  vi.stubEnv("SHOPSMART_DR_SETTINGS", JSON.stringify(settings));
  vi.stubEnv(
    "SHOPSMART_DR_AUTO_FAILOVER",
    JSON.stringify({ alarmName: ALARM_NAME, alarmRegion: "us-east-1", ruleName: RULE_NAME }),
  );
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(NOW);
  vi.spyOn(console, "info").mockImplementation(() => undefined);
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
  vi.resetModules();
  vi.restoreAllMocks();
});

describe("auto-failover handler", () => {
  it("starts an unplanned failover when the configured alarm goes to ALARM", async () => {
    const handler = await loadHandler();

    const outcome = await handler(alarmEvent());

    expect(outcome).toEqual({
      action: "started",
      operationId: expect.stringMatching(/^op-20250304T050607Z-[0-9a-f]{6}$/),
    });
    const inputs = sfnMock.commandCalls(StartExecutionCommand).map((call) => call.args[0].input);
    expect(inputs).toHaveLength(1);
    expect(JSON.parse(inputs[0]?.input ?? "")).toEqual({
      operationId: outcome.action === "started" ? outcome.operationId : "",
      kind: "failover",
      mode: "unplanned",
      reason: `automatic: ${ALARM_NAME} in ALARM since 2025-03-04T05:06:00.000+0000`,
      requestedAt: "2025-03-04T05:06:07.890Z",
      requestedBy: `eventbridge:${RULE_NAME}`,
      source: "primary",
      target: "secondary",
    });
    expect(console.info).toHaveBeenCalledWith(
      JSON.stringify({
        level: "INFO",
        message: `event ${outcome.action}`,
        handler: "auto-failover",
        ...outcome,
      }),
    );
  });

  const ignored: [string, Record<string, unknown>, string][] = [
    [
      "the alarm returning to OK",
      alarmEvent({ value: "OK", previous: "ALARM" }),
      `${ALARM_NAME} went ALARM -> OK, not ALARM`,
    ],
    [
      "INSUFFICIENT_DATA",
      alarmEvent({ value: "INSUFFICIENT_DATA" }),
      `${ALARM_NAME} went OK -> INSUFFICIENT_DATA, not ALARM`,
    ],
    [
      "another alarm",
      alarmEvent({ alarmName: "shopsmart-prod-secondary-endpoint-health" }),
      `alarm shopsmart-prod-secondary-endpoint-health is not ${ALARM_NAME}`,
    ],
    [
      "another kind of event",
      { ...alarmEvent(), "detail-type": "CloudWatch Alarm Configuration Change" },
      "neither a CloudWatch Alarm State Change nor a Step Functions Execution Status Change event",
    ],
    [
      "a malformed event",
      { detail: "nope" },
      "neither a CloudWatch Alarm State Change nor a Step Functions Execution Status Change event",
    ],
  ];

  for (const [name, event, why] of ignored) {
    it(`ignores ${name} with a log line and no call`, async () => {
      const handler = await loadHandler();

      expect(await handler(event)).toEqual({ action: "ignored", why });

      expect(dynamoDbMock.calls()).toHaveLength(0);
      expect(sfnMock.calls()).toHaveLength(0);
      expect(console.info).toHaveBeenCalledWith(
        JSON.stringify({
          level: "INFO",
          message: "event ignored",
          handler: "auto-failover",
          action: "ignored",
          why,
        }),
      );
    });
  }

  it("is a logged no-op while an unplanned failover runs: it is already doing the job", async () => {
    seedHolder("unplanned", "failover");
    const handler = await loadHandler();

    expect(await handler(alarmEvent())).toEqual({
      action: "already-running",
      operationId: RUNNING_ID,
    });
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
    // Kept quietly, in case that failover fails; served when it succeeds (below).
    expect(table.item("TRIGGER#PENDING")).toMatchObject({ blockedBy: RUNNING_ID });
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(0);
  });

  it("ignores the alarm after a failover succeeded: the primary is the standby now, or fenced", async () => {
    table.seed({ pk: "LATEST", operationId: RUNNING_ID }).seed({
      pk: `OPERATION#${RUNNING_ID}`,
      operationId: RUNNING_ID,
      kind: "failover",
      mode: "unplanned",
      reason: "outage",
      requestedAt: "2025-03-04T04:00:00.000Z",
      requestedBy: "eventbridge:x",
      status: "succeeded",
      steps: [],
    });
    const handler = await loadHandler();

    expect(await handler(alarmEvent())).toEqual({
      action: "ignored",
      why: `${RUNNING_ID} already failed over to the secondary; fail back (POST /failback) once the primary is fixed`,
    });
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it("keeps automatic failovers minimumIntervalMinutes apart: an alarm soon after a failed automatic one starts nothing and pages", async () => {
    // NOW is 05:06:07; the automatic failover started at 04:50 (16 min ago) and failed.
    table.seed({ pk: "LATEST", operationId: RUNNING_ID }).seed({
      pk: `OPERATION#${RUNNING_ID}`,
      operationId: RUNNING_ID,
      kind: "failover",
      mode: "unplanned",
      reason: "automatic",
      requestedAt: "2025-03-04T04:50:00.000Z",
      requestedBy: `eventbridge:${RULE_NAME}`,
      status: "failed",
      steps: [],
    });
    const handler = await loadHandler();

    expect(await handler(alarmEvent())).toEqual({
      action: "dropped",
      why: `the automatic ${RUNNING_ID} started 16 min ago and failed; automatic failovers are at least 30 min apart (automaticFailover.minimumIntervalMinutes)`,
    });
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect(snsMock.commandCalls(PublishCommand)[0]?.args[0].input.Subject).toBe(
      "[shopsmart-dr prod] automatic failover not started",
    );
  });

  it("starts again once the interval has passed, or when the recent operation was an operator's", async () => {
    table.seed({ pk: "LATEST", operationId: RUNNING_ID }).seed({
      pk: `OPERATION#${RUNNING_ID}`,
      operationId: RUNNING_ID,
      kind: "failover",
      mode: "unplanned",
      reason: "automatic",
      requestedAt: "2025-03-04T04:30:00.000Z",
      requestedBy: `eventbridge:${RULE_NAME}`,
      status: "failed",
      steps: [],
    });
    const handler = await loadHandler();
    expect(await handler(alarmEvent())).toMatchObject({ action: "started" });
  });

  it("fails (so the invocation is retried) while a fence holds the lock for a few seconds", async () => {
    table.seed({
      pk: "LOCK",
      operationId: `${RUNNING_ID}-fence`,
      acquiredAt: "2025-03-04T05:06:07.000Z",
    });
    const handler = await loadHandler();

    await expect(handler(alarmEvent())).rejects.toMatchObject({ name: "LockBusy" });
    expect(table.item("TRIGGER#PENDING")).toBeUndefined();
  });

  it("defers the trigger while a planned operation holds the lock: recorded once, notified once", async () => {
    seedHolder("planned", "failover");
    const handler = await loadHandler();

    expect(await handler(alarmEvent())).toEqual({ action: "deferred", blockedBy: RUNNING_ID });
    expect(await handler(alarmEvent())).toEqual({ action: "deferred", blockedBy: RUNNING_ID });

    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect(table.item("TRIGGER#PENDING")).toEqual({
      pk: "TRIGGER#PENDING",
      alarmName: ALARM_NAME,
      alarmedAt: "2025-03-04T05:06:00.000+0000",
      blockedBy: RUNNING_ID,
      deferredAt: "2025-03-04T05:06:07.890Z",
    });
    const published = snsMock.commandCalls(PublishCommand).map((call) => call.args[0].input);
    expect(published).toHaveLength(1);
    expect(published[0]?.Subject).toBe(
      `[shopsmart-dr prod] automatic failover deferred: ${RUNNING_ID} holds the lock`,
    );
    expect(published[0]?.Message).toContain("deferred, not dropped");
  });

  describe("when the operation that held the lock ends", () => {
    function deferred() {
      table.seed({
        pk: "TRIGGER#PENDING",
        alarmName: ALARM_NAME,
        alarmedAt: "2025-03-04T05:00:00.000+0000",
        blockedBy: RUNNING_ID,
        deferredAt: "2025-03-04T05:00:05.000Z",
      });
    }

    it("starts the deferred failover while the alarm is still in ALARM, and clears it", async () => {
      deferred();
      const handler = await loadHandler();

      const outcome = await handler(executionEnded("FAILED"));

      expect(outcome).toMatchObject({ action: "started" });
      const [start] = sfnMock.commandCalls(StartExecutionCommand);
      expect(JSON.parse(start?.args[0].input.input ?? "")).toMatchObject({
        kind: "failover",
        mode: "unplanned",
        reason: `automatic (deferred): ${ALARM_NAME} in ALARM since 2025-03-04T05:00:00.000+0000; ${ALARM_NAME} is still in ALARM`,
      });
      expect(cloudWatchMock.commandCalls(DescribeAlarmsCommand)[0]?.args[0].input).toEqual({
        AlarmNames: [ALARM_NAME],
      });
      expect(table.item("TRIGGER#PENDING")).toBeUndefined();
      expect(snsMock.commandCalls(PublishCommand)[0]?.args[0].input.Subject).toMatch(
        /^\[shopsmart-dr prod\] deferred automatic failover started: op-/,
      );
    });

    it("serves it without a new failover when the operation that held the lock failed over itself", async () => {
      deferred();
      seedHolder("planned", "failover");
      table
        .seed({ ...table.item(`OPERATION#${RUNNING_ID}`), status: "succeeded" })
        .seed({ pk: "LATEST", operationId: RUNNING_ID });
      table.items.delete("LOCK");
      const handler = await loadHandler();

      expect(await handler(executionEnded("SUCCEEDED"))).toEqual({
        action: "ignored",
        why: `the deferred automatic failover is served: ${RUNNING_ID} failed over`,
      });
      expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
      expect(table.item("TRIGGER#PENDING")).toBeUndefined();
    });

    it("starts it again when the unplanned failover that held the lock failed (the alarm still in ALARM)", async () => {
      deferred();
      seedHolder("unplanned", "failover");
      table.seed({ ...table.item(`OPERATION#${RUNNING_ID}`), status: "failed" });
      table.items.delete("LOCK");
      const handler = await loadHandler();

      expect(await handler(executionEnded("FAILED"))).toMatchObject({ action: "started" });
      expect(table.item("TRIGGER#PENDING")).toBeUndefined();
    });

    it("drops it when the alarm is back to OK", async () => {
      deferred();
      cloudWatchMock
        .on(DescribeAlarmsCommand)
        .resolves({ MetricAlarms: [{ AlarmName: ALARM_NAME, StateValue: "OK" }] });
      const handler = await loadHandler();

      expect(await handler(executionEnded("SUCCEEDED"))).toEqual({
        action: "dropped",
        why: `${ALARM_NAME} is OK now: the outage it reported is over`,
      });
      expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
      expect(table.item("TRIGGER#PENDING")).toBeUndefined();
    });

    it("starts it when the alarm cannot be read (its region may be the one that is down)", async () => {
      deferred();
      cloudWatchMock
        .on(DescribeAlarmsCommand)
        .rejects(Object.assign(new Error("connect ETIMEDOUT"), { name: "TimeoutError" }));
      const handler = await loadHandler();

      expect(await handler(executionEnded("ABORTED"))).toMatchObject({ action: "started" });
    });

    it("keeps it deferred when another operation took the lock first", async () => {
      deferred();
      seedHolder("planned", "failback", "op-20250304T050000Z-0000bb");
      const handler = await loadHandler();

      expect(await handler(executionEnded("SUCCEEDED"))).toEqual({
        action: "deferred",
        blockedBy: "op-20250304T050000Z-0000bb",
      });
      expect(table.item("TRIGGER#PENDING")).toBeDefined();
    });

    it("keeps it while an unplanned failover started by another delivery runs, and serves it when that one succeeded", async () => {
      deferred();
      seedHolder("unplanned", "failover", "op-20250304T050000Z-0000cc");
      const handler = await loadHandler();

      expect(await handler(executionEnded("SUCCEEDED"))).toEqual({
        action: "deferred",
        blockedBy: "op-20250304T050000Z-0000cc",
      });
      expect(table.item("TRIGGER#PENDING")).toBeDefined();
      expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);

      // That failover succeeds (and is the latest operation): the trigger is served.
      table
        .seed({ ...table.item("OPERATION#op-20250304T050000Z-0000cc"), status: "succeeded" })
        .seed({ pk: "LATEST", operationId: "op-20250304T050000Z-0000cc" });
      table.items.delete("LOCK");
      expect(await handler(executionEnded("SUCCEEDED"))).toEqual({
        action: "ignored",
        why: "the deferred automatic failover is served: op-20250304T050000Z-0000cc failed over",
      });
      expect(table.item("TRIGGER#PENDING")).toBeUndefined();
    });

    it("does nothing without a pending trigger, or for another state machine", async () => {
      const handler = await loadHandler();
      expect(await handler(executionEnded("SUCCEEDED"))).toEqual({
        action: "ignored",
        why: "no automatic failover is pending",
      });
      deferred();
      expect(
        await handler(executionEnded("SUCCEEDED", "arn:aws:states:us-west-2:1:stateMachine:other")),
      ).toEqual({
        action: "ignored",
        why: "arn:aws:states:us-west-2:1:stateMachine:other is not the failover workflow",
      });
      expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
      expect(cloudWatchMock.calls()).toHaveLength(0);
    });
  });

  it("starts once for a duplicated delivery of the same alarm event", async () => {
    const handler = await loadHandler();

    const outcomes = await Promise.all([handler(alarmEvent()), handler(alarmEvent())]);

    expect(outcomes.map((outcome) => outcome.action).sort()).toEqual([
      "already-running",
      "started",
    ]);
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(1);
  });

  it("fails (so EventBridge retries) when the ledger is unavailable", async () => {
    dynamoDbMock.reset();
    dynamoDbMock.rejects(
      Object.assign(new Error("Service Unavailable"), {
        name: "InternalServerError",
        $fault: "server",
      }),
    );
    const handler = await loadHandler();

    await expect(handler(alarmEvent())).rejects.toThrow("Service Unavailable");
  });

  it("fails on a missing SHOPSMART_DR_AUTO_FAILOVER naming the variable and its shape", async () => {
    vi.stubEnv("SHOPSMART_DR_AUTO_FAILOVER", undefined);
    const handler = await loadHandler();

    await expect(handler(alarmEvent())).rejects.toThrow(
      'SHOPSMART_DR_AUTO_FAILOVER must be JSON {"alarmName":"...","alarmRegion":"...","ruleName":"..."}, got null',
    );
  });

  it("fails on an empty alarm name in SHOPSMART_DR_AUTO_FAILOVER", async () => {
    vi.stubEnv(
      "SHOPSMART_DR_AUTO_FAILOVER",
      JSON.stringify({ alarmName: "", alarmRegion: "us-east-1", ruleName: RULE_NAME }),
    );
    const handler = await loadHandler();

    await expect(handler(alarmEvent())).rejects.toThrow(
      "SHOPSMART_DR_AUTO_FAILOVER: alarmName: a non-empty alarm name",
    );
  });
});
