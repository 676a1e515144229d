/**
 * Shared fixtures of the operations tests: settings, reader reports, API events, and an in-memory
 * ledger table behind aws-sdk-client-mock that evaluates the ledger's condition expressions, so
 * races between concurrent requests behave as they would against DynamoDB.
 */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DeleteItemCommandInput,
  type DynamoDBClient,
  GetItemCommand,
  type GetItemCommandInput,
  PutItemCommand,
  type PutItemCommandInput,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from "@aws-sdk/client-dynamodb";
import type { InvokeCommandOutput } from "@aws-sdk/client-lambda";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import type { APIGatewayProxyEventV2WithIAMAuthorizer } from "aws-lambda";
import type { AwsClientStub } from "aws-sdk-client-mock";
import type {
  CapacityReading,
  OperationInput,
  TopologyReport,
  TrafficReport,
} from "../../../functions/shared/operation";
import type { AutomationSettings } from "../../../functions/shared/settings";

export const CALLER_ARN = "arn:aws:iam::123456789012:user/alice";
export const STATE_MACHINE_ARN =
  "arn:aws:states:us-west-2:123456789012:stateMachine:shopsmart-prod-operations";
export const NOW = new Date("2025-03-04T05:06:07.890Z");
/** The id {@link NOW} and {@link fixedRandomHex} produce. */
export const OPERATION_ID = "op-20250304T050607Z-a1b2c3";

export const settings: AutomationSettings = {
  environment: "prod",
  namePrefix: "shopsmart-prod",
  primaryRecordRegion: "primary",
  healthPath: "/health",
  detection: { quorum: 2, minimumIntervalMinutes: 30, probeTimeoutSeconds: 5 },
  globalClusterIdentifier: "shopsmart-prod-global",
  regions: {
    primary: {
      region: "us-east-2",
      clusterIdentifier: "shopsmart-prod-primary",
      clusterArn: "arn:aws:rds:us-east-2:123456789012:cluster:shopsmart-prod-primary",
      autoScalingGroupName: "shopsmart-prod-primary-app",
      loadBalancer: {
        dnsName: "primary-alb.us-east-2.elb.amazonaws.com",
        zoneId: "Z3AADJGX6KTTL2",
      },
      healthCheckId: "hc-primary",
      activeCapacity: { minSize: 2, desiredCapacity: 4, maxSize: 8 },
      standbyCapacity: { minSize: 1, desiredCapacity: 1, maxSize: 8 },
    },
    secondary: {
      region: "us-west-2",
      clusterIdentifier: "shopsmart-prod-secondary",
      clusterArn: "arn:aws:rds:us-west-2:123456789012:cluster:shopsmart-prod-secondary",
      autoScalingGroupName: "shopsmart-prod-secondary-app",
      loadBalancer: {
        dnsName: "secondary-alb.us-west-2.elb.amazonaws.com",
        zoneId: "Z1H1FL5HABSF5",
      },
      healthCheckId: "hc-secondary",
      activeCapacity: { minSize: 2, desiredCapacity: 4, maxSize: 8 },
      standbyCapacity: { minSize: 1, desiredCapacity: 1, maxSize: 8 },
    },
  },
  hostedZoneId: "Z0123456789",
  recordName: "shop.example.com",
  parameterPath: "/shopsmart/prod/",
  ledgerTableName: "shopsmart-prod-operations",
  stateMachineArn: STATE_MACHINE_ARN,
  topicArn: "arn:aws:sns:us-west-2:123456789012:shopsmart-prod-operations",
  readTopologyFunctionName: "shopsmart-prod-read-topology",
  readTrafficFunctionName: "shopsmart-prod-read-traffic",
  rpoSeconds: 300,
  rtoSeconds: 300,
  apiBaseUrl: "https://abc123.execute-api.us-west-2.amazonaws.com",
};

export function fixedRandomHex(bytes: number): string {
  return "a1b2c3d4e5f6".slice(0, bytes * 2);
}

export const environment = { now: () => NOW, randomHex: fixedRandomHex };

/** Writer in the primary, both clusters available global members, lag 2 s (RPO lag the same). */
export function healthyTopology(overrides: Partial<TopologyReport> = {}): TopologyReport {
  const lag = overrides.replicationLagSeconds === undefined ? 2 : overrides.replicationLagSeconds;
  return {
    globalClusterStatus: "available",
    failover: null,
    writerRegion: "primary",
    clusters: {
      primary: {
        role: "primary",
        clusterIdentifier: "shopsmart-prod-primary",
        clusterArn: settings.regions.primary.clusterArn,
        status: "available",
        globalMember: true,
        isWriter: true,
        synchronizationStatus: null,
      },
      secondary: {
        role: "secondary",
        clusterIdentifier: "shopsmart-prod-secondary",
        clusterArn: settings.regions.secondary.clusterArn,
        status: "available",
        globalMember: true,
        isWriter: false,
        synchronizationStatus: "connected",
      },
    },
    replicationLagSeconds: lag,
    rpoLagSeconds: lag,
    unreachable: [],
    notes: [],
    ...overrides,
  };
}

