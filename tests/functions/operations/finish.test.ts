import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  buildNotification,
  type FinishState,
  finishOperation,
  noticeOperation,
} from "../../../functions/orchestration/finish";
import type { OperationRecord } from "../../../functions/shared/operation";
import {
  CALLER_ARN,
  FakeLedgerTable,
  healthyTopology,
  healthyTraffic,
  OPERATION_ID,
  operationInput,
  settings,
} from "./fixtures";

const dynamoDbMock = mockClient(DynamoDBClient);
const snsMock = mockClient(SNSClient);
const clients = { dynamoDb: new DynamoDBClient({}), sns: new SNSClient({}) };
const RECORD_KEY = `OPERATION#${OPERATION_ID}`;
/** 3 min 32 s after the request (2025-03-04T05:06:07.890Z). */
const FINISHED = new Date("2025-03-04T05:09:39.890Z");

let table: FakeLedgerTable;

function runningRecord(overrides: Partial<OperationRecord> = {}) {
  const { source: _source, target: _target, ...input } = operationInput(overrides);
  return { pk: RECORD_KEY, ...input, status: "running", steps: [], ...overrides };
}

/** The state RecordSuccess receives after a planned failover. */
function successState(mode: "planned" | "unplanned" = "planned"): FinishState {
  return {
    operation: operationInput({ mode }),
    results: {
      preflight: [{ value: healthyTopology() }, { value: healthyTraffic() }],
      promoteAndScale: [
        {
          value: {
            action: "switched-over",
            changed: true,
            detail: "SwitchoverGlobalCluster to shopsmart-prod-secondary started",
          },
        },
        {
          value: {
            action: "scaled",
            changed: true,
            detail: "shopsmart-prod-secondary-app scaled to 2/4/8",
          },
        },
      ],
      checkWriter: { value: { ready: true, writerRegion: "secondary", status: "available" } },
      flipDns: {
        value: {
          action: "already-pointing",
          changed: false,
          detail: "shop.example.com already points at secondary",
        },
      },
    },
  };
}

const SUCCESS_STEPS = [
  {
    name: "preflight",
    status: "succeeded",
    detail: "writer primary, replication lag 2 s; health: primary healthy, secondary healthy",
  },
  {
    name: "promoteAndScale",
    status: "succeeded",
    detail:
      "SwitchoverGlobalCluster to shopsmart-prod-secondary started; shopsmart-prod-secondary-app scaled to 2/4/8",
  },
  {
    name: "checkWriter",
    status: "succeeded",
    detail: '{"ready":true,"writerRegion":"secondary","status":"available"}',
  },
  {
    name: "flipDns",
    status: "succeeded",
    detail: "shop.example.com already points at secondary",
  },
];

beforeEach(() => {
  dynamoDbMock.reset();
  snsMock.reset();
  table = new FakeLedgerTable().install(dynamoDbMock);
  table
    .seed({ pk: "LOCK", operationId: OPERATION_ID, acquiredAt: "2025-03-04T05:06:07.890Z" })
    .seed(runningRecord());
  snsMock.on(PublishCommand).resolves({ MessageId: "message-1" });
});

