/**
 * DynamoDB tables of the simulated pair (the operations ledger, in the secondary region), with
 * the item operations and conditional-write semantics the ledger relies on.
 *
 * Sources (DynamoDB API Reference): PutItem/UpdateItem/DeleteItem ConditionExpression; failure is
 * ConditionalCheckFailedException ("The conditional request failed", HTTP 400) carrying the item
 * when ReturnValuesOnConditionCheckFailure is ALL_OLD; ReturnValues (NONE, ALL_OLD, UPDATED_OLD,
 * ALL_NEW, UPDATED_NEW); TransactWriteItems (all-or-nothing, TransactionCanceledException with
 * one CancellationReason per item, "Transaction request cannot include multiple operations on one
 * item", ClientRequestToken idempotency); ResourceNotFoundException ("Requested resource not
 * found") for a table that is not in the region called; key validation messages ("The provided
 * key element does not match the schema", "Missing the key pk in the item").
 */
import type {
  AttributeValue,
  DeleteItemInput,
  GetItemInput,
  PutItemInput,
  QueryInput,
  ScanInput,
  TransactWriteItemsInput,
  UpdateItemInput,
} from "@aws-sdk/client-dynamodb";
import {
  applyUpdate,
  type Condition,
  ExpressionContext,
  evaluateCondition,
  getPath,
  type Item,
  parseCondition,
  parseUpdate,
  validationException,
} from "./dynamodb-expressions";
import { SimulatorUnsupportedError, serviceError } from "./errors";

export interface TableSpec {
  readonly name: string;
  readonly region: string;
  readonly accountId: string;
  /** Partition key name; the ledger's is `pk` (type S). */
  readonly partitionKey: string;
}

interface Table {
  readonly spec: TableSpec;
  readonly arn: string;
  readonly items: Map<string, Item>;
}

/** Items larger than this are rejected, like the service's 400 KB limit. */
const MAX_ITEM_BYTES = 400 * 1024;

export class DynamoDbSimulation {
  private readonly tables: Table[];
  private readonly transactionTokens = new Map<string, string>();

  constructor(specs: readonly TableSpec[]) {
    this.tables = specs.map((spec) => ({
      spec,
      arn: `arn:aws:dynamodb:${spec.region}:${spec.accountId}:table/${spec.name}`,
      items: new Map(),
    }));
  }

  /** A copy of an item, by partition key value (string keys). */
  item(tableName: string, key: string): Item | undefined {
    const table = this.tables.find((candidate) => candidate.spec.name === tableName);
    const item = table?.items.get(key);
    return item ? structuredClone(item) : undefined;
  }

  /** Copies of every item of a table. */
  items(tableName: string): Item[] {
    const table = this.tables.find((candidate) => candidate.spec.name === tableName);
    return table ? [...table.items.values()].map((item) => structuredClone(item)) : [];
  }

  handle(operation: string, input: Record<string, unknown>, region: string): unknown {
    rejectLegacyParameters(input);
    switch (operation) {
      case "PutItem":
        return this.putItem(input as unknown as PutItemInput, region);
      case "GetItem":
        return this.getItem(input as unknown as GetItemInput, region);
      case "UpdateItem":
        return this.updateItem(input as unknown as UpdateItemInput, region);
      case "DeleteItem":
        return this.deleteItem(input as unknown as DeleteItemInput, region);
      case "Query":
        return this.query(input as unknown as QueryInput, region);
      case "Scan":
        return this.scan(input as unknown as ScanInput, region);
      case "TransactWriteItems":
        return this.transactWriteItems(input as unknown as TransactWriteItemsInput, region);
      default:
        throw new SimulatorUnsupportedError(`DynamoDB ${operation} is not modelled`);
    }
  }

  private putItem(input: PutItemInput, region: string) {
    const table = this.requireTable(input.TableName, region);
    const item = input.Item as Item;
    const key = this.itemKey(table, item);
    const context = new ExpressionContext(
      input.ExpressionAttributeNames,
      input.ExpressionAttributeValues,
    );
    const condition = optionalCondition(input.ConditionExpression, context);
    context.assertAllUsed();
    checkSize(item);
    const existing = table.items.get(key);
    checkCondition(condition, existing, input.ReturnValuesOnConditionCheckFailure);
    table.items.set(key, structuredClone(item));
    return input.ReturnValues === "ALL_OLD" && existing ? { Attributes: existing } : {};
  }

