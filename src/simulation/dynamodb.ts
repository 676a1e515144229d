/**
 * DynamoDB tables of the simulated pair (the operations ledger, in the secondary region): the
 * item operations the ledger sends (PutItem, GetItem, UpdateItem, DeleteItem), with their
 * conditional writes; any other operation, parameter or expression shape is refused with a
 * SimulatorUnsupportedError naming it (dynamodb-expressions.ts lists the shapes).
 *
 * Why not a maintained implementation (issue 15): dynalite 4.0.0 on loopback, measured on the game
 * day, took 15 ms a call (median; 0.02 ms in memory) and, worse, let the simulated clock move while
 * a request was in flight (the clock jumps to the next sleeper after two idle macrotask turns; a
 * loopback round trip spans at least four), so a drill's RTO grew by 5 to 10 s and, with 30 ms of
 * extra latency per call, the primary-region-down drill's verdict turned from passed to
 * missed-target. It also lacks ReturnValuesOnConditionCheckFailure, which the ledger's lock uses,
 * and TransactWriteItems, and cannot be read synchronously by the tests' assertions.
 *
 * Sources (Amazon DynamoDB API Reference):
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutItem.html,
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_GetItem.html,
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateItem.html,
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_DeleteItem.html.
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import {
  type Assignment,
  type ConditionTerm,
  ExpressionContext,
  evaluateCondition,
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

/** The parameters of a write the simulation reads. */
interface WriteInput {
  readonly TableName?: string;
  readonly Item?: Item;
  readonly Key?: Item;
  readonly UpdateExpression?: string;
  readonly ConditionExpression?: string;
  readonly ExpressionAttributeNames?: Record<string, string>;
  readonly ExpressionAttributeValues?: Record<string, AttributeValue>;
  readonly ReturnValues?: string;
  readonly ReturnValuesOnConditionCheckFailure?: string;
}

const WRITE_PARAMETERS = [
  "TableName",
  "ConditionExpression",
  "ExpressionAttributeNames",
  "ExpressionAttributeValues",
  "ReturnValues",
  "ReturnValuesOnConditionCheckFailure",
];

/** The operations the ledger sends, with the parameters and ReturnValues each may carry. */
const MODELLED: Readonly<
  Record<
    string,
    { readonly parameters: readonly string[]; readonly returnValues: readonly string[] }
  >
> = {
  PutItem: { parameters: [...WRITE_PARAMETERS, "Item"], returnValues: ["NONE"] },
  GetItem: { parameters: ["TableName", "Key", "ConsistentRead"], returnValues: [] },
  UpdateItem: {
    parameters: [...WRITE_PARAMETERS, "Key", "UpdateExpression"],
    returnValues: ["NONE", "ALL_NEW"],
  },
  DeleteItem: { parameters: [...WRITE_PARAMETERS, "Key"], returnValues: ["NONE"] },
};

/**
 * "The maximum item size in DynamoDB is 400 KB, which includes both attribute name binary length
 * (UTF-8 length) and attribute value lengths"
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html); the
 * simulation measures the item's JSON, a little more than that.
 */
const MAX_ITEM_BYTES = 400 * 1024;

export class DynamoDbSimulation {
  private readonly tables: Table[];

  constructor(specs: readonly TableSpec[]) {
    this.tables = specs.map((spec) => ({
      spec,
      arn: `arn:aws:dynamodb:${spec.region}:${spec.accountId}:table/${spec.name}`,
      items: new Map(),
    }));
  }

  /** A copy of an item, by partition key value (string keys). */
  item(tableName: string, key: string): Item | undefined {
    const item = this.tableNamed(tableName)?.items.get(key);
    return item ? structuredClone(item) : undefined;
  }

  /** Copies of every item of a table. */
  items(tableName: string): Item[] {
    return [...(this.tableNamed(tableName)?.items.values() ?? [])].map((item) =>
      structuredClone(item),
    );
  }

  handle(operation: string, input: Record<string, unknown>, region: string): unknown {
    refuseUnmodelled(operation, input);
    const request = input as WriteInput;
    const table = this.requireTable(request.TableName, region);
    switch (operation) {
      case "GetItem": {
        // A single copy per table: every read is strongly consistent, ConsistentRead or not.
        const item = table.items.get(this.keyOf(table, request.Key));
        return item ? { Item: structuredClone(item) } : {};
      }
      case "PutItem": {
        const item = request.Item as Item;
        return this.write(table, this.itemKey(table, item), request, () => structuredClone(item));
      }
      case "UpdateItem": {
        if (request.UpdateExpression === undefined) {
          throw new SimulatorUnsupportedError(
            "DynamoDB UpdateItem without an UpdateExpression is not modelled",
          );
        }
        const key = request.Key as Item;
        return this.write(table, this.keyOf(table, key), request, (existing, assignments) =>
          applyAssignments(existing, key, assignments),
        );
      }
      default:
        return this.write(table, this.keyOf(table, request.Key), request, () => undefined);
    }
  }

