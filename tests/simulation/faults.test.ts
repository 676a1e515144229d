import { resolve } from "node:path";
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from "@aws-sdk/client-auto-scaling";
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import {
  DescribeDBInstancesCommand,
  DescribeGlobalClustersCommand,
  RDSClient,
} from "@aws-sdk/client-rds";
import { GetHealthCheckStatusCommand, Route53Client } from "@aws-sdk/client-route-53";
import { SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { marshall } from "@aws-sdk/util-dynamodb";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { classifyError } from "../../functions/shared/errors";
import { loadEnvConfig } from "../../src/config/load";
import {
  installSimulatedTransport,
  RegionPair,
  SIMULATED_CLIENTS,
  SimulatedClock,
  SimulatorUnsupportedError,
  simulatedSettings,
} from "../../src/simulation";
import { removeLeftoverTransports } from "../../src/simulation/sdk-transport";
import { bindSimulatedAws, type SimulatedAws } from "../support/simulated-aws";

const settings = simulatedSettings();
const { primary, secondary } = settings.regions;
const rds = {
  primary: new RDSClient({ region: primary.region }),
  secondary: new RDSClient({ region: secondary.region }),
};

let clock: SimulatedClock;
let pair: RegionPair;
let aws: SimulatedAws;

beforeEach(() => {
  clock = new SimulatedClock({ start: 0 });
  pair = new RegionPair({ settings, clock });
  aws = bindSimulatedAws(pair);
});

afterEach(() => aws.restore());

const describeGlobal = (client: RDSClient) =>
  client.send(
    new DescribeGlobalClustersCommand({
      GlobalClusterIdentifier: settings.globalClusterIdentifier,
    }),
  );

describe("regionDown", () => {
  it("makes every call to the region reject like an unreachable endpoint, classified Retryable.Timeout", async () => {
    pair.regionDown("primary");
    const error = await describeGlobal(rds.primary).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: "TimeoutError",
      code: "ETIMEDOUT",
      syscall: "connect",
      message: "connect ETIMEDOUT 203.0.113.10:443",
    });
    expect(classifyError(error).name).toBe("Retryable.Timeout");
    await expect(describeGlobal(rds.secondary)).resolves.toBeDefined();
  });

  it("can fail with connection refused or DNS errors instead, all classified Retryable.Timeout", async () => {
    pair.regionDown(primary.region, { failure: "connection-refused" });
    const refused = await describeGlobal(rds.primary).catch((caught: unknown) => caught);
    expect(refused).toMatchObject({ name: "TimeoutError", code: "ECONNREFUSED" });
    pair.regionDown(primary.region, { failure: "dns" });
    const dns = await describeGlobal(rds.primary).catch((caught: unknown) => caught);
    expect(dns).toMatchObject({
      name: "Error",
      code: "ENOTFOUND",
      message: "getaddrinfo ENOTFOUND rds.us-east-2.amazonaws.com",
    });
    expect([refused, dns].map((error) => classifyError(error).name)).toEqual([
      "Retryable.Timeout",
      "Retryable.Timeout",
    ]);
  });

  it("lets a failing call take simulated time before it rejects", async () => {
    pair.regionDown("primary", { callMs: 5_000 });
    clock.setAutoAdvance(true);
    await expect(describeGlobal(rds.primary)).rejects.toMatchObject({ name: "TimeoutError" });
    expect(clock.now()).toBe(5_000);
  });

  it("leaves Route 53 (a global service) answering, with the region's health check failing once its checkers notice", async () => {
    pair.regionDown("primary");
    const route53 = new Route53Client({ region: primary.region });
    const read = async () =>
      (
        await route53.send(
          new GetHealthCheckStatusCommand({ HealthCheckId: primary.healthCheckId }),
        )
      ).HealthCheckObservations;
    // Not at once: Route 53 changes its verdict after failureThreshold (3) failed checks, 10 s apart.
    expect((await read())?.[0]?.StatusReport?.Status).toMatch(/^Success/);
    await pair.clock.advance(20_000);
    expect((await read())?.[0]?.StatusReport?.Status).toMatch(/^Success/);
    await pair.clock.advance(10_000);
    const observations = await read();
    expect(observations).toHaveLength(8);
    expect(observations?.[0]?.StatusReport?.Status).toMatch(/^Failure/);
  });

  it("takes Route 53's API down with us-east-1, which hosts it, while DNS still answers", async () => {
    const east = new RegionPair({
      // The seed environment's pair: us-east-1 primary, us-west-2 secondary.
      settings: simulatedSettings({
        config: loadEnvConfig(resolve(__dirname, "../fixtures/envs/seed.json")),
      }),
    });
    const route53 = new Route53Client({ region: "us-west-2" });
    east.regionDown("us-east-1");
    aws.restore();
    const eastAws = bindSimulatedAws(east);
    try {
      await expect(
        route53.send(
          new GetHealthCheckStatusCommand({
            HealthCheckId: east.settings.regions.secondary.healthCheckId,
          }),
        ),
      ).rejects.toMatchObject({ name: "TimeoutError" });
    } finally {
      eastAws.restore();
      aws = bindSimulatedAws(pair);
    }
    await east.clock.advance(40_000);
    expect(east.route53.answeringRegion()).toBe("secondary");
  });
});

