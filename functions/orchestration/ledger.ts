/**
 * The operation ledger: one DynamoDB table (partition key `pk`, string) in the secondary region.
 *
 * Items:
 * - `LOCK`: `operationId`, `acquiredAt`. At most one operation runs: the lock is put with
 *   `attribute_not_exists(pk)` and deleted by finish with `operationId = :id`.
 * - `OPERATION#<id>`: the {@link OperationRecord}, plus `notifiedAt` once the SNS message went out.
 * - `LATEST`: `operationId` of the most recently started operation.
 * - `TRIGGER#PENDING`: an automatic failover that met the lock held by another operation
 *   ({@link PendingTrigger}); auto-failover starts it when that operation's execution ends.
 * - `TRAFFIC#FENCES`: which regions must not receive traffic ({@link TrafficFences}), written by
 *   flip-dns and republished as metrics every minute by probe-primary.
 *
 * Every function takes the client and table; nothing here reads the environment.
 */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import {
  LATEST_KEY,
  LOCK_KEY,
  PENDING_TRIGGER_KEY,
  TRAFFIC_FENCES_KEY,
} from "../shared/ledger-keys";
import type { OperationRecord } from "../shared/operation";
import type { RegionRole } from "../shared/region-roles";

export { LATEST_KEY, LOCK_KEY, PENDING_TRIGGER_KEY, TRAFFIC_FENCES_KEY };

/** The traffic fences as last set; absent from the ledger means neither region is fenced. */
export interface TrafficFences {
  primary: boolean;
  secondary: boolean;
  /**
   * Fences that keep an old primary off DNS after an unplanned failover (it may still hold
   * writes of its own): they hold until a failback clears them, whichever record the region
   * holds. The others only steer traffic away from the PRIMARY record's region.
   */
  safety: RegionRole[];
  /** The operation that set them. */
  operationId: string;
  /** ISO-8601. */
  updatedAt: string;
}

/** An automatic failover deferred because another operation held the lock. */
export interface PendingTrigger {
  alarmName: string;
  /** When the alarm went to ALARM (the event's state timestamp). */
  alarmedAt: string;
  /** The operation that held the lock. */
  blockedBy: string;
  /** ISO-8601, when it was deferred. */
  deferredAt: string;
}

export function operationKey(operationId: string): string {
  return `OPERATION#${operationId}`;
}

/** Where the ledger lives. */
export interface Ledger {
  readonly client: DynamoDBClient;
  readonly tableName: string;
}

export interface LockItem {
  operationId: string;
  /** ISO-8601. */
  acquiredAt: string;
}

export type LockResult = { acquired: true } | { acquired: false; holder: LockItem };

/** The outcome fields finish (or a failed start) writes onto a running record. */
export interface OperationCompletion {
  status: "succeeded" | "failed";
  steps: OperationRecord["steps"];
  finishedAt: string;
  rtoSeconds?: number;
  dataLossSeconds?: number | null;
  error?: string;
}

/** A record as stored: the API shape plus when its notification was published. */
export interface StoredOperation {
  record: OperationRecord;
  /** ISO-8601; absent until the SNS message for the final status was published. */
  notifiedAt?: string;
}

export type CompletionResult =
  | { updated: true; stored: StoredOperation }
  /** The record was no longer `running` (already finished) or does not exist. */
  | { updated: false; stored: StoredOperation | undefined };

/**
 * Takes the lock for `operationId`. When another operation holds it, returns that holder: the
 * failed conditional put returns the holder itself (ReturnValuesOnConditionCheckFailure ALL_OLD:
 * it "returns the item attributes for a PutItem operation that failed a condition check",
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutItem.html; a consistent
 * read when it does not), so there is no window between "lock taken" and "read who took it". A
 * lock released in between is simply tried again (3 attempts).
 */
export async function acquireLock(ledger: Ledger, lock: LockItem): Promise<LockResult> {
  for (let attempt = 1; attempt <= LOCK_ATTEMPTS; attempt++) {
    const holder = await putLock(ledger, lock);
    if (holder === "acquired") return { acquired: true };
    // undefined: the holder released the lock between our put and the read; try again.
    if (holder !== undefined) return { acquired: false, holder };
  }
  throw new Error(
    `could not take the ledger lock in ${LOCK_ATTEMPTS} attempts: it was released and taken again each time`,
  );
}

const LOCK_ATTEMPTS = 3;

