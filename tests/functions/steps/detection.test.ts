import {
  CloudWatchClient,
  GetMetricDataCommand,
  PutMetricDataCommand,
} from "@aws-sdk/client-cloudwatch";
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { DescribeDBClustersCommand, RDSClient } from "@aws-sdk/client-rds";
import { marshall } from "@aws-sdk/util-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import {
  type DetectionDependencies,
  decidePrimaryDown,
  probePrimary,
  type SignalReading,
} from "../../../functions/orchestration/detection";
import type { EndpointReading, ServedRegion } from "../../../functions/shared/endpoint-probe";
import { abortTimeout, SETTINGS } from "./fixtures";

const vote = (value: SignalReading["vote"]): SignalReading => ({ vote: value, detail: value });

describe("decidePrimaryDown", () => {
  it("is down when the quorum of signals says so", () => {
    const signals = { endpoint: vote("down"), database: vote("down"), route53: vote("unknown") };
    expect(decidePrimaryDown(signals, 2)).toMatchObject({ primaryDown: true, downVotes: 2 });
    expect(decidePrimaryDown(signals, 3)).toMatchObject({ primaryDown: false, downVotes: 2 });
  });

  it("is never down while Route 53's checkers see the primary up: a partition alone does not promote", () => {
    const signals = { endpoint: vote("down"), database: vote("down"), route53: vote("up") };
    const verdict = decidePrimaryDown(signals, 1);
    expect(verdict.primaryDown).toBe(false);
    expect(verdict.why).toContain("a partition between the regions");
  });

  it("is down for a web-tier failure: endpoint and Route 53 agree, the healthy database does not veto", () => {
    const signals = { endpoint: vote("down"), database: vote("up"), route53: vote("down") };
    expect(decidePrimaryDown(signals, 2)).toMatchObject({ primaryDown: true });
  });
});

const rds = new RDSClient({ region: "us-east-2" });
const cloudWatch = new CloudWatchClient({ region: "us-west-2" });
const route53Metrics = new CloudWatchClient({ region: "us-east-1" });
const dynamoDb = new DynamoDBClient({ region: "us-west-2" });
const rdsMock = mockClient(rds);
const cloudWatchMock = mockClient(cloudWatch);
const route53MetricsMock = mockClient(route53Metrics);
const dynamoDbMock = mockClient(dynamoDb);

let endpoint: EndpointReading;
let served: ServedRegion;
const deps: DetectionDependencies = {
  settings: SETTINGS,
  ledger: { client: dynamoDb, tableName: SETTINGS.ledgerTableName },
  primaryRds: rds,
  cloudWatch,
  route53Metrics,
  probeEndpoint: async () => endpoint,
  servedRegion: async () => served,
  now: () => new Date("2026-12-03T12:00:00.000Z"),
  sleep: async () => {
    sleeps++;
    onSleep?.();
  },
};
let sleeps = 0;
let onSleep: (() => void) | undefined;
const DOWN: EndpointReading = {
  healthy: false,
  statusCode: null,
  writable: null,
  writerRegion: null,
  reason: "timeout after 5000 ms",
};

beforeEach(() => {
  sleeps = 0;
  onSleep = undefined;
  for (const mock of [rdsMock, cloudWatchMock, route53MetricsMock, dynamoDbMock]) mock.reset();
  dynamoDbMock.on(GetItemCommand).resolves({});
  endpoint = { healthy: true, statusCode: 200, writable: true, writerRegion: "us-east-2" };
  served = { region: "primary" };
  rdsMock.on(DescribeDBClustersCommand).resolves({ DBClusters: [{ Status: "available" }] });
  route53MetricsMock
    .on(GetMetricDataCommand)
    .resolves({ MetricDataResults: [{ Id: "health", Values: [1] }] });
});

function published(name: string) {
  return cloudWatchMock
    .commandCalls(PutMetricDataCommand)
    .flatMap((call) => call.args[0].input.MetricData ?? [])
    .filter((datum) => datum.MetricName === name);
}

