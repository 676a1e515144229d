import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { executionArnFor } from "../../../functions/orchestration/start-operation";
import { FakeLedgerTable, NOW, settings } from "./fixtures";

const dynamoDbMock = mockClient(DynamoDBClient);
const sfnMock = mockClient(SFNClient);

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

async function loadHandler() {
  return (await import("../../../functions/handlers/auto-failover.js")).handler;
}

beforeEach(() => {
  dynamoDbMock.reset();
  sfnMock.reset();
  table = new FakeLedgerTable().install(dynamoDbMock);
  sfnMock.on(StartExecutionCommand).callsFake(async (input) => ({
    executionArn: executionArnFor(input.stateMachineArn, input.name),
    startDate: NOW,
  }));
  sfnMock.on(DescribeExecutionCommand).resolves({ status: "RUNNING" });
  vi.stubEnv("SHOPSMART_DR_SETTINGS", JSON.stringify(settings));
  vi.stubEnv(
    "SHOPSMART_DR_AUTO_FAILOVER",
    JSON.stringify({ alarmName: ALARM_NAME, ruleName: RULE_NAME }),
  );
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(NOW);
  vi.spyOn(console, "log").mockImplementation(() => undefined);
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
    expect(console.log).toHaveBeenCalledWith(
      JSON.stringify({ handler: "auto-failover", ...outcome }),
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
      "not a CloudWatch Alarm State Change event",
    ],
    ["a malformed event", { detail: "nope" }, "not a CloudWatch Alarm State Change event"],
  ];

  for (const [name, event, why] of ignored) {
    it(`ignores ${name} with a log line and no call`, async () => {
      const handler = await loadHandler();

      expect(await handler(event)).toEqual({ action: "ignored", why });

      expect(dynamoDbMock.calls()).toHaveLength(0);
      expect(sfnMock.calls()).toHaveLength(0);
      expect(console.log).toHaveBeenCalledWith(
        JSON.stringify({ handler: "auto-failover", action: "ignored", why }),
      );
    });
  }

  it("is a logged no-op while an operation runs", async () => {
    table.seed({ pk: "LOCK", operationId: RUNNING_ID, acquiredAt: "2025-03-04T04:00:00.000Z" });
    const handler = await loadHandler();

    expect(await handler(alarmEvent())).toEqual({
      action: "already-running",
      operationId: RUNNING_ID,
    });
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
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
      'SHOPSMART_DR_AUTO_FAILOVER must be JSON {"alarmName":"...","ruleName":"..."}, got null',
    );
  });

  it("fails on an empty alarm name in SHOPSMART_DR_AUTO_FAILOVER", async () => {
    vi.stubEnv(
      "SHOPSMART_DR_AUTO_FAILOVER",
      JSON.stringify({ alarmName: "", ruleName: RULE_NAME }),
    );
    const handler = await loadHandler();

    await expect(handler(alarmEvent())).rejects.toThrow(
      "SHOPSMART_DR_AUTO_FAILOVER: alarmName: a non-empty alarm name",
    );
  });
});
