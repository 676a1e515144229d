import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from "@aws-sdk/client-dynamodb";
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
} from "@aws-sdk/client-sfn";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { acquireLock, releaseLock } from "../../../functions/orchestration/ledger";
import {
  executionArnFor,
  newOperationId,
  startOperation,
} from "../../../functions/orchestration/start-operation";
import {
  CALLER_ARN,
  environment,
  FakeLedgerTable,
  NOW,
  OPERATION_ID,
  operationInput,
  STATE_MACHINE_ARN,
  settings,
} from "./fixtures";

const dynamoDbMock = mockClient(DynamoDBClient);
const sfnMock = mockClient(SFNClient);
const clients = { dynamoDb: new DynamoDBClient({}), sfn: new SFNClient({}) };
const request = {
  kind: "failover",
  mode: "planned",
  reason: "quarterly DR drill",
  requestedBy: CALLER_ARN,
} as const;
const EXECUTION_ARN = executionArnFor(STATE_MACHINE_ARN, OPERATION_ID);
const RUNNING_ID = "op-20250304T040000Z-0000aa";

let table: FakeLedgerTable;

beforeEach(() => {
  dynamoDbMock.reset();
  sfnMock.reset();
  table = new FakeLedgerTable().install(dynamoDbMock);
  sfnMock.on(StartExecutionCommand).callsFake(async (input) => ({
    executionArn: executionArnFor(input.stateMachineArn, input.name),
    startDate: NOW,
  }));
  vi.spyOn(console, "error").mockImplementation(() => undefined);
});

describe("newOperationId", () => {
  it("is op-<yyyymmddThhmmssZ>-<6 hex>", () => {
    expect(newOperationId(new Date("2025-12-31T23:59:58.999Z"), () => "0f0e0d")).toBe(
      "op-20251231T235958Z-0f0e0d",
    );
  });
});

describe("executionArnFor", () => {
  it("names the execution of the state machine", () => {
    expect(EXECUTION_ARN).toBe(
      "arn:aws:states:us-west-2:123456789012:execution:shopsmart-prod-operations:" +
        "op-20250304T050607Z-a1b2c3",
    );
  });
});