describe("probePrimary", () => {
  it("rereads Route 53's view while only its veto holds a quorum back, and calls the primary down once Route 53 notices", async () => {
    endpoint = DOWN;
    rdsMock.on(DescribeDBClustersCommand).rejects(abortTimeout());
    route53MetricsMock.on(GetMetricDataCommand).rejects(abortTimeout());
    // Route 53's checkers need their failure threshold: the third reread sees the answer move.
    onSleep = () => {
      if (sleeps === 3) served = { region: "secondary" };
    };

    const report = await probePrimary(deps);

    expect(sleeps).toBe(3);
    expect(report).toMatchObject({ primaryDown: true, downVotes: 3 });
    expect(report.signals.route53.detail).toContain("(after 3 rereads)");
  });

  it("rereads Route 53 when its vote would complete the quorum: a web-tier failure with the database up", async () => {
    endpoint = DOWN;
    route53MetricsMock.on(GetMetricDataCommand).rejects(abortTimeout());
    onSleep = () => {
      if (sleeps === 2) served = { region: "secondary" };
    };

    const report = await probePrimary(deps);

    expect(sleeps).toBe(2);
    expect(report.signals.database.vote).toBe("up");
    expect(report).toMatchObject({ primaryDown: true, downVotes: 2 });
  });

  it("does not reread while nothing else says down", async () => {
    await probePrimary(deps);
    expect(sleeps).toBe(0);
  });

  it("counts Route 53 down when either reading says so: a lagging metric does not hold the verdict back", async () => {
    endpoint = DOWN;
    served = { region: "secondary" };
    // The metric still shows the last healthy minute.
    route53MetricsMock
      .on(GetMetricDataCommand)
      .resolves({ MetricDataResults: [{ Id: "health", Values: [1] }] });

    const report = await probePrimary(deps);

    expect(report.signals.route53.vote).toBe("down");
    expect(sleeps).toBe(0);
  });

  it("asks the zone's own name servers when the settings name them", async () => {
    const asked: (readonly string[] | undefined)[] = [];
    const withServers: DetectionDependencies = {
      ...deps,
      settings: { ...SETTINGS, nameServers: "ns-1.awsdns-01.org,ns-2.awsdns-02.net" },
      servedRegion: async (_name, _balancers, _timeout, nameServers) => {
        asked.push(nameServers);
        return served;
      },
    };
    await probePrimary(withServers);
    expect(asked).toEqual([["ns-1.awsdns-01.org", "ns-2.awsdns-02.net"]]);
  });

  it("publishes PrimaryDown 0 and each signal while the primary is fine", async () => {
    const report = await probePrimary(deps);

    expect(report.primaryDown).toBe(false);
    expect(published("PrimaryDown").map((datum) => datum.Value)).toEqual([0]);
    expect(published("PrimaryProbeDown").map((datum) => datum.Value)).toEqual([0, 0, 0]);
    // The fences are republished every run, so Route 53 keeps seeing their data stream.
    expect(published("TrafficFenced").map((datum) => datum.Value)).toEqual([0, 0]);
  });

  it("with us-east-1 gone (metric unreadable), reads Route 53's verdict from the DNS answer and calls the primary down", async () => {
    endpoint = DOWN;
    rdsMock.on(DescribeDBClustersCommand).rejects(abortTimeout());
    route53MetricsMock.on(GetMetricDataCommand).rejects(abortTimeout());
    served = { region: "secondary" };

    const report = await probePrimary(deps);

    expect(report.signals.route53.vote).toBe("down");
    expect(report.signals.route53.detail).toContain("DNS answer");
    expect(report).toMatchObject({ primaryDown: true, downVotes: 3 });
    expect(published("PrimaryDown").map((datum) => datum.Value)).toEqual([1]);
  });

  it("in a partition (both probes fail from here, the DNS answer is still the primary) publishes 0", async () => {
    endpoint = DOWN;
    rdsMock.on(DescribeDBClustersCommand).rejects(abortTimeout());
    route53MetricsMock.on(GetMetricDataCommand).rejects(abortTimeout());

    const report = await probePrimary(deps);

    expect(report).toMatchObject({ primaryDown: false, downVotes: 2 });
    expect(report.signals.route53.vote).toBe("up");
    // The veto was read again, every 5 s for 40 s, before the run gave up.
    expect(sleeps).toBe(8);
    expect(published("PrimaryDown").map((datum) => datum.Value)).toEqual([0]);
  });

  it("counts a stopped cluster as down and an access error as unknown", async () => {
    rdsMock.on(DescribeDBClustersCommand).resolves({ DBClusters: [{ Status: "stopped" }] });
    expect((await probePrimary(deps)).signals.database.vote).toBe("down");

    rdsMock.on(DescribeDBClustersCommand).rejects(
      Object.assign(new Error("denied"), {
        name: "AccessDenied",
        $fault: "client",
        $metadata: { httpStatusCode: 403 },
      }),
    );
    expect((await probePrimary(deps)).signals.database.vote).toBe("unknown");
  });

  it("does not read a fenced primary's missing DNS answer as its health", async () => {
    dynamoDbMock.on(GetItemCommand).resolves({
      Item: marshall({
        pk: "TRAFFIC#FENCES",
        primary: true,
        secondary: false,
        operationId: "op-1",
        updatedAt: "x",
      }),
    });
    route53MetricsMock
      .on(GetMetricDataCommand)
      .resolves({ MetricDataResults: [{ Id: "health", Values: [] }] });
    served = { region: "secondary" };

    const report = await probePrimary(deps);

    expect(report.signals.route53.vote).toBe("unknown");
    expect(published("TrafficFenced").map((datum) => datum.Value)).toEqual([1, 0]);
  });
});