  /**
   * One conditional write: placeholders checked, the condition evaluated against the item as it
   * is, then the item replaced by what `next` returns (undefined deletes it).
   */
  private write(
    table: Table,
    key: string,
    input: WriteInput,
    next: (existing: Item | undefined, assignments: readonly Assignment[]) => Item | undefined,
  ): unknown {
    const context = new ExpressionContext(
      input.ExpressionAttributeNames,
      input.ExpressionAttributeValues,
    );
    const assignments =
      input.UpdateExpression === undefined ? [] : parseUpdate(input.UpdateExpression, context);
    const condition: ConditionTerm[] | undefined =
      input.ConditionExpression === undefined
        ? undefined
        : parseCondition(input.ConditionExpression, context);
    context.assertAllUsed();
    const existing = table.items.get(key);
    if (condition && !evaluateCondition(condition, existing)) {
      // A condition that evaluates to false fails the write with ConditionalCheckFailedException,
      // "The conditional request failed", HTTP 400; with ReturnValuesOnConditionCheckFailure
      // ALL_OLD it carries the item as it was (API_PutItem, API_UpdateItem, API_DeleteItem:
      // Errors, and the ReturnValuesOnConditionCheckFailure parameter).
      throw serviceError(
        "dynamodb",
        "ConditionalCheckFailedException",
        "The conditional request failed",
        {
          members:
            input.ReturnValuesOnConditionCheckFailure === "ALL_OLD" && existing
              ? { Item: structuredClone(existing) }
              : {},
        },
      );
    }
    const after = next(existing, assignments);
    if (after === undefined) {
      table.items.delete(key);
      return {};
    }
    if (Buffer.byteLength(JSON.stringify(after)) > MAX_ITEM_BYTES) {
      throw validationException("Item size has exceeded the maximum allowed size");
    }
    table.items.set(key, after);
    // ReturnValues ALL_NEW: "Returns all of the attributes of the item, as they appear after the
    // UpdateItem operation" (API_UpdateItem).
    return input.ReturnValues === "ALL_NEW" ? { Attributes: structuredClone(after) } : {};
  }

  private tableNamed(name: string): Table | undefined {
    return this.tables.find((candidate) => candidate.spec.name === name);
  }

  /**
   * Tables are regional: a TableName ("You can also provide the Amazon Resource Name (ARN) of
   * the table in this parameter") that is not a table of the region called is
   * ResourceNotFoundException, "Requested resource not found" (API_PutItem, Errors: "The
   * operation tried to access a nonexistent table or index").
   */
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

  /**
   * The storage key of a Key parameter. "For the primary key, you must provide all of the
   * attributes" and only those (API_GetItem, API_UpdateItem: Key); anything else is "The
   * provided key element does not match the schema".
   */
  private keyOf(table: Table, key: Item | undefined): string {
    const value = key?.[table.spec.partitionKey];
    if (Object.keys(key ?? {}).length !== 1 || !value || typeof value.S !== "string") {
      throw validationException("The provided key element does not match the schema");
    }
    return value.S;
  }

  /**
   * The storage key of an Item parameter: it must hold the primary key attributes, with the
   * table's types (API_PutItem, Item).
   */
  private itemKey(table: Table, item: Item): string {
    const { partitionKey } = table.spec;
    const value = item?.[partitionKey];
    if (!value) {
      throw validationException(
        `One or more parameter values were invalid: Missing the key ${partitionKey} in the item`,
      );
    }
    if (typeof value.S !== "string") {
      throw validationException(
        `One or more parameter values were invalid: Type mismatch for key ${partitionKey} expected: S actual: ${Object.keys(value)[0]}`,
      );
    }
    return value.S;
  }
}

/** Refuses an operation, parameter or ReturnValues the ledger does not send. */
function refuseUnmodelled(operation: string, input: Record<string, unknown>): void {
  const modelled = MODELLED[operation];
  if (!modelled) {
    throw new SimulatorUnsupportedError(
      `DynamoDB ${operation} is not modelled (the ledger sends ${Object.keys(MODELLED).join(", ")})`,
    );
  }
  for (const [name, value] of Object.entries(input)) {
    if (value !== undefined && !modelled.parameters.includes(name)) {
      throw new SimulatorUnsupportedError(
        `DynamoDB ${operation} parameter ${name} is not modelled`,
      );
    }
  }
  const returnValues = input.ReturnValues;
  if (typeof returnValues === "string" && !modelled.returnValues.includes(returnValues)) {
    throw new SimulatorUnsupportedError(
      `DynamoDB ${operation} ReturnValues ${returnValues} is not modelled`,
    );
  }
}

/**
 * SET on a copy of the item, or of the key when there is none: "Edits an existing item's
 * attributes, or adds a new item to the table if it does not already exist" (API_UpdateItem).
 * A key attribute cannot be set: "Cannot update attribute pk. This attribute is part of the key".
 */
function applyAssignments(
  existing: Item | undefined,
  key: Item,
  assignments: readonly Assignment[],
): Item {
  const result: Item = structuredClone(existing ?? key);
  for (const { name, value } of assignments) {
    if (name in key) {
      throw validationException(
        `One or more parameter values were invalid: Cannot update attribute ${name}. This attribute is part of the key`,
      );
    }
    result[name] = structuredClone(value);
  }
  return result;
}