describe("throttle", () => {
  it("fails the next calls with the service's own throttling error, then lets calls through", async () => {
    pair.throttle("rds", "DescribeGlobalClusters", 2);
    const first = await describeGlobal(rds.secondary).catch((caught: unknown) => caught);
    expect(first).toMatchObject({
      name: "Throttling",
      Code: "Throttling",
      Type: "Sender",
      message: "Rate exceeded",
      $fault: "client",
      $metadata: { httpStatusCode: 400 },
    });
    expect(classifyError(first).name).toBe("Retryable.Throttled");
    await expect(describeGlobal(rds.primary)).rejects.toMatchObject({ name: "Throttling" });
    await expect(describeGlobal(rds.secondary)).resolves.toBeDefined();
  });

  it("uses each service's throttling name: JSON APIs ThrottlingException, Lambda TooManyRequestsException", async () => {
    pair.throttle("dynamodb");
    pair.throttle("sfn", "StartExecution", 1, "secondary");
    const dynamodb = await new DynamoDBClient({ region: secondary.region })
      .send(
        new GetItemCommand({ TableName: settings.ledgerTableName, Key: marshall({ pk: "LOCK" }) }),
      )
      .catch((caught: unknown) => caught);
    expect(dynamodb).toMatchObject({
      name: "ThrottlingException",
      $metadata: { httpStatusCode: 400 },
    });
    const sfn = await new SFNClient({ region: secondary.region })
      .send(
        new StartExecutionCommand({
          stateMachineArn: settings.stateMachineArn,
          name: "op-1",
          input: "{}",
        }),
      )
      .catch((caught: unknown) => caught);
    expect(sfn).toMatchObject({ name: "ThrottlingException" });
    expect([dynamodb, sfn].map((error) => classifyError(error).name)).toEqual([
      "Retryable.Throttled",
      "Retryable.Throttled",
    ]);
  });

  it("serves 5xx errors classified Retryable.ServerError", async () => {
    pair.serverErrors("autoscaling", "DescribeAutoScalingGroups", 1, "secondary");
    const error = await new AutoScalingClient({ region: secondary.region })
      .send(
        new DescribeAutoScalingGroupsCommand({
          AutoScalingGroupNames: [secondary.autoScalingGroupName],
        }),
      )
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      name: "ServiceUnavailable",
      $fault: "server",
      $metadata: { httpStatusCode: 503 },
    });
    expect(classifyError(error).name).toBe("Retryable.ServerError");
  });
});

describe("call log", () => {
  it("records service, region, operation, input and simulated time of every call, failed ones too", async () => {
    await describeGlobal(rds.secondary);
    await clock.advance(1_000);
    pair.regionDown("primary");
    await describeGlobal(rds.primary).catch(() => undefined);
    expect(pair.calls).toEqual([
      {
        service: "rds",
        region: secondary.region,
        operation: "DescribeGlobalClusters",
        input: { GlobalClusterIdentifier: settings.globalClusterIdentifier },
        at: 0,
        outcome: "ok",
      },
      {
        service: "rds",
        region: primary.region,
        operation: "DescribeGlobalClusters",
        input: { GlobalClusterIdentifier: settings.globalClusterIdentifier },
        at: 1_000,
        outcome: "error",
        error: "TimeoutError",
      },
    ]);
    expect(pair.callsTo({ region: "primary" })).toHaveLength(1);
    expect(pair.mutatingCalls()).toEqual([]);
  });

  it("rejects a command the simulation does not model instead of answering undefined", async () => {
    await expect(rds.secondary.send(new DescribeDBInstancesCommand({}))).rejects.toBeInstanceOf(
      SimulatorUnsupportedError,
    );
  });
});

describe("installSimulatedTransport", () => {
  it("answers the SDK clients' send, routed by client region, until restored", async () => {
    aws.restore();
    const restore = installSimulatedTransport(pair);
    try {
      pair.regionDown("primary");
      await expect(describeGlobal(rds.primary)).rejects.toMatchObject({ name: "TimeoutError" });
      const { GlobalClusters } = await describeGlobal(rds.secondary);
      expect(GlobalClusters?.[0]?.Status).toBe("available");
      expect(pair.calls.map((call) => `${call.region} ${call.operation} ${call.outcome}`)).toEqual([
        "us-east-2 DescribeGlobalClusters error",
        "us-west-2 DescribeGlobalClusters ok",
      ]);
    } finally {
      restore();
      aws = bindSimulatedAws(pair);
    }
  });

  it("leaves no simulated send behind once a file's leftovers are removed (fresh-modules.ts)", () => {
    aws.restore();
    installSimulatedTransport(pair);
    installSimulatedTransport(pair);
    const bound = () =>
      Object.entries(SIMULATED_CLIENTS)
        .filter(([, client]) => Object.hasOwn(client.prototype, "send"))
        .map(([service]) => service);
    try {
      expect(bound()).toEqual(Object.keys(SIMULATED_CLIENTS));
      expect(removeLeftoverTransports()).toBe(Object.keys(SIMULATED_CLIENTS).length);
      expect(bound()).toEqual([]);
      expect(removeLeftoverTransports()).toBe(0);
    } finally {
      aws = bindSimulatedAws(pair);
    }
  });
});