export const activeCapacity: CapacityReading = {
  minSize: 2,
  desiredCapacity: 4,
  maxSize: 8,
  inService: 4,
};
export const standbyCapacity: CapacityReading = {
  minSize: 1,
  desiredCapacity: 1,
  maxSize: 8,
  inService: 1,
};

/** Both endpoints healthy, primary at active size, secondary at standby size. */
export function healthyTraffic(overrides: Partial<TrafficReport> = {}): TrafficReport {
  const health = overrides.health ?? { primary: "healthy", secondary: "healthy" };
  const endpoint = (state: string) => ({
    healthy: state === "healthy",
    statusCode: state === "healthy" ? 200 : null,
    writable: null,
    writerRegion: null,
  });
  return {
    health,
    route53Health: health,
    endpoints: { primary: endpoint(health.primary), secondary: endpoint(health.secondary) },
    served: "primary",
    fences: { primary: false, secondary: false },
    capacity: { primary: activeCapacity, secondary: standbyCapacity },
    unreachable: [],
    notes: [],
    ...overrides,
  };
}

/** The primary region times out everywhere (what the unplanned readers report). */
export function primaryDownTopology(): TopologyReport {
  const healthy = healthyTopology();
  return healthyTopology({
    writerRegion: "unknown",
    clusters: {
      primary: { ...healthy.clusters.primary, status: null, globalMember: null, isWriter: null },
      secondary: healthy.clusters.secondary,
    },
    replicationLagSeconds: null,
    unreachable: [
      { role: "primary", region: "us-east-2", reason: "Retryable.Timeout: AbortError: aborted" },
    ],
    notes: ["primary (us-east-2) did not answer DescribeDBClusters"],
  });
}

export function primaryDownTraffic(): TrafficReport {
  return healthyTraffic({
    health: { primary: "unhealthy", secondary: "healthy" },
    capacity: { primary: null, secondary: standbyCapacity },
    unreachable: [
      { role: "primary", region: "us-east-2", reason: "Retryable.Timeout: AbortError: aborted" },
    ],
  });
}

export function operationInput(overrides: Partial<OperationInput> = {}): OperationInput {
  return {
    operationId: OPERATION_ID,
    kind: "failover",
    mode: "planned",
    reason: "quarterly DR drill",
    requestedAt: NOW.toISOString(),
    requestedBy: CALLER_ARN,
    source: "primary",
    target: "secondary",
    ...overrides,
  };
}

/** A Lambda Invoke response payload (the SDK's Uint8ArrayBlobAdapter is a Uint8Array). */
export function lambdaPayload(value: unknown): InvokeCommandOutput["Payload"] {
  return new TextEncoder().encode(JSON.stringify(value)) as InvokeCommandOutput["Payload"];
}

/** An API Gateway HTTP API (payload 2.0) event signed by {@link CALLER_ARN}. */
export function apiEvent(
  method: string,
  path: string,
  body?: unknown,
  options: { stage?: string; raw?: boolean; base64?: boolean } = {},
): APIGatewayProxyEventV2WithIAMAuthorizer {
  const stage = options.stage ?? "$default";
  let text: string | undefined;
  if (body !== undefined) text = options.raw ? String(body) : JSON.stringify(body);
  if (text !== undefined && options.base64) text = Buffer.from(text).toString("base64");
  const rawPath = stage === "$default" ? path : `/${stage}${path}`;
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath,
    rawQueryString: "",
    headers: { "content-type": "application/json" },
    requestContext: {
      accountId: "123456789012",
      apiId: "abc123",
      domainName: "abc123.execute-api.us-west-2.amazonaws.com",
      domainPrefix: "abc123",
      http: {
        method,
        path: rawPath,
        protocol: "HTTP/1.1",
        sourceIp: "203.0.113.10",
        userAgent: "curl/8.5.0",
      },
      requestId: "req-1",
      routeKey: "$default",
      stage,
      time: "04/Mar/2025:05:06:07 +0000",
      timeEpoch: NOW.getTime(),
      authorizer: {
        iam: {
          accessKey: "AKIAEXAMPLE",
          accountId: "123456789012",
          callerId: "AIDAEXAMPLE",
          cognitoIdentity: null,
          principalOrgId: "o-example",
          userArn: CALLER_ARN,
          userId: "AIDAEXAMPLE",
        },
      },
    },
    ...(text === undefined ? {} : { body: text }),
    isBase64Encoded: options.base64 ?? false,
  };
}