  private getItem(input: GetItemInput, region: string) {
    const table = this.requireTable(input.TableName, region);
    const key = this.keyOf(table, input.Key as Item);
    const context = new ExpressionContext(input.ExpressionAttributeNames, undefined);
    const projection = parseProjection(input.ProjectionExpression, context);
    context.assertAllUsed();
    const item = table.items.get(key);
    return item ? { Item: project(structuredClone(item), projection) } : {};
  }

  private updateItem(input: UpdateItemInput, region: string) {
    const table = this.requireTable(input.TableName, region);
    const keyItem = input.Key as Item;
    const key = this.keyOf(table, keyItem);
    const context = new ExpressionContext(
      input.ExpressionAttributeNames,
      input.ExpressionAttributeValues,
    );
    if (!input.UpdateExpression) {
      throw new SimulatorUnsupportedError("UpdateItem without an UpdateExpression is not modelled");
    }
    const actions = parseUpdate(input.UpdateExpression, context);
    const condition = optionalCondition(input.ConditionExpression, context);
    context.assertAllUsed();
    const existing = table.items.get(key);
    checkCondition(condition, existing, input.ReturnValuesOnConditionCheckFailure);
    const updated = applyUpdate(existing, keyItem, actions);
    checkSize(updated);
    table.items.set(key, updated);
    return returnValues(input.ReturnValues, existing, updated);
  }

  private deleteItem(input: DeleteItemInput, region: string) {
    const table = this.requireTable(input.TableName, region);
    const key = this.keyOf(table, input.Key as Item);
    const context = new ExpressionContext(
      input.ExpressionAttributeNames,
      input.ExpressionAttributeValues,
    );
    const condition = optionalCondition(input.ConditionExpression, context);
    context.assertAllUsed();
    const existing = table.items.get(key);
    checkCondition(condition, existing, input.ReturnValuesOnConditionCheckFailure);
    table.items.delete(key);
    return input.ReturnValues === "ALL_OLD" && existing ? { Attributes: existing } : {};
  }

  private query(input: QueryInput, region: string) {
    const table = this.requireTable(input.TableName, region);
    if (input.IndexName) throw new SimulatorUnsupportedError("Query on an index is not modelled");
    if (!input.KeyConditionExpression) {
      throw validationException(
        "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.",
      );
    }
    const context = new ExpressionContext(
      input.ExpressionAttributeNames,
      input.ExpressionAttributeValues,
    );
    const keyCondition = parseCondition(
      input.KeyConditionExpression,
      context,
      "KeyConditionExpression",
    );
    const filter = optionalCondition(input.FilterExpression, context, "FilterExpression");
    const projection = parseProjection(input.ProjectionExpression, context);
    context.assertAllUsed();
    return this.select(
      table,
      (item) => evaluateCondition(keyCondition, item),
      filter,
      projection,
      input.Limit,
    );
  }

  private scan(input: ScanInput, region: string) {
    const table = this.requireTable(input.TableName, region);
    const context = new ExpressionContext(
      input.ExpressionAttributeNames,
      input.ExpressionAttributeValues,
    );
    const filter = optionalCondition(input.FilterExpression, context, "FilterExpression");
    const projection = parseProjection(input.ProjectionExpression, context);
    context.assertAllUsed();
    return this.select(table, () => true, filter, projection, input.Limit);
  }

  private select(
    table: Table,
    match: (item: Item) => boolean,
    filter: Condition | undefined,
    projection: string[] | undefined,
    limit: number | undefined,
  ) {
    const evaluated = [...table.items.values()]
      .filter(match)
      .slice(0, limit ?? Number.POSITIVE_INFINITY);
    const items = evaluated
      .filter((item) => !filter || evaluateCondition(filter, item))
      .map((item) => project(structuredClone(item), projection));
    return { Items: items, Count: items.length, ScannedCount: evaluated.length };
  }

