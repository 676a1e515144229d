import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RegionPair, SimulatorUnsupportedError, simulatedSettings } from "../../src/simulation";
import { bindSimulatedAws, type SimulatedAws } from "../support/simulated-aws";

const settings = simulatedSettings();
const TableName = settings.ledgerTableName;
const dynamodb = new DynamoDBClient({ region: settings.regions.secondary.region });

let pair: RegionPair;
let aws: SimulatedAws;

beforeEach(() => {
  pair = new RegionPair({ settings });
  aws = bindSimulatedAws(pair);
});

afterEach(() => aws.restore());

const acquire = (operationId: string) =>
  dynamodb.send(
    new PutItemCommand({
      TableName,
      Item: marshall({ pk: "LOCK", operationId, acquiredAt: "2026-01-05T09:00:00Z" }),
      ConditionExpression: "attribute_not_exists(pk)",
      ReturnValuesOnConditionCheckFailure: "ALL_OLD",
    }),
  );

const release = (operationId: string) =>
  dynamodb.send(
    new DeleteItemCommand({
      TableName,
      Key: marshall({ pk: "LOCK" }),
      ConditionExpression: "operationId = :id",
      ExpressionAttributeValues: marshall({ ":id": operationId }),
    }),
  );

describe("DynamoDB ledger table", () => {
  it("grants the lock once; a second conditional put fails with the holder in the error", async () => {
    await acquire("op-1");
    const error = await acquire("op-2").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConditionalCheckFailedException);
    expect(error).toMatchObject({
      name: "ConditionalCheckFailedException",
      message: "The conditional request failed",
      $metadata: { httpStatusCode: 400 },
    });
    expect(unmarshall((error as ConditionalCheckFailedException).Item ?? {})).toEqual({
      pk: "LOCK",
      operationId: "op-1",
      acquiredAt: "2026-01-05T09:00:00Z",
    });
  });

  it("releases the lock only for its holder", async () => {
    await acquire("op-1");
    await expect(release("op-2")).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    await release("op-1");
    const { Item } = await dynamodb.send(
      new GetItemCommand({ TableName, Key: marshall({ pk: "LOCK" }) }),
    );
    expect(Item).toBeUndefined();
    await expect(release("op-1")).rejects.toBeInstanceOf(ConditionalCheckFailedException);
  });

  it("updates with SET, name placeholders for reserved words and a condition", async () => {
    await dynamodb.send(
      new PutItemCommand({
        TableName,
        Item: marshall({ pk: "OPERATION#op-1", status: "running", steps: [] }),
      }),
    );
    const updated = await dynamodb.send(
      new UpdateItemCommand({
        TableName,
        Key: marshall({ pk: "OPERATION#op-1" }),
        UpdateExpression: "SET #status = :done, #steps = :steps, tries = :one",
        ConditionExpression: "#status = :running",
        ExpressionAttributeNames: { "#status": "status", "#steps": "steps" },
        ExpressionAttributeValues: marshall({
          ":done": "succeeded",
          ":running": "running",
          ":steps": [{ name: "FlipDns" }],
          ":one": 1,
        }),
        ReturnValues: "ALL_NEW",
      }),
    );
    expect(unmarshall(updated.Attributes ?? {})).toEqual({
      pk: "OPERATION#op-1",
      status: "succeeded",
      steps: [{ name: "FlipDns" }],
      tries: 1,
    });
    await expect(
      dynamodb.send(
        new UpdateItemCommand({
          TableName,
          Key: marshall({ pk: "OPERATION#op-1" }),
          UpdateExpression: "SET #status = :failed",
          ConditionExpression: "#status = :running",
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: marshall({ ":failed": "failed", ":running": "running" }),
        }),
      ),
    ).rejects.toBeInstanceOf(ConditionalCheckFailedException);
  });

  it("evaluates the ledger's conditions: AND of attribute_exists, attribute_not_exists and =", async () => {
    await dynamodb.send(
      new PutItemCommand({ TableName, Item: marshall({ pk: "A", status: "running", n: 5 }) }),
    );
    const check = (ConditionExpression: string, values: Record<string, unknown> = {}) =>
      dynamodb
        .send(
          new UpdateItemCommand({
            TableName,
            Key: marshall({ pk: "A" }),
            UpdateExpression: "SET touched = :true",
            ConditionExpression,
            ExpressionAttributeNames: { "#status": "status" },
            ExpressionAttributeValues: marshall({ ":true": true, ...values }),
          }),
        )
        .then(
          () => true,
          (error: unknown) => {
            if (error instanceof ConditionalCheckFailedException) return false;
            throw error;
          },
        );
    expect(
      await check("#status = :running AND attribute_not_exists(attention)", {
        ":running": "running",
      }),
    ).toBe(true);
    expect(
      await check("attribute_exists(pk) AND attribute_not_exists(touched) AND #status = :s", {
        ":s": "running",
      }),
    ).toBe(false);
    expect(await check("#status = :s and n = :five", { ":s": "running", ":five": 5 })).toBe(true);
    expect(await check("#status = :s AND absent = :s", { ":s": "running" })).toBe(false);
  });

  it("rejects what the service rejects: reserved words, undefined and unused placeholders, bad keys", async () => {
    const update = (input: Partial<ConstructorParameters<typeof UpdateItemCommand>[0]>) =>
      dynamodb.send(
        new UpdateItemCommand({
          TableName,
          Key: marshall({ pk: "X" }),
          UpdateExpression: "SET a = :a",
          ...input,
        }),
      );
    await expect(
      update({
        UpdateExpression: "SET status = :s",
        ExpressionAttributeValues: marshall({ ":s": "x" }),
      }),
    ).rejects.toMatchObject({
      name: "ValidationException",
      message:
        "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: status",
    });
    await expect(
      update({ ExpressionAttributeValues: marshall({ ":b": 1 }) }),
    ).rejects.toMatchObject({
      message:
        "Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: :a",
    });
    await expect(
      update({ ExpressionAttributeValues: marshall({ ":a": 1, ":b": 2 }) }),
    ).rejects.toMatchObject({
      message: "Value provided in ExpressionAttributeValues unused in expressions: keys: {:b}",
    });
    await expect(
      update({
        ExpressionAttributeValues: marshall({ ":a": 1 }),
        ExpressionAttributeNames: { "#unused": "x" },
      }),
    ).rejects.toMatchObject({
      message: "Value provided in ExpressionAttributeNames unused in expressions: keys: {#unused}",
    });
    await expect(
      dynamodb.send(new GetItemCommand({ TableName, Key: marshall({ id: "LOCK" }) })),
    ).rejects.toMatchObject({
      name: "ValidationException",
      message: "The provided key element does not match the schema",
    });
  });

  it("refuses expression shapes the ledger does not send, naming the expression", async () => {
    await dynamodb.send(new PutItemCommand({ TableName, Item: marshall({ pk: "A", n: 5 }) }));
    const update = (UpdateExpression: string, ConditionExpression?: string) =>
      dynamodb.send(
        new UpdateItemCommand({
          TableName,
          Key: marshall({ pk: "A" }),
          UpdateExpression,
          ...(ConditionExpression ? { ConditionExpression } : {}),
          ExpressionAttributeValues: marshall({ ":a": 1 }),
        }),
      );
    for (const condition of [
      "n BETWEEN :a AND :a",
      "n > :a OR attribute_exists(pk)",
      "NOT (n IN (:a))",
      "begins_with(s, :a)",
      "n <> :a",
      "a = = :a",
    ]) {
      const error = await update("SET a = :a", condition).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(SimulatorUnsupportedError);
      expect((error as Error).message).toContain(
        `DynamoDB ConditionExpression "${condition}" is not modelled`,
      );
    }
    for (const expression of [
      "SET n = n + :a",
      "SET l = list_append(l, :a)",
      "SET a = if_not_exists(a, :a)",
      "SET a = :a REMOVE n",
      "ADD n :a",
      "SET m.a = :a",
    ]) {
      const error = await update(expression).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(SimulatorUnsupportedError);
      expect((error as Error).message).toContain(
        `DynamoDB UpdateExpression "${expression}" is not modelled`,
      );
    }
    expect(unmarshall(pair.dynamodb.item(TableName, "A") ?? {})).toEqual({ pk: "A", n: 5 });
  });

  it("refuses operations and parameters the ledger does not send", async () => {
    await expect(
      dynamodb.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName, Item: marshall({ pk: "OPERATION#op-2", status: "running" }) } },
          ],
        }),
      ),
    ).rejects.toThrow(
      new SimulatorUnsupportedError(
        "DynamoDB TransactWriteItems is not modelled (the ledger sends PutItem, GetItem, UpdateItem, DeleteItem)",
      ),
    );
    await expect(
      dynamodb.send(
        new GetItemCommand({
          TableName,
          Key: marshall({ pk: "LOCK" }),
          ProjectionExpression: "pk",
        }),
      ),
    ).rejects.toThrow(
      new SimulatorUnsupportedError(
        "DynamoDB GetItem parameter ProjectionExpression is not modelled",
      ),
    );
    await expect(
      dynamodb.send(
        new PutItemCommand({ TableName, Item: marshall({ pk: "LOCK" }), ReturnValues: "ALL_OLD" }),
      ),
    ).rejects.toThrow(
      new SimulatorUnsupportedError("DynamoDB PutItem ReturnValues ALL_OLD is not modelled"),
    );
    expect(pair.dynamodb.item(TableName, "OPERATION#op-2")).toBeUndefined();
    expect(pair.dynamodb.item(TableName, "LOCK")).toBeUndefined();
  });

  it("has the table only in the secondary region", async () => {
    const elsewhere = new DynamoDBClient({ region: settings.regions.primary.region });
    await expect(
      elsewhere.send(new GetItemCommand({ TableName, Key: marshall({ pk: "LOCK" }) })),
    ).rejects.toMatchObject({
      name: "ResourceNotFoundException",
      message: "Requested resource not found",
    });
  });
});