type Item = Record<string, unknown>;

/**
 * An in-memory ledger table. Understands exactly the expressions ledger.ts writes: PutItem with
 * `attribute_not_exists(pk)`, DeleteItem with `operationId = :id`, UpdateItem `SET #a = :a, ...`
 * with `#status = :running` or `attribute_exists(pk) AND attribute_not_exists(notifiedAt)`.
 */
export class FakeLedgerTable {
  readonly items = new Map<string, Item>();

  install(dynamoDb: AwsClientStub<DynamoDBClient>): this {
    dynamoDb.on(PutItemCommand).callsFake(async (input: PutItemCommandInput) => this.put(input));
    dynamoDb.on(GetItemCommand).callsFake(async (input: GetItemCommandInput) => this.get(input));
    dynamoDb
      .on(DeleteItemCommand)
      .callsFake(async (input: DeleteItemCommandInput) => this.delete(input));
    dynamoDb
      .on(UpdateItemCommand)
      .callsFake(async (input: UpdateItemCommandInput) => this.update(input));
    return this;
  }

  seed(item: Item): this {
    this.items.set(String(item.pk), structuredClone(item));
    return this;
  }

  item(pk: string): Item | undefined {
    return this.items.get(pk);
  }

  private put(input: PutItemCommandInput) {
    const item = unmarshall(input.Item ?? {});
    const existing = this.items.get(String(item.pk));
    if (input.ConditionExpression === "attribute_not_exists(pk)" && existing !== undefined) {
      throw conditionFailed(
        input.ReturnValuesOnConditionCheckFailure === "ALL_OLD" ? existing : undefined,
      );
    }
    if (
      input.ConditionExpression !== undefined &&
      input.ConditionExpression !== "attribute_not_exists(pk)"
    ) {
      throw new Error(`fake table: unsupported put condition ${input.ConditionExpression}`);
    }
    this.items.set(String(item.pk), item);
    return {};
  }

  private get(input: GetItemCommandInput) {
    const { pk } = unmarshall(input.Key ?? {});
    const item = this.items.get(String(pk));
    return item === undefined ? {} : { Item: marshall(item, { removeUndefinedValues: true }) };
  }

  private delete(input: DeleteItemCommandInput) {
    const { pk } = unmarshall(input.Key ?? {});
    const existing = this.items.get(String(pk));
    const values = unmarshall(input.ExpressionAttributeValues ?? {});
    if (input.ConditionExpression === "operationId = :id") {
      if (existing?.operationId !== values[":id"]) throw conditionFailed(undefined);
    } else if (input.ConditionExpression !== undefined) {
      throw new Error(`fake table: unsupported delete condition ${input.ConditionExpression}`);
    }
    this.items.delete(String(pk));
    return {};
  }

  private update(input: UpdateItemCommandInput) {
    const { pk } = unmarshall(input.Key ?? {});
    const existing = this.items.get(String(pk));
    const names = input.ExpressionAttributeNames ?? {};
    const values = unmarshall(input.ExpressionAttributeValues ?? {});
    const condition = input.ConditionExpression;
    if (condition === "#status = :running") {
      if (existing?.[names["#status"] ?? ""] !== values[":running"])
        throw conditionFailed(undefined);
    } else if (condition === "#status = :running AND attribute_not_exists(attention)") {
      if (existing?.[names["#status"] ?? ""] !== values[":running"] || existing?.attention)
        throw conditionFailed(undefined);
    } else if (condition === "attribute_exists(pk) AND attribute_not_exists(notifiedAt)") {
      if (existing === undefined || existing.notifiedAt !== undefined)
        throw conditionFailed(undefined);
    } else if (condition !== undefined) {
      throw new Error(`fake table: unsupported update condition ${condition}`);
    }
    const updated: Item = { ...(existing ?? { pk }) };
    const assignments = (input.UpdateExpression ?? "").replace(/^SET /, "").split(", ");
    for (const assignment of assignments) {
      const [target = "", value = ""] = assignment.split(" = ");
      const name = target.startsWith("#") ? (names[target] ?? target) : target;
      updated[name] = values[value];
    }
    this.items.set(String(pk), updated);
    return input.ReturnValues === "ALL_NEW"
      ? { Attributes: marshall(updated, { removeUndefinedValues: true }) }
      : {};
  }
}

function conditionFailed(item: Item | undefined): ConditionalCheckFailedException {
  return new ConditionalCheckFailedException({
    message: "The conditional request failed",
    $metadata: { httpStatusCode: 400 },
    ...(item === undefined ? {} : { Item: marshall(item, { removeUndefinedValues: true }) }),
  });
}