  private transactWriteItems(input: TransactWriteItemsInput, region: string) {
    const transactItems = input.TransactItems ?? [];
    if (transactItems.length === 0 || transactItems.length > 100) {
      throw validationException(
        "1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100",
      );
    }
    const fingerprint = JSON.stringify(transactItems);
    if (input.ClientRequestToken !== undefined) {
      const previous = this.transactionTokens.get(input.ClientRequestToken);
      if (previous === fingerprint) return {};
      if (previous !== undefined) {
        throw serviceError(
          "dynamodb",
          "IdempotentParameterMismatchException",
          "The request uses the same client token as a previous, but non-identical request.",
        );
      }
    }
    interface Planned {
      table: Table;
      key: string;
      existing: Item | undefined;
      condition: Condition | undefined;
      returnOld: string | undefined;
      apply: () => void;
    }
    const planned: Planned[] = [];
    const seen = new Set<string>();
    for (const transactItem of transactItems) {
      const { Put, Update, Delete, ConditionCheck } = transactItem;
      const operation = Put ?? Update ?? Delete ?? ConditionCheck;
      if (!operation)
        throw validationException(
          "TransactItems can only contain one of Check, Put, Update or Delete",
        );
      const table = this.requireTable(operation.TableName, region);
      const context = new ExpressionContext(
        operation.ExpressionAttributeNames,
        operation.ExpressionAttributeValues,
      );
      let key: string;
      let apply: () => void;
      if (Put) {
        const item = Put.Item as Item;
        key = this.itemKey(table, item);
        checkSize(item);
        apply = () => table.items.set(key, structuredClone(item));
      } else if (Update) {
        const keyItem = Update.Key as Item;
        key = this.keyOf(table, keyItem);
        const actions = parseUpdate(Update.UpdateExpression ?? "", context);
        apply = () => {
          const updated = applyUpdate(table.items.get(key), keyItem, actions);
          checkSize(updated);
          table.items.set(key, updated);
        };
      } else if (Delete) {
        key = this.keyOf(table, Delete.Key as Item);
        apply = () => table.items.delete(key);
      } else {
        key = this.keyOf(table, (ConditionCheck?.Key ?? {}) as Item);
        apply = () => undefined;
      }
      const condition = optionalCondition(operation.ConditionExpression, context);
      if (ConditionCheck && !condition) {
        throw validationException(
          "The ConditionExpression parameter must be specified for ConditionCheck",
        );
      }
      context.assertAllUsed();
      const itemId = `${table.arn}|${key}`;
      if (seen.has(itemId)) {
        throw validationException(
          "Transaction request cannot include multiple operations on one item",
        );
      }
      seen.add(itemId);
      planned.push({
        table,
        key,
        existing: table.items.get(key),
        condition,
        returnOld: operation.ReturnValuesOnConditionCheckFailure,
        apply,
      });
    }
    const reasons = planned.map((plan) =>
      !plan.condition || evaluateCondition(plan.condition, plan.existing)
        ? { Code: "None" }
        : {
            Code: "ConditionalCheckFailed",
            Message: "The conditional request failed",
            ...(plan.returnOld === "ALL_OLD" && plan.existing
              ? { Item: structuredClone(plan.existing) }
              : {}),
          },
    );
    if (reasons.some((reason) => reason.Code !== "None")) {
      throw serviceError(
        "dynamodb",
        "TransactionCanceledException",
        `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((reason) => reason.Code).join(", ")}]`,
        { members: { CancellationReasons: reasons } },
      );
    }
    for (const plan of planned) plan.apply();
    if (input.ClientRequestToken !== undefined)
      this.transactionTokens.set(input.ClientRequestToken, fingerprint);
    return {};
  }

  private requireTable(name: string | undefined, region: string): Table {
    const table = this.tables.find(
      (candidate) =>
        candidate.spec.region === region &&
        (candidate.spec.name === name || candidate.arn === name),
    );
    if (!table)
      throw serviceError("dynamodb", "ResourceNotFoundException", "Requested resource not found");
    return table;
  }

