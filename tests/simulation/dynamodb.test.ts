import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RegionPair, simulatedSettings } from "../../src/simulation";
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
        UpdateExpression:
          "SET #status = :done, #steps = list_append(#steps, :step), tries = if_not_exists(tries, :zero) + :one",
        ConditionExpression: "#status = :running",
        ExpressionAttributeNames: { "#status": "status", "#steps": "steps" },
        ExpressionAttributeValues: marshall({
          ":done": "succeeded",
          ":running": "running",
          ":step": [{ name: "FlipDns" }],
          ":zero": 0,
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
    await expect(
      dynamodb.send(
        new UpdateItemCommand({
          TableName,
          Key: marshall({ pk: "X" }),
          UpdateExpression: "SET a = :a",
          ConditionExpression: "a = = :a",
          ExpressionAttributeValues: marshall({ ":a": 1 }),
        }),
      ),
    ).rejects.toMatchObject({
      name: "ValidationException",
      message: expect.stringMatching(/^Invalid ConditionExpression: Syntax error/),
    });
  });

  it("evaluates comparisons, AND/OR/NOT, BETWEEN, IN and functions", async () => {
    await dynamodb.send(
      new PutItemCommand({
        TableName,
        Item: marshall({ pk: "A", n: 5, s: "op-2026", tags: ["x", "y"], nested: { deep: [1, 2] } }),
      }),
    );
    const check = (ConditionExpression: string, values: Record<string, unknown> = {}) =>
      dynamodb
        .send(
          new UpdateItemCommand({
            TableName,
            Key: marshall({ pk: "A" }),
            UpdateExpression: "SET touched = :true",
            ConditionExpression,
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
    expect(await check("n BETWEEN :low AND :high", { ":low": 1, ":high": 5 })).toBe(true);
    expect(
      await check("n > :six OR begins_with(s, :prefix)", { ":six": 6, ":prefix": "op-" }),
    ).toBe(true);
    expect(await check("NOT (n IN (:one, :two))", { ":one": 1, ":two": 2 })).toBe(true);
    expect(await check("contains(tags, :x) AND size(tags) = :two", { ":x": "x", ":two": 2 })).toBe(
      true,
    );
    expect(
      await check("nested.deep[1] = :two AND attribute_type(s, :type)", {
        ":two": 2,
        ":type": "S",
      }),
    ).toBe(true);
    expect(await check("absent <> :v AND NOT absent = :v", { ":v": "anything" })).toBe(true);
    expect(await check("absent < :v", { ":v": 1 })).toBe(false);
  });

  it("applies TransactWriteItems all or nothing, with one cancellation reason per item", async () => {
    await acquire("op-1");
    const error = await dynamodb
      .send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: { TableName, Item: marshall({ pk: "OPERATION#op-2", status: "running" }) } },
            {
              Put: {
                TableName,
                Item: marshall({ pk: "LOCK", operationId: "op-2" }),
                ConditionExpression: "attribute_not_exists(pk)",
              },
            },
          ],
        }),
      )
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      name: "TransactionCanceledException",
      message:
        "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]",
      CancellationReasons: [
        { Code: "None" },
        { Code: "ConditionalCheckFailed", Message: "The conditional request failed" },
      ],
    });
    expect(pair.dynamodb.item(TableName, "OPERATION#op-2")).toBeUndefined();
  });

  it("has the table only in the secondary region", async () => {
    const elsewhere = new DynamoDBClient({ region: settings.regions.primary.region });
    await expect(
      elsewhere.send(
        new QueryCommand({
          TableName,
          KeyConditionExpression: "pk = :pk",
          ExpressionAttributeValues: marshall({ ":pk": "LOCK" }),
        }),
      ),
    ).rejects.toMatchObject({
      name: "ResourceNotFoundException",
      message: "Requested resource not found",
    });
  });
});
