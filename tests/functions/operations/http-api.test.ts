import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  SFNClient,
  StartExecutionCommand,
} from "@aws-sdk/client-sfn";
import { SNSClient } from "@aws-sdk/client-sns";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  type HttpApiDependencies,
  handleHttpRequest,
  stepsFromHistory,
} from "../../../functions/orchestration/http-api";
import { executionArnFor } from "../../../functions/orchestration/start-operation";
import type { TopologyReport, TrafficReport } from "../../../functions/shared/operation";
import {
  activeCapacity,
  apiEvent,
  CALLER_ARN,
  environment,
  FakeLedgerTable,
  healthyTopology,
  healthyTraffic,
  lambdaPayload,
  NOW,
  OPERATION_ID,
  operationInput,
  STATE_MACHINE_ARN,
  settings,
  standbyCapacity,
} from "./fixtures";

const dynamoDbMock = mockClient(DynamoDBClient);
const sfnMock = mockClient(SFNClient);
const lambdaMock = mockClient(LambdaClient);
const snsMock = mockClient(SNSClient);

const dependencies: HttpApiDependencies = {
  settings,
  clients: {
    dynamoDb: new DynamoDBClient({}),
    sfn: new SFNClient({}),
    lambda: new LambdaClient({}),
  },
  environment,
};
const JSON_HEADERS = { "content-type": "application/json" };
const RUNNING_ID = "op-20250304T040000Z-0000aa";

let table: FakeLedgerTable;

function readersReturn(topology: TopologyReport, traffic: TrafficReport): void {
  lambdaMock
    .on(InvokeCommand, { FunctionName: settings.readTopologyFunctionName })
    .resolves({ StatusCode: 200, Payload: lambdaPayload(topology) })
    .on(InvokeCommand, { FunctionName: settings.readTrafficFunctionName })
    .resolves({ StatusCode: 200, Payload: lambdaPayload(traffic) });
}

async function send(method: string, path: string, body?: unknown, options = {}) {
  const response = await handleHttpRequest(apiEvent(method, path, body, options), dependencies);
  return { ...response, body: JSON.parse(response.body ?? "null") as unknown };
}

function invokedPayloads(): { functionName: string | undefined; payload: unknown }[] {
  return lambdaMock.commandCalls(InvokeCommand).map((call) => ({
    functionName: call.args[0].input.FunctionName,
    payload: JSON.parse(new TextDecoder().decode(call.args[0].input.Payload as Uint8Array)),
  }));
}

beforeEach(() => {
  dynamoDbMock.reset();
  sfnMock.reset();
  lambdaMock.reset();
  snsMock.reset();
  table = new FakeLedgerTable().install(dynamoDbMock);
  sfnMock.on(StartExecutionCommand).callsFake(async (input) => ({
    executionArn: executionArnFor(input.stateMachineArn, input.name),
    startDate: NOW,
  }));
  sfnMock.on(DescribeExecutionCommand).resolves({ status: "RUNNING" });
  readersReturn(healthyTopology(), healthyTraffic());
  vi.spyOn(console, "error").mockImplementation(() => undefined);
  vi.spyOn(console, "warn").mockImplementation(() => undefined);
  vi.spyOn(console, "info").mockImplementation(() => undefined);
});