describe("startOperation", () => {
  it("takes the lock, writes the running record and LATEST, then starts the execution", async () => {
    const result = await startOperation(clients, settings, request, environment);

    expect(result).toEqual({
      outcome: "started",
      operation: operationInput(),
      executionArn: EXECUTION_ARN,
    });
    expect(dynamoDbMock.commandCalls(PutItemCommand).map((call) => call.args[0].input)).toEqual([
      {
        TableName: "shopsmart-prod-operations",
        Item: {
          pk: { S: "LOCK" },
          operationId: { S: OPERATION_ID },
          acquiredAt: { S: "2025-03-04T05:06:07.890Z" },
        },
        ConditionExpression: "attribute_not_exists(pk)",
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      },
      {
        TableName: "shopsmart-prod-operations",
        Item: {
          pk: { S: `OPERATION#${OPERATION_ID}` },
          operationId: { S: OPERATION_ID },
          kind: { S: "failover" },
          mode: { S: "planned" },
          reason: { S: "quarterly DR drill" },
          requestedAt: { S: "2025-03-04T05:06:07.890Z" },
          requestedBy: { S: CALLER_ARN },
          status: { S: "running" },
          steps: { L: [] },
        },
        ConditionExpression: "attribute_not_exists(pk)",
      },
      {
        TableName: "shopsmart-prod-operations",
        Item: { pk: { S: "LATEST" }, operationId: { S: OPERATION_ID } },
      },
    ]);
    expect(sfnMock.commandCalls(StartExecutionCommand).map((call) => call.args[0].input)).toEqual([
      {
        stateMachineArn: STATE_MACHINE_ARN,
        name: OPERATION_ID,
        input: JSON.stringify(operationInput()),
      },
    ]);
    expect(table.item("LOCK")).toEqual({
      pk: "LOCK",
      operationId: OPERATION_ID,
      acquiredAt: "2025-03-04T05:06:07.890Z",
    });
  });

  it("gives a failback the secondary as source and the primary as target", async () => {
    const result = await startOperation(
      clients,
      settings,
      { ...request, kind: "failback", reason: "primary recovered" },
      environment,
    );
    expect(result).toEqual({
      outcome: "started",
      operation: operationInput({
        kind: "failback",
        reason: "primary recovered",
        source: "secondary",
        target: "primary",
      }),
      executionArn: EXECUTION_ARN,
    });
  });

  it("starts exactly one execution for two concurrent triggers", async () => {
    sfnMock.on(DescribeExecutionCommand).resolves({ status: "RUNNING" });
    const ids = ["aaaaaa", "bbbbbb"];
    const [first, second] = await Promise.all(
      ids.map((hex) =>
        startOperation(clients, settings, request, { now: () => NOW, randomHex: () => hex }),
      ),
    );

    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(1);
    expect(first).toEqual({
      outcome: "started",
      operation: operationInput({ operationId: "op-20250304T050607Z-aaaaaa" }),
      executionArn: executionArnFor(STATE_MACHINE_ARN, "op-20250304T050607Z-aaaaaa"),
    });
    expect(second).toEqual({
      outcome: "already-running",
      operationId: "op-20250304T050607Z-aaaaaa",
    });
    expect(table.item("OPERATION#op-20250304T050607Z-bbbbbb")).toBeUndefined();
  });

  it("fails with already-running and the holder's id while it runs, writing nothing", async () => {
    table.seed({ pk: "LOCK", operationId: RUNNING_ID, acquiredAt: "2025-03-04T04:00:00.000Z" });
    sfnMock.on(DescribeExecutionCommand).resolves({ status: "RUNNING" });

    const result = await startOperation(clients, settings, request, environment);

    expect(result).toEqual({ outcome: "already-running", operationId: RUNNING_ID });
    expect(dynamoDbMock.commandCalls(PutItemCommand)).toHaveLength(1);
    expect(sfnMock.commandCalls(DescribeExecutionCommand)[0]?.args[0].input).toEqual({
      executionArn: executionArnFor(STATE_MACHINE_ARN, RUNNING_ID),
    });
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it("fails with already-running while the holder's execution is starting (not visible yet)", async () => {
    table.seed({ pk: "LOCK", operationId: RUNNING_ID, acquiredAt: "2025-03-04T05:05:30.000Z" });
    sfnMock
      .on(DescribeExecutionCommand)
      .rejects(new ExecutionDoesNotExist({ message: "Execution Does Not Exist", $metadata: {} }));

    const result = await startOperation(clients, settings, request, environment);

    expect(result).toEqual({ outcome: "already-running", operationId: RUNNING_ID });
  });

  it("takes over the lock of an aborted execution, marking its record failed", async () => {
    table
      .seed({ pk: "LOCK", operationId: RUNNING_ID, acquiredAt: "2025-03-04T04:00:00.000Z" })
      .seed({
        pk: `OPERATION#${RUNNING_ID}`,
        ...operationInput({ operationId: RUNNING_ID }),
        status: "running",
        steps: [],
      });
    sfnMock.on(DescribeExecutionCommand).resolves({ status: "ABORTED" });

    const result = await startOperation(clients, settings, request, environment);

    expect(result.outcome).toBe("started");
    expect(table.item(`OPERATION#${RUNNING_ID}`)).toEqual({
      pk: `OPERATION#${RUNNING_ID}`,
      operationId: RUNNING_ID,
      kind: "failover",
      mode: "planned",
      reason: "quarterly DR drill",
      requestedAt: "2025-03-04T05:06:07.890Z",
      requestedBy: CALLER_ARN,
      source: "primary",
      target: "secondary",
      status: "failed",
      steps: [],
      finishedAt: "2025-03-04T05:06:07.890Z",
      error: "its execution ended with status ABORTED without recording a result",
    });
    expect(table.item("LOCK")?.operationId).toBe(OPERATION_ID);
  });

  it("takes over a lock whose execution never started within the grace period", async () => {
    table.seed({ pk: "LOCK", operationId: RUNNING_ID, acquiredAt: "2025-03-04T05:00:00.000Z" });
    sfnMock
      .on(DescribeExecutionCommand)
      .rejects(new ExecutionDoesNotExist({ message: "Execution Does Not Exist", $metadata: {} }));

    const result = await startOperation(clients, settings, request, environment);

    expect(result.outcome).toBe("started");
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(1);
  });

  it("fails StartExecution: releases the lock, marks the record failed and rethrows", async () => {
    sfnMock
      .on(StartExecutionCommand)
      .rejects(
        new StateMachineDoesNotExist({ message: "State Machine Does Not Exist", $metadata: {} }),
      );

    await expect(startOperation(clients, settings, request, environment)).rejects.toThrow(
      "State Machine Does Not Exist",
    );

    expect(table.item("LOCK")).toBeUndefined();
    expect(table.item(`OPERATION#${OPERATION_ID}`)).toEqual({
      pk: `OPERATION#${OPERATION_ID}`,
      operationId: OPERATION_ID,
      kind: "failover",
      mode: "planned",
      reason: "quarterly DR drill",
      requestedAt: "2025-03-04T05:06:07.890Z",
      requestedBy: CALLER_ARN,
      status: "failed",
      steps: [],
      finishedAt: "2025-03-04T05:06:07.890Z",
      error:
        "the operation could not be started: StateMachineDoesNotExist: State Machine Does Not Exist",
    });
  });

  it("counts ExecutionAlreadyExists for its own name as started", async () => {
    sfnMock
      .on(StartExecutionCommand)
      .rejects(new ExecutionAlreadyExists({ message: "Execution Already Exists", $metadata: {} }));

    const result = await startOperation(clients, settings, request, environment);

    expect(result).toEqual({
      outcome: "started",
      operation: operationInput(),
      executionArn: EXECUTION_ARN,
    });
    expect(table.item("LOCK")?.operationId).toBe(OPERATION_ID);
  });

  it("fails an unplanned failback before touching anything", async () => {
    await expect(
      startOperation(
        clients,
        settings,
        { ...request, kind: "failback", mode: "unplanned" },
        environment,
      ),
    ).rejects.toThrow("a failback is always planned: request it with mode planned");
    expect(dynamoDbMock.calls()).toHaveLength(0);
  });
});

describe("ledger lock", () => {
  const ledger = { client: clients.dynamoDb, tableName: "shopsmart-prod-operations" };

  it("reads the holder when the failed put does not return it, and retries when it is gone", async () => {
    dynamoDbMock.reset();
    dynamoDbMock
      .on(PutItemCommand)
      .rejectsOnce(new ConditionalCheckFailedException({ message: "failed", $metadata: {} }))
      .resolves({});
    dynamoDbMock.on(GetItemCommand).resolves({});

    const result = await acquireLock(ledger, {
      operationId: OPERATION_ID,
      acquiredAt: NOW.toISOString(),
    });

    expect(result).toEqual({ acquired: true });
    expect(dynamoDbMock.commandCalls(GetItemCommand)[0]?.args[0].input).toEqual({
      TableName: "shopsmart-prod-operations",
      Key: { pk: { S: "LOCK" } },
      ConsistentRead: true,
    });
    expect(dynamoDbMock.commandCalls(PutItemCommand)).toHaveLength(2);
  });

  it("releases only its own lock; an already released lock is not an error", async () => {
    table.seed({ pk: "LOCK", operationId: RUNNING_ID, acquiredAt: "2025-03-04T04:00:00.000Z" });

    expect(await releaseLock(ledger, OPERATION_ID)).toEqual({ released: false });
    expect(table.item("LOCK")?.operationId).toBe(RUNNING_ID);
    expect(await releaseLock(ledger, RUNNING_ID)).toEqual({ released: true });
    expect(await releaseLock(ledger, RUNNING_ID)).toEqual({ released: false });
    expect(table.item("LOCK")).toBeUndefined();
  });
});