describe("noticeOperation (PageSlowPromotion)", () => {
  const notice = {
    kind: "promotion-slow" as const,
    checks: 24,
    intervalSeconds: 15,
    pageAfterSeconds: 320,
    detail:
      "Not ready: writer is primary, shopsmart-prod-global is switching-over; switching-over towards it.",
  };

  it("sets the record's attention and pages once, keeping the lock and the running status", async () => {
    const result = await noticeOperation(clients, settings, operationInput(), notice, FINISHED);
    expect(result).toEqual({ operationId: OPERATION_ID, status: "running", published: true });
    const record = table.item(RECORD_KEY);
    expect(record?.status).toBe("running");
    expect(record?.attention).toEqual({
      since: FINISHED.toISOString(),
      message: expect.stringContaining(
        "still running after about 360 s, longer than the plan's 320 s. The workflow keeps waiting with the lock held",
      ),
    });
    expect(table.item("LOCK")).toMatchObject({ operationId: OPERATION_ID });
    const published = snsMock.commandCalls(PublishCommand).map((call) => call.args[0].input);
    expect(published).toHaveLength(1);
    expect(published[0]?.Subject).toBe(
      `[shopsmart-dr prod] failover needs attention: ${OPERATION_ID}`,
    );

    // A retried task: no second page, the first attention is kept.
    const again = await noticeOperation(clients, settings, operationInput(), notice, new Date());
    expect(again.published).toBe(false);
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(1);
    expect(table.item(RECORD_KEY)?.attention).toEqual(record?.attention);
  });

  it("pages on the retry when the first publish failed (the attention is recorded only after it)", async () => {
    snsMock.reset();
    snsMock
      .on(PublishCommand)
      .rejectsOnce(Object.assign(new Error("unavailable"), { name: "InternalError" }))
      .resolves({ MessageId: "m-2" });
    await expect(
      noticeOperation(clients, settings, operationInput(), notice, FINISHED),
    ).rejects.toThrow("unavailable");
    expect(table.item(RECORD_KEY)?.attention).toBeUndefined();

    const retry = await noticeOperation(clients, settings, operationInput(), notice, FINISHED);
    expect(retry.published).toBe(true);
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(2);
    expect(table.item(RECORD_KEY)?.attention).toBeDefined();
  });

  it("pages nothing for an operation that already finished", async () => {
    table.seed(runningRecord({ status: "succeeded" }));
    const result = await noticeOperation(clients, settings, operationInput(), notice, FINISHED);
    expect(result.published).toBe(false);
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(0);
  });
});