describe("POST /failover", () => {
  it("starts a failover: 202 with the id and status URL", async () => {
    const response = await send("POST", "/failover", {
      mode: "planned",
      reason: "  quarterly DR drill ",
    });

    expect(response).toEqual({
      statusCode: 202,
      headers: JSON_HEADERS,
      body: {
        operationId: OPERATION_ID,
        statusUrl: `https://abc123.execute-api.us-west-2.amazonaws.com/operations/${OPERATION_ID}`,
      },
    });
    expect(sfnMock.commandCalls(StartExecutionCommand).map((call) => call.args[0].input)).toEqual([
      {
        stateMachineArn: STATE_MACHINE_ARN,
        name: OPERATION_ID,
        input: JSON.stringify(operationInput({ requestedBy: CALLER_ARN })),
      },
    ]);
  });

  it("answers with a relative status URL when no API base URL is configured", async () => {
    const { apiBaseUrl: _apiBaseUrl, ...withoutBaseUrl } = settings;
    const response = await handleHttpRequest(
      apiEvent("POST", "/failover", { mode: "unplanned", reason: "primary down" }),
      { ...dependencies, settings: withoutBaseUrl },
    );
    expect(JSON.parse(response.body ?? "")).toEqual({
      operationId: OPERATION_ID,
      statusUrl: `/operations/${OPERATION_ID}`,
    });
  });

  it("fails with 409 and the running operation's id while one runs", async () => {
    table.seed({ pk: "LOCK", operationId: RUNNING_ID, acquiredAt: "2025-03-04T04:00:00.000Z" });

    const response = await send("POST", "/failover", { mode: "planned", reason: "drill" });

    expect(response).toEqual({
      statusCode: 409,
      headers: JSON_HEADERS,
      body: { error: "an operation is running", operationId: RUNNING_ID },
    });
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it("starts one operation for two concurrent requests; the other gets 409 with its id", async () => {
    const hexes = ["aaaaaa", "bbbbbb"];
    const responses = await Promise.all(
      hexes.map((hex) =>
        handleHttpRequest(apiEvent("POST", "/failover", { mode: "unplanned", reason: "down" }), {
          ...dependencies,
          environment: { now: () => NOW, randomHex: () => hex },
        }),
      ),
    );

    expect(
      responses.map((response) => [response.statusCode, JSON.parse(response.body ?? "")]),
    ).toEqual([
      [
        202,
        {
          operationId: "op-20250304T050607Z-aaaaaa",
          statusUrl:
            "https://abc123.execute-api.us-west-2.amazonaws.com/operations/op-20250304T050607Z-aaaaaa",
        },
      ],
      [409, { error: "an operation is running", operationId: "op-20250304T050607Z-aaaaaa" }],
    ]);
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(1);
  });

  it("returns the plan for a dry run and makes no mutating call", async () => {
    const response = await send("POST", "/failover", {
      mode: "planned",
      reason: "check before the drill",
      dryRun: true,
    });

    expect(response).toEqual({
      statusCode: 200,
      headers: JSON_HEADERS,
      body: {
        dryRun: true,
        plan: {
          kind: "failover",
          mode: "planned",
          source: "primary",
          target: "secondary",
          writerRegion: "primary",
          replicationLagSeconds: 2,
          rpoLagSeconds: 2,
          health: { primary: "healthy", secondary: "healthy" },
          capacity: { primary: activeCapacity, secondary: standbyCapacity },
          writerWait: {
            pageAfterSeconds: 320,
            reason: "max(300 s, 3 x the 60 s promotion estimate) + 10 x replication lag 2 s",
          },
          steps: [
            "switch over the global database shopsmart-prod-global to shopsmart-prod-secondary " +
              "(us-west-2) (SwitchoverGlobalCluster: no data loss)",
            "in parallel, scale shopsmart-prod-secondary-app (us-west-2) to min 2 / desired 4 / max 8",
            "wait until shopsmart-prod-secondary is the writer, with the lock held for as long as " +
              "Aurora reports the promotion running; page if it runs longer than 320 s",
            "point shop.example.com at secondary (us-west-2) as PRIMARY and primary (us-east-2) as SECONDARY",
            "verify that shopsmart-prod-secondary is the writer and read both endpoints' health",
            "record the operation in the ledger and notify by SNS",
          ],
          blockers: [],
        },
      },
    });
    // The only calls: the two readers, and a read of the lock.
    expect(invokedPayloads()).toEqual([
      {
        functionName: settings.readTopologyFunctionName,
        payload: { operation: { mode: "planned", target: "secondary" }, onUnreachable: "report" },
      },
      {
        functionName: settings.readTrafficFunctionName,
        payload: { operation: { mode: "planned", target: "secondary" }, onUnreachable: "report" },
      },
    ]);
    expect(dynamoDbMock.calls().map((call) => call.args[0].constructor.name)).toEqual([
      "GetItemCommand",
    ]);
    expect(dynamoDbMock.commandCalls(GetItemCommand)[0]?.args[0].input.Key).toEqual({
      pk: { S: "LOCK" },
    });
    expect(sfnMock.calls()).toHaveLength(0);
    expect(snsMock.calls()).toHaveLength(0);
    expect(table.items.size).toBe(0);
  });

  it("lists the running operation as a blocker of a dry run, still without mutating", async () => {
    table.seed({ pk: "LOCK", operationId: RUNNING_ID, acquiredAt: "2025-03-04T04:00:00.000Z" });

    const response = await send("POST", "/failover", {
      mode: "unplanned",
      reason: "x",
      dryRun: true,
    });

    expect(response.statusCode).toBe(200);
    expect((response.body as { plan: { blockers: string[] } }).plan.blockers).toEqual([
      `an operation is running: ${RUNNING_ID}; wait for it to finish (GET /operations/${RUNNING_ID})`,
    ]);
    expect(sfnMock.calls()).toHaveLength(0);
    expect(dynamoDbMock.calls().map((call) => call.args[0].constructor.name)).toEqual([
      "GetItemCommand",
    ]);
  });

  it("fails a dry run with 502 when a reader fails", async () => {
    lambdaMock.on(InvokeCommand, { FunctionName: settings.readTrafficFunctionName }).resolves({
      StatusCode: 200,
      FunctionError: "Unhandled",
      Payload: lambdaPayload({ errorType: "AccessDenied", errorMessage: "not authorized" }),
    });

    const response = await send("POST", "/failover", {
      mode: "planned",
      reason: "x",
      dryRun: true,
    });

    expect(response).toEqual({
      statusCode: 502,
      headers: JSON_HEADERS,
      body: { error: "shopsmart-prod-read-traffic failed: AccessDenied: not authorized" },
    });
  });

  it("accepts a base64-encoded body and a named stage's path prefix", async () => {
    const response = await send(
      "POST",
      "/failover",
      { mode: "planned", reason: "drill" },
      { base64: true, stage: "prod" },
    );
    expect(response.statusCode).toBe(202);
  });

  it("accepts a reason of exactly 500 characters after trimming", async () => {
    const response = await send("POST", "/failover", {
      mode: "planned",
      reason: ` ${"r".repeat(500)} `,
    });
    expect(response.statusCode).toBe(202);
  });
});

describe("POST /failover validation", () => {
  const cases: [string, unknown, { error: string; field: string }][] = [
    [
      "fails without mode",
      { reason: "drill" },
      {
        error:
          'mode is required: "planned" (switchover, no data loss, both regions up) or ' +
          '"unplanned" (failover allowing data loss, primary region down)',
        field: "mode",
      },
    ],
    [
      "fails with an unknown mode",
      { mode: "Planned", reason: "drill" },
      { error: 'mode must be "planned" or "unplanned", got "Planned"', field: "mode" },
    ],
    [
      "fails without reason",
      { mode: "planned" },
      { error: "reason is required: say why, in 1 to 500 characters", field: "reason" },
    ],
    [
      "fails with a reason that is not a string",
      { mode: "planned", reason: 42 },
      { error: "reason must be a string, got 42", field: "reason" },
    ],
    [
      "fails with a blank reason",
      { mode: "planned", reason: "   " },
      { error: "reason is blank: say why, in 1 to 500 characters", field: "reason" },
    ],
    [
      "fails with a reason over 500 characters",
      { mode: "planned", reason: "r".repeat(501) },
      {
        error: "reason is 501 characters long (after trimming): shorten it to at most 500",
        field: "reason",
      },
    ],
    [
      "fails with a dryRun that is not a boolean",
      { mode: "planned", reason: "drill", dryRun: "yes" },
      { error: 'dryRun must be true or false (JSON boolean), got "yes"', field: "dryRun" },
    ],
    [
      "fails with an unknown field",
      { mode: "planned", reason: "drill", force: true },
      {
        error: 'unknown field "force": the allowed fields are mode, reason, dryRun',
        field: "force",
      },
    ],
    [
      "fails with a body that is not an object",
      ["planned"],
      {
        error:
          'the body must be a JSON object such as {"mode":"planned","reason":"quarterly DR drill"}, got an array',
        field: "body",
      },
    ],
    [
      "fails with the first problem only: fields in schema order before unknown fields",
      { reasn: "typo", mode: "sideways" },
      { error: 'mode must be "planned" or "unplanned", got "sideways"', field: "mode" },
    ],
  ];

  for (const [name, body, expected] of cases) {
    it(name, async () => {
      expect(await send("POST", "/failover", body)).toEqual({
        statusCode: 400,
        headers: JSON_HEADERS,
        body: expected,
      });
      expect(dynamoDbMock.calls()).toHaveLength(0);
      expect(sfnMock.calls()).toHaveLength(0);
      expect(lambdaMock.calls()).toHaveLength(0);
    });
  }

  it("fails with invalid JSON, naming the body", async () => {
    expect(await send("POST", "/failover", '{"mode": planned}', { raw: true })).toEqual({
      statusCode: 400,
      headers: JSON_HEADERS,
      body: {
        error:
          'the body is not valid JSON (Unexpected token \'p\', "{"mode": planned}" is not valid ' +
          'JSON): send a JSON object such as {"mode":"planned","reason":"quarterly DR drill"}',
        field: "body",
      },
    });
  });

  it("fails with an empty body, naming the body", async () => {
    expect(await send("POST", "/failover")).toEqual({
      statusCode: 400,
      headers: JSON_HEADERS,
      body: {
        error:
          'the body is empty: send a JSON object such as {"mode":"planned","reason":"quarterly DR drill"}',
        field: "body",
      },
    });
  });
});

describe("POST /failback", () => {
  it("starts a planned failback from the secondary: 202", async () => {
    const response = await send("POST", "/failback", { reason: "primary recovered" });

    expect(response).toEqual({
      statusCode: 202,
      headers: JSON_HEADERS,
      body: {
        operationId: OPERATION_ID,
        statusUrl: `https://abc123.execute-api.us-west-2.amazonaws.com/operations/${OPERATION_ID}`,
      },
    });
    expect(sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input.input).toBe(
      JSON.stringify(
        operationInput({
          kind: "failback",
          reason: "primary recovered",
          source: "secondary",
          target: "primary",
        }),
      ),
    );
  });

  it("fails with a mode field: a failback is always planned", async () => {
    expect(await send("POST", "/failback", { reason: "back", mode: "unplanned" })).toEqual({
      statusCode: 400,
      headers: JSON_HEADERS,
      body: {
        error:
          'unknown field "mode": the allowed fields are reason, dryRun (a failback is always planned)',
        field: "mode",
      },
    });
  });

  it("fails without reason", async () => {
    expect(await send("POST", "/failback", { dryRun: true })).toEqual({
      statusCode: 400,
      headers: JSON_HEADERS,
      body: { error: "reason is required: say why, in 1 to 500 characters", field: "reason" },
    });
  });

  it("fails with 409 and the running id while an operation runs", async () => {
    table.seed({ pk: "LOCK", operationId: RUNNING_ID, acquiredAt: "2025-03-04T04:00:00.000Z" });
    expect(await send("POST", "/failback", { reason: "back" })).toEqual({
      statusCode: 409,
      headers: JSON_HEADERS,
      body: { error: "an operation is running", operationId: RUNNING_ID },
    });
  });

  it("returns the failback plan for a dry run with no mutating call", async () => {
    const response = await send("POST", "/failback", { reason: "back", dryRun: true });

    expect(response.statusCode).toBe(200);
    expect(response.body).toMatchObject({
      dryRun: true,
      plan: {
        kind: "failback",
        mode: "planned",
        source: "secondary",
        target: "primary",
        // The writer already is in the primary: the run would complete the rest (DNS, capacity).
        blockers: [],
        steps: expect.arrayContaining([expect.stringMatching(/^no promotion: /)]),
      },
    });
    expect(invokedPayloads().map((call) => call.payload)).toEqual([
      { operation: { mode: "planned", target: "primary" }, onUnreachable: "report" },
      { operation: { mode: "planned", target: "primary" }, onUnreachable: "report" },
    ]);
    expect(sfnMock.calls()).toHaveLength(0);
    expect(snsMock.calls()).toHaveLength(0);
    expect(dynamoDbMock.calls().map((call) => call.args[0].constructor.name)).toEqual([
      "GetItemCommand",
    ]);
  });
});

describe("GET /status", () => {
  it("reports the active region, database, DNS health, capacity and the latest operation", async () => {
    const latest = {
      ...operationInput(),
      status: "succeeded",
      steps: [],
      finishedAt: "2025-03-04T05:09:39.890Z",
      rtoSeconds: 212,
      dataLossSeconds: 0,
    };
    const { source: _source, target: _target, ...record } = latest;
    table
      .seed({ pk: "LATEST", operationId: OPERATION_ID })
      .seed({ pk: `OPERATION#${OPERATION_ID}`, ...record, notifiedAt: "2025-03-04T05:09:40.000Z" });

    const response = await send("GET", "/status");

    expect(response).toEqual({
      statusCode: 200,
      headers: JSON_HEADERS,
      body: {
        environment: "prod",
        activeRegion: "primary",
        regions: { primary: "us-east-2", secondary: "us-west-2" },
        database: {
          globalClusterIdentifier: "shopsmart-prod-global",
          status: "available",
          writerRegion: "primary",
          members: healthyTopology().clusters,
          replicationLagSeconds: 2,
          failover: null,
        },
        dns: {
          recordName: "shop.example.com",
          health: { primary: "healthy", secondary: "healthy" },
        },
        capacity: { primary: activeCapacity, secondary: standbyCapacity },
        latestOperation: record,
        unreachable: [],
        notes: [],
      },
    });
    expect(invokedPayloads().map((call) => call.payload)).toEqual([
      { onUnreachable: "report" },
      { onUnreachable: "report" },
    ]);
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it("reports no latest operation before the first one", async () => {
    const response = await send("GET", "/status");
    expect((response.body as { latestOperation: unknown }).latestOperation).toBeNull();
  });
});

describe("GET /operations/{id}", () => {
  const finished = {
    operationId: OPERATION_ID,
    kind: "failover",
    mode: "planned",
    reason: "quarterly DR drill",
    requestedAt: "2025-03-04T05:06:07.890Z",
    requestedBy: CALLER_ARN,
    status: "succeeded",
    steps: [{ name: "flipDns", status: "succeeded", detail: "UPSERT both records" }],
    finishedAt: "2025-03-04T05:09:39.890Z",
    rtoSeconds: 212,
    dataLossSeconds: 0,
  };

  it("returns a finished record as stored", async () => {
    table.seed({ pk: `OPERATION#${OPERATION_ID}`, ...finished, notifiedAt: "x" });

    expect(await send("GET", `/operations/${OPERATION_ID}`)).toEqual({
      statusCode: 200,
      headers: JSON_HEADERS,
      body: finished,
    });
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it("adds the live steps of a running operation from its execution history", async () => {
    const running = { ...finished, status: "running", steps: [] };
    delete (running as Partial<typeof finished>).finishedAt;
    delete (running as Partial<typeof finished>).rtoSeconds;
    delete (running as Partial<typeof finished>).dataLossSeconds;
    table.seed({ pk: `OPERATION#${OPERATION_ID}`, ...running });
    sfnMock.on(GetExecutionHistoryCommand).resolves({
      events: [
        entered(2, 1, "ReadTopology", "05:06:08"),
        exited(3, 2, "ReadTopology", "05:06:10"),
        entered(4, 3, "PromoteDatabase", "05:06:11"),
      ],
    });

    expect(await send("GET", `/operations/${OPERATION_ID}`)).toEqual({
      statusCode: 200,
      headers: JSON_HEADERS,
      body: {
        ...running,
        steps: [
          {
            name: "ReadTopology",
            status: "succeeded",
            startedAt: "2025-03-04T05:06:08.000Z",
            finishedAt: "2025-03-04T05:06:10.000Z",
          },
          { name: "PromoteDatabase", status: "running", startedAt: "2025-03-04T05:06:11.000Z" },
        ],
      },
    });
    expect(sfnMock.commandCalls(GetExecutionHistoryCommand)[0]?.args[0].input).toEqual({
      executionArn: executionArnFor(STATE_MACHINE_ARN, OPERATION_ID),
      maxResults: 1000,
      includeExecutionData: false,
    });
  });

  it("returns the stored record of a running operation whose history cannot be read yet", async () => {
    const running = { ...finished, status: "running", steps: [] };
    table.seed({ pk: `OPERATION#${OPERATION_ID}`, ...running });
    sfnMock
      .on(GetExecutionHistoryCommand)
      .rejects(new ExecutionDoesNotExist({ message: "Execution Does Not Exist", $metadata: {} }));

    expect(await send("GET", `/operations/${OPERATION_ID}`)).toEqual({
      statusCode: 200,
      headers: JSON_HEADERS,
      body: running,
    });
  });

  describe("when the execution has already ended", () => {
    const running = { ...finished, status: "running", steps: [] };
    const history = { events: [entered(2, 1, "ReadTopology", "05:06:08")] };

    it("answers the final record when the execution finished since the first read (no false failure)", async () => {
      table.seed({ pk: `OPERATION#${OPERATION_ID}`, ...running });
      sfnMock.on(GetExecutionHistoryCommand).callsFake(async () => {
        // finish records the result while the history is being read.
        table.seed({ pk: `OPERATION#${OPERATION_ID}`, ...finished });
        return history;
      });
      sfnMock.on(DescribeExecutionCommand).resolves({ status: "SUCCEEDED" });

      const response = await send("GET", `/operations/${OPERATION_ID}`);
      expect(response.body).toEqual(finished);
    });

    it("answers failed when the execution ended without recording a result (stopped or died)", async () => {
      table.seed({ pk: `OPERATION#${OPERATION_ID}`, ...running });
      sfnMock.on(GetExecutionHistoryCommand).resolves(history);
      sfnMock
        .on(DescribeExecutionCommand)
        .resolves({ status: "ABORTED", stopDate: new Date("2025-03-04T05:07:00Z") });

      const response = await send("GET", `/operations/${OPERATION_ID}`);
      expect(response.body).toMatchObject({
        status: "failed",
        finishedAt: "2025-03-04T05:07:00.000Z",
        error: expect.stringMatching(
          /^its execution ended with status ABORTED without recording a result/,
        ),
      });
      // A read does not write: the ledger still says running (the next trigger settles it).
      expect(table.item(`OPERATION#${OPERATION_ID}`)?.status).toBe("running");
    });

    it("never answers a SUCCEEDED execution as failed, even without a final record", async () => {
      table.seed({ pk: `OPERATION#${OPERATION_ID}`, ...running });
      sfnMock.on(GetExecutionHistoryCommand).resolves(history);
      sfnMock.on(DescribeExecutionCommand).resolves({ status: "SUCCEEDED" });

      const response = await send("GET", `/operations/${OPERATION_ID}`);
      expect(response.body).toMatchObject({ status: "running" });
    });
  });

  it("fails with 404 for an unknown operation", async () => {
    expect(await send("GET", "/operations/op-nope")).toEqual({
      statusCode: 404,
      headers: JSON_HEADERS,
      body: {
        error: "no operation op-nope: use the operationId a POST returned, or GET /status",
      },
    });
  });
});

describe("routing", () => {
  for (const [method, path] of [
    ["GET", "/failover"],
    ["POST", "/status"],
    ["DELETE", "/operations/op-1"],
    ["GET", "/operations"],
    ["GET", "/"],
  ] as const) {
    it(`fails with 404 for ${method} ${path}`, async () => {
      expect(await send(method, path)).toEqual({
        statusCode: 404,
        headers: JSON_HEADERS,
        body: {
          error:
            `no route ${method} ${path}: the routes are POST /failover, POST /failback, ` +
            "GET /status and GET /operations/{id}",
        },
      });
    });
  }

  it("fails with 500 and the error when the ledger is unavailable", async () => {
    dynamoDbMock.reset();
    dynamoDbMock.rejects(
      Object.assign(new Error("Service Unavailable"), {
        name: "InternalServerError",
        $fault: "server",
      }),
    );

    expect(await send("POST", "/failover", { mode: "planned", reason: "drill" })).toEqual({
      statusCode: 500,
      headers: JSON_HEADERS,
      body: {
        error: "internal error: Retryable.ServerError: InternalServerError: Service Unavailable",
      },
    });
  });
});

describe("stepsFromHistory", () => {
  it("follows retries, catches, parallel branches and loops", () => {
    const events: HistoryEvent[] = [
      event(1, 0, "ExecutionStarted", "05:06:08"),
      event(2, 1, "ParallelStateEntered", "05:06:08"),
      entered(3, 2, "PromoteDatabase", "05:06:09"),
      entered(4, 2, "ScaleTarget", "05:06:09"),
      event(5, 3, "TaskScheduled", "05:06:09"),
      event(6, 4, "TaskScheduled", "05:06:09"),
      {
        ...event(7, 5, "TaskFailed", "05:06:10"),
        taskFailedEventDetails: {
          resourceType: "lambda",
          resource: "invoke",
          error: "Retryable.Throttled",
          cause: "Rate exceeded",
        },
      },
      event(8, 6, "TaskSucceeded", "05:06:10"),
      exited(9, 8, "ScaleTarget", "05:06:10"),
      event(10, 7, "TaskScheduled", "05:06:12"),
      event(11, 10, "TaskSucceeded", "05:06:13"),
      exited(12, 11, "PromoteDatabase", "05:06:13"),
      entered(13, 12, "CheckWriter", "05:06:28"),
      event(14, 13, "TaskScheduled", "05:06:28"),
      event(15, 14, "TaskSucceeded", "05:06:29"),
      exited(16, 15, "CheckWriter", "05:06:29"),
      entered(17, 16, "CheckWriter", "05:06:44"),
      event(18, 17, "TaskScheduled", "05:06:44"),
      {
        ...event(19, 18, "LambdaFunctionFailed", "05:06:45"),
        lambdaFunctionFailedEventDetails: { error: "DBClusterNotFoundFault", cause: "gone" },
      },
      exited(20, 19, "CheckWriter", "05:06:45"),
    ];

    expect(stepsFromHistory(events)).toEqual([
      {
        name: "PromoteDatabase",
        status: "succeeded",
        startedAt: "2025-03-04T05:06:09.000Z",
        finishedAt: "2025-03-04T05:06:13.000Z",
        detail: "retried 1 times, last after Retryable.Throttled: Rate exceeded",
      },
      {
        name: "ScaleTarget",
        status: "succeeded",
        startedAt: "2025-03-04T05:06:09.000Z",
        finishedAt: "2025-03-04T05:06:10.000Z",
      },
      {
        name: "CheckWriter",
        status: "failed",
        startedAt: "2025-03-04T05:06:28.000Z",
        finishedAt: "2025-03-04T05:06:45.000Z",
        detail: "entered 2 times",
        error: "DBClusterNotFoundFault: gone",
      },
    ]);
  });

  it("keeps only a Lambda error's message (no stack trace, capped), and counts a Lambda-task retry", () => {
    const cause = JSON.stringify({
      errorType: "SourceStillAvailable",
      errorMessage: "Not detaching: the source cluster answers",
      trace: ["SourceStillAvailable: Not detaching", "    at promote (/var/task/index.js:1:2)"],
    });
    const events: HistoryEvent[] = [
      entered(2, 1, "PromoteDatabase", "05:06:09"),
      event(3, 2, "LambdaFunctionScheduled", "05:06:09"),
      {
        ...event(4, 3, "LambdaFunctionFailed", "05:06:10"),
        lambdaFunctionFailedEventDetails: { error: "SourceStillAvailable", cause },
      },
      event(5, 4, "LambdaFunctionScheduled", "05:06:12"),
      {
        ...event(6, 5, "LambdaFunctionFailed", "05:06:13"),
        lambdaFunctionFailedEventDetails: { error: "Retryable.Timeout", cause: "x".repeat(1000) },
      },
    ];
    const [step] = stepsFromHistory(events);
    expect(step).toMatchObject({
      status: "failed",
      detail:
        "retried 1 times, last after SourceStillAvailable: Not detaching: the source cluster answers",
    });
    expect(step?.error).toBe(`Retryable.Timeout: ${"x".repeat(297)}...`);
  });
});

describe("operations-api handler", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it("serves a request with the settings from SHOPSMART_DR_SETTINGS", async () => {
    vi.stubEnv("SHOPSMART_DR_SETTINGS", JSON.stringify(settings));
    const { handler } = await import("../../../functions/handlers/operations-api.js");

    const response = await handler(
      apiEvent("POST", "/failover", { mode: "planned", reason: "drill" }),
    );

    expect(response.statusCode).toBe(202);
    expect(JSON.parse(response.body ?? "")).toEqual({
      operationId: expect.stringMatching(/^op-\d{8}T\d{6}Z-[0-9a-f]{6}$/),
      statusUrl: expect.stringMatching(
        /^https:\/\/abc123\.execute-api\.us-west-2\.amazonaws\.com\/operations\/op-/,
      ),
    });
  });
});

function event(id: number, previousEventId: number, type: string, time: string): HistoryEvent {
  return {
    id,
    previousEventId,
    type: type as HistoryEvent["type"],
    timestamp: new Date(`2025-03-04T${time}.000Z`),
  };
}

function entered(id: number, previousEventId: number, name: string, time: string): HistoryEvent {
  return {
    ...event(id, previousEventId, "TaskStateEntered", time),
    stateEnteredEventDetails: { name },
  };
}

function exited(id: number, previousEventId: number, name: string, time: string): HistoryEvent {
  return {
    ...event(id, previousEventId, "TaskStateExited", time),
    stateExitedEventDetails: { name },
  };
}