  /** The storage key of a Key parameter: exactly the key schema, right type. */
  private keyOf(table: Table, key: Item): string {
    const names = Object.keys(key ?? {});
    const value = key?.[table.spec.partitionKey];
    if (names.length !== 1 || !value || !("S" in value) || typeof value.S !== "string") {
      throw validationException("The provided key element does not match the schema");
    }
    return value.S;
  }

  /** The storage key of an Item parameter. */
  private itemKey(table: Table, item: Item): string {
    const value = item?.[table.spec.partitionKey];
    if (!value) {
      throw validationException(
        `One or more parameter values were invalid: Missing the key ${table.spec.partitionKey} in the item`,
      );
    }
    if (!("S" in value) || typeof value.S !== "string") {
      throw validationException(
        `One or more parameter values were invalid: Type mismatch for key ${table.spec.partitionKey} expected: S actual: ${Object.keys(value)[0]}`,
      );
    }
    return value.S;
  }
}

function rejectLegacyParameters(input: Record<string, unknown>): void {
  for (const legacy of [
    "Expected",
    "AttributeUpdates",
    "ConditionalOperator",
    "KeyConditions",
    "QueryFilter",
    "ScanFilter",
    "AttributesToGet",
  ]) {
    if (input[legacy] !== undefined) {
      throw new SimulatorUnsupportedError(
        `DynamoDB legacy parameter ${legacy} is not modelled; use expressions`,
      );
    }
  }
}

function optionalCondition(
  expression: string | undefined,
  context: ExpressionContext,
  kind = "ConditionExpression",
): Condition | undefined {
  return expression === undefined ? undefined : parseCondition(expression, context, kind);
}

function checkCondition(
  condition: Condition | undefined,
  existing: Item | undefined,
  returnOld: string | undefined,
): void {
  if (!condition || evaluateCondition(condition, existing)) return;
  throw serviceError(
    "dynamodb",
    "ConditionalCheckFailedException",
    "The conditional request failed",
    {
      members: returnOld === "ALL_OLD" && existing ? { Item: structuredClone(existing) } : {},
    },
  );
}

function checkSize(item: Item): void {
  if (Buffer.byteLength(JSON.stringify(item)) > MAX_ITEM_BYTES) {
    throw validationException("Item size has exceeded the maximum allowed size");
  }
}

function returnValues(kind: string | undefined, before: Item | undefined, after: Item) {
  switch (kind ?? "NONE") {
    case "NONE":
      return {};
    case "ALL_OLD":
      return before ? { Attributes: structuredClone(before) } : {};
    case "ALL_NEW":
      return { Attributes: structuredClone(after) };
    case "UPDATED_OLD":
    case "UPDATED_NEW": {
      const source = kind === "UPDATED_OLD" ? before : after;
      const other = kind === "UPDATED_OLD" ? after : before;
      const attributes: Record<string, AttributeValue> = {};
      for (const [name, value] of Object.entries(source ?? {})) {
        if (JSON.stringify(value) !== JSON.stringify(other?.[name])) attributes[name] = value;
      }
      return Object.keys(attributes).length ? { Attributes: attributes } : {};
    }
    default:
      throw validationException(`ReturnValues ${kind} is not valid for this operation`);
  }
}

/** Top-level attribute names of a ProjectionExpression (nested paths are not modelled). */
function parseProjection(
  expression: string | undefined,
  context: ExpressionContext,
): string[] | undefined {
  if (expression === undefined) return undefined;
  return expression.split(",").map((part) => {
    const name = part.trim();
    if (!/^#?[A-Za-z0-9_]+$/.test(name)) {
      throw new SimulatorUnsupportedError(
        `ProjectionExpression "${expression}": only top-level attributes are modelled`,
      );
    }
    return name.startsWith("#") ? context.name(name, "ProjectionExpression") : name;
  });
}

function project(item: Item, projection: string[] | undefined): Item {
  if (!projection) return item;
  const projected: Item = {};
  for (const name of projection) {
    const value = getPath(item, [name]);
    if (value) projected[name] = value;
  }
  return projected;
}