describe("finishOperation", () => {
  it("records success with RTO and zero data loss, releases the lock, publishes once", async () => {
    const result = await finishOperation(clients, settings, successState(), FINISHED);

    expect(result).toEqual({
      operationId: OPERATION_ID,
      status: "succeeded",
      recorded: true,
      published: true,
    });
    expect(table.item(RECORD_KEY)).toEqual({
      ...runningRecord(),
      status: "succeeded",
      steps: SUCCESS_STEPS,
      finishedAt: "2025-03-04T05:09:39.890Z",
      rtoSeconds: 212,
      dataLossSeconds: 0,
      notifiedAt: "2025-03-04T05:09:39.890Z",
    });
    expect(table.item("LOCK")).toBeUndefined();

    const publishes = snsMock.commandCalls(PublishCommand).map((call) => call.args[0].input);
    const { notifiedAt: _notifiedAt, pk: _pk, ...record } = table.item(RECORD_KEY) ?? {};
    expect(publishes).toEqual([
      {
        TopicArn: settings.topicArn,
        Subject: `[shopsmart-dr prod] failover succeeded: ${OPERATION_ID}`,
        Message: [
          `Failover ${OPERATION_ID} succeeded.`,
          "",
          "Environment: prod",
          "Mode: planned",
          "Direction: primary (us-east-2) -> secondary (us-west-2)",
          "Reason: quarterly DR drill",
          `Requested by: ${CALLER_ARN} at 2025-03-04T05:06:07.890Z`,
          "Finished at: 2025-03-04T05:09:39.890Z",
          "Recovery time: 212 s (target 300 s)",
          "Data loss: none (switchover)",
          "",
          "Steps:",
          "- preflight: succeeded: writer primary, replication lag 2 s; health: primary healthy, secondary healthy",
          "- promoteAndScale: succeeded: SwitchoverGlobalCluster to shopsmart-prod-secondary started; shopsmart-prod-secondary-app scaled to 2/4/8",
          '- checkWriter: succeeded: {"ready":true,"writerRegion":"secondary","status":"available"}',
          "- flipDns: succeeded: shop.example.com already points at secondary",
          "",
          "Record:",
          JSON.stringify(record, null, 2),
        ].join("\n"),
      },
    ]);
  });

  it("records an unplanned failover's data loss as the lag seen at preflight", async () => {
    table.seed(runningRecord({ mode: "unplanned" }));
    await finishOperation(clients, settings, successState("unplanned"), FINISHED);
    expect(table.item(RECORD_KEY)?.dataLossSeconds).toBe(2);
  });

  it("records data loss from the method that ran, not the mode: an unplanned request that switched over lost nothing, a planned re-run that adopted a failover up to the lag", async () => {
    const withMethod = (mode: "planned" | "unplanned", method: string): FinishState => {
      const state = successState(mode);
      const promotion = {
        action: method === "switchover" ? "switchover-started" : "failover-in-progress",
        changed: true,
        detail: `${method} to shopsmart-prod-secondary`,
        method,
        target: "secondary",
        targetClusterArn: "arn:aws:rds:us-west-2:123456789012:cluster:shopsmart-prod-secondary",
      };
      state.results = { ...state.results, promoteAndScale: [{ value: promotion }] };
      return state;
    };
    table.seed(runningRecord({ mode: "unplanned" }));
    await finishOperation(clients, settings, withMethod("unplanned", "switchover"), FINISHED);
    expect(table.item(RECORD_KEY)?.dataLossSeconds).toBe(0);

    table.seed(runningRecord({ mode: "planned" }));
    await finishOperation(clients, settings, withMethod("planned", "failover"), FINISHED);
    expect(table.item(RECORD_KEY)?.dataLossSeconds).toBe(2);

    // An unplanned re-run that found the target already the writer cannot know how it got there.
    table.seed(runningRecord({ mode: "unplanned" }));
    await finishOperation(clients, settings, withMethod("unplanned", "unknown"), FINISHED);
    expect(table.item(RECORD_KEY)?.dataLossSeconds).toBe(2);
  });

  it("records a failover's data loss as the RPO lag (AuroraGlobalDBRPOLag) at preflight, not the storage replication lag", async () => {
    table.seed(runningRecord({ mode: "unplanned" }));
    const state = successState("unplanned");
    state.results = {
      ...state.results,
      preflight: [
        { value: healthyTopology({ replicationLagSeconds: 2, rpoLagSeconds: 0.5 }) },
        { value: healthyTraffic() },
      ],
    };
    await finishOperation(clients, settings, state, FINISHED);
    expect(table.item(RECORD_KEY)?.dataLossSeconds).toBe(0.5);
  });

  it("records an unplanned failover's data loss as null when the lag was unknown", async () => {
    table.seed(runningRecord({ mode: "unplanned" }));
    const state = successState("unplanned");
    state.results = { topology: healthyTopology({ replicationLagSeconds: null }) };

    await finishOperation(clients, settings, state, FINISHED);

    expect(table.item(RECORD_KEY)?.dataLossSeconds).toBeNull();
    expect(snsMock.commandCalls(PublishCommand)[0]?.args[0].input.Message).toContain(
      "Data loss: unknown (neither RPO lag nor replication lag was readable at preflight)\n",
    );
  });

  it("records the caught error of a failed operation, without an RTO", async () => {
    const state: FinishState = {
      operation: operationInput(),
      results: { preflight: [{ value: healthyTopology() }, { value: healthyTraffic() }] },
      error: {
        Error: "TargetNotInGlobalCluster",
        Cause: JSON.stringify({
          errorType: "TargetNotInGlobalCluster",
          errorMessage: "Cluster arn:x is not a member of global cluster shopsmart-prod-global",
          trace: ["at promote"],
        }),
      },
    };

    const result = await finishOperation(clients, settings, state, FINISHED);

    expect(result).toEqual({
      operationId: OPERATION_ID,
      status: "failed",
      recorded: true,
      published: true,
    });
    expect(table.item(RECORD_KEY)).toEqual({
      ...runningRecord(),
      status: "failed",
      steps: [SUCCESS_STEPS[0]],
      finishedAt: "2025-03-04T05:09:39.890Z",
      dataLossSeconds: 0,
      error:
        "TargetNotInGlobalCluster: Cluster arn:x is not a member of global cluster shopsmart-prod-global",
      notifiedAt: "2025-03-04T05:09:39.890Z",
    });
    expect(table.item("LOCK")).toBeUndefined();
    expect(snsMock.commandCalls(PublishCommand)[0]?.args[0].input.Subject).toBe(
      `[shopsmart-dr prod] failover failed: ${OPERATION_ID}`,
    );
  });

  it("keeps a plain-text cause as it is", async () => {
    const state: FinishState = {
      operation: operationInput(),
      error: { Error: "States.Timeout", Cause: "The writer did not change in time" },
    };
    await finishOperation(clients, settings, state, FINISHED);
    expect(table.item(RECORD_KEY)?.error).toBe("States.Timeout: The writer did not change in time");
  });

  it("is idempotent: a second call for a finished operation changes and publishes nothing", async () => {
    await finishOperation(clients, settings, successState(), FINISHED);
    const first = table.item(RECORD_KEY);

    const second = await finishOperation(
      clients,
      settings,
      { operation: operationInput(), error: { Error: "Late", Cause: "a late catch" } },
      new Date("2025-03-04T06:00:00.000Z"),
    );

    expect(second).toEqual({
      operationId: OPERATION_ID,
      status: "succeeded",
      recorded: false,
      published: false,
    });
    expect(table.item(RECORD_KEY)).toEqual(first);
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(1);
  });

  it("fails to publish once, then a retry publishes exactly once", async () => {
    snsMock
      .on(PublishCommand)
      .rejectsOnce(Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" }))
      .resolves({ MessageId: "message-2" });

    await expect(finishOperation(clients, settings, successState(), FINISHED)).rejects.toThrow(
      "Rate exceeded",
    );
    expect(table.item(RECORD_KEY)?.notifiedAt).toBeUndefined();

    const retry = await finishOperation(clients, settings, successState(), FINISHED);

    expect(retry).toEqual({
      operationId: OPERATION_ID,
      status: "succeeded",
      recorded: false,
      published: true,
    });
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(2);
    expect(table.item(RECORD_KEY)?.notifiedAt).toBe("2025-03-04T05:09:39.890Z");
  });

  it("leaves a lock held by another operation alone", async () => {
    table.seed({ pk: "LOCK", operationId: "op-other", acquiredAt: "2025-03-04T05:08:00.000Z" });
    await finishOperation(clients, settings, successState(), FINISHED);
    expect(table.item("LOCK")?.operationId).toBe("op-other");
  });

  it("recreates a missing record so the outcome is kept", async () => {
    table.items.delete(RECORD_KEY);
    await finishOperation(clients, settings, successState(), FINISHED);
    expect(table.item(RECORD_KEY)).toMatchObject({ status: "succeeded", rtoSeconds: 212 });
  });
});

describe("buildNotification", () => {
  it("keeps the subject under 100 characters on one line", () => {
    const longSettings = { ...settings, environment: `prod\n${"x".repeat(120)}` };
    const { subject } = buildNotification(
      operationInput(),
      { ...runningRecord(), status: "succeeded" } as OperationRecord,
      longSettings,
    );
    expect(subject).toBe(`[shopsmart-dr prod ${"x".repeat(80)}`);
    expect(subject).toHaveLength(99);
  });
});

describe("finish handler", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it("validates the state, finishes and returns the result", async () => {
    vi.stubEnv("SHOPSMART_DR_SETTINGS", JSON.stringify(settings));
    vi.spyOn(console, "info").mockImplementation(() => undefined);
    const { handler } = await import("../../../functions/handlers/finish.js");

    expect(await handler(successState())).toMatchObject({
      operationId: OPERATION_ID,
      status: "succeeded",
      recorded: true,
      published: true,
    });
  });

  it("fails an event without an operation as a terminal InvalidEvent", async () => {
    vi.stubEnv("SHOPSMART_DR_SETTINGS", JSON.stringify(settings));
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const { handler } = await import("../../../functions/handlers/finish.js");

    const error = await handler({ results: {} }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe("InvalidEvent");
    expect((error as Error).message).toBe(
      "finish: event field operation: Invalid input: expected object, received undefined",
    );
  });
});