async function putLock(ledger: Ledger, lock: LockItem): Promise<"acquired" | LockItem | undefined> {
  try {
    await ledger.client.send(
      new PutItemCommand({
        TableName: ledger.tableName,
        Item: marshall({ pk: LOCK_KEY, ...lock }),
        ConditionExpression: "attribute_not_exists(pk)",
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      }),
    );
    return "acquired";
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    return error.Item ? toLockItem(unmarshall(error.Item)) : getLock(ledger);
  }
}

/** The current lock holder, read consistently; undefined when no operation runs. */
export async function getLock(ledger: Ledger): Promise<LockItem | undefined> {
  const item = await getItem(ledger, LOCK_KEY);
  return item === undefined ? undefined : toLockItem(item);
}

/**
 * Deletes the lock if `operationId` holds it. A lock already released (or taken by a later
 * operation) is left alone and reported as `released: false`; that is not an error.
 */
export async function releaseLock(
  ledger: Ledger,
  operationId: string,
): Promise<{ released: boolean }> {
  try {
    await ledger.client.send(
      new DeleteItemCommand({
        TableName: ledger.tableName,
        Key: marshall({ pk: LOCK_KEY }),
        ConditionExpression: "operationId = :id",
        ExpressionAttributeValues: marshall({ ":id": operationId }),
      }),
    );
    return { released: true };
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return { released: false };
    throw error;
  }
}

/** Writes a new `OPERATION#<id>` record; never overwrites one (`attribute_not_exists(pk)`). */
export async function createOperation(ledger: Ledger, record: OperationRecord): Promise<void> {
  await ledger.client.send(
    new PutItemCommand({
      TableName: ledger.tableName,
      Item: marshall({ pk: operationKey(record.operationId), ...record }, MARSHALL_OPTIONS),
      ConditionExpression: "attribute_not_exists(pk)",
    }),
  );
}

/** Points `LATEST` at `operationId` (GET /status shows that operation). */
export async function setLatestOperation(ledger: Ledger, operationId: string): Promise<void> {
  await ledger.client.send(
    new PutItemCommand({
      TableName: ledger.tableName,
      Item: marshall({ pk: LATEST_KEY, operationId }),
    }),
  );
}

/** The record and its notification marker, read consistently; undefined when unknown. */
export async function getOperation(
  ledger: Ledger,
  operationId: string,
): Promise<StoredOperation | undefined> {
  const item = await getItem(ledger, operationKey(operationId));
  return item === undefined ? undefined : toStoredOperation(item);
}

/** The id of the most recently started operation (the `LATEST` item), undefined before any. */
export async function getLatestOperationId(ledger: Ledger): Promise<string | undefined> {
  const latest = await getItem(ledger, LATEST_KEY);
  return typeof latest?.operationId === "string" ? latest.operationId : undefined;
}

/** The most recently started operation, or undefined before the first one. */
export async function getLatestOperation(ledger: Ledger): Promise<StoredOperation | undefined> {
  const latest = await getItem(ledger, LATEST_KEY);
  if (latest === undefined || typeof latest.operationId !== "string") return undefined;
  return getOperation(ledger, latest.operationId);
}

/**
 * Writes the final status onto a record that is still `running` (condition `#status = :running`),
 * so only the first of several concurrent or repeated completions wins. When the condition fails
 * the stored record is read and returned with `updated: false`.
 */
export async function completeOperation(
  ledger: Ledger,
  operationId: string,
  completion: OperationCompletion,
): Promise<CompletionResult> {
  const fields = Object.entries(completion).filter(([, value]) => value !== undefined);
  try {
    const output = await ledger.client.send(
      new UpdateItemCommand({
        TableName: ledger.tableName,
        Key: marshall({ pk: operationKey(operationId) }),
        UpdateExpression: `SET ${fields.map(([field]) => `#${field} = :${field}`).join(", ")}`,
        ConditionExpression: "#status = :running",
        ExpressionAttributeNames: Object.fromEntries(fields.map(([field]) => [`#${field}`, field])),
        ExpressionAttributeValues: marshall(
          {
            ":running": "running",
            ...Object.fromEntries(fields.map(([field, value]) => [`:${field}`, value])),
          },
          MARSHALL_OPTIONS,
        ),
        ReturnValues: "ALL_NEW",
      }),
    );
    return { updated: true, stored: toStoredOperation(unmarshall(output.Attributes ?? {})) };
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    return { updated: false, stored: await getOperation(ledger, operationId) };
  }
}

/**
 * Records that the notification for the final status went out; the condition keeps the first
 * timestamp when two completions race.
 */
export async function markNotified(
  ledger: Ledger,
  operationId: string,
  notifiedAt: string,
): Promise<void> {
  try {
    await ledger.client.send(
      new UpdateItemCommand({
        TableName: ledger.tableName,
        Key: marshall({ pk: operationKey(operationId) }),
        UpdateExpression: "SET notifiedAt = :notifiedAt",
        ConditionExpression: "attribute_exists(pk) AND attribute_not_exists(notifiedAt)",
        ExpressionAttributeValues: marshall({ ":notifiedAt": notifiedAt }),
      }),
    );
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}

/**
 * Sets `attention` on a record that is still `running` and has none yet, so a repeated notice
 * (a retried task) neither overwrites the first nor publishes twice. `set: false` when the
 * condition failed: the record finished, has its attention already, or does not exist.
 */
export async function setAttention(
  ledger: Ledger,
  operationId: string,
  attention: NonNullable<OperationRecord["attention"]>,
): Promise<{ set: boolean }> {
  try {
    await ledger.client.send(
      new UpdateItemCommand({
        TableName: ledger.tableName,
        Key: marshall({ pk: operationKey(operationId) }),
        UpdateExpression: "SET attention = :attention",
        ConditionExpression: "#status = :running AND attribute_not_exists(attention)",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: marshall({ ":attention": attention, ":running": "running" }),
      }),
    );
    return { set: true };
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return { set: false };
    throw error;
  }
}

/**
 * Records a deferred trigger; the first one is kept (`attribute_not_exists(pk)`): a repeated alarm
 * event for the same outage changes nothing. Returns whether this call wrote it.
 */
export async function putPendingTrigger(
  ledger: Ledger,
  trigger: PendingTrigger,
): Promise<{ written: boolean }> {
  try {
    await ledger.client.send(
      new PutItemCommand({
        TableName: ledger.tableName,
        Item: marshall({ pk: PENDING_TRIGGER_KEY, ...trigger }),
        ConditionExpression: "attribute_not_exists(pk)",
      }),
    );
    return { written: true };
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return { written: false };
    throw error;
  }
}

/** The deferred trigger, read consistently; undefined when none waits. */
export async function getPendingTrigger(ledger: Ledger): Promise<PendingTrigger | undefined> {
  const item = await getItem(ledger, PENDING_TRIGGER_KEY);
  if (item === undefined) return undefined;
  const { pk: _key, ...trigger } = item;
  return trigger as unknown as PendingTrigger;
}

/** Removes the deferred trigger once it started a failover or was dropped. */
export async function deletePendingTrigger(ledger: Ledger): Promise<void> {
  await ledger.client.send(
    new DeleteItemCommand({
      TableName: ledger.tableName,
      Key: marshall({ pk: PENDING_TRIGGER_KEY }),
    }),
  );
}

/** Stores the fences; the latest writer wins (only the lock holder's flip-dns writes them). */
export async function putTrafficFences(ledger: Ledger, fences: TrafficFences): Promise<void> {
  await ledger.client.send(
    new PutItemCommand({
      TableName: ledger.tableName,
      Item: marshall({ pk: TRAFFIC_FENCES_KEY, ...fences }),
    }),
  );
}

/** The fences, read consistently; undefined when never set (neither region fenced). */
export async function getTrafficFences(ledger: Ledger): Promise<TrafficFences | undefined> {
  const item = await getItem(ledger, TRAFFIC_FENCES_KEY);
  if (item === undefined) return undefined;
  return {
    primary: item.primary === true,
    secondary: item.secondary === true,
    safety: Array.isArray(item.safety)
      ? item.safety.filter((role): role is RegionRole => role === "primary" || role === "secondary")
      : [],
    operationId: String(item.operationId),
    updatedAt: String(item.updatedAt),
  };
}

/** `null` (data loss unknown) is kept as a DynamoDB NULL; absent optional fields are left out. */
const MARSHALL_OPTIONS = { removeUndefinedValues: true } as const;

async function getItem(ledger: Ledger, pk: string): Promise<Record<string, unknown> | undefined> {
  const output = await ledger.client.send(
    new GetItemCommand({
      TableName: ledger.tableName,
      Key: marshall({ pk }),
      ConsistentRead: true,
    }),
  );
  return output.Item === undefined ? undefined : unmarshall(output.Item);
}

function toLockItem(item: Record<string, unknown>): LockItem {
  return { operationId: String(item.operationId), acquiredAt: String(item.acquiredAt) };
}

function toStoredOperation(item: Record<string, unknown>): StoredOperation {
  const { pk: _key, notifiedAt, ...record } = item;
  return {
    record: record as unknown as OperationRecord,
    ...(typeof notifiedAt === "string" ? { notifiedAt } : {}),
  };
}
